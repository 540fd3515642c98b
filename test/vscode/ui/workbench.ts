// Helpers for UI suites: a code-server workbench in a Chromium page, used as a person uses it
// (command palette, status bar, tree, editor), with numbered screenshots in test-artifacts/.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { remoteUri } from '../harness/codeServer';
import { uiContext } from './context';
import { until } from '../../helpers/poll';

export { until };

export interface Workbench {
  page: Page;
  /** Runs a command from the palette by its title, e.g. "Truva: Start Dev Session". */
  runCommand(title: string): Promise<void>;
  /** The Truva status bar item. */
  statusItem(): Locator;
  /** Waits until the status bar shows a running session (not one still starting or restoring). */
  sessionRunning(timeoutMs?: number): Promise<void>;
  /** Waits until some notification's text matches. */
  notification(text: string | RegExp, timeoutMs?: number): Promise<Locator>;
  /** Opens a workspace file in the editor (its tab, or quick open) and waits until it shows. */
  openFile(relativePath: string): Promise<void>;
  /** Saves a step's picture as test-artifacts/vscode/<suite>/NN-name.png. */
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Folder name under test-artifacts/vscode for this suite's screenshots. */
  suite: string;
  /** Defaults to the sample workspace. */
  folder?: string;
  /** Load the extension from the repo (default) or use what is installed in code-server. */
  extensionDevelopmentPath?: string | null;
}

/** Runs a command from the palette by its title; `onGiveUp` runs before the last failure is thrown. */
export async function runPaletteCommand(page: Page, title: string, onGiveUp?: () => Promise<void>): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  // While the workbench is still restoring, the palette may ignore F1, or not list a command
  // yet (its enablement context keys are not set): close it and ask again.
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('F1');
    try {
      await input.waitFor({ state: 'visible', timeout: 3000 });
      await input.fill(`>${title}`);
      await row.waitFor({ timeout: 5000 });
      break;
    } catch (err) {
      if (attempt >= 6) {
        await onGiveUp?.();
        throw err;
      }
      await page.keyboard.press('Escape');
    }
  }
  await input.press('Enter');
  await input.waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => undefined);
}

export async function openWorkbench(options: OpenOptions): Promise<Workbench> {
  const ctx = uiContext();
  const shots = join(ctx.artifactsDir, options.suite);
  mkdirSync(shots, { recursive: true });
  let step = 0;
  const devPath = options.extensionDevelopmentPath === undefined ? ctx.repoRoot : options.extensionDevelopmentPath;
  const payload: [string, string][] | undefined = devPath
    ? [['extensionDevelopmentPath', remoteUri(ctx.server, devPath)]]
    : undefined;
  const browserContext: BrowserContext = await ctx.browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await browserContext.newPage();
  await page.goto(ctx.server.workbenchUrl(options.folder ?? ctx.workspace, payload), { timeout: 60_000 });
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  await page.locator('.statusbar').waitFor({ timeout: 60_000 });

  const workbench: Workbench = {
    page,
    runCommand: (title) =>
      runPaletteCommand(page, title, () => workbench.screenshot(`palette-without-${title.replace(/\W+/g, '-')}`)),
    statusItem: () => page.locator('.statusbar-item[id="truva-dev.truva.truva.status"]'),
    async sessionRunning(timeoutMs = 120_000) {
      await until(
        'a running session in the status bar',
        async () => {
          const text = (await workbench.statusItem().textContent()) ?? '';
          return /pods/.test(text) && !/starting|restoring/.test(text);
        },
        timeoutMs,
      );
    },
    async notification(text, timeoutMs = 60_000) {
      const toast = page
        .locator('.notification-toast, .notifications-center .notification-list-item', { hasText: text })
        .first();
      await toast.waitFor({ timeout: timeoutMs });
      return toast;
    },
    async openFile(relativePath) {
      const name = relativePath.split('/').pop()!;
      const editor = page.locator(`.monaco-editor[data-uri$="/${relativePath}"]`).first();
      // An open tab is the surest way back, since a keystroke can be swallowed while a webview has
      // focus; otherwise quick open, waiting for the row that names the file (the first rows can be
      // history while the file search is still running). Tried again: a busy workbench can drop
      // the first Ctrl+P.
      const tab = page.locator('.tabs-container .tab', { hasText: name }).first();
      for (let attempt = 1; ; attempt++) {
        try {
          if (await tab.count()) {
            await tab.click();
          } else {
            await page.keyboard.press('Control+P');
            const input = page.locator('.quick-input-widget input');
            await input.waitFor({ state: 'visible', timeout: 10_000 });
            await input.fill(relativePath);
            await page
              .locator('.quick-input-list .monaco-list-row', { hasText: name })
              .first()
              .waitFor({ timeout: 15_000 });
            await input.press('Enter');
          }
          await editor.waitFor({ state: 'visible', timeout: 15_000 });
          return;
        } catch (err) {
          if (attempt >= 3) {
            await workbench.screenshot(`${name.replace(/\W+/g, '-')}-not-opened`);
            throw err;
          }
          await page.keyboard.press('Escape');
        }
      }
    },
    async screenshot(name) {
      step++;
      await page
        .screenshot({ path: join(shots, `${String(step).padStart(2, '0')}-${name}.png`) })
        .catch(() => undefined);
    },
    async close() {
      await browserContext.close().catch(() => undefined);
    },
  };
  return workbench;
}
