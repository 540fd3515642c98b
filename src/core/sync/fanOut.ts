// One batch to several pods, read once: each chunk goes to every pod still taking it, and the
// next chunk is read only when all of them have room, so memory stays at about one chunk plus
// the sockets' send buffers and the slowest pod sets the pace. Packing 2,000 small files into a
// tar costs more CPU than sending it; done once per batch instead of once per pod, a sync to
// three pods packs a third as much. The next chunk is packed while the pods take this one (the
// first while they get ready for the batch). A pod that fails is dropped from the batch; the
// others go on.
import type { Chunk } from './chunks';
import type { BatchSink } from './podShell';

/** Sends the source to every pod's sink; resolves with the pods that failed and why. */
export async function fanOut(
  sinks: Map<string, Promise<BatchSink>>,
  source: AsyncIterable<Chunk>,
): Promise<Map<string, unknown>> {
  const failed = new Map<string, unknown>();
  const open = new Map<string, BatchSink>();
  const chunks = source[Symbol.asyncIterator]();
  // Asked for ahead; handled at once, so a source that fails while the pods write is not an
  // unhandled rejection (it is thrown where the chunk is awaited).
  const ask = () => {
    const next = chunks.next();
    next.catch(() => {});
    return next;
  };
  // A pod's shell takes a batch once it is done with the one before: the first chunk is packed meanwhile.
  let next = ask();
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
    while (open.size > 0) {
      const r = await next;
      if (r.done) break;
      // Every pod's write starts (and takes the chunk) before the next one is asked for.
      const written = each((sink) => sink.write(r.value));
      next = ask();
      await written;
    }
  } catch (err) {
    // The source failed (say, a local file could not be read): no pod is left with half a batch.
    for (const [pod, sink] of open) {
      sink.abort();
      failed.set(pod, err);
    }
    open.clear();
  } finally {
    await chunks.return?.(undefined).catch(() => undefined);
  }
  await each((sink) => sink.end());
  return failed;
}
