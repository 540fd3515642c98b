// The real-VS-Code suites (called by scripts/run-tests.ts; see test/vscode/README.md):
// (a) extension-host suites, test/vscode/exthost/*.test.ts, run by mocha inside code-server's real
//     extension host with the extension under development loaded;
// (b) UI suites, test/vscode/ui/*.test.ts, run by mocha here, driving the workbench in headless
//     Chromium through playwright-core, as a person would.
// Both share one sandbox cluster and one code-server. Extension-host suites named
// *.untrusted.test.ts run in a second code-server with workspace trust on, on a hostile workspace
// (harness/workspace.ts) that VS Code opens in Restricted Mode. Everything started here is stopped at the end,
// and every wait has a timeout, so a broken build fails instead of hanging CI.
import Mocha from 'mocha';
import * as esbuild from 'esbuild';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { installCodeServer, remoteUri, repoRoot, startCodeServer, type CodeServer } from './harness/codeServer';
import { launchBrowser } from './harness/browser';
import { startSandbox } from './harness/sandbox';
import { createHostileWorkspace, createSampleWorkspace } from './harness/workspace';
import { setUiContext } from './ui/context';
import type { ExtHostResults } from './exthost/index';

export interface SuiteTotals {
  passed: number;
  failed: number;
}

const extHostDir = join(repoRoot, 'test/vscode/exthost');
const uiDir = join(repoRoot, 'test/vscode/ui');
export const artifactsDir = join(repoRoot, 'test-artifacts/vscode');

const EXTHOST_TIMEOUT_MS = 8 * 60_000;
const EXTHOST_TEST_TIMEOUT_MS = 120_000;
const UI_TEST_TIMEOUT_MS = 240_000;

const suiteFiles = (dir: string) =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.test.ts'))
        .sort()
    : [];

const untrusted = (f: string) => f.endsWith('.untrusted.test.ts');

export async function runVsCodeSuites({ grep }: { grep?: string } = {}): Promise<SuiteTotals> {
  const extHostFiles = suiteFiles(extHostDir);
  const trustedFiles = extHostFiles.filter((f) => !untrusted(f));
  const untrustedFiles = extHostFiles.filter(untrusted);
  const uiFiles = suiteFiles(uiDir);
  const totals: SuiteTotals = { passed: 0, failed: 0 };
  if (extHostFiles.length + uiFiles.length === 0) return totals;
  console.log('\n== real VS Code (code-server) suites');
  mkdirSync(artifactsDir, { recursive: true });

  const cleanups: (() => Promise<void> | void)[] = [];
  let server: CodeServer | undefined;
  try {
    installCodeServer();
    const sandbox = await startSandbox();
    cleanups.push(() => sandbox.stop());
    const workspace = createSampleWorkspace();
    cleanups.push(() => rmSync(workspace, { recursive: true, force: true }));
    server = await startCodeServer({
      workspace,
      // The fault endpoint's token lets extension-host suites take the API down (circuit.test.ts).
      env: { KUBECONFIG: sandbox.kubeconfigPath, TRUVA_TEST: '1', TRUVA_FAULTS_TOKEN: sandbox.tokens.faults },
      settings: { 'truva.logLevel': 'debug' },
    });
    cleanups.push(() => server?.stop());
    const browser = await launchBrowser();
    cleanups.push(() => browser.close());

    if (trustedFiles.length > 0)
      add(totals, await runExtHostSuites({ server, browser, workspace, files: trustedFiles, grep }));
    if (untrustedFiles.length > 0) {
      const hostile = createHostileWorkspace();
      cleanups.push(() => rmSync(hostile, { recursive: true, force: true }));
      const restricted = await startCodeServer({
        workspace: hostile,
        workspaceTrust: true,
        env: { KUBECONFIG: sandbox.kubeconfigPath, TRUVA_TEST: '1' },
      });
      try {
        add(
          totals,
          await runExtHostSuites({
            server: restricted,
            browser,
            workspace: hostile,
            files: untrustedFiles,
            grep,
            label: 'extension host, untrusted workspace',
          }),
        );
      } finally {
        writeFileSync(join(artifactsDir, 'code-server-untrusted.log'), restricted.output());
        await restricted.stop();
      }
    }
    if (uiFiles.length > 0) {
      // A fresh copy: whatever the extension-host suites left in theirs (a second truva.yaml after a
      // failed test) must not change what the UI suites see.
      const uiWorkspace = createSampleWorkspace();
      cleanups.push(() => rmSync(uiWorkspace, { recursive: true, force: true }));
      setUiContext({
        server,
        browser,
        workspace: uiWorkspace,
        kubeconfigPath: sandbox.kubeconfigPath,
        artifactsDir,
        repoRoot,
      });
      add(totals, await runUiSuites(uiFiles, grep));
    }
  } catch (err) {
    console.error(`  x the real-VS-Code harness failed: ${(err as Error).stack ?? err}`);
    totals.failed++;
  } finally {
    if (server) writeFileSync(join(artifactsDir, 'code-server.log'), server.output());
    for (const cleanup of cleanups.reverse()) {
      try {
        await withTimeout(Promise.resolve(cleanup()), 30_000, 'cleanup');
      } catch (err) {
        console.error(`  cleanup: ${(err as Error).message}`);
      }
    }
  }
  if (totals.failed > 0) console.log(`  (code-server's log and screenshots: ${artifactsDir})`);
  return totals;
}

function add(totals: SuiteTotals, more: SuiteTotals) {
  totals.passed += more.passed;
  totals.failed += more.failed;
}

/** Bundles the exthost entry and suites into a folder of this run (others may run theirs at the same time). */
async function bundleExtHostSuites(outDir: string): Promise<void> {
  const entryPoints = [join(extHostDir, 'index.ts'), ...suiteFiles(extHostDir).map((f) => join(extHostDir, f))];
  await esbuild.build({
    entryPoints,
    outdir: outDir,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'inline',
    logLevel: 'warning',
    // `vscode` is provided by the extension host; mocha resolves from the repo's node_modules
    // (outDir is inside the repo), and must be one instance shared by the entry and the suites.
    external: ['vscode', 'mocha'],
  });
}

async function runExtHostSuites(opts: {
  server: CodeServer;
  browser: Browser;
  workspace: string;
  files: string[];
  grep?: string;
  label?: string;
}): Promise<SuiteTotals> {
  console.log(`  ${opts.label ?? 'extension host'}:`);
  const outDir = join(repoRoot, 'out/test', `exthost-${process.pid}-${Date.now()}`);
  mkdirSync(outDir, { recursive: true });
  try {
    await bundleExtHostSuites(outDir);
    const resultsFile = join(outDir, 'results.json');
    const files = opts.files.map((f) => f.replace(/\.ts$/, '.js'));
    writeFileSync(
      join(outDir, 'run.json'),
      JSON.stringify({ grep: opts.grep, files, resultsFile, timeoutMs: EXTHOST_TEST_TIMEOUT_MS }),
    );
    const url = opts.server.workbenchUrl(opts.workspace, [
      ['extensionDevelopmentPath', remoteUri(opts.server, repoRoot)],
      ['extensionTestsPath', remoteUri(opts.server, join(outDir, 'index.js'))],
    ]);
    const page = await opts.browser.newPage({ viewport: { width: 1400, height: 900 } });
    try {
      await page.goto(url, { timeout: 60_000 });
      const results = await waitForResults(resultsFile, EXTHOST_TIMEOUT_MS);
      for (const test of results.tests) {
        console.log(`    ${test.state === 'passed' ? '✔' : '✘'} ${test.title} (${test.durationMs} ms)`);
        if (test.error)
          console.log(
            test.error
              .split('\n')
              .map((l) => `        ${l}`)
              .join('\n'),
          );
      }
      return { passed: results.passed, failed: results.failed };
    } catch (err) {
      await page.screenshot({ path: join(artifactsDir, 'exthost-timeout.png') }).catch(() => undefined);
      throw err;
    } finally {
      await page.close().catch(() => undefined);
    }
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

async function waitForResults(file: string, timeoutMs: number): Promise<ExtHostResults> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as ExtHostResults;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `the extension-host suites wrote no results within ${timeoutMs / 60_000} min (did the extension or the test bundle fail to load? see code-server.log)`,
  );
}

async function runUiSuites(files: string[], grep?: string): Promise<SuiteTotals> {
  console.log('  UI (Chromium):');
  const mocha = new Mocha({ reporter: 'spec', timeout: UI_TEST_TIMEOUT_MS, grep });
  for (const file of files) mocha.addFile(join(uiDir, file));
  return new Promise((resolve) => {
    const runner = mocha.run(() => resolve({ passed: runner.stats?.passes ?? 0, failed: runner.stats?.failures ?? 0 }));
  });
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
