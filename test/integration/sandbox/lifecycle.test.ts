// stop() must leave nothing running: the sandbox starts real processes on the test machine.
import { strict as assert } from 'node:assert';
import * as k8s from '@kubernetes/client-node';
import { startSandbox } from '../../../sandbox';
import { commandLine, descendants } from '../../helpers/processes';
import { waitFor } from '../../helpers/sandbox';

describe('sandbox lifecycle', function () {
  this.timeout(60_000);

  it('stop() leaves no process behind', async () => {
    const before = new Set(descendants(process.pid));
    const sandbox = await startSandbox();
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(sandbox.kubeconfigPath);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await waitFor(
      async () =>
        (await core.listNamespacedPod({ namespace: 'demo' })).items.filter((p) => p.status?.phase === 'Running')
          .length === 3,
      20_000,
      'seeded pods running',
    );
    assert.ok(sandbox.runtime.livePids().length >= 3);
    await sandbox.stop();
    const left = descendants(process.pid).filter((p) => !before.has(p));
    const names = left.map((p) => commandLine(p) || String(p));
    assert.deepEqual(
      names.filter((n) => !/esbuild|tsx/.test(n)),
      [],
    );
    assert.deepEqual(sandbox.runtime.livePids(), []);
  });
});
