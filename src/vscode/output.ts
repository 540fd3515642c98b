// The "Truva" log output channel, and user-facing errors that always offer "Show Output".
// Only messages Truva composes are written here: never a kubeconfig, a header or a token.
import * as vscode from 'vscode';

export function createOutput(): vscode.LogOutputChannel {
  return vscode.window.createOutputChannel('Truva', { log: true });
}

/** Shows an error with a "Show Output" action (and any extra actions); resolves with the choice. */
export async function showError(output: vscode.LogOutputChannel, message: string, ...actions: string[]): Promise<string | undefined> {
  output.error(message);
  const choice = await vscode.window.showErrorMessage(message, ...actions, 'Show Output');
  if (choice === 'Show Output') output.show(true);
  return choice;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
