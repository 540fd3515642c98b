// The walkthrough a person would do, in real VS Code (code-server) in headless Chromium:
// start a session from the palette, see the deployment marked in the tree, edit and save, see
// the change in both pods (checked with the real kubectl) and the restart in the log panel,
// filter the panel, pause and resume from the status bar, stop and find the deployment restored.
import * as assert from 'node:assert/strict';
import type { FrameLocator } from 'playwright-core';
import { kubectl } from './kubectl';
import { openWorkbench, until, type Workbench } from './workbench';

async function webPods(): Promise<string[]> {
  const pods = JSON.parse(await kubectl('get', 'pods', '-l', 'app=web', '-o', 'json')).items as any[];
  return pods.filter((p) => p.status.phase === 'Running' && !p.metadata.deletionTimestamp).map((p) => p.metadata.name);
}

async function versionsInPods(): Promise<string[]> {
  return Promise.all(
    (await webPods()).map((pod) => kubectl('exec', pod, '-c', 'web', '--', 'cat', '/app/version.txt')),
  );
}

describe('UI walkthrough', function () {
  let wb: Workbench;

  after(async () => wb?.close());

  async function saveVersion(text: string) {
    await wb.openFile('version.txt');
    const editor = wb.page.locator('.monaco-editor[data-uri$="/version.txt"] textarea').first();
    await editor.focus();
    await wb.page.keyboard.press('Control+A');
    await wb.page.keyboard.type(text);
    await wb.page.keyboard.press('Control+S');
  }

  function logPanel(): FrameLocator {
    return wb.page.frameLocator('iframe.webview').last().frameLocator('iframe#active-frame');
  }

  it('start, edit, see it in both pods and in the logs, pause, resume, stop', async () => {
    wb = await openWorkbench({ suite: 'walkthrough' });
    await until('the Truva status bar item', async () => /Truva/.test((await wb.statusItem().textContent()) ?? ''));
    await wb.screenshot('opened');

    await wb.runCommand('Truva: Start Dev Session');
    await wb.sessionRunning();
    await wb.screenshot('session-started');
    const deployment = JSON.parse(await kubectl('get', 'deploy', 'web', '-o', 'json'));
    assert.ok(deployment.metadata.annotations['truva.dev/backup'], 'web is in dev mode');

    await wb.page.locator('.activitybar [aria-label^="Truva"]').first().click();
    await until(
      'web marked as in a session in the Cluster view',
      async () =>
        (await wb.page.locator('.monaco-list-row', { hasText: 'web' }).filter({ hasText: 'session' }).count()) > 0,
      30_000,
    );
    await wb.screenshot('tree-shows-session');

    await saveVersion('walkthrough-v2');
    await until('the edit in both pods', async () =>
      (await versionsInPods()).every((v) => v.trim() === 'walkthrough-v2'),
    );
    await wb.screenshot('edit-synced');

    // The editor took the panel's place; showing it again proves a hidden panel kept collecting.
    await wb.runCommand('Truva: Show Logs');
    const panel = logPanel();
    await until(
      'the restart line in the log panel',
      async () => (await panel.locator('.row', { hasText: '[truva] started pid' }).count()) > 0,
      90_000,
    );
    const podLabels = await panel.locator('.row .pod').allTextContents();
    assert.ok(
      new Set(podLabels).size >= 2,
      `lines from both pods in the panel (saw ${[...new Set(podLabels)].join(', ')})`,
    );
    await panel
      .locator('vscode-textfield.filter input')
      .fill('heartbeat')
      .catch(async () => {
        await panel.locator('vscode-textfield.filter').click();
        await wb.page.keyboard.type('heartbeat');
      });
    await until(
      'only heartbeat rows',
      async () => {
        const texts = await panel.locator('.row').allTextContents();
        return texts.length > 0 && texts.every((t) => t.includes('heartbeat'));
      },
      20_000,
    );
    await wb.screenshot('logs-filtered');

    await wb.statusItem().click();
    await until(
      'paused in the status bar',
      async () => /paused/.test((await wb.statusItem().textContent()) ?? ''),
      10_000,
    );
    await saveVersion('walkthrough-paused');
    await new Promise((r) => setTimeout(r, 2500));
    assert.ok(
      (await versionsInPods()).every((v) => v.trim() === 'walkthrough-v2'),
      'nothing reaches the pods while paused',
    );
    await wb.screenshot('paused');
    await wb.statusItem().click();
    await until('the paused edit after resume', async () =>
      (await versionsInPods()).every((v) => v.trim() === 'walkthrough-paused'),
    );
    await wb.screenshot('resumed');

    await wb.runCommand('Truva: Stop Dev Session');
    await until(
      'the deployment restored',
      async () => {
        const d = JSON.parse(await kubectl('get', 'deploy', 'web', '-o', 'json'));
        return (
          !d.metadata.annotations?.['truva.dev/backup'] &&
          JSON.stringify(d.spec.template.spec.containers[0].command) === '["node","server.js"]'
        );
      },
      90_000,
    );
    await wb.screenshot('stopped');
  });
});
