// Watches a sync root for changes: one fs.watch per folder that is not ignored, reporting each
// path of a changed folder entry as changed (it exists now) or deleted (it does not).
//
// Why not chokidar: chokidar 4 opens a watch per *file* and stats every file before it is ready.
// On a 20,000-file tree shaped like node_modules (5,800 folders) it took 9.6 s and 228 MB to get
// ready; this takes one watch per folder, opened by the walk the initial sync makes anyway (the
// caller watches each folder before it reads it), without a stat per file. A folder's watch
// reports its entries by name (inotify on Linux, the same per-folder watch chokidar 4 uses on
// macOS and Windows), and a folder that appears is watched before it is read, so nothing
// created in it is missed.
//
// A path that exists is always reported as "change", never "add": the change set forgets a path
// that was added and then deleted, which would leave a stale copy in the pods if the path had in
// fact existed before (an editor's backup-and-rename save, a folder replaced by a build).
import { watch, lstatSync, readdirSync, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { IgnoreRules } from './ignore';

export type TreeEvent = 'change' | 'delete';

export interface TreeWatcher {
  /** Watches a folder (a relative path, '' for the root); call it before reading the folder. */
  watch(dir: string): void;
  close(): void;
}

export function watchTree(
  root: string,
  rules: IgnoreRules,
  onEvent: (rel: string, kind: TreeEvent) => void,
  onError: (err: Error) => void,
): TreeWatcher {
  /** Watched folders by relative path ('' is the root). */
  const watched = new Map<string, FSWatcher>();
  let closed = false;
  let warnedLimit = false;

  const unwatch = (dir: string) => {
    for (const [rel, watcher] of watched) {
      if (rel === dir || dir === '' || rel.startsWith(`${dir}/`)) {
        watcher.close();
        watched.delete(rel);
      }
    }
  };

  /** Starts watching a folder; false when it is gone (or cannot be watched). */
  const watchDir = (dir: string): boolean => {
    try {
      const watcher = watch(join(root, dir), { persistent: true }, (type, name) =>
        name === null ? rescan(dir) : changed(dir ? `${dir}/${name}` : String(name), type === 'rename'),
      );
      watcher.on('error', () => {
        // The folder went away (or Windows refused it after a delete): its parent reports that.
        watcher.close();
        if (watched.get(dir) === watcher) watched.delete(dir);
      });
      watched.set(dir, watcher);
      return true;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOSPC' && !warnedLimit) {
        warnedLimit = true;
        onError(
          new Error(
            `the system's limit of file watches is reached (Linux: raise fs.inotify.max_user_watches); changes below ${dir || 'the root'} are not seen`,
          ),
        );
      } else if (e.code !== 'ENOENT' && e.code !== 'ENOTDIR') onError(e);
      return false;
    }
  };

  /** A folder that appeared (or replaced another): watched first, then everything in it reported. */
  const enter = (dir: string) => {
    if (!watchDir(dir)) return;
    let entries;
    try {
      entries = readdirSync(join(root, dir), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const rel = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) changed(rel, true);
      else if (!rules.ignores(rel)) onEvent(rel, 'change');
    }
  };

  /**
   * An entry of a watched folder changed, appeared or went away (`renamed`: it was created,
   * deleted or moved, rather than written to).
   */
  const changed = (rel: string, renamed: boolean) => {
    if (closed) return;
    let st;
    try {
      st = lstatSync(join(root, rel));
    } catch {
      st = undefined;
    }
    if (!st) {
      if (watched.has(rel)) {
        unwatch(rel);
        onEvent(rel, 'delete');
      } else if (!rules.ignores(rel) && !rules.ignores(rel, true)) {
        // Not a folder we watched: a file, or else an ignored folder, which must stay in the pods
        // (a local `rm -rf node_modules` must not remove the pod's own node_modules).
        onEvent(rel, 'delete');
      }
      return;
    }
    if (st.isDirectory()) {
      if (rules.ignores(rel, true)) return;
      if (watched.has(rel)) {
        // Written to: its own attributes changed, and what it holds is reported by its own watch.
        // Renamed: it was replaced (a build's rm -rf and mkdir; the inode number is often reused,
        // so it cannot tell), and its old watch went with the old folder.
        if (!renamed) return;
        unwatch(rel);
      }
      onEvent(rel, 'change');
      enter(rel);
      return;
    }
    if (!rules.ignores(rel)) onEvent(rel, 'change');
  };

  /** Some platforms may report an event without a name: every entry of the folder is looked at. */
  const rescan = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(join(root, dir));
    } catch {
      return;
    }
    for (const name of names) changed(dir ? `${dir}/${name}` : name, false);
  };

  return {
    watch(dir) {
      if (!closed && !watched.has(dir)) watchDir(dir); // one gone meanwhile is reported by its parent
    },
    close() {
      closed = true;
      unwatch('');
    },
  };
}
