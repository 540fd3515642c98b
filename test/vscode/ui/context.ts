// What test/vscode/run.ts hands to the UI suites: the running code-server, one Chromium, the
// sample workspace and the sandbox's kubeconfig. Kept on globalThis because the runner and the
// suite files may be loaded by different module loaders (ESM import vs mocha's require).
import type { Browser } from 'playwright-core';
import type { CodeServer } from '../harness/codeServer';

export interface UiContext {
  server: CodeServer;
  browser: Browser;
  /** The sample workspace (web app sources + truva.yaml), a temporary copy. */
  workspace: string;
  kubeconfigPath: string;
  /** test-artifacts/vscode: screenshots go below it, one folder per suite. */
  artifactsDir: string;
  repoRoot: string;
}

const key = Symbol.for('truva.vscode.uiContext');

export function setUiContext(context: UiContext): void {
  (globalThis as Record<symbol, unknown>)[key] = context;
}

export function uiContext(): UiContext {
  const context = (globalThis as Record<symbol, unknown>)[key] as UiContext | undefined;
  if (!context)
    throw new Error('UI suites run through test/vscode/run.ts: npx tsx scripts/run-tests.ts --suite vscode');
  return context;
}
