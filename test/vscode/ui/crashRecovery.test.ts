// A deployment left in dev mode by a session that never stopped (a crash, a killed window): when
// VS Code opens the workspace again, Truva offers to restore it, and "Restore" puts back the
// original template, checked with the real kubectl.
import * as assert from 'node:assert/strict';
import { DevMode } from '../../../src/core/devmode/devMode';
import { Cluster } from '../../../src/core/kube/cluster';
import { uiContext } from './context';
import { kubectl } from './kubectl';
import { openWorkbench, until, type Workbench } from './workbench';

describe('UI: crash recovery at startup', function () {
  let wb: Workbench | undefined;
  let cluster: Cluster | undefined;

  after(async () => {
    await wb?.close();
    // Never leave web in dev mode for the suites that follow.
    if (cluster)
      await new DevMode(cluster, { namespace: 'demo', deployment: 'web' })
        .restore({ force: true })
        .catch(() => undefined);
    cluster?.dispose();
  });

  it('offers to restore a deployment an earlier session left in dev mode, and restores it', async () => {
    const original = JSON.parse(await kubectl('get', 'deploy', 'web', '-o', 'json'));
    cluster = new Cluster({ kubeconfigPath: uiContext().kubeconfigPath, namespace: 'demo' });
    // An earlier session that entered dev mode and then died without stopping.
    await new DevMode(cluster, { namespace: 'demo', deployment: 'web' }).enter();
    assert.ok(
      JSON.parse(await kubectl('get', 'deploy', 'web', '-o', 'json')).metadata.annotations['truva.dev/backup'],
      'web is in dev mode',
    );

    wb = await openWorkbench({ suite: 'crash-recovery' });
    const offer = await wb.notification(/left deployment "web" in dev mode/, 90_000);
    await wb.screenshot('offer');
    await offer.locator('.monaco-button', { hasText: /^Restore$/ }).click();
    const restored = await until(
      'web restored',
      async () => {
        const d = JSON.parse(await kubectl('get', 'deploy', 'web', '-o', 'json'));
        return d.metadata.annotations?.['truva.dev/backup'] ? undefined : d;
      },
      90_000,
    );
    await wb.screenshot('restored');
    assert.deepEqual(restored.spec.template, original.spec.template, 'the pod template is the original again');
    assert.equal(restored.spec.replicas, original.spec.replicas);
  });
});
