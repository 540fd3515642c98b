// The log panel's trust boundary: what the webview sends is validated before the host acts on
// it (unknown or malformed messages are dropped), the webview only acts on the host's message
// shapes, and the page's CSP allows nothing but the one nonce script and the bundle's files.
import assert from 'node:assert/strict';
import { isHostMessage, parseWebviewMessage } from '../../../src/core/logs/protocol';
import { buildPanelHtml, contentSecurityPolicy, createNonce } from '../../../src/vscode/logs/panelHtml';

describe('logs: webview messages and CSP', () => {
  it('accepts each well-formed webview message unchanged', () => {
    for (const m of [
      { type: 'ready' },
      { type: 'clear' },
      { type: 'copy', text: 'a\nb' },
      { type: 'export', text: 'lines\n', suggestedName: 'web.log' },
    ]) {
      assert.deepEqual(parseWebviewMessage(m), m);
    }
  });

  it('drops unknown, malformed and oversized messages', () => {
    const bad: unknown[] = [
      undefined,
      null,
      0,
      'ready',
      [],
      {},
      { type: 'unknown' },
      { type: 'READY' },
      { type: 'eval', code: 'x' },
      { type: 'postMessage' },
      { type: 'copy' },
      { type: 'copy', text: 42 },
      { type: 'copy', text: { toString: () => 'x' } },
      { type: 'export', suggestedName: 'a.log' },
      { type: 'export', text: ['a'] },
      // The webview keeps its state with vscode.setState; it is no message to the host.
      { type: 'state', state: { target: { namespace: 'demo', deployment: 'web' } } },
    ];
    for (const m of bad) assert.equal(parseWebviewMessage(m), undefined, JSON.stringify(m));
  });

  it('keeps only known fields, and only a plain file name as the export suggestion', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'clear', extra: '<script>' }), { type: 'clear' });
    for (const name of ['../../.bashrc', '/etc/passwd', 'C:\\x.log', 'a b.log', '', 'x'.repeat(201), 42]) {
      assert.equal(
        (parseWebviewMessage({ type: 'export', text: 't', suggestedName: name }) as { suggestedName: string })
          .suggestedName,
        'logs.txt',
        String(name),
      );
    }
  });

  it('lets the webview act only on the host message shapes', () => {
    const init = {
      type: 'init',
      title: 'Logs: web',
      target: { namespace: 'demo', deployment: 'web' },
      lines: [],
      dropped: 0,
      pods: [],
      maxLines: 50_000,
    };
    for (const m of [init, { type: 'lines', lines: [], dropped: 0 }, { type: 'pods', pods: [] }, { type: 'cleared' }])
      assert.equal(isHostMessage(m), true, m.type);
    for (const m of [
      null,
      'init',
      { type: 'ready' },
      { type: 'lines' },
      { type: 'lines', lines: 'x' },
      { type: 'pods', pods: {} },
      { type: 'notice', message: 'never sent' },
      { ...init, lines: undefined },
      { ...init, maxLines: 0 },
      { ...init, target: {} },
    ]) {
      assert.equal(isHostMessage(m), false, JSON.stringify(m));
    }
  });

  it("builds a CSP of default-src 'none' with one nonce script and no unsafe-inline or unsafe-eval", () => {
    const nonce = createNonce();
    assert.match(nonce, /^[A-Za-z0-9]{20,}$/);
    assert.notEqual(createNonce(), nonce);
    const csp = contentSecurityPolicy('https://file+.vscode-resource.vscode-cdn.net', nonce);
    const directives = new Map(
      csp
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .map(([name, ...values]) => [name, values]),
    );
    assert.equal(csp.split(';')[0], "default-src 'none'");
    assert.deepEqual(directives.get('script-src'), [`'nonce-${nonce}'`]);
    for (const d of ['style-src', 'font-src', 'img-src'])
      assert.deepEqual(directives.get(d), ['https://file+.vscode-resource.vscode-cdn.net'], d);
    assert.deepEqual([...directives.keys()].sort(), ['default-src', 'font-src', 'img-src', 'script-src', 'style-src']);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|unsafe-hashes|\*|data:|blob:/);
  });

  it('puts the CSP first in the page, gives the nonce to the one script, and escapes what it interpolates', () => {
    const html = buildPanelHtml({
      cspSource: 'vscode-resource:',
      nonce: 'abc123',
      scriptUri: 'x"><script>alert(1)</script>',
      styleUri: 's.css',
      codiconUri: 'c.css',
      title: '</title><script>alert(1)</script>',
    });
    assert.ok(html.indexOf('Content-Security-Policy') < html.indexOf('<script'), 'the policy precedes every script');
    const scripts = html.match(/<script[^>]*>/g) ?? [];
    assert.deepEqual(scripts, ['<script nonce="abc123" src="x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">']);
    assert.ok(!html.includes('<script>alert'), 'nothing interpolated became markup');
    assert.doesNotMatch(html, /\sstyle=|\son\w+=/, 'no inline style or handler in the page');
  });
});
