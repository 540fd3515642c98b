import { strict as assert } from 'node:assert';
import type { TruvaConfig } from '../../../src/core/config';
import type { Backup } from '../../../src/core/devmode/devMode';
import type { Cluster } from '../../../src/core/kube/cluster';
import type { Deployment, Pod, ReplicaSet, WatchEvent } from '../../../src/core/kube/types';
import {
  DevSession,
  type DevModePort,
  type ForwardsPart,
  type Preflighted,
} from '../../../src/core/session/devSession';
import type { ForwardStatus } from '../../../src/core/ports/forwardManager';
import { SessionCancelledError, type SyncPart } from '../../../src/core/session/session';
import { SessionManager } from '../../../src/core/session/sessionManager';
import type { PodRun } from '../../../src/core/sync';

const config = (over: Partial<TruvaConfig> = {}): TruvaConfig => ({
  filePath: '/work/app/truva.yaml',
  rootDir: '/work/app',
  namespace: 'demo',
  deployment: 'web',
  sync: [{ local: '/work/app', localAsWritten: '.', remote: '/app' }],
  exclude: [],
  restart: 'process',
  debounceMs: 500,
  batchSize: 1000,
  batchBytes: 1 << 26,
  concurrency: 5,
  mirror: false,
  allowSystemPath: false,
  logs: { tail: 200, buffer: 50_000 },
  devMode: { keepProbes: false, rolloutTimeoutSeconds: 120, emptyDir: false },
  logLevel: 'info',
  ports: [],
  ...over,
});

const deployment = {
  metadata: { name: 'web', uid: 'd-1' },
  spec: { selector: { matchLabels: { app: 'web' } } },
} as unknown as Deployment;
const replicaSet = {
  metadata: { name: 'web-1', uid: 'rs-1', ownerReferences: [{ kind: 'Deployment', uid: 'd-1', controller: true }] },
} as unknown as ReplicaSet;
const backup: Backup = { namespace: 'demo', deployment: 'web', template: {}, replicas: 2, createdAt: 'then' };

/**
 * A session whose dev mode, sync engine and cluster lease record what is asked of them;
 * `failAt` makes one call throw, `onEnter` runs while dev mode is being entered.
 */
function recordingSession(opts: { failAt?: string; onEnter?: () => void; config?: Partial<TruvaConfig> } = {}) {
  const calls: string[] = [];
  const maybeFail = (name: string) => {
    calls.push(name);
    if (opts.failAt === name) throw new Error(`${name} failed`);
  };
  let podEvents: ((e: WatchEvent<Pod>) => void) | undefined;
  const cluster = {
    contextName: 'ctx',
    namespace: 'default',
    // One ReplicaSet of the deployment, so the pods below count as the deployment's.
    watchReplicaSets: (_selector: string, onEvent: (e: WatchEvent<ReplicaSet>) => void) => {
      onEvent({ type: 'ADDED', object: replicaSet });
      return { stop: () => {} };
    },
    watchPods: (selector: string, onEvent: (e: WatchEvent<Pod>) => void) => {
      calls.push(`watchPods ${selector}`);
      podEvents = onEvent;
      return { stop: () => calls.push('watchPods.stop') };
    },
    exec: async (pod: string, container: string, command: string[]) => {
      calls.push(`exec ${pod} ${container} ${command.join(' ')}`);
      return { exitCode: opts.failAt === 'exec' ? 3 : 0, stdout: Buffer.alloc(0), stderr: Buffer.from('no such app') };
    },
    dispose: () => calls.push('cluster.dispose'),
  } as unknown as Cluster;
  const devMode: DevModePort = {
    preflight: async () => {
      maybeFail('preflight');
      return { deployment, container: 'web' };
    },
    enter: async () => {
      opts.onEnter?.();
      maybeFail('enter');
      return backup;
    },
    restore: async (o) => maybeFail(o?.force ? 'restore(force)' : 'restore'),
    restartProcess: async (pod) => {
      maybeFail(`restartProcess ${pod}`);
      return 1;
    },
  };
  let engineTarget: Preflighted | undefined;
  let restartPod: ((pod: string, run: PodRun) => Promise<void>) | undefined;
  // A command through the pod's sync shell, as the engine hands it to a restart.
  const runIn =
    (pod: string): PodRun =>
    async (command) => {
      calls.push(`run ${pod} ${command.join(' ')}`);
      return { exitCode: opts.failAt === 'run' ? 3 : 0, stdout: Buffer.alloc(0), stderr: Buffer.from('no such app') };
    };
  const listeners = new Set<() => void>();
  const engine: SyncPart = {
    snapshot: () => ({ state: 'idle', pending: 0, filesSent: 8, lastSyncAt: 5, batch: 0, pods: [] }),
    onDidChange: (l) => (listeners.add(l), () => listeners.delete(l)),
    notify: (path) => calls.push(`notify ${path}`),
    start: async () => maybeFail('sync.start'),
    restartAll: async () => maybeFail('restartAll'),
    pause: () => calls.push('pause'),
    resume: () => calls.push('resume'),
    fullSync: async () => maybeFail('fullSync'),
    dispose: async () => maybeFail('sync.dispose'),
  };
  const forwardListeners = new Set<() => void>();
  let forwardStates: ForwardStatus[] = [];
  const forwards: ForwardsPart = {
    start: async () => {
      maybeFail('forwards.start');
      forwardStates = (opts.config?.ports ?? []).map((p, i) => ({
        source: p.source,
        remote: p.remote,
        local: p.local,
        slot: 0,
        address: `127.0.0.1:${p.local}`,
        url: `http://127.0.0.1:${p.local}`,
        pod: i === 0 ? 'web-a' : undefined,
        state: i === 0 ? 'ready' : 'failed',
        error: i === 0 ? undefined : `Local port ${p.local} is in use by another program.`,
        connections: 0,
      }));
      return forwardStates;
    },
    snapshot: () => forwardStates,
    onDidChange: (l) => (forwardListeners.add(l), () => forwardListeners.delete(l)),
    dispose: async () => maybeFail('forwards.dispose'),
  };
  const saved: [string, Backup | undefined][] = [];
  const session = new DevSession({
    config: config(opts.config),
    cluster,
    backups: { save: async (key, b) => void saved.push([key, b]) },
    parts: {
      devMode,
      engine: (target, restart) => {
        calls.push('engine');
        engineTarget = target;
        restartPod = restart;
        return engine;
      },
      forwards: (target) => {
        calls.push(`forwards ${target.container}`);
        return forwards;
      },
    },
  });
  return {
    session,
    calls,
    saved,
    engineTarget: () => engineTarget,
    restartPod: (pod: string) => restartPod!(pod, runIn(pod)),
    podEvent: (e: WatchEvent<Pod>) => podEvents!(e),
    engineChanged: () => listeners.forEach((l) => l()),
    forwardsChanged: () => forwardListeners.forEach((l) => l()),
  };
}

const pod = (name: string, over: { ready?: boolean; terminating?: boolean } = {}): Pod =>
  ({
    metadata: {
      name,
      uid: name,
      labels: { app: 'web' },
      ownerReferences: [{ kind: 'ReplicaSet', uid: 'rs-1', controller: true }],
      ...(over.terminating ? { deletionTimestamp: 'now' } : {}),
    },
    status: { phase: 'Running', containerStatuses: [{ name: 'web', ready: over.ready ?? true }] },
  }) as unknown as Pod;

describe('DevSession', () => {
  it('runs the steps in order, each with what the one before found', async () => {
    const r = recordingSession();
    const steps: string[] = [];
    await r.session.start((p) => steps.push(p.step));
    assert.equal(r.session.phase, 'running');
    assert.equal(r.session.id, 'ctx/demo/web', 'keyed by the lease’s context, the namespace and the deployment');
    assert.deepEqual(r.calls, ['preflight', 'watchPods app=web', 'enter', 'engine', 'sync.start', 'restartAll']);
    assert.deepEqual(steps, ['preflight', 'backup', 'initial-sync', 'start']);
    // The engine is built for the container and pods preflight found, not read again.
    assert.deepEqual(r.engineTarget(), { deployment, container: 'web', selector: 'app=web', backup });
    assert.deepEqual(r.saved, [['backup/ctx/demo/web', backup]], 'a copy of the backup is kept');
    assert.equal(r.session.sync?.snapshot().filesSent, 8);
  });

  it('forwards truva.yaml ports once the process runs; a port in use is reported, not fatal; stop closes them before the restore', async () => {
    const ports = [
      { source: 'ports[0]', remote: 8080, local: 18080, pods: 'first' as const },
      { source: 'ports[1]', remote: 9000, local: 19000, pods: 'first' as const },
    ];
    const r = recordingSession({ config: { ports } });
    const steps: string[] = [];
    await r.session.start((p) => steps.push(p.step));
    assert.equal(r.session.phase, 'running', 'a local port in use does not fail the session');
    assert.deepEqual(steps, ['preflight', 'backup', 'initial-sync', 'start', 'ports']);
    assert.deepEqual(r.calls.slice(-3), ['restartAll', 'forwards web', 'forwards.start']);
    assert.deepEqual(
      r.session.status().forwards.map((f) => [f.address, f.pod, f.state]),
      [
        ['127.0.0.1:18080', 'web-a', 'ready'],
        ['127.0.0.1:19000', undefined, 'failed'],
      ],
    );
    assert.match(r.session.status().forwards[1].error!, /19000 is in use/);
    let changes = 0;
    r.session.onDidChange(() => changes++);
    r.forwardsChanged();
    assert.equal(changes, 1, "a forward's change is the session's change (views redraw)");
    await r.session.stop();
    assert.deepEqual(r.calls.slice(-3), ['forwards.dispose', 'sync.dispose', 'restore']);
    assert.deepEqual(r.session.forwards(), []);
  });

  it('without ports or debug there is no forwards step', async () => {
    const r = recordingSession();
    await r.session.start();
    assert.ok(!r.calls.some((c) => c.startsWith('forwards')), r.calls.join(', '));
  });

  it('debug: node makes the supervisor start the inspector on its port', async () => {
    const r = recordingSession();
    assert.equal(r.session.config.debug, undefined);
    const withDebug = new DevSession({
      config: config({
        debug: { runtime: 'node', port: 9229, forward: { source: 'debug', remote: 9229, local: 9229, pods: 'all' } },
      }),
      cluster: { contextName: 'ctx', namespace: 'default', dispose() {} } as unknown as Cluster,
    });
    assert.equal(
      (withDebug as unknown as { devMode: { options: { inspectPort?: number } } }).devMode.options.inspectPort,
      9229,
    );
  });

  it('a failed preflight changes nothing: no restore is attempted and no engine is made', async () => {
    const r = recordingSession({ failAt: 'preflight' });
    await assert.rejects(r.session.start(), /preflight failed/);
    assert.equal(r.session.phase, 'failed');
    assert.deepEqual(r.calls, ['preflight']);
    assert.equal(r.session.sync, undefined);
    assert.equal(r.session.status().error, 'preflight failed');
  });

  it('a failure after dev mode was entered stops the sync and restores the deployment', async () => {
    const r = recordingSession({ failAt: 'sync.start' });
    await assert.rejects(r.session.start(), /sync.start failed/);
    assert.deepEqual(r.calls.slice(-3), ['sync.start', 'sync.dispose', 'restore']);
    assert.deepEqual(r.saved.at(-1), ['backup/ctx/demo/web', undefined], 'the backup copy goes with the restore');
  });

  it('a failure while entering dev mode restores too (the deployment may be half changed)', async () => {
    const failing = recordingSession({ failAt: 'enter' });
    await assert.rejects(failing.session.start(), /enter failed/);
    assert.deepEqual(failing.calls.slice(-1), ['restore']);
  });

  it('cancel during the rollout restores and says it was cancelled', async () => {
    const cancel = new AbortController();
    const r = recordingSession({ onEnter: () => cancel.abort() });
    await assert.rejects(
      r.session.start(() => {}, cancel.signal),
      SessionCancelledError,
    );
    assert.ok(r.calls.includes('restore'));
    assert.ok(!r.calls.includes('engine'));
  });

  it('restarts as truva.yaml says: through the supervisor, or by the restart command in the container, both through the pod shell', async () => {
    const process = recordingSession();
    await process.session.start();
    await process.restartPod('web-1');
    assert.ok(process.calls.includes('restartProcess web-1'));

    const command = recordingSession({ config: { restart: 'command', restartCommand: 'kill -HUP 1' } });
    await command.session.start();
    await command.restartPod('web-1');
    assert.ok(command.calls.includes('run web-1 sh -c kill -HUP 1'));

    const failing = recordingSession({ failAt: 'run', config: { restart: 'command', restartCommand: 'reload' } });
    await failing.session.start();
    await assert.rejects(failing.restartPod('web-1'), /restartCommand exited with 3: no such app/);
  });

  it('counts its own pods (terminating ones left out) and tells of every change', async () => {
    const r = recordingSession();
    let changes = 0;
    r.session.onDidChange(() => changes++);
    await r.session.start();
    const before = changes;
    r.podEvent({ type: 'ADDED', object: pod('web-1') });
    r.podEvent({ type: 'ADDED', object: pod('web-2', { ready: false }) });
    r.podEvent({ type: 'ADDED', object: pod('web-0', { terminating: true }) });
    r.engineChanged();
    assert.equal(changes - before, 4);
    const status = r.session.status();
    assert.deepEqual(
      [status.podsReady, status.podsTotal, status.phase, status.namespace, status.filesSent, status.lastSyncAt],
      [1, 2, 'running', 'demo', 8, 5],
    );
    r.podEvent({ type: 'DELETED', object: pod('web-2') });
    assert.equal(r.session.status().podsTotal, 1);
  });

  it('stop restores; a restore failure leaves the session failed with the reason', async () => {
    const ok = recordingSession();
    await ok.session.start();
    await ok.session.stop({ force: true });
    assert.equal(ok.session.phase, 'stopped');
    assert.ok(ok.calls.includes('restore(force)'));

    const bad = recordingSession({ failAt: 'restore' });
    await bad.session.start();
    await assert.rejects(bad.session.stop(), /restore failed/);
    assert.equal(bad.session.phase, 'failed');
  });

  it('dispose gives the cluster lease back and stops watching the pods', async () => {
    const r = recordingSession();
    await r.session.start();
    r.session.dispose();
    assert.deepEqual(r.calls.slice(-2), ['watchPods.stop', 'cluster.dispose']);
  });
});

describe('SessionManager', () => {
  it('refuses a second live session on the same deployment and disposes the one refused', async () => {
    const manager = new SessionManager<DevSession>();
    const first = manager.add(recordingSession().session);
    await first.start();
    const second = recordingSession();
    assert.throws(() => manager.add(second.session), /already running/);
    assert.ok(second.calls.includes('cluster.dispose'), 'the refused session’s lease is given back');
    assert.equal(manager.list().length, 1);
  });

  it('a stopped session leaves the list and is disposed; a failed one stays until replaced', async () => {
    const manager = new SessionManager<DevSession>();
    let changes = 0;
    manager.on('changed', () => changes++);
    const running = recordingSession({ config: { deployment: 'api' } });
    manager.add(running.session);
    await running.session.start();
    const failed = recordingSession({ failAt: 'preflight' });
    manager.add(failed.session);
    await assert.rejects(failed.session.start());
    assert.deepEqual(
      manager.list().map((s) => [s.id, s.phase]),
      [
        ['ctx/demo/api', 'running'],
        ['ctx/demo/web', 'failed'],
      ],
    );
    await running.session.stop();
    assert.ok(running.calls.includes('cluster.dispose'));
    const again = recordingSession();
    manager.add(again.session);
    assert.ok(failed.calls.includes('cluster.dispose'), 'the failed session it replaces is disposed');
    assert.deepEqual(
      manager.list().map((s) => s.id),
      ['ctx/demo/web'],
    );
    assert.ok(changes > 0);
  });
});
