// Shared by the extension-host suites: polling, the extension's context, and its "Truva" output
// channel as VS Code writes it to disk (a LogOutputChannel lands in <logUri>/Truva.log).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { TruvaContext } from '../../../src/vscode/truvaContext';
import { until } from '../../helpers/poll';

export const extensionId = 'truva-dev.truva';

export async function activeTruva(): Promise<TruvaContext> {
  const extension = vscode.extensions.getExtension<{ truva: TruvaContext }>(extensionId);
  if (!extension) throw new Error(`${extensionId} is not loaded in this extension host`);
  const { truva } = await extension.activate();
  await truva.started; // the sidebar connects right after activation
  return truva;
}

export { until as waitFor } from '../../helpers/poll';

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
  return until(
    'the output channel on disk',
    () => {
      const text = readFileSync(outputLogFile(truva), 'utf8');
      return text.includes(marker) ? text : undefined;
    },
    20_000,
  );
}
