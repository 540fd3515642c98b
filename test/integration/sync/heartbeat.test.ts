// A real API server answers a WebSocket ping only after the stdin ahead of it has gone into the
// container. A healthy shell whose tar reads slowly must not be taken for a dead connection
// (and the batch sent again), while a dead one with nothing pending is still noticed at once.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sandbox } from '../../../sandbox';
import { DevMode } from '../../../src/core/devmode/devMode';
import type { Cluster } from '../../../src/core/kube/cluster';
import { SyncEngine, clusterSyncTarget } from '../../../src/core/sync';
import { createTestDeployment, podNames, sandboxSuite, uniqueName } from '../../helpers/sandbox';

describe('sync shell heartbeat under back-pressure', function () {
  this.timeout(300_000);
  const suite = sandboxSuite();
  let sandbox: Sandbox;
  let cluster: Cluster;
  before(() => void ({ sandbox, cluster } = suite));

  it('a 50 MB batch into a container whose tar reads at 1 MB/s arrives once, through one shell', async () => {
    const name = uniqueName('slowtar');
    await createTestDeployment(sandbox, { name, replicas: 1, image: 'slowtar' });
    const devMode = new DevMode(cluster, { namespace: 'demo', deployment: name });
    await devMode.enter();
    const local = mkdtempSync(join(tmpdir(), 'truva-slowtar-'));
    const target = clusterSyncTarget(cluster, {
      namespace: 'demo',
      deployment: name,
      container: 'web',
      restart: async () => {},
    });
    const opened: string[][] = [];
    const open = target.open.bind(target);
    target.open = (pod, command) => {
      opened.push(command);
      return open(pod, command);
    };
    const logs: string[] = [];
    const engine = new SyncEngine(target, {
      roots: [{ local, remote: '/app/big' }],
      exclude: [],
      debounceMs: 50,
      batchSize: 1000,
      batchBytes: 64 << 20,
      concurrency: 5,
      mirror: false,
      attempts: 1, // a batch taken for lost would fail, not be sent again quietly
      log: (m) => logs.push(m),
    });
    try {
      writeFileSync(join(local, 'seed.txt'), 'seed');
      await engine.start();
      const shellsBefore = opened.length;
      // Random bytes: nothing on the way compresses them away.
      const { randomBytes } = await import('node:crypto');
      for (let i = 0; i < 25; i++) writeFileSync(join(local, `f${i}.bin`), randomBytes(2 << 20));
      for (let i = 0; i < 25; i++) engine.notify(join(local, `f${i}.bin`));
      await engine.flush();
      assert.notEqual(engine.snapshot().state, 'error', engine.snapshot().error);
      assert.equal(opened.length, shellsBefore, `no new shell or exec for the batch: ${logs.join('; ')}`);
      const pod = (await podNames(sandbox, name))[0];
      const r = await cluster.exec(pod, 'web', ['sh', '-c', 'cat /app/big/f*.bin | wc -c']);
      assert.equal(Number(r.stdout.toString().trim()), 25 * (2 << 20));
    } finally {
      await engine.dispose();
      await devMode.restore({ force: true }).catch(() => undefined);
      rmSync(local, { recursive: true, force: true });
      await cluster.deleteDeployment(name, { namespace: 'demo' });
    }
  });
});
