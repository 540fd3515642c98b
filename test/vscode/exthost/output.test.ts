// The "Truva" output channel honours truva.logLevel, read from the log file VS Code writes for it.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activeTruva, outputLog } from './helpers';

describe('Truva output channel', () => {
  it('writes only messages at or above truva.logLevel, and follows a changed setting at once', async () => {
    const truva = await activeTruva();
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
      const text = await outputLog(truva);
      const written = text
        .split('\n')
        .filter((l) => l.includes(mark))
        .map((l) => l.slice(l.indexOf(mark) + mark.length + 1));
      assert.deepEqual(written, ['error while error', 'warn while warn', 'info while info']);
    } finally {
      await settings().update('logLevel', before, vscode.ConfigurationTarget.Global);
    }
  });
});
