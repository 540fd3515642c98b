// What the engine reports of each batch and each pod (SyncSnapshot.lastBatch and .pods), against
// pods that are local folders: each pod's commands (the sync shell, the manifest) run here with
// the pod's folder in place of the remote root, so batches go through the engine's real path.
import { strict as assert } from 'node:assert';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StdinMessage, type ExecStream } from '../../../src/core/kube/exec';
import type { SyncSnapshot } from '../../../src/core/session/session';
import { SyncEngine, type PodRef, type PodRun, type SyncOptions, type SyncTarget } from '../../../src/core/sync';
import { until } from '../../helpers/poll';

const REMOTE = '/truva-test-app';

class PodGone extends Error {}

/** Pods as local folders. */
class LocalPods implements SyncTarget {
  readonly dirs = new Map<string, string>();
  readonly failRestart = new Set<string>();
  /** Per restart: the pod, and the version the engine reported for it while it restarted. */
  readonly restarts: { pod: string; versionDuring?: number }[] = [];
  engine?: SyncEngine;
  private readonly watchers = new Set<() => void>();

  add(name: string): string {
    const dir = mkdtempSync(join(tmpdir(), `truva-pod-${name}-`));
    this.dirs.set(name, dir);
    return dir;
  }
  remove(name: string) {
    rmSync(this.dirs.get(name)!, { recursive: true, force: true });
    this.dirs.delete(name);
  }
  podsChanged() {
    for (const w of this.watchers) w();
  }
  async listPods(): Promise<PodRef[]> {
    return [...this.dirs.keys()].map((name) => ({ name, incarnation: `${name}-1` }));
  }
  watchPods(onChange: () => void) {
    this.watchers.add(onChange);
    return { stop: () => this.watchers.delete(onChange) };
  }
  private argv(pod: string, command: string[]): string[] {
    const dir = this.dirs.get(pod);
    if (!dir) throw new PodGone(`pod ${pod} is gone`);
    return command.map((a) => (a === REMOTE ? dir : a));
  }
  exec(pod: string, command: string[]) {
    const [file, ...args] = this.argv(pod, command);
    return new Promise<{ exitCode: number; stdout: Buffer; stderr: Buffer }>((resolve) =>
      execFile(file, args, { encoding: 'buffer' }, (err, stdout, stderr) =>
        resolve({ exitCode: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
      ),
    );
  }
  async open(pod: string, command: string[]): Promise<ExecStream> {
    const [file, ...args] = this.argv(pod, command);
    const child = spawn(file, args, { stdio: 'pipe' });
    child.stdin.on('error', () => {});
    const exited = new Promise<number>((resolve, reject) => {
      child.on('close', (code) => resolve(code ?? 1));
      child.on('error', reject);
    });
    return {
      write: (chunk) => {
        // As the WebSocket does: the message without its channel byte, held until written.
        const message = chunk instanceof StdinMessage ? chunk : StdinMessage.of(chunk);
        const release = message.holder?.hold();
        const room = child.stdin.write(message.bytes.subarray(1), () => release?.());
        return new Promise<void>((resolve) => (room ? resolve() : child.stdin.once('drain', resolve)));
      },
      end: () => child.stdin.end(),
      onOutput: (listener) => {
        child.stdout.on('data', (d: Buffer) => listener(d, 'stdout'));
        child.stderr.on('data', (d: Buffer) => listener(d, 'stderr'));
      },
      exited,
      close: () => child.kill(),
      protocol: 'v5.channel.k8s.io',
      ping: async () => true,
      hasUnconfirmedInput: () => false,
      lastPongAt: () => 0,
      resize: () => {}, // no TTY
    };
  }
  async restart(pod: string, run: PodRun): Promise<void> {
    this.restarts.push({ pod, versionDuring: this.engine?.snapshot().pods.find((p) => p.pod === pod)?.batch });
    if (this.failRestart.has(pod)) throw new Error('the app did not come back');
    const r = await run(['sh', '-c', 'true']);
    assert.equal(r.exitCode, 0);
  }
  isGone(err: unknown): boolean {
    return err instanceof PodGone;
  }
}

describe('sync engine: batches and pod versions', function () {
  this.timeout(20_000);
  let local: string;
  let pods: LocalPods;
  let engine: SyncEngine;

  const start = async (names: string[], opts: Partial<SyncOptions> = {}) => {
    local = mkdtempSync(join(tmpdir(), 'truva-local-'));
    writeFileSync(join(local, 'app.js'), 'v0');
    pods = new LocalPods();
    for (const n of names) pods.add(n);
    engine = new SyncEngine(pods, {
      roots: [{ local, remote: REMOTE }],
      exclude: [],
      debounceMs: 40,
      batchSize: 100,
      batchBytes: 1 << 20,
      concurrency: 5,
      mirror: false,
      attempts: 1,
      ...opts,
    });
    pods.engine = engine;
    await engine.start();
    await engine.restartAll(); // as the session does after the initial sync
  };
  /** Saves app.js as the editor does, and waits for the batch the engine sends for it. */
  const save = async (text: string): Promise<{ snap: SyncSnapshot; elapsed: number }> => {
    const before = engine.snapshot().lastBatch?.batch ?? 0;
    const t0 = Date.now();
    writeFileSync(join(local, 'app.js'), text);
    engine.notify(join(local, 'app.js'));
    const snap = await until(
      'the batch reported',
      () => {
        const s = engine.snapshot();
        return (s.lastBatch?.batch ?? 0) > before && s.state !== 'syncing' ? s : undefined;
      },
      15_000,
      10,
    );
    return { snap, elapsed: Date.now() - t0 };
  };

  afterEach(async () => {
    await engine?.dispose();
    for (const name of [...(pods?.dirs.keys() ?? [])]) pods.remove(name);
    rmSync(local, { recursive: true, force: true });
  });

  it('after the initial sync every pod is at batch 0; a save is batch 1, live in all 3 pods once each restarted', async () => {
    await start(['web-a', 'web-b', 'web-c']);
    const initial = engine.snapshot();
    assert.equal(initial.batch, 0);
    assert.equal(initial.lastBatch, undefined, 'the initial sync alone is no batch of changes');
    assert.deepEqual(
      initial.pods.map((p) => [p.pod, p.batch]),
      [
        ['web-a', 0],
        ['web-b', 0],
        ['web-c', 0],
      ],
    );
    pods.restarts.length = 0;
    const { snap, elapsed } = await save('v1');
    assert.equal(snap.batch, 1);
    assert.deepEqual(
      snap.pods.map((p) => [p.pod, p.batch]),
      [
        ['web-a', 1],
        ['web-b', 1],
        ['web-c', 1],
      ],
    );
    const report = snap.lastBatch!;
    assert.deepEqual(
      { ...report, liveMs: undefined },
      { batch: 1, saved: true, livePods: 3, pods: 3, restarted: true, liveMs: undefined },
    );
    assert.ok(
      report.liveMs >= 0 && report.liveMs <= elapsed,
      `${report.liveMs} ms lies within the ${elapsed} ms the save took here`,
    );
    for (const dir of pods.dirs.values()) assert.equal(readFileSync(join(dir, 'app.js'), 'utf8'), 'v1');
    // A pod's version moves only after its restart: while restarting it still reported batch 0.
    assert.deepEqual(
      pods.restarts.map((r) => r.versionDuring),
      [0, 0, 0],
    );
  });

  it('a pod whose restart fails keeps its version and is left out of "live in"; the next batch catches it up', async () => {
    await start(['web-a', 'web-b', 'web-c']);
    pods.failRestart.add('web-b');
    const first = (await save('v1')).snap;
    assert.deepEqual([first.lastBatch!.livePods, first.lastBatch!.pods], [2, 3]);
    assert.deepEqual(
      first.pods.map((p) => [p.pod, p.batch]),
      [
        ['web-a', 1],
        ['web-b', 0],
        ['web-c', 1],
      ],
    );
    assert.equal(first.state, 'error');
    pods.failRestart.clear();
    const second = (await save('v2')).snap;
    assert.deepEqual([second.lastBatch!.batch, second.lastBatch!.livePods, second.lastBatch!.pods], [2, 3, 3]);
    assert.deepEqual(
      second.pods.map((p) => p.batch),
      [2, 2, 2],
    );
  });

  it('a change only the file watcher sees is reported as a change, not a save; with restart none, live is the files written', async () => {
    await start(['web-a'], { restarts: false });
    writeFileSync(join(local, 'app.js'), 'from a build');
    const snap = await until('the watcher batch', () => engine.snapshot().lastBatch, 15_000, 10);
    assert.deepEqual(
      { ...snap, liveMs: undefined },
      { batch: 1, saved: false, livePods: 1, pods: 1, restarted: false, liveMs: undefined },
    );
  });

  it('a new pod counts as every batch sent before its full sync; a pod that is gone leaves the list', async () => {
    await start(['web-a', 'web-b']);
    await save('v1');
    await save('v2');
    pods.add('web-c');
    pods.remove('web-a');
    pods.podsChanged();
    const snap = await until(
      'web-c synced and web-a gone',
      () => {
        const s = engine.snapshot();
        return s.pods.length === 2 && s.pods.some((p) => p.pod === 'web-c') ? s : undefined;
      },
      15_000,
      10,
    );
    assert.deepEqual(
      snap.pods.map((p) => [p.pod, p.batch]),
      [
        ['web-b', 2],
        ['web-c', 2],
      ],
    );
    assert.equal(readFileSync(join(pods.dirs.get('web-c')!, 'app.js'), 'utf8'), 'v2');
    const next = (await save('v3')).snap;
    assert.deepEqual([next.lastBatch!.livePods, next.lastBatch!.pods], [2, 2]);
  });
});
