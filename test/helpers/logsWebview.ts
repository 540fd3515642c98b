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

export interface LogsWebview {
  page: Page;
  /** The document's Content-Security-Policy, exactly as served. */
  csp: string;
  /** Delivers a host message the way the extension's webview.postMessage does (a window message). */
  post(message: HostMessage): Promise<void>;
  /** Messages the webview sent to the host, oldest first. */
  posted(): Promise<unknown[]>;
  /** CSP violations the page reported ("directive blocked-uri"): each is something the policy had to stop. */
  violations(): Promise<string[]>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** A browser to open the page in; by default one is launched and closed with the page. */
  browser?: Browser;
  /** What vscode.getState() returns (a reloaded panel's saved state). */
  state?: unknown;
  viewport?: { width: number; height: number };
  /** Another build of the bundle folder (to compare two versions); default dist/webview. */
  dist?: string;
}

function serve(dist: string, nonce: string): Promise<{ server: Server; port: number; csp: () => string }> {
  let csp = '';
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/') {
      const html = buildPanelHtml({ cspSource: `http://127.0.0.1:${port}`, nonce, scriptUri: '/logs.js', styleUri: '/logs.css', codiconUri: '/codicon.css', title: 'Logs' });
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
    res.setHeader('content-type', file.endsWith('.js') ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : 'application/octet-stream');
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
  const dist = options.dist ?? webviewDist;
  if (!existsSync(join(dist, 'logs.js'))) throw new Error(`${dist}/logs.js is missing: run node scripts/build.mjs first`);
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
        document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
        let state = ${JSON.stringify(options.state ?? null)} ?? undefined;
        window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m), getState: () => state, setState: (s) => { state = s; } });`,
    });
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => (window as unknown as { __posted: Array<{ type?: string }> }).__posted.some((m) => m?.type === 'ready'), undefined, { timeout: 30_000 });
    return {
      page,
      csp: csp(),
      post: (message) => page.evaluate((m) => window.postMessage(m, '*'), message),
      posted: () => page.evaluate(() => (window as unknown as { __posted: unknown[] }).__posted),
      violations: () => page.evaluate(() => (window as unknown as { __violations: string[] }).__violations),
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
