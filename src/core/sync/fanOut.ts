// One batch to several pods, read once: each chunk goes to every pod still taking it, and the
// next chunk is read only when all of them have room, so memory stays at about one chunk plus
// the sockets' send buffers and the slowest pod sets the pace. Packing 2,000 small files into a
// tar costs more CPU than sending it; done once per batch instead of once per pod, a sync to
// three pods packs a third as much. A pod that fails is dropped from the batch; the others go on.
import type { BatchSink } from './podShell';

/** Sends the source to every pod's sink; resolves with the pods that failed and why. */
export async function fanOut(
  sinks: Map<string, Promise<BatchSink>>,
  source: AsyncIterable<Buffer>,
): Promise<Map<string, unknown>> {
  const failed = new Map<string, unknown>();
  const open = new Map<string, BatchSink>();
  await Promise.all(
    [...sinks].map(async ([pod, sink]) => {
      try {
        open.set(pod, await sink);
      } catch (err) {
        failed.set(pod, err);
      }
    }),
  );
  const each = (work: (sink: BatchSink) => Promise<void>) =>
    Promise.all(
      [...open].map(async ([pod, sink]) => {
        try {
          await work(sink);
        } catch (err) {
          failed.set(pod, err);
          open.delete(pod);
        }
      }),
    );
  try {
    for await (const chunk of source) {
      if (open.size === 0) break;
      await each((sink) => sink.write(chunk));
    }
  } catch (err) {
    // The source failed (say, a local file could not be read): no pod is left with half a batch.
    for (const [pod, sink] of open) {
      sink.abort();
      failed.set(pod, err);
    }
    open.clear();
  }
  await each((sink) => sink.end());
  return failed;
}
