// Closing the window (here: Developer: Reload Window, which shuts the extension host down the same
// way) stops the running session and restores its deployment (truva.restoreOnExit, default true).
import * as assert from 'node:assert/strict';
import { kubectl } from './kubectl';
import { openWorkbench, until, type Workbench } from './workbench';

describe('UI: restore on exit', function () {
  let wb: Workbench | undefined;

  after(async () => wb?.close());

  it('a window that goes away with a session running restores the deployment', async () => {
    wb = await openWorkbench({ suite: 'restore-on-exit' });
    await until('the Truva status bar item', async () => /Truva/.test((await wb!.statusItem().textContent()) ?? ''));
    await wb.runCommand('Truva: Start Dev Session');
    await wb!.sessionRunning();
    assert.ok(
      JSON.parse(await kubectl('get', 'deploy', 'web', '-o', 'json')).metadata.annotations['truva.dev/backup'],
      'web is in dev mode',
    );
    await wb.screenshot('session-running');

    await wb.runCommand('Developer: Reload Window');
    const restored = await until(
      'web restored after the window went away',
      async () => {
        const d = JSON.parse(await kubectl('get', 'deploy', 'web', '-o', 'json'));
        return d.metadata.annotations?.['truva.dev/backup'] ? undefined : d;
      },
      60_000,
    );
    assert.deepEqual(restored.spec.template.spec.containers[0].command, ['node', 'server.js']);
    // The reloaded window finds nothing left to recover and shows no session.
    await until(
      'Truva back in the reloaded window without a session',
      async () => /^\s*\S*\s*Truva\s*$/.test((await wb!.statusItem().textContent()) ?? ''),
      90_000,
    );
    await wb.screenshot('reloaded');
  });
});
