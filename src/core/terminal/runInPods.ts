// One command in every pod of the session, at once (bounded), each pod's output as it comes and
// its exit code at the end. The command is a shell line run in the remote path, as typed.
import pLimit from 'p-limit';
import type { ExecStream } from '../kube/exec';
import type { PodRef } from '../sync/engine';

/** The pods and exec of the session (the sync engine's SyncTarget fits). */
export interface RunTarget {
  listPods(): Promise<PodRef[]>;
  open(pod: string, command: string[]): Promise<ExecStream>;
}

export interface RunOptions {
  /** Folder the command runs in (the sync pair's remote path). */
  cwd?: string;
  /** Pods at once. Default 5. */
  concurrency?: number;
  /** Output as it arrives, per pod. */
  onOutput?(pod: string, data: Buffer, stream: 'stdout' | 'stderr'): void;
  /** Output kept per pod and stream in the result; more is counted, not kept. Default 1 MiB. */
  keepBytes?: number;
}

export interface PodRunResult {
  pod: string;
  /** Undefined when the command could not run or its end is unknown (see error). */
  exitCode?: number;
  stdout: string;
  stderr: string;
  /** Bytes of output past keepBytes that the result leaves out. */
  truncatedBytes: number;
  error?: string;
}

export function runCommand(command: string, cwd?: string): string[] {
  return [
    'sh',
    '-c',
    'if [ -n "$1" ]; then cd -- "$1" || exit 125; fi\nshift\neval "$1"',
    'truva-run',
    cwd ?? '',
    command,
  ];
}

/** Runs `command` in every running pod; resolves with one result per pod, in the pods' order. */
export async function runInPods(target: RunTarget, command: string, options: RunOptions = {}): Promise<PodRunResult[]> {
  const pods = await target.listPods();
  const limit = pLimit(options.concurrency ?? 5);
  const keep = options.keepBytes ?? 1 << 20;
  return Promise.all(
    pods.map((p) =>
      limit(async (): Promise<PodRunResult> => {
        const kept = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
        const size = { stdout: 0, stderr: 0 };
        let truncatedBytes = 0;
        const result = (extra: Partial<PodRunResult>): PodRunResult => ({
          pod: p.name,
          stdout: Buffer.concat(kept.stdout).toString('utf8'),
          stderr: Buffer.concat(kept.stderr).toString('utf8'),
          truncatedBytes,
          ...extra,
        });
        let stream: ExecStream;
        try {
          stream = await target.open(p.name, runCommand(command, options.cwd));
        } catch (err) {
          return result({ error: (err as Error).message });
        }
        stream.onOutput((data, which) => {
          options.onOutput?.(p.name, data, which);
          const room = Math.max(0, keep - size[which]);
          if (room > 0) kept[which].push(data.subarray(0, room));
          size[which] += Math.min(room, data.length);
          truncatedBytes += Math.max(0, data.length - room);
        });
        stream.end(); // no input: a command that reads stdin sees its end
        try {
          return result({ exitCode: await stream.exited });
        } catch (err) {
          return result({ error: (err as Error).message });
        }
      }),
    ),
  );
}
