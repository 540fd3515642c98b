// Drives the pod runtime directly (no API server): a runtime on a temporary state dir,
// the latest status per pod, and helpers to wait for a status and to exec.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createPodRuntime } from '../../../sandbox/runtime';
import type { PodRuntime, RuntimeContainerSpec, RuntimePod, RuntimePodStatus } from '../../../sandbox/runtime/types';

export interface Harness {
  rt: PodRuntime;
  statuses: Map<string, RuntimePodStatus[]>;
  latest(uid: string): RuntimePodStatus | undefined;
  waitFor(
    uid: string,
    what: string,
    check: (s: RuntimePodStatus) => boolean,
    timeoutMs?: number,
  ): Promise<RuntimePodStatus>;
  pod(name: string, containers: RuntimeContainerSpec[], extra?: Partial<RuntimePod['spec']>): RuntimePod;
  run(
    uid: string,
    container: string,
    command: string[],
    stdin?: Buffer | string,
  ): Promise<{ code: number; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

let podCounter = 0;

export function startHarness(options: { backoffBaseMs?: number } = {}): Harness {
  const stateDir = mkdtempSync(join(tmpdir(), 'truva-rt-test-'));
  const statuses = new Map<string, RuntimePodStatus[]>();
  const waiters = new Set<() => void>();
  const rt = createPodRuntime({
    stateDir,
    imagesDir: resolve(__dirname, '../../../sandbox/images'),
    backoffBaseMs: options.backoffBaseMs ?? 300,
    onStatus(uid, status) {
      if (!statuses.has(uid)) statuses.set(uid, []);
      statuses.get(uid)!.push(status);
      for (const w of waiters) w();
    },
  } as Parameters<typeof createPodRuntime>[0]);
  const latest = (uid: string) => statuses.get(uid)?.at(-1);
  return {
    rt,
    statuses,
    latest,
    waitFor(uid, what, check, timeoutMs = 10_000) {
      return new Promise((resolveWait, reject) => {
        const test = () => {
          const s = latest(uid);
          if (s && check(s)) {
            cleanup();
            resolveWait(s);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${what}; last status: ${JSON.stringify(latest(uid))}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(test);
        };
        waiters.add(test);
        test();
      });
    },
    pod(name, containers, extra = {}) {
      const uid = `uid-${process.pid}-${++podCounter}`;
      return {
        metadata: { uid, name, namespace: 'test' },
        spec: { containers, terminationGracePeriodSeconds: 2, ...extra },
      };
    },
    async run(uid, container, command, stdin) {
      const p = rt.exec(uid, container, command);
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      p.stdout.on('data', (d) => out.push(d));
      p.stderr.on('data', (d) => err.push(d));
      p.stdin.end(stdin);
      const code = await p.exited;
      return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
    },
    async close() {
      await rt.stopAll();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

export const running = (s: RuntimePodStatus) => s.containerStatuses.every((c) => c.state.running !== undefined);

export function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolveRead, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (d: Buffer) => chunks.push(Buffer.from(d)));
    stream.on('end', () => resolveRead(Buffer.concat(chunks).toString()));
    stream.on('error', reject);
  });
}
