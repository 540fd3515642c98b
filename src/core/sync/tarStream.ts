// One tar stream for a batch of local files, built as it is read: file contents are streamed
// from disk (never read whole), directories and the exec bit kept, symlinks inside the root sent
// as symlinks, and every entry name checked so nothing lands outside the remote path.
import { createReadStream, lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { relativePathProblem, symlinkStaysInside } from './paths';

export interface TarResult {
  stream: Readable;
  /** Resolves with the paths skipped (vanished or unsafe) once the stream is fully built. */
  skipped: Promise<{ path: string; reason: string }[]>;
}

export function tarOf(root: string, paths: string[]): TarResult {
  const archive = pack();
  const skipped: { path: string; reason: string }[] = [];
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
        archive.entry({ ...header, type: 'directory' });
      } else if (st.isSymbolicLink()) {
        if (!symlinkStaysInside(root, abs)) {
          skipped.push({ path: rel, reason: 'symlink points outside the sync root' });
          continue;
        }
        archive.entry({ ...header, type: 'symlink', linkname: readlinkSync(abs) });
      } else if (st.isFile()) {
        await new Promise<void>((resolve, reject) => {
          const entry = archive.entry({ ...header, size: st.size, type: 'file' }, (err) => (err ? reject(err) : resolve()));
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
  return { stream: Readable.from(archive as AsyncIterable<Buffer>), skipped: done };
}
