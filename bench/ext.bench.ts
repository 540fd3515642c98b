// ext.vsix_kb: size of the .vsix `npm run package` builds (minified bundles, the allow-listed files).
// ext.activation_ms: median over fresh windows of code-server (each a new extension host) of
// Truva's activation time as VS Code itself measures and shows it (Developer: Show Running
// Extensions, "Startup Activation: N ms"): loading the extension's code plus the activate() call.
// The workspace holds a truva.yaml, so Truva activates at startup as it does for its users, with
// the sandbox as the cluster.
// ext.activation_wall_ms: in the same windows, from the bundle's first line to activate()
// returning, as the extension logs it ("Activated in N ms"). Beside loading and activate(), it
// holds the time VS Code takes to prepare the extension's context (storage among others), which
// it does in parallel with loading the code and which is the same for every extension.
// ext.activation_bundle_ms / ext.activation_activate_ms: the wall time split into the bundle
// (up to activate() being called) and activate() itself. ext.activation_own_ms: Truva's own code
// in it, evaluating the bundle (first line to last) and activate().
// ext.core_load_ms: in the same windows, loading dist/core.js (the cluster client, sessions, sync),
// which the sidebar's connection does right after activation returns ("Loaded the core ... in N ms").
// ext.bundle_<name>_kb: each shipped bundle of the package (minified): extension (what activation
// loads), core and language_client (loaded on first use), server (the language server's process),
// webview (the log panel).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser } from '../test/vscode/harness/browser';
import { installCodeServer, remoteUri, repoRoot, startCodeServer } from '../test/vscode/harness/codeServer';
import { startSandbox } from '../test/vscode/harness/sandbox';
import { createSampleWorkspace } from '../test/vscode/harness/workspace';
import { runPaletteCommand } from '../test/vscode/ui/workbench';
import { until } from '../test/helpers/poll';
import type { Page } from 'playwright-core';
import type { Benchmark } from './types';

const WINDOWS = 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function filesNamed(dir: string, name: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith(`/${name}`))
    .map((f) => join(dir, f));
}

function loggedTimes(userDataDir: string, pattern: RegExp): number[] {
  return filesNamed(join(userDataDir, 'logs'), 'Truva.log').flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(pattern)].map((m) => Number(m[1])),
  );
}
const activationTimes = (userDataDir: string) => loggedTimes(userDataDir, /Activated in (\d+) ms/g);
const bundleTimes = (userDataDir: string) =>
  loggedTimes(userDataDir, /Activated in \d+ ms \(loading the bundle (\d+) ms/g);
const ownTimes = (userDataDir: string) => loggedTimes(userDataDir, /Truva's own code (\d+) ms/g);
const activateCallTimes = (userDataDir: string) => loggedTimes(userDataDir, /, activate\(\) (\d+) ms[;)]/g);
const coreLoadTimes = (userDataDir: string) => loggedTimes(userDataDir, /Loaded the core [^\n]* in (\d+) ms/g);

/** VS Code's own figure for Truva in this window: codeLoadingTime + activateCallTime. */
async function vscodeActivationMs(page: Page): Promise<number> {
  const row = page.locator('.runtime-extensions-editor .monaco-list-row', { hasText: 'truva-dev.truva' }).first();
  await runPaletteCommand(page, 'Developer: Show Running Extensions');
  const text = await until(
    "Truva's activation time in Running Extensions",
    async () => /Activation: (\d+)\s*ms/.exec((await row.locator('.activation-time').textContent()) ?? '')?.[1],
    30_000,
  );
  return Number(text);
}

const BUNDLES: Record<string, string> = {
  extension: 'dist/extension.js',
  core: 'dist/core.js',
  language_client: 'dist/languageClient.js',
  server: 'dist/server.js',
  webview: 'dist/webview/logs.js',
};

const bench: Benchmark = {
  title: 'extension: package size and activation in code-server',
  keys: ['ext.'],
  async run() {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    execFileSync(process.execPath, ['scripts/package.mjs'], { cwd: repoRoot, stdio: 'ignore' });
    const vsix = join(repoRoot, `truva-${pkg.version}.vsix`);
    const vsixKb = Math.round(statSync(vsix).size / 1024);
    const bundleKb = Object.fromEntries(
      Object.entries(BUNDLES).map(([name, file]) => [
        `ext.bundle_${name}_kb`,
        Math.round(statSync(join(repoRoot, file)).size / 1024),
      ]),
    );

    installCodeServer();
    const sandbox = await startSandbox({ controlPlane: 'sandbox' });
    const workspace = createSampleWorkspace('truva-bench-ext-');
    const server = await startCodeServer({ workspace, env: { KUBECONFIG: sandbox.kubeconfigPath } });
    const browser = await launchBrowser();
    try {
      const url = server.workbenchUrl(workspace, [['extensionDevelopmentPath', remoteUri(server, repoRoot)]]);
      const shown: number[] = [];
      for (let i = 0; i < WINDOWS; i++) {
        const page = await browser.newPage();
        await page.goto(url, { timeout: 60_000 });
        await until(`activation ${i + 1} in Truva's log`, () => activationTimes(server.userDataDir).length > i, 90_000);
        await until(`core load ${i + 1} in Truva's log`, () => coreLoadTimes(server.userDataDir).length > i, 90_000);
        shown.push(await vscodeActivationMs(page));
        await page.close();
      }
      return {
        'ext.activation_ms': median(shown),
        'ext.activation_wall_ms': median(activationTimes(server.userDataDir)),
        'ext.activation_bundle_ms': median(bundleTimes(server.userDataDir)),
        'ext.activation_activate_ms': median(activateCallTimes(server.userDataDir)),
        'ext.activation_own_ms': median(ownTimes(server.userDataDir)),
        'ext.core_load_ms': median(coreLoadTimes(server.userDataDir)),
        'ext.vsix_kb': vsixKb,
        ...bundleKb,
      };
    } finally {
      await browser.close();
      await server.stop();
      await sandbox.stop();
      rmSync(workspace, { recursive: true, force: true });
      // The package step left minified bundles without source maps: rebuild the development ones.
      execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'ignore' });
    }
  },
};

export default bench;
