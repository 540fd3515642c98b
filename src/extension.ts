// Composition root: builds the one TruvaContext that owns every disposable, registers commands,
// starts the truva.yaml language client, and restores deployments when the window closes.
import * as vscode from 'vscode';
import { DevMode, findDevModeDeployments } from './core/devmode/devMode';
import { registerCommands, restoreWithConflictPrompt } from './vscode/commands';
import { clusterInfoProvider } from './vscode/clusterInfo';
import { startLanguageClient } from './vscode/languageClient';
import type { LogLevel } from './core/config/types';
import { outputThreshold } from './vscode/logLevel';
import { createOutput, errorMessage } from './vscode/output';
import { TruvaContext } from './vscode/truvaContext';

let truva: TruvaContext | undefined;
/** Set by the bundle's first line (scripts/build.mjs), absent when this file runs unbundled. */
declare const __truvaLoadStart: number | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<{ truva: TruvaContext }> {
  // Read at each message, so a changed setting or a session's truva.yaml `logLevel` applies at once.
  const output = createOutput(() =>
    outputThreshold(
      vscode.workspace.getConfiguration('truva').get<LogLevel>('logLevel', 'info'),
      (truva?.sessions.list() ?? []).map((s) => s.config.logLevel),
    ),
  );
  const ctx = (truva = new TruvaContext(context, output));
  // The context and the channel are not in context.subscriptions: VS Code disposes those as soon as
  // it has called deactivate(), without waiting for it, which would close the cluster connections
  // the restore on exit still needs and the channel that reports it. deactivate() disposes them.
  context.subscriptions.push(...registerCommands(ctx));
  ctx.connect();
  ctx.own(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (['truva.kubeconfig', 'truva.context', 'truva.namespace'].some((k) => e.affectsConfiguration(k)))
        ctx.connect();
    }),
  );
  // A save reaches the pods without waiting for the file-system watcher.
  ctx.own(
    vscode.workspace.onDidSaveTextDocument((doc) => {
      for (const s of ctx.sessions.list()) s.sync?.notify(doc.uri.fsPath);
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
  // Read by the ext.activation_ms benchmark, and useful to anyone who wonders what Truva costs at startup.
  const loadStart = typeof __truvaLoadStart === 'number' ? __truvaLoadStart : undefined;
  if (loadStart !== undefined)
    output.info(`Activated in ${Math.round(performance.now() - loadStart)} ms (loading the bundle and activate()).`);
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
    const choice = await vscode.window.showWarningMessage(
      `Truva left ${left.length === 1 ? 'deployment' : 'deployments'} ${names} in dev mode (an earlier session did not stop cleanly).`,
      'Restore',
      'Later',
    );
    if (choice !== 'Restore') return;
    for (const b of left)
      await restoreWithConflictPrompt(ctx, new DevMode(cluster, { namespace: b.namespace, deployment: b.deployment }));
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
  ctx.output.dispose();
}
