// The log panel's real webview bundle (dist/webview, `node scripts/build.mjs`) in headless
// Chromium, outside VS Code: served over local HTTP with the page and CSP the extension builds
// (buildPanelHtml), and a stand-in for acquireVsCodeApi that records what the webview posts.
// Shared by the benchmark, the webview suite and the hostile-logs reliability scenario.
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { HostMessage } from '../../src/core/logs/protocol';
import { buildPanelHtml } from '../../src/vscode/logs/panelHtml';
import { launchBrowser } from '../vscode/harness/browser';

export const webviewDist = join(__dirname, '..', '..', 'dist', 'webview');

/**
 * Log lines that try to become markup, script or terminal control, and the text the panel must
 * show for each. Every script in them calls window.__scriptRan(), which counts (scriptsRun()).
 */
export const HOSTILE_LINES: ReadonlyArray<{ raw: string; shown: string }> = [
  ...[
    '<img src=x onerror="window.__scriptRan()">',
    '<script>window.__scriptRan()</script>',
    '<svg onload=window.__scriptRan()><circle r=5></circle></svg>',
    '<iframe srcdoc="<script>parent.__scriptRan()</script>"></iframe>',
    '<a href="javascript:window.__scriptRan()">click</a>',
    '"><img src=x onerror=window.__scriptRan()>',
    '</span></div><style>body{display:none}</style><div>',
    '<object data="javascript:window.__scriptRan()"></object><embed src="javascript:window.__scriptRan()">',
    '{{constructor.constructor("window.__scriptRan()")()}} ${window.__scriptRan()}',
    '&lt;img src=x onerror=window.__scriptRan()&gt; &#60;b&#62;',
    'javascript:window.__scriptRan()',
    '{"level":"error","msg":"<img src=x onerror=window.__scriptRan()>","html":"<script>window.__scriptRan()</script>"}',
  ].map((raw) => ({ raw, shown: raw })),
  // OSC 8 hyperlinks (ESC \ and BEL terminated): the text stays, the link goes.
  { raw: '\x1b]8;;javascript:window.__scriptRan()\x1b\\click me\x1b]8;;\x1b\\', shown: 'click me' },
  {
    raw: 'see \x1b]8;id=1;https://evil.example/<img src=x onerror=window.__scriptRan()>\x07this link\x1b]8;;\x07 now',
    shown: 'see this link now',
  },
  // Cursor movement, screen clearing, window titles: removed, never acted on.
  { raw: 'before\x1b[2J\x1b[H\x1b[3Aafter\x1b[10;20Hend\x1b[K\x1b[?25l', shown: 'beforeafterend' },
  { raw: '\x1b]0;<script>window.__scriptRan()</script>\x07title set', shown: 'title set' },
  { raw: 'bell\x07 back\x08space nul\x00 del\x7f done', shown: 'bell backspace nul del done' },
  // Colours stay colours around text that looks like markup.
  { raw: '\x1b[31;1m<b>red</b>\x1b[0m and \x1b[38;2;10;20;30m<i>rgb</i>\x1b[39m', shown: '<b>red</b> and <i>rgb</i>' },
];

export interface LogsWebview {
  page: Page;
  /** The document's Content-Security-Policy, exactly as served. */
  csp: string;
  /** Delivers a host message the way the extension's webview.postMessage does (a window message). */
  post(message: HostMessage): Promise<void>;
  /** Messages the webview sent to the host, oldest first. */
  posted(): Promise<unknown[]>;
  /** How many times a script from a log line ran (HOSTILE_LINES call window.__scriptRan()). */
  scriptsRun(): Promise<number>;
  /** Elements inside rendered log text and the detail view other than the panel's own span/mark. */
  foreignElements(): Promise<string[]>;
  /** CSP violations the page reported ("directive blocked-uri"): each is something the policy had to stop. */
  violations(): Promise<string[]>;
  /** Starts timing every frame; the returned function stops and gives the longest frame, in ms. */
  meterFrames(): Promise<() => Promise<number>>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** A browser to open the page in; by default one is launched and closed with the page. */
  browser?: Browser;
  /** What vscode.getState() returns (a reloaded panel's saved state). */
  state?: unknown;
  viewport?: { width: number; height: number };
  /** Another build of the bundle folder (to compare two versions); default $TRUVA_WEBVIEW_DIST or dist/webview. */
  dist?: string;
}

function serve(dist: string, nonce: string): Promise<{ server: Server; port: number; csp: () => string }> {
  let csp = '';
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/') {
      const html = buildPanelHtml({
        cspSource: `http://127.0.0.1:${port}`,
        nonce,
        scriptUri: '/logs.js',
        styleUri: '/logs.css',
        codiconUri: '/codicon.css',
        title: 'Logs',
      });
      csp = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1] ?? '';
      res.setHeader('content-type', 'text/html; charset=utf-8');
      return res.end(html);
    }
    // Only files of the bundle folder, as localResourceRoots allows in VS Code.
    const file = normalize(join(dist, decodeURIComponent(url.pathname)));
    if (!file.startsWith(dist + '/') || !existsSync(file)) {
      res.statusCode = 404;
      return res.end();
    }
    res.setHeader(
      'content-type',
      file.endsWith('.js') ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : 'application/octet-stream',
    );
    res.end(readFileSync(file));
  });
  let port = 0;
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      port = (server.address() as { port: number }).port;
      resolve({ server, port, csp: () => csp });
    }),
  );
}

/** Opens the panel page and waits until the webview has said "ready". */
export async function openLogsWebview(options: OpenOptions = {}): Promise<LogsWebview> {
  const dist = options.dist ?? process.env.TRUVA_WEBVIEW_DIST ?? webviewDist;
  if (!existsSync(join(dist, 'logs.js')))
    throw new Error(`${dist}/logs.js is missing: run node scripts/build.mjs first`);
  const { server, port, csp } = await serve(dist, 'n0nce' + Math.random().toString(36).slice(2));
  const ownBrowser = options.browser ? undefined : await launchBrowser();
  const browser = options.browser ?? ownBrowser!;
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 1400, height: 900 } });
  try {
    const page = await context.newPage();
    // A string, not a function: tsx compiles functions with a __name helper the page lacks (it is
    // defined here too, for callers' page.evaluate callbacks).
    await page.addInitScript({
      content: `
        window.__name = (f) => f;
        window.__posted = [];
        window.__violations = [];
        window.__scripts = 0;
        window.__scriptRan = () => { window.__scripts++; };
        document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
        let state = ${JSON.stringify(options.state ?? null)} ?? undefined;
        window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m), getState: () => state, setState: (s) => { state = s; } });`,
    });
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(
      () => (window as unknown as { __posted: Array<{ type?: string }> }).__posted.some((m) => m?.type === 'ready'),
      undefined,
      { timeout: 30_000 },
    );
    return {
      page,
      csp: csp(),
      post: (message) => page.evaluate((m) => window.postMessage(m, '*'), message),
      posted: () => page.evaluate(() => (window as unknown as { __posted: unknown[] }).__posted),
      scriptsRun: () => page.evaluate(() => (window as unknown as { __scripts: number }).__scripts),
      foreignElements: () =>
        page.evaluate(() =>
          [...document.querySelectorAll('.row .text *, .detail *')]
            .filter((e) => e.tagName !== 'SPAN' && e.tagName !== 'MARK')
            .map((e) => e.tagName),
        ),
      violations: () => page.evaluate(() => (window as unknown as { __violations: string[] }).__violations),
      async meterFrames() {
        await page.evaluate(() => {
          const meter = { longest: 0, running: true };
          (window as unknown as { __frames: typeof meter }).__frames = meter;
          let last = performance.now();
          const frame = (now: number) => {
            meter.longest = Math.max(meter.longest, now - last);
            last = now;
            if (meter.running) requestAnimationFrame(frame);
          };
          requestAnimationFrame(frame);
        });
        return () =>
          page.evaluate(() => {
            const meter = (window as unknown as { __frames: { longest: number; running: boolean } }).__frames;
            meter.running = false;
            return meter.longest;
          });
      },
      async close() {
        await context.close().catch(() => undefined);
        await ownBrowser?.close().catch(() => undefined);
        server.close();
      },
    };
  } catch (err) {
    await context.close().catch(() => undefined);
    await ownBrowser?.close().catch(() => undefined);
    server.close();
    throw err;
  }
}
