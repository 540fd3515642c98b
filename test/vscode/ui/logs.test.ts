// The log panel in real VS Code: lines from both pods, text and level filters, only a window of
// rows in the DOM, and a hostile log line shown as text with no script run.
import * as assert from 'node:assert/strict';
import { kubectl } from './kubectl';
import { openWorkbench, until, type Workbench } from './workbench';

describe('log panel UI', function () {
  let wb: Workbench;
  after(async () => wb?.close());

  it('shows both pods, filters by text and level, keeps only a window of rows, renders hostile lines as text', async () => {
    wb = await openWorkbench({ suite: 'logs' });
    await until('the Truva status bar item', async () => /Truva/.test((await wb.statusItem().textContent()) ?? ''));
    await wb.runCommand('Truva: Show Logs');
    const pick = wb.page.locator('.quick-input-list .monaco-list-row', { hasText: 'web' }).first();
    await pick.waitFor({ timeout: 15_000 });
    await pick.click();
    const panel = wb.page.frameLocator('iframe.webview').last().frameLocator('iframe#active-frame');
    await until(
      'lines from both pods',
      async () => new Set(await panel.locator('.row .pod').allTextContents()).size >= 2,
    );
    await wb.screenshot('both-pods');

    // Only a window of rows is in the DOM, however many lines there are.
    await until(
      'more lines than fit on screen',
      async () => Number(/of (\d+) lines/.exec((await panel.locator('.status').textContent()) ?? '')?.[1] ?? 0) > 150,
    );
    const total = Number(/of (\d+) lines/.exec((await panel.locator('.status').textContent()) ?? '')![1]);
    const inDom = await panel.locator('.row').count();
    assert.ok(inDom > 0 && inDom < total, `${inDom} rows in the DOM for ${total} lines`);

    // A hostile line from a pod: shown as characters, nothing executed, no element created.
    const pod = (await kubectl('get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}')).trim();
    // The web app logs each request's raw path: send one whose path is markup.
    const request =
      'GET /<img/src=x/onerror=window.__pwned=1>hostile-marker HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n';
    await kubectl(
      'exec',
      pod,
      '--',
      'node',
      '-e',
      `const s=require('net').connect(8080,'127.0.0.1',()=>s.write('${request}'));s.on('data',()=>s.end())`,
    );
    const filter = panel.locator('vscode-textfield.filter');
    await filter.click();
    await wb.page.keyboard.type('hostile-marker');
    await until(
      'the hostile line, alone',
      async () => {
        const rows = await panel.locator('.row').allTextContents();
        return rows.length === 1 && rows[0].includes('<img/src=x/onerror=window.__pwned=1>');
      },
      30_000,
    );
    assert.equal(await panel.locator('img').count(), 0, 'no img element was created');
    assert.equal(
      await panel.locator('body').evaluate(() => (window as unknown as { __pwned?: number }).__pwned),
      undefined,
      'no script ran',
    );
    await wb.screenshot('hostile-line-as-text');

    // Level chips: hiding "other" hides the plain-text lines (the hostile line has no level).
    await panel.locator('.chips.levels button.chip.level-other').click();
    await until('the other-level line hidden', async () => (await panel.locator('.row').count()) === 0, 10_000);
    await panel.locator('.chips.levels button.chip.level-other').click();
    await wb.page.keyboard.press('Escape');
    await wb.screenshot('filters-cleared');
  });
});
