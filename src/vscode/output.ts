// The "Truva" log output channel, and user-facing errors that always offer "Show Output".
// Only messages Truva composes are written here: never a kubeconfig, a header or a token.
import * as vscode from 'vscode';
import type { LogLevel } from '../core/config/types';
import { LEVEL_METHODS, writes, type MessageLevel } from './logLevel';

/**
 * The channel, with messages below `threshold()` dropped. VS Code's own level for the channel
 * ("Developer: Set Log Level") still applies on top, as for every log channel.
 */
export function createOutput(threshold: () => LogLevel): vscode.LogOutputChannel {
  const channel = vscode.window.createOutputChannel('Truva', { log: true });
  return new Proxy(channel, {
    get(target, prop) {
      if (typeof prop === 'string' && LEVEL_METHODS.has(prop)) {
        const level = prop as MessageLevel;
        return (message: string | Error, ...args: unknown[]) => {
          if (writes(level, threshold()))
            (target[level] as (m: string | Error, ...a: unknown[]) => void)(message, ...args);
        };
      }
      const value: unknown = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Shows an error with a "Show Output" action (and any extra actions); resolves with the choice. */
export async function showError(
  output: vscode.LogOutputChannel,
  message: string,
  ...actions: string[]
): Promise<string | undefined> {
  output.error(message);
  const choice = await vscode.window.showErrorMessage(message, ...actions, 'Show Output');
  if (choice === 'Show Output') output.show(true);
  return choice;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
