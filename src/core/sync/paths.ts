// Path safety for sync: nothing outside a sync root is read, nothing outside the remote path is
// written. Relative paths are POSIX, never absolute, never with "..".
import { realpathSync } from 'node:fs';
import { isAbsolute, relative, sep } from 'node:path';

/** A problem with a relative path to be written remotely, or undefined when it is safe. */
export function relativePathProblem(rel: string): string | undefined {
  if (rel === '' || rel === '.') return 'empty path';
  if (rel.startsWith('/') || isAbsolute(rel)) return `absolute path "${rel}"`;
  if (rel.split('/').some((part) => part === '..')) return `path "${rel}" contains ".."`;
  if (rel.includes('\0')) return 'path contains a NUL byte';
  return undefined;
}

/** The POSIX path of `abs` relative to `root`, or undefined when it is not inside it. */
export function insideRoot(root: string, abs: string): string | undefined {
  const rel = relative(root, abs);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return undefined;
  return rel.split(sep).join('/');
}

/** Whether a symlink's target resolves inside the root (then it is sent as a symlink; else refused). */
export function symlinkStaysInside(root: string, linkPath: string): boolean {
  try {
    const target = realpathSync(linkPath);
    return insideRoot(realpathSync(root), target) !== undefined;
  } catch {
    return false; // dangling: refuse rather than guess where it points
  }
}
