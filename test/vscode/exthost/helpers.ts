// Shared by the extension-host suites: polling, the extension's context, and its "Truva" output
// channel as VS Code writes it to disk (a LogOutputChannel lands in <logUri>/Truva.log).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { TruvaContext } from '../../../src/vscode/truvaContext';

export const extensionId = 'truva-dev.truva';

export async function activeTruva(): Promise<TruvaContext> {
  const extension = vscode.extensions.getExtension<{ truva: TruvaContext }>(extensionId);
  if (!extension) throw new Error(`${extensionId} is not loaded in this extension host`);
  return (await extension.activate()).truva;
}

export async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 60_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/** Every regular file below `dir` (sockets and the like are skipped; none when it does not exist). */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const stat = statSync(dir);
  if (stat.isFile()) return [dir];
  if (!stat.isDirectory()) return [];
  return readdirSync(dir).flatMap((name) => filesUnder(join(dir, name)));
}

/** The output channel's file on disk. */
export function outputLogFile(truva: TruvaContext): string {
  const file = filesUnder(truva.extension.logUri.fsPath).find((f) => f.endsWith('Truva.log'));
  if (!file) throw new Error(`no Truva.log below ${truva.extension.logUri.fsPath}`);
  return file;
}

/**
 * The output channel's text once everything written so far is on disk: a marker line is written
 * and waited for, since the log file is written asynchronously.
 */
export async function outputLog(truva: TruvaContext): Promise<string> {
  const marker = `flush-marker-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  truva.output.info(marker);
  return waitFor('the output channel on disk', () => {
    const text = readFileSync(outputLogFile(truva), 'utf8');
    return text.includes(marker) ? text : undefined;
  }, 20_000);
}
