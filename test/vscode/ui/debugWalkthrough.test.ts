// The debugger and the terminal as a person uses them, in real VS Code (code-server) in headless
// Chromium, with numbered screenshots: truva.yaml with `ports` and `debug`, Start Dev Session,
// a breakpoint set in server.js with F9, Truva: Debug, a request through the forward stops at the
// breakpoint (screenshot), Continue answers it; Truva: Open Terminal on a pod, a command typed in
// it runs in the remote path of that pod (checked with the real kubectl; screenshot); Stop.
import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts, httpGet } from '../../helpers/net';
import { uiContext } from './context';
import { kubectl } from './kubectl';
import { openWorkbench, until, type Workbench } from './workbench';

async function webPods(): Promise<string[]> {
  const pods = JSON.parse(await kubectl('get', 'pods', '-l', 'app=web', '-o', 'json')).items as any[];
  return pods.filter((p) => p.status.phase === 'Running' && !p.metadata.deletionTimestamp).map((p) => p.metadata.name);
}

describe('UI walkthrough: debugger and terminal', function () {
  let wb: Workbench;
  let originalYaml: string;
  const yamlPath = () => join(uiContext().workspace, 'truva.yaml');

  after(async () => {
    if (wb) {
      await wb.runCommand('Truva: Stop Dev Session').catch(() => undefined);
      await until(
        'web restored',
        async () =>
          !JSON.parse(await kubectl('get', 'deploy', 'web', '-o', 'json')).metadata.annotations?.['truva.dev/backup'],
        90_000,
      ).catch(() => undefined);
      await wb.close();
    }
    if (originalYaml !== undefined) writeFileSync(yamlPath(), originalYaml);
  });

  it('a breakpoint in server.js stops a request through the forward; a terminal runs in the pod', async () => {
    const base = await freePorts(2);
    originalYaml = readFileSync(yamlPath(), 'utf8');
    writeFileSync(
      yamlPath(),
      `${originalYaml.trimEnd()}\nports:\n  - remote: 8080\n    local: ${base}\ndebug:\n  local: ${base + 1}\n`,
    );
    wb = await openWorkbench({ suite: 'debug-walkthrough' });
    await until('the Truva status bar item', async () => /Truva/.test((await wb.statusItem().textContent()) ?? ''));
    await wb.runCommand('Truva: Start Dev Session');
    await wb.sessionRunning();
    assert.match(await httpGet(base), /^hello from /, 'the forward answers');

    const line = readFileSync(join(uiContext().workspace, 'server.js'), 'utf8')
      .split('\n')
      .findIndex((l) => l.includes('res.end(`hello from'));
    await wb.openFile('server.js');
    await wb.page.keyboard.press('Control+G');
    await wb.page.keyboard.type(String(line + 1));
    await wb.page.keyboard.press('Enter');
    await wb.page.keyboard.press('F9');
    await until(
      'the breakpoint in the gutter',
      async () => (await wb.page.locator('.codicon-debug-breakpoint').count()) > 0,
      20_000,
    );

    await wb.runCommand('Truva: Debug');
    await until('the debug toolbar', async () => (await wb.page.locator('.debug-toolbar').count()) > 0, 60_000);
    // Asked until it stops: the first requests may come before the breakpoint is bound.
    let answer: Promise<string> | undefined;
    let answered = false;
    await until(
      'paused on the breakpoint',
      async () => {
        if (!answer) {
          answered = false;
          answer = httpGet(base);
          answer.then(
            () => (answered = true),
            () => (answered = true),
          );
        }
        const paused = (await wb.page.locator('.debug-top-stack-frame-line, .debug-top-stack-frame').count()) > 0;
        if (!paused && answered) answer = undefined;
        return paused;
      },
      90_000,
      250,
    );
    await wb.screenshot('breakpoint-hit');
    await wb.runCommand('Debug: Continue');
    assert.match(await answer!, /^hello from /, 'the request is answered after Continue');
    // F9 on the same line again takes the breakpoint away.
    await wb.openFile('server.js');
    await wb.page.keyboard.press('Control+G');
    await wb.page.keyboard.type(String(line + 1));
    await wb.page.keyboard.press('Enter');
    await wb.page.keyboard.press('F9');
    await until(
      'no breakpoint in the gutter',
      async () => (await wb.page.locator('.codicon-debug-breakpoint').count()) === 0,
      20_000,
    );

    const pods = await webPods();
    await wb.runCommand('Truva: Open Terminal');
    // Two pods: a pick names them; the first is taken.
    const row = wb.page.locator('.quick-input-list .monaco-list-row').first();
    await row.waitFor({ timeout: 15_000 });
    const pod = ((await row.textContent()) ?? '').trim();
    assert.ok(
      pods.some((p) => pod.includes(p)),
      `the pick lists the pods: ${pod}`,
    );
    await wb.page.locator('.quick-input-widget input').press('Enter');
    await wb.page.locator('.terminal-wrapper, .xterm').first().waitFor({ timeout: 30_000 });
    const marker = `ui-terminal-${Date.now()}`;
    const inPod = pods.find((p) => pod.includes(p))!;
    await until(
      'the command typed in the terminal, run in the pod',
      async () => {
        const text = await kubectl(
          'exec',
          inPod,
          '-c',
          'web',
          '--',
          'sh',
          '-c',
          `cat /tmp/${marker} 2>/dev/null || true`,
        );
        if (text.includes('/app')) return true;
        await wb.page.locator('.xterm').first().click();
        await wb.page.keyboard.type(`pwd > /tmp/${marker}; echo typed in the Truva terminal\n`);
        return false;
      },
      60_000,
      2000,
    );
    await wb.screenshot('terminal');
  });
});
