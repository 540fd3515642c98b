// Processes as Linux shows them in /proc: what a command started, and whether it still runs.
// Tests use it to prove that stopping something leaves nothing behind.
import { readdirSync, readFileSync } from 'node:fs';

/** The fields after the command name of /proc/PID/stat (the name may hold spaces or parentheses). */
function statFields(pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined; // the process ended while we looked
  }
}

/** Every live process whose parent chain leads to `root`. */
export function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(entry);
    if (fields && fields[0] !== 'Z') parent.set(Number(entry), Number(fields[1]));
  }
  const found: number[] = [];
  const walk = (pid: number) => {
    for (const [child, ppid] of parent)
      if (ppid === pid) {
        found.push(child);
        walk(child);
      }
  };
  walk(root);
  return found;
}

/** True while the process exists and is not a zombie. */
export function alive(pid: number): boolean {
  const state = statFields(pid)?.[0];
  return state !== undefined && state !== 'Z';
}

/** The command line, for messages ("" once the process is gone). */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}
