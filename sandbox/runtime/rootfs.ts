// What the container's root is made of: the host's system folders read-only (the host
// plays the image), a minimal /dev, and the container's private writable folders.
import { existsSync, lstatSync, readlinkSync } from 'node:fs';

/** Host top-level folders that make up the "image" (read-only). Nothing else of the host is visible. */
const HOST_SYSTEM_DIRS = ['usr', 'etc', 'opt', 'bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'];
const DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'];
const TAR_PATHS = ['/usr/bin/tar', '/usr/local/bin/tar', '/usr/bin/gtar', '/usr/bin/bsdtar', '/usr/sbin/tar'];

export type MountOp = ['ro' | 'rw' | 'ln' | 'dir', string, string];

let systemOps: MountOp[] | undefined;

function hostSystemOps(): MountOp[] {
  if (systemOps) return systemOps;
  systemOps = [];
  for (const name of HOST_SYSTEM_DIRS) {
    const path = `/${name}`;
    if (!existsSync(path)) continue;
    const st = lstatSync(path);
    if (st.isSymbolicLink()) systemOps.push(['ln', readlinkSync(path), path]);
    else if (st.isDirectory()) systemOps.push(['ro', path, path]);
  }
  for (const dev of DEVICES) if (existsSync(`/dev/${dev}`)) systemOps.push(['rw', `/dev/${dev}`, `/dev/${dev}`]);
  systemOps.push(
    ['ln', '/proc/self/fd', '/dev/fd'],
    ['ln', '/proc/self/fd/0', '/dev/stdin'],
    ['ln', '/proc/self/fd/1', '/dev/stdout'],
    ['ln', '/proc/self/fd/2', '/dev/stderr'],
    ['dir', '-', '/dev/shm'],
    // A devpts of the container's own (mounted by container-init.sh), as runc gives one: TTY execs open their terminal there.
    ['dir', '-', '/dev/pts'],
    ['ln', 'pts/ptmx', '/dev/ptmx'],
  );
  return systemOps;
}

/** Why a container path cannot get a private writable folder, or undefined when it can. */
export function mountPathProblem(path: string): string | undefined {
  if (!path.startsWith('/') || path.split('/').includes('..')) return `"${path}" must be an absolute path without ".."`;
  const top = path.split('/')[1];
  if (path === '/') return `"/" cannot be a mount path`;
  if (HOST_SYSTEM_DIRS.includes(top) && !existsSync(path)) {
    return `"${path}" is inside the read-only host folder /${top} and does not exist there; use a path like /app or /data`;
  }
  return undefined;
}

export interface RootfsPlan {
  hostsFile: string;
  hostnameFile: string;
  /** [hostDir, containerPath, readOnly] in mount order. */
  writable: [string, string, boolean][];
  noTar: boolean;
  /** [hostFile, containerPath]: programs replaced by the image (/dev/null hides one). */
  tools?: [string, string][];
}

export function mountOps(plan: RootfsPlan): MountOp[] {
  const ops: MountOp[] = [...hostSystemOps()];
  ops.push(['ro', plan.hostsFile, '/etc/hosts'], ['ro', plan.hostnameFile, '/etc/hostname']);
  const sorted = [...plan.writable].sort((a, b) => a[1].split('/').length - b[1].split('/').length);
  for (const [src, dst, ro] of sorted) ops.push([ro ? 'ro' : 'rw', src, dst]);
  if (plan.noTar) for (const p of TAR_PATHS) if (existsSync(p)) ops.push(['ro', '/dev/null', p]);
  for (const [src, dst] of plan.tools ?? []) if (existsSync(dst)) ops.push(['ro', src, dst]);
  return ops;
}
