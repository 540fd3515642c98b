// The leading edge for editor saves, on the sandbox (2 pods in dev mode, real restarts): a save
// into a quiet engine is sent at once and restarts each pod once, its watcher echo included;
// saves and file events within the debounce join one trailing batch; bursts the watcher alone
// sees keep the debounce; a save and a watcher burst that overlap lose nothing. Most cases use
// a 60 s debounce, so anything that arrives before flush() was sent by the leading edge, and
// anything still pending was held by the debounce: no assertion depends on how fast it runs.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

const LONG = 60_000;

describe('sync engine: leading edge for editor saves', function () {
  this.timeout(120_000);
  let sandbox: Sandbox;
  let cluster: Cluster;
  let devMode: DevMode;
  let name: string;
  let pods: string[];
  let engine: SyncEngine | undefined;
  let local: string;
  let remote: string;
  let restarts: string[];
  let round = 0;

  before(async () => {
    sandbox = await sharedSandbox();
    cluster = sandboxCluster(sandbox);
    name = uniqueName('edge');
    await createTestDeployment(sandbox, { name, replicas: 2 });
    devMode = new DevMode(cluster, { namespace: 'demo', deployment: name });
    await devMode.enter();
    pods = await podNames(sandbox, name);
  });

  after(async () => {
    await devMode?.restore({ force: true }).catch(() => undefined);
    cluster?.dispose();
  });

  /** A fresh engine on a folder of its own, synced and watching: quiet, nothing recorded yet. */
  async function startEngine(debounceMs: number) {
    local = mkdtempSync(join(tmpdir(), 'truva-edge-'));
    writeFileSync(join(local, 'start.txt'), 'start');
    remote = `/app/edge-${++round}`;
    restarts = [];
    engine = new SyncEngine(
      clusterSyncTarget(cluster, {
        namespace: 'demo',
        deployment: name,
        container: 'web',
        restart: async (pod, run) => {
          restarts.push(pod);
          await devMode.restartProcess(pod, run);
        },
      }),
      {
        roots: [{ local, remote }],
        exclude: [],
        debounceMs,
        batchSize: 500,
        batchBytes: 8 << 20,
        concurrency: 5,
        mirror: false,
      },
    );
    await engine.start();
    await engine.watchersReady();
    return engine;
  }

  afterEach(async () => {
    await engine?.dispose();
    engine = undefined;
    rmSync(local, { recursive: true, force: true });
  });

  /** The remote file's content in one pod, or undefined when it is not there. */
  async function remoteText(pod: string, rel: string): Promise<string | undefined> {
    const r = await cluster.exec(pod, 'web', ['sh', '-c', 'cat -- "$1" 2>/dev/null || echo "<missing>"', 'x', rel], {
      namespace: 'demo',
    });
    const text = r.stdout.toString();
    return text === '<missing>\n' ? undefined : text;
  }

  function inEveryPod(rel: string, text: string) {
    return waitFor(
      async () => (await Promise.all(pods.map((p) => remoteText(p, `${remote}/${rel}`)))).every((t) => t === text),
      30_000,
      `${rel} = "${text}" in every pod`,
    );
  }

  function save(rel: string, text: string) {
    writeFileSync(join(local, rel), text);
    engine!.notify(join(local, rel));
  }

  /**
   * Writes a file only the watcher sees and waits until the engine has recorded it. The watcher
   * reports a new file through its folder's listing, later than a change to a watched file, so
   * once this has arrived an echo of an earlier save has had its chance to be recorded too.
   */
  async function watcherSees(e: SyncEngine, rel: string, pendingAfter: number) {
    writeFileSync(join(local, rel), rel);
    await waitFor(() => e.snapshot().pending === pendingAfter, 20_000, `the watcher reporting ${rel}`);
  }

  const perPod = () => pods.map((p) => restarts.filter((r) => r === p).length);

  it('a save into a quiet engine goes at once and restarts each pod once; its watcher echo is dropped', async () => {
    const e = await startEngine(LONG);
    save('app.js', 'saved once');
    await inEveryPod('app.js', 'saved once');
    await waitFor(() => restarts.length === pods.length, 20_000, 'the restarts');
    await watcherSees(e, 'sentinel.txt', 1);
    assert.equal(e.snapshot().pending, 1, 'only the sentinel waits: the echo of the save was not recorded');
    await e.flush();
    assert.deepEqual(perPod(), [2, 2], 'one restart for the save, one for the sentinel');
  });

  it('when the watcher reports the write before the save event, the save still goes at once', async () => {
    const e = await startEngine(LONG);
    writeFileSync(join(local, 'first.js'), 'watcher first');
    await waitFor(() => e.snapshot().pending === 1, 20_000, 'the watcher reporting the write');
    e.notify(join(local, 'first.js'));
    await inEveryPod('first.js', 'watcher first');
    await waitFor(() => e.snapshot().state === 'idle' && restarts.length === pods.length, 20_000, 'the restarts');
    assert.equal(e.snapshot().pending, 0);
    assert.deepEqual(perPod(), [1, 1]);
  });

  it('saves that follow within the debounce wait for the trailing batch, and go together', async () => {
    const e = await startEngine(LONG);
    save('a.js', 'leading');
    await inEveryPod('a.js', 'leading');
    save('b.js', 'trailing b');
    save('c.js', 'trailing c');
    save('b.js', 'trailing b, saved again');
    assert.equal(e.snapshot().pending, 2, 'b and c wait for the debounce');
    await watcherSees(e, 'sentinel.txt', 3);
    for (const pod of pods) assert.equal(await remoteText(pod, `${remote}/c.js`), undefined, 'c was not sent yet');
    await waitFor(() => restarts.length === pods.length, 20_000, 'the leading restarts');
    await e.flush();
    await inEveryPod('b.js', 'trailing b, saved again');
    await inEveryPod('c.js', 'trailing c');
    assert.deepEqual(perPod(), [2, 2], 'one restart for the leading save, one for the trailing batch');
  });

  it('a burst only the watcher sees keeps the debounce; a save during it joins the same batch', async () => {
    const e = await startEngine(LONG);
    for (let i = 0; i < 30; i++) writeFileSync(join(local, `burst-${i}.js`), `burst ${i}`);
    await waitFor(() => e.snapshot().pending === 30, 20_000, 'the watcher reporting the burst');
    save('during.js', 'saved during the burst');
    assert.equal(e.snapshot().pending, 31, 'the save joined the burst instead of going alone');
    for (const pod of pods) assert.equal(await remoteText(pod, `${remote}/burst-0.js`), undefined);
    assert.deepEqual(restarts, [], 'nothing was sent before the debounce');
    await e.flush();
    await inEveryPod('during.js', 'saved during the burst');
    for (const pod of pods) {
      const all = await cluster.exec(pod, 'web', ['sh', '-c', `ls ${remote} | grep -c '^burst-'`], {
        namespace: 'demo',
      });
      assert.equal(all.stdout.toString().trim(), '30');
      assert.equal(await remoteText(pod, `${remote}/burst-29.js`), 'burst 29');
    }
    assert.deepEqual(perPod(), [1, 1], 'the burst and the save: one batch, one restart per pod');
  });

  it('a save and a watcher burst that overlap lose nothing, and restart each pod at most twice', async () => {
    // A real debounce this time, so the trailing batch is sent by the timer.
    const e = await startEngine(1_000);
    save('edited.js', 'v1');
    // The leading batch has taken v1 once the flush it started runs; then, while that batch is on
    // its way, a burst of 50 files and another save of the same file.
    await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 50; i++) writeFileSync(join(local, `gen-${i}.js`), `generated ${i}`);
    save('edited.js', 'v2');
    await inEveryPod('edited.js', 'v2');
    await waitFor(
      async () =>
        (
          await Promise.all(
            pods.map(async (pod) => {
              const r = await cluster.exec(pod, 'web', ['sh', '-c', `ls ${remote} | grep -c '^gen-'`], {
                namespace: 'demo',
              });
              return r.stdout.toString().trim();
            }),
          )
        ).every((n) => n === '50'),
      30_000,
      'the 50 generated files in every pod',
    );
    await waitFor(() => e.snapshot().state === 'idle' && e.snapshot().pending === 0, 20_000, 'idle');
    for (const pod of pods) assert.equal(await remoteText(pod, `${remote}/gen-49.js`), 'generated 49');
    const counts = perPod();
    assert.ok(
      counts.every((n) => n >= 1 && n <= 2),
      `the leading save and one trailing batch at most: ${counts}`,
    );
  });
});
