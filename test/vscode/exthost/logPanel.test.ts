// The log panel as VS Code really creates it: scripts are on but only the nonce script may run,
// the webview may load files from the bundle folder (dist/webview) and nowhere else, and the page
// it is given carries the strict CSP. (The page's behaviour in Chromium: test/webview.)
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { TruvaContext } from '../../../src/vscode/truvaContext';

const extensionId = 'truva-dev.truva';

describe('Truva log panel webview options', () => {
  it('limits localResourceRoots to the bundle folder and serves the page with a nonce-only CSP', async () => {
    const extension = vscode.extensions.getExtension<{ truva: TruvaContext }>(extensionId)!;
    const truva = (await extension.activate()).truva;
    await truva.started; // the sidebar connects right after activation
    const target = { namespace: 'demo', deployment: 'web' };
    await truva.logPanels.show(target);
    const panel = truva.logPanels.panelFor(target);
    assert.ok(panel, 'the panel is open');
    try {
      const bundle = vscode.Uri.joinPath(extension.extensionUri, 'dist', 'webview');
      const options = panel.webview.options;
      assert.equal(options.enableScripts, true);
      assert.ok(!options.enableCommandUris, 'no command: links');
      assert.deepEqual(
        options.localResourceRoots?.map((u) => u.toString()),
        [bundle.toString()],
      );

      const html = panel.webview.html;
      const csp = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1] ?? '';
      const nonce = /<script nonce="([^"]+)"/.exec(html)?.[1] ?? '';
      assert.ok(nonce.length >= 16, 'the script carries a nonce');
      assert.equal(csp.split(';')[0].trim(), "default-src 'none'");
      assert.ok(csp.includes(`script-src 'nonce-${nonce}'`), csp);
      assert.doesNotMatch(csp, /unsafe-/);
      // Styles, fonts and images only from the webview's own resource origin (VS Code's cspSource).
      const directives = new Map(
        csp
          .split(';')
          .map((d) => d.trim().split(/\s+/))
          .map(([name, ...values]) => [name, values]),
      );
      assert.deepEqual([...directives.keys()].sort(), [
        'default-src',
        'font-src',
        'img-src',
        'script-src',
        'style-src',
      ]);
      for (const d of ['style-src', 'font-src', 'img-src'])
        assert.deepEqual(directives.get(d), panel.webview.cspSource.split(/\s+/), d);
      // Every file the page loads is a webview URI inside the bundle folder.
      const base = panel.webview.asWebviewUri(bundle).toString();
      const loaded = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1].replace(/&amp;/g, '&'));
      assert.equal(loaded.length, 3, loaded.join(', '));
      for (const url of loaded) assert.ok(url.startsWith(base + '/'), `${url} is outside ${base}`);
    } finally {
      panel.dispose();
    }
  });
});
