// One tar stream for a batch of local files, built as it is read: directories and the exec bit
// kept, symlinks inside the root sent as symlinks, and every entry name checked so nothing lands
// outside the remote path. Small files are read in one synchronous call (a read stream per file
// costs an open/read/close round trip through the thread pool each, which dominated a 2,000-file
// sync); large files are streamed, never read whole. The output comes in chunks of at least
// CHUNK bytes, so a batch of many small files is a few large socket writes (one WebSocket frame
// and TLS record each) rather than thousands of tiny ones.
import { createReadStream, lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { relativePathProblem, symlinkStaysInside } from './paths';

export interface TarResult {
  stream: Readable;
  /** Resolves with the paths skipped (vanished or unsafe) once the stream is fully built. */
  skipped: Promise<{ path: string; reason: string }[]>;
}

/** Files up to this size are read whole; bigger ones are streamed. */
export const SMALL_FILE = 256 << 10;
/** Output chunk size the stream aims for (the last chunk may be smaller). */
export const CHUNK = 256 << 10;

/** Re-chunks a byte stream into pieces of at least `size` bytes (pulling only as it is read). */
export async function* coalesce(source: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of source) {
    pending.push(chunk);
    bytes += chunk.length;
    if (bytes >= size) {
      yield pending.length === 1 ? pending[0] : Buffer.concat(pending, bytes);
      pending = [];
      bytes = 0;
    }
  }
  if (bytes > 0) yield Buffer.concat(pending, bytes);
}

export function tarOf(root: string, paths: string[]): TarResult {
  const archive = pack();
  const skipped: { path: string; reason: string }[] = [];
  // The callback of a tar-stream entry fires once the entry is in the archive's buffer; waiting
  // for it keeps at most one entry ahead of the reader, so memory stays bounded.
  const add = (header: Parameters<typeof archive.entry>[0], body?: Buffer) =>
    new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body) archive.entry(header, body, cb);
      else archive.entry(header, cb); // directories and symlinks have no body: done once opened
    });
  const done = (async () => {
    for (const rel of paths) {
      const problem = relativePathProblem(rel);
      if (problem) {
        skipped.push({ path: rel, reason: problem });
        continue;
      }
      const abs = join(root, rel);
      let st;
      try {
        st = lstatSync(abs);
      } catch {
        skipped.push({ path: rel, reason: 'vanished before it was sent' });
        continue;
      }
      const header = { name: rel, mode: st.mode & 0o7777, mtime: st.mtime };
      if (st.isDirectory()) {
        await add({ ...header, type: 'directory' });
      } else if (st.isSymbolicLink()) {
        if (!symlinkStaysInside(root, abs)) {
          skipped.push({ path: rel, reason: 'symlink points outside the sync root' });
          continue;
        }
        await add({ ...header, type: 'symlink', linkname: readlinkSync(abs) });
      } else if (st.isFile() && st.size <= SMALL_FILE) {
        let body: Buffer;
        try {
          body = readFileSync(abs);
        } catch {
          skipped.push({ path: rel, reason: 'vanished before it was sent' });
          continue;
        }
        // The size in the header is what was read (the file may have changed since lstat).
        await add({ ...header, size: body.length, type: 'file' }, body);
      } else if (st.isFile()) {
        await new Promise<void>((resolve, reject) => {
          const entry = archive.entry({ ...header, size: st.size, type: 'file' }, (err) =>
            err ? reject(err) : resolve(),
          );
          const source = createReadStream(abs);
          source.on('error', (err) => entry.destroy(err));
          source.pipe(entry);
        });
      }
    }
    archive.finalize();
    return skipped;
  })();
  done.catch((err) => archive.destroy(err));
  // tar-stream packs are streamx streams; a Node Readable over them keeps backpressure (pull-based).
  return { stream: Readable.from(coalesce(archive as AsyncIterable<Buffer>, CHUNK)), skipped: done };
}
