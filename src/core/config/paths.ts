// The path rules of truva.yaml, in one place: where a local folder is, what a remote path
// normalises to, which remote paths are refused (the validator's diagnostics and dev mode's
// preflight apply the same rule), and the home folder of a `~` path (kubeconfig paths too).
import { homedir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import type { DiagnosticCode } from './types';

const SYSTEM_DIRS = new Set([
  '/',
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/lib',
  '/lib32',
  '/lib64',
  '/proc',
  '/root',
  '/run',
  '/sbin',
  '/sys',
  '/usr',
  '/usr/bin',
  '/usr/lib',
  '/usr/sbin',
  '/usr/local',
  '/usr/local/bin',
  '/var',
  '/var/lib',
  '/var/run',
]);
/** Anything below these is the kernel's or the device tree's, never an app folder. */
const SYSTEM_TREES = ['/proc/', '/sys/', '/dev/'];
/** Returns the absolute local folder for a sync `local` value. */
export function resolveLocal(rootDir: string, local: string): string {
  return resolve(rootDir, expandHome(local));
}

/** `~` and `~/…` under the home folder ($HOME, as kubectl and the shell read it). */
export function expandHome(path: string, env: NodeJS.ProcessEnv = process.env): string {
  const home = () => env.HOME ?? homedir();
  return path === '~' ? home() : path.startsWith('~/') ? join(home(), path.slice(2)) : path;
}

/** Why a remote path is unsafe or unusable, or undefined when it is fine: truva.yaml's diagnostics and preflight both ask this. */
export function remotePathProblem(
  remote: string,
  allowSystemPath: boolean,
): { code: DiagnosticCode; message: string } | undefined {
  if (!posix.isAbsolute(remote)) {
    return {
      code: 'remote-not-absolute',
      message: `Remote path ${JSON.stringify(remote)} must be absolute, for example "/app".`,
    };
  }
  if (remote.split('/').includes('..')) {
    return {
      code: 'remote-not-absolute',
      message: `Remote path ${JSON.stringify(remote)} must not contain "..": write the folder it means.`,
    };
  }
  const normal = normaliseRemote(remote);
  if (!allowSystemPath && (SYSTEM_DIRS.has(normal) || SYSTEM_TREES.some((tree) => `${normal}/`.startsWith(tree)))) {
    return {
      code: 'remote-system-dir',
      message: `Remote path ${JSON.stringify(remote)} is a system directory; syncing into it could break the container. Choose an app folder such as "/app", or set \`allowSystemPath: true\` if you really mean it.`,
    };
  }
  return undefined;
}

export function normaliseRemote(remote: string): string {
  const normal = posix.normalize(remote).replace(/\/+$/, '');
  return normal === '' ? '/' : normal;
}
