// The sync engine against the sandbox on a 2-pod deployment in dev mode: every kind of change
// reaches both pods (checked by exec), a burst of saves restarts each pod twice (the first save
// at once, the rest as one batch), a replacement pod gets a full sync, pause/resume sends one
// batch, a dropped connection and injected exec failures are retried.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sandbox } from '../../../sandbox';
import { DevMode } from '../../../src/core/devmode/devMode';
import type { Cluster } from '../../../src/core/kube/cluster';
import { SyncEngine, clusterSyncTarget } from '../../../src/core/sync';
import {
  createTestDeployment,
  podNames,
  sandboxCluster,
  sharedSandbox,
  uniqueName,
  waitFor,
} from '../../helpers/sandbox';

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

describe('sync engine on the sandbox', function () {
  this.timeout(180_000);
  let sandbox: Sandbox;
  let cluster: Cluster;
  let devMode: DevMode;
  let engine: SyncEngine;
  let local: string;
  let name: string;
  const restarts: string[] = [];
  const logs: string[] = [];

  /** sha256 of a remote file in a pod, or 'missing'. */
  async function remoteHash(pod: string, rel: string): Promise<string> {
    const r = await cluster.exec(pod, 'web', [
      'sh',
      '-c',
      'test -e "$1" || test -L "$1" || exit 0; cat -- "$1" | sha256sum | cut -d" " -f1',
      'x',
      `/app/${rel}`,
    ]);
    return r.stdout.toString().trim() || 'missing';
  }

  async function inEveryPod(check: (pod: string) => Promise<boolean>, what: string) {
    const pods = await podNames(sandbox, name);
    assert.equal(pods.length, 2);
    // Generous: a loaded 2-core machine needs time for 2,000 files to two pods; this checks arrival, not speed.
    await waitFor(async () => (await Promise.all(pods.map(check))).every(Boolean), 60_000, what);
  }

  before(async () => {
    sandbox = await sharedSandbox();
    cluster = sandboxCluster(sandbox);
    name = uniqueName('sync');
    await createTestDeployment(sandbox, { name, replicas: 2 });
    devMode = new DevMode(cluster, { namespace: 'demo', deployment: name });
    await devMode.enter();
    local = mkdtempSync(join(tmpdir(), 'truva-sync-'));
    writeFileSync(join(local, 'server.js'), "require('http').createServer((q,s)=>s.end('v1')).listen(8080)\n");
    writeFileSync(join(local, '.gitignore'), 'node_modules/\n*.log\n');
    mkdirSync(join(local, 'node_modules/dep'), { recursive: true });
    writeFileSync(join(local, 'node_modules/dep/index.js'), 'ignored');
    const target = clusterSyncTarget(cluster, {
      namespace: 'demo',
      deployment: name,
      container: 'web',
      restart: async (pod) => {
        restarts.push(pod);
        await devMode.restartProcess(pod);
      },
    });
    engine = new SyncEngine(target, {
      roots: [{ local, remote: '/app' }],
      exclude: [],
      debounceMs: 100,
      batchSize: 500,
      batchBytes: 8 << 20,
      concurrency: 5,
      mirror: false,
      retryDelayMs: 50,
      log: (m) => logs.push(m),
    });
    await engine.start();
  });

  after(async () => {
    await engine?.dispose();
    sandbox.faults.clear();
    await devMode?.restore({ force: true }).catch(() => undefined);
    cluster?.dispose();
    rmSync(local, { recursive: true, force: true });
  });

  it('the initial sync copies the tree and leaves ignored files out', async () => {
    await inEveryPod(
      async (pod) =>
        (await remoteHash(pod, 'server.js')) === sha("require('http').createServer((q,s)=>s.end('v1')).listen(8080)\n"),
      'server.js',
    );
    for (const pod of await podNames(sandbox, name))
      assert.equal(await remoteHash(pod, 'node_modules/dep/index.js'), 'missing');
  });

  it('changes made while the initial sync runs, and before the watchers are ready, all arrive', async () => {
    const root = mkdtempSync(join(tmpdir(), 'truva-sync-catchup-'));
    for (let i = 0; i < 300; i++) writeFileSync(join(root, `f${i}.txt`), `file ${i}`);
    writeFileSync(join(root, 'gone.txt'), 'will be deleted');
    const catchUp = new SyncEngine(
      clusterSyncTarget(cluster, {
        namespace: 'demo',
        deployment: name,
        container: 'web',
        restart: async () => {},
      }),
      {
        roots: [{ local: root, remote: '/app/catchup' }],
        exclude: [],
        debounceMs: 50,
        batchSize: 100,
        batchBytes: 8 << 20,
        concurrency: 5,
        mirror: false,
      },
    );
    try {
      // The tree has been walked once the engine says it is syncing: these writes come after that.
      let during = false;
      const stop = catchUp.onDidChange(() => {
        if (during || catchUp.snapshot().state !== 'syncing') return;
        during = true;
        writeFileSync(join(root, 'f0.txt'), 'edited during the initial sync');
        writeFileSync(join(root, 'new-during.txt'), 'created during the initial sync');
      });
      await catchUp.start();
      stop();
      assert.ok(during, 'the writes happened during the initial sync');
      // Right after start(), before the watchers have finished their first scan.
      mkdirSync(join(root, 'dir-after'));
      writeFileSync(join(root, 'dir-after', 'x.txt'), 'created right after start');
      rmSync(join(root, 'gone.txt'));
      await inEveryPod(async (pod) => {
        const r = await cluster.exec(pod, 'web', [
          'sh',
          '-c',
          'cd /app/catchup && cat f0.txt new-during.txt dir-after/x.txt && ls gone.txt 2>/dev/null; ls | wc -l',
        ]);
        return (
          r.stdout.toString() ===
          'edited during the initial synccreated during the initial synccreated right after start302\n'
        );
      }, 'the changes made during and right after the initial sync');
    } finally {
      await catchUp.dispose();
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('create, edit, nested dir, chmod +x, symlink, hostile name, rename and delete reach both pods', async () => {
    const hostile = '-rf it\'s "quoted" näme\nnewline.txt';
    mkdirSync(join(local, 'a/b/c'), { recursive: true });
    writeFileSync(join(local, 'a/b/c/deep.txt'), 'deep');
    writeFileSync(join(local, 'run.sh'), '#!/bin/sh\necho hi\n');
    chmodSync(join(local, 'run.sh'), 0o755);
    symlinkSync('a/b/c/deep.txt', join(local, 'link.txt'));
    writeFileSync(join(local, hostile), 'hostile');
    writeFileSync(join(local, 'empty.txt'), '');
    writeFileSync(join(local, 'old-name.txt'), 'moving');
    writeFileSync(join(local, 'doomed.txt'), 'bye');
    writeFileSync(join(local, 'debug.log'), 'ignored by .gitignore');
    await inEveryPod(
      async (pod) =>
        (await remoteHash(pod, 'doomed.txt')) === sha('bye') &&
        (await remoteHash(pod, 'old-name.txt')) === sha('moving'),
      'first batch',
    );
    renameSync(join(local, 'old-name.txt'), join(local, 'new-name.txt'));
    rmSync(join(local, 'doomed.txt'));
    writeFileSync(join(local, 'server.js'), 'edited');
    await inEveryPod(
      async (pod) =>
        (await remoteHash(pod, 'server.js')) === sha('edited') &&
        (await remoteHash(pod, 'doomed.txt')) === 'missing' &&
        (await remoteHash(pod, 'old-name.txt')) === 'missing',
      'edits, rename and delete',
    );
    for (const pod of await podNames(sandbox, name)) {
      assert.equal(await remoteHash(pod, 'a/b/c/deep.txt'), sha('deep'));
      assert.equal(await remoteHash(pod, 'new-name.txt'), sha('moving'));
      assert.equal(await remoteHash(pod, hostile), sha('hostile'));
      assert.equal(await remoteHash(pod, 'empty.txt'), sha(''));
      assert.equal(await remoteHash(pod, 'debug.log'), 'missing');
      const meta = await cluster.exec(pod, 'web', [
        'sh',
        '-c',
        'test -x /app/run.sh && echo exec; readlink /app/link.txt',
      ]);
      assert.equal(meta.stdout.toString(), 'exec\na/b/c/deep.txt\n');
    }
  });

  it('2,000 files changed at once all arrive in both pods (no argv overflow)', async () => {
    mkdirSync(join(local, 'many'), { recursive: true });
    for (let i = 0; i < 2000; i++) writeFileSync(join(local, 'many', `file-with-a-long-name-${i}.txt`), `content ${i}`);
    await inEveryPod(async (pod) => {
      const r = await cluster.exec(pod, 'web', ['sh', '-c', 'ls /app/many | wc -l']);
      return r.stdout.toString().trim() === '2000';
    }, '2,000 files');
    rmSync(join(local, 'many'), { recursive: true });
    await inEveryPod(
      async (pod) =>
        (await cluster.exec(pod, 'web', ['sh', '-c', 'test -e /app/many && echo yes || echo no'])).stdout
          .toString()
          .trim() === 'no',
      'the folder deleted',
    );
  });

  it('10 saves in 100 ms: the first goes at once, the other nine as one batch, so two restarts per pod', async () => {
    await waitFor(() => engine.snapshot().state === 'idle' && engine.snapshot().pending === 0, 20_000, 'idle');
    await new Promise((r) => setTimeout(r, 300)); // quiet for longer than the debounce: the first save leads
    restarts.length = 0;
    for (let i = 0; i < 10; i++) {
      writeFileSync(join(local, 'burst.txt'), `save ${i}`);
      engine.notify(join(local, 'burst.txt'));
      await new Promise((r) => setTimeout(r, 10));
    }
    await inEveryPod(async (pod) => (await remoteHash(pod, 'burst.txt')) === sha('save 9'), 'the last save');
    await waitFor(() => engine.snapshot().state === 'idle' && engine.snapshot().pending === 0, 20_000, 'idle again');
    const pods = (await podNames(sandbox, name)).sort();
    assert.deepEqual([...restarts].sort(), [...pods, ...pods].sort());
  });

  it('pause, edit three files, resume: all three arrive in one batch', async () => {
    engine.pause();
    for (const f of ['p1.txt', 'p2.txt', 'p3.txt']) writeFileSync(join(local, f), f);
    await new Promise((r) => setTimeout(r, 600));
    for (const pod of await podNames(sandbox, name))
      assert.equal(await remoteHash(pod, 'p1.txt'), 'missing', 'nothing is sent while paused');
    assert.equal(engine.snapshot().state, 'paused');
    restarts.length = 0;
    engine.resume();
    await inEveryPod(
      async (pod) =>
        (await Promise.all(['p1.txt', 'p2.txt', 'p3.txt'].map((f) => remoteHash(pod, f)))).every(
          (h, i) => h === sha(`p${i + 1}.txt`),
        ),
      'the three files',
    );
    await waitFor(() => engine.snapshot().state === 'idle', 20_000, 'idle');
    assert.equal(restarts.length, 2, 'one batch: one restart per pod');
  });

  it('a dropped connection and injected exec failures are retried and the change converges', async () => {
    // The pods' sync shells go with the dropped streams, and opening new ones fails twice.
    sandbox.faults.closeStreams();
    sandbox.faults.failExec({ count: 2 });
    logs.length = 0;
    writeFileSync(join(local, 'retry.txt'), 'after failures');
    engine.notify(join(local, 'retry.txt'));
    await engine.flush();
    assert.ok(
      logs.some((l) => /\(500\).*retrying/.test(l)),
      `the injected failures were met and retried: ${logs.join(' | ')}`,
    );
    await inEveryPod(
      async (pod) => (await remoteHash(pod, 'retry.txt')) === sha('after failures'),
      'the retried change',
    );
  });

  it('connections that went silent without closing (a laptop that slept) are replaced and the change arrives', async () => {
    assert.ok(sandbox.faults.silenceExecs() >= 2, "each pod's sync shell went silent");
    logs.length = 0;
    writeFileSync(join(local, 'after-sleep.txt'), 'after sleep');
    engine.notify(join(local, 'after-sleep.txt'));
    await engine.flush();
    assert.ok(
      logs.some((l) => /did not answer within 5 s.*retrying/.test(l)),
      `the silent shells were given up: ${logs.join(' | ')}`,
    );
    await inEveryPod(
      async (pod) => (await remoteHash(pod, 'after-sleep.txt')) === sha('after sleep'),
      'the change sent through new shells',
    );
  });

  it('a pod deleted mid-session is replaced and its replacement gets a full sync', async () => {
    const [victim] = await podNames(sandbox, name);
    await cluster.deletePod(victim, { namespace: 'demo' });
    await waitFor(
      async () => {
        const pods = await podNames(sandbox, name);
        return pods.length === 2 && !pods.includes(victim);
      },
      30_000,
      'a replacement pod',
    );
    await inEveryPod(
      async (pod) =>
        (await remoteHash(pod, 'server.js')) === sha('edited') &&
        (await remoteHash(pod, 'a/b/c/deep.txt')) === sha('deep'),
      'the full sync of the replacement',
    );
  });

  it('a file saved and one deleted while a replacement pod gets its full sync reach that pod too', async () => {
    writeFileSync(join(local, 'gone-soon.txt'), 'delete me');
    await inEveryPod(
      async (pod) => (await remoteHash(pod, 'gone-soon.txt')) === sha('delete me'),
      'the file to delete',
    );
    const [victim, survivor] = await podNames(sandbox, name);
    const logged = logs.length;
    // Every new exec is held, so the replacement's full sync (its manifest, its shell) is still
    // running when the change is flushed; the survivor's shell is open and takes it at once.
    sandbox.faults.latency(2_000, /\/exec$/);
    try {
      await cluster.deletePod(victim, { namespace: 'demo', gracePeriodSeconds: 0 });
      await waitFor(
        () => logs.slice(logged).some((l) => l.startsWith('full sync for new or restarted pod')),
        30_000,
        'the full sync of the replacement to begin',
      );
      writeFileSync(join(local, 'during-full-sync.txt'), 'saved meanwhile');
      engine.notify(join(local, 'during-full-sync.txt'));
      rmSync(join(local, 'gone-soon.txt'));
      await waitFor(
        async () =>
          (await remoteHash(survivor, 'during-full-sync.txt')) === sha('saved meanwhile') &&
          (await remoteHash(survivor, 'gone-soon.txt')) === 'missing',
        30_000,
        'the change in the pod that had its full sync',
      );
    } finally {
      sandbox.faults.latency(0);
    }
    await inEveryPod(
      async (pod) =>
        (await remoteHash(pod, 'during-full-sync.txt')) === sha('saved meanwhile') &&
        (await remoteHash(pod, 'gone-soon.txt')) === 'missing',
      'the change in the replacement as well',
    );
  });

  it('a replacement whose full sync keeps failing is tried again without waiting for another pod event', async () => {
    writeFileSync(join(local, 'retried.txt'), 'retried');
    engine.notify(join(local, 'retried.txt'));
    await inEveryPod(async (pod) => (await remoteHash(pod, 'retried.txt')) === sha('retried'), 'retried.txt');
    const before = await podNames(sandbox, name);
    // More failures than the engine's attempts (4): its first full sync of the new pod gives up.
    sandbox.faults.failExec({ count: 6 });
    await cluster.deletePod(before[0], { namespace: 'demo' });
    const fresh = await waitFor(
      async () => (await podNames(sandbox, name)).find((p) => !before.includes(p)),
      30_000,
      'a replacement pod',
    );
    await waitFor(
      () => logs.some((l) => l.startsWith(`pod ${fresh}:`) && l.includes('retrying (3/3)')),
      30_000,
      'the last attempt of its first full sync',
    );
    await inEveryPod(
      async (pod) => (await remoteHash(pod, 'retried.txt')) === sha('retried'),
      'the full sync of the replacement, tried again',
    );
    sandbox.faults.clear();
  });
});
