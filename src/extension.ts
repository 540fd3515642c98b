// Composition root: builds the one TruvaContext that owns every disposable, registers commands,
// starts the truva.yaml language client, and restores deployments when the window closes.
import * as vscode from 'vscode';
import { DevMode, findDevModeDeployments } from './core/devmode/devMode';
import { registerCommands, restoreWithConflictPrompt } from './vscode/commands';
import { clusterInfoProvider } from './vscode/clusterInfo';
import { startLanguageClient } from './vscode/languageClient';
import { createOutput, errorMessage } from './vscode/output';
import { TruvaContext } from './vscode/truvaContext';

let truva: TruvaContext | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<{ truva: TruvaContext }> {
  const output = createOutput();
  context.subscriptions.push(output);
  const ctx = (truva = new TruvaContext(context, output));
  context.subscriptions.push(ctx, ...registerCommands(ctx));
  ctx.connect();
  ctx.own(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (['truva.kubeconfig', 'truva.context', 'truva.namespace'].some((k) => e.affectsConfiguration(k))) ctx.connect();
    }),
  );
  // A save reaches the pods without waiting for the file-system watcher.
  ctx.own(
    vscode.workspace.onDidSaveTextDocument((doc) => {
      for (const s of ctx.sessions.list()) s.parts.sync.notify(doc.uri.fsPath);
    }),
  );
  const client = await startLanguageClient(context, clusterInfoProvider(ctx));
  ctx.own(client);
  // Trust brings back what Restricted Mode held back: the workspace's truva.kubeconfig setting
  // and the kubeconfig a truva.yaml names.
  ctx.own(
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      ctx.connect();
      client.clusterChanged();
    }),
  );
  void offerCrashRecovery(ctx);
  return { truva: ctx };
}

/** Deployments left in dev mode by an earlier window (a crash, a killed VS Code) are offered for restore. */
async function offerCrashRecovery(ctx: TruvaContext): Promise<void> {
  const cluster = ctx.cluster;
  if (!cluster) return;
  try {
    const left = await findDevModeDeployments(cluster);
    if (left.length === 0) return;
    const names = left.map((b) => `"${b.deployment}"`).join(', ');
    const choice = await vscode.window.showWarningMessage(`Truva left ${left.length === 1 ? 'deployment' : 'deployments'} ${names} in dev mode (an earlier session did not stop cleanly).`, 'Restore', 'Later');
    if (choice !== 'Restore') return;
    for (const b of left) await restoreWithConflictPrompt(ctx, new DevMode(cluster, { namespace: b.namespace, deployment: b.deployment }));
  } catch (err) {
    ctx.output.warn(`Could not look for deployments left in dev mode: ${errorMessage(err)}`);
  }
}

export async function deactivate(): Promise<void> {
  const ctx = truva;
  truva = undefined;
  if (!ctx) return;
  if (vscode.workspace.getConfiguration('truva').get<boolean>('restoreOnExit', true)) {
    for (const err of await ctx.sessions.stopAll()) ctx.output.error(`Restoring on exit failed: ${errorMessage(err)}`);
  }
  ctx.dispose();
}
