// What a container runtime finds out only when it creates a container or starts its process,
// as containerd and runc do: the image's USER must be in the image's /etc/passwd (checked when
// the container is created: the kubelet's CreateContainerError), and the program must be an
// executable on the container's PATH (checked when its process starts: RunContainerError).
// A sandbox container's /etc and programs are the host's, bound read-only (rootfs.ts), minus
// the programs its image hides (image.json `tools` mapped to "").
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface ImageUser {
  uid: number;
  gid: number;
}

/**
 * The image's USER (`name`, `uid`, either with `:group` or `:gid`) as numbers, looked up as
 * containerd does; throws with its words when a name is not in /etc/passwd or /etc/group.
 */
export function resolveImageUser(user: string, etc = '/etc'): ImageUser {
  const [name, group] = user.split(':');
  const passwd = entries(join(etc, 'passwd'));
  let uid: number;
  let gid: number;
  if (/^\d+$/.test(name)) {
    // A uid needs no entry; without one the process runs with gid 0.
    uid = Number(name);
    gid = Number(passwd.find((e) => e[2] === name)?.[3] ?? 0);
  } else {
    const entry = passwd.find((e) => e[0] === name);
    if (!entry) throw new Error(`unable to find user ${name}: no users found`);
    uid = Number(entry[2]);
    gid = Number(entry[3]);
  }
  if (group !== undefined) {
    if (/^\d+$/.test(group)) gid = Number(group);
    else {
      const entry = entries(join(etc, 'group')).find((e) => e[0] === group);
      if (!entry) throw new Error(`unable to find group ${group}: no groups found`);
      gid = Number(entry[2]);
    }
  }
  return { uid, gid };
}

function entries(file: string): string[][] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => line.split(':'));
  } catch {
    return [];
  }
}

/**
 * Why `program` cannot be started, in runc's words, or undefined. As Go's exec.LookPath does
 * for runc: a name without a slash is searched on PATH, and a file that is not executable (a
 * program the image hides is covered by /dev/null) is passed over. A path with a slash is left
 * to the process itself (it may be one of the image's own files).
 */
export function programProblem(program: string, path: string, hidden: string[]): string | undefined {
  if (program.includes('/')) return undefined;
  // A hidden program is hidden under every name that leads to it (/bin/sh, /usr/bin/sh -> dash).
  const covered = new Set(hidden.map(realOrSame));
  const runnable = (file: string) => {
    try {
      const real = realpathSync(file);
      const stat = statSync(real);
      return !covered.has(real) && stat.isFile() && (stat.mode & 0o111) !== 0;
    } catch {
      return false;
    }
  };
  if (path.split(':').some((dir) => dir && runnable(join(dir, program)))) return undefined;
  return `exec: "${program}": executable file not found in $PATH`;
}

function realOrSame(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}
