// The "Truva" output channel honours truva.logLevel, read from the log file VS Code writes for it.
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { until } from '../../helpers/poll';
import type { TruvaContext } from '../../../src/vscode/truvaContext';

describe('Truva output channel', () => {
  it('writes only messages at or above truva.logLevel, and follows a changed setting at once', async () => {
    const extension = vscode.extensions.getExtension<{ truva: TruvaContext }>('truva-dev.truva')!;
    const { truva } = await extension.activate();
    const logDir = truva.extension.logUri.fsPath;
    const logText = () => readdirSync(logDir).filter((f) => f.endsWith('.log')).map((f) => readFileSync(join(logDir, f), 'utf8')).join('\n');
    const settings = () => vscode.workspace.getConfiguration('truva');
    const before = settings().inspect<string>('logLevel')?.globalValue;
    const mark = `level-probe-${Date.now()}`;
    try {
      await settings().update('logLevel', 'error', vscode.ConfigurationTarget.Global);
      truva.output.info(`${mark} info while error`);
      truva.output.warn(`${mark} warn while error`);
      truva.output.error(`${mark} error while error`);
      await settings().update('logLevel', 'warn', vscode.ConfigurationTarget.Global);
      truva.output.info(`${mark} info while warn`);
      truva.output.warn(`${mark} warn while warn`);
      await settings().update('logLevel', 'info', vscode.ConfigurationTarget.Global);
      truva.output.info(`${mark} info while info`);
      const text = await until('the last probe line in the channel\'s log file', () => (logText().includes(`${mark} info while info`) ? logText() : undefined), 15_000);
      const written = text.split('\n').filter((l) => l.includes(mark)).map((l) => l.slice(l.indexOf(mark) + mark.length + 1));
      assert.deepEqual(written, ['error while error', 'warn while warn', 'info while info']);
    } finally {
      await settings().update('logLevel', before, vscode.ConfigurationTarget.Global);
    }
  });
});
