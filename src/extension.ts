// Composition root: builds the one TruvaContext that owns every disposable, registers commands,
// starts the truva.yaml language client, and restores deployments when the window closes.
// Activation loads only this bundle: the views, the commands and the status bar. The core (the
// cluster client, sessions, sync) and the language client are bundles of their own, loaded on
// first use (vscode/lazy.ts); the sidebar's connection, the first such use, runs right after
// activation returns instead of inside it.
import * as vscode from 'vscode';
import { offerCrashRecovery, registerCommands } from './vscode/commands';
import { clusterInfoProvider } from './vscode/clusterInfo';
import { startLanguageClient } from './vscode/languageClient';
import { loadTimes } from './vscode/lazy';
import { outputThreshold } from './vscode/logLevel';
import { createOutput, errorMessage } from './vscode/output';
import { Settings } from './vscode/settings';
import { TruvaContext } from './vscode/truvaContext';

let truva: TruvaContext | undefined;
/** Set by the bundle's first line (scripts/build.mjs), absent when this file runs unbundled. */
declare const __truvaLoadStart: number | undefined;
/** Set by the bundle's last line: the bundle is evaluated. */
declare const __truvaLoadEnd: number | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<{ truva: TruvaContext }> {
  const activateStart = performance.now();
  const settings = new Settings();
  // Read at each message, so a changed setting or a session's truva.yaml `logLevel` applies at once.
  const output = createOutput(() =>
    outputThreshold(
      settings.logLevel(),
      (truva?.sessions.list() ?? []).map((s) => s.config.logLevel),
    ),
  );
  const ctx = (truva = new TruvaContext(context, output));
  // The context and the channel are not in context.subscriptions: VS Code disposes those as soon as
  // it has called deactivate(), without waiting for it, which would close the cluster connections
  // the restore on exit still needs and the channel that reports it. deactivate() disposes them.
  context.subscriptions.push(...registerCommands(ctx));
  ctx.own(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (ctx.settings.affectsConnection(e)) ctx.connect();
    }),
  );
  // A save reaches the pods without waiting for the file-system watcher.
  ctx.own(
    vscode.workspace.onDidSaveTextDocument((doc) => {
      for (const s of ctx.sessions.list()) s.sync?.notify(doc.uri.fsPath);
    }),
  );
  const client = startLanguageClient(context, clusterInfoProvider(ctx));
  ctx.own(client);
  // Trust brings back what Restricted Mode held back: the workspace's truva.kubeconfig setting
  // and the kubeconfig a truva.yaml names.
  ctx.own(
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      ctx.connect();
      client.clusterChanged();
    }),
  );
  // Read by the ext.activation_ms benchmark, and useful to anyone who wonders what Truva costs at startup.
  const loadStart = typeof __truvaLoadStart === 'number' ? __truvaLoadStart : undefined;
  if (loadStart !== undefined) {
    const now = performance.now();
    const loadEnd = typeof __truvaLoadEnd === 'number' ? __truvaLoadEnd : activateStart;
    // Between the bundle evaluated and activate() called, VS Code prepares the extension's
    // context (its storage among others): its own time, not Truva's code.
    output.info(
      `Activated in ${Math.round(now - loadStart)} ms (loading the bundle ${Math.round(activateStart - loadStart)} ms, activate() ${Math.round(now - activateStart)} ms; Truva's own code ${Math.round(loadEnd - loadStart + now - activateStart)} ms, evaluating the bundle and activate()).`,
    );
  }
  // The sidebar connects (loading the core) and deployments left in dev mode are looked for once
  // activation has returned: VS Code and the other extensions do not wait for either.
  ctx.started = new Promise<void>((resolve) =>
    setImmediate(() => {
      try {
        ctx.connect();
        void offerCrashRecovery(ctx).catch((err) =>
          ctx.output.warn(`Could not look for deployments left in dev mode: ${errorMessage(err)}`),
        );
        if (loadTimes.core !== undefined)
          output.info(
            `Loaded the core (cluster client, sessions, sync) in ${Math.round(loadTimes.core)} ms, after activation.`,
          );
      } finally {
        resolve();
      }
    }),
  );
  return { truva: ctx };
}

export async function deactivate(): Promise<void> {
  const ctx = truva;
  truva = undefined;
  if (!ctx) return;
  if (ctx.settings.restoreOnExit()) {
    for (const err of await ctx.sessions.stopAll()) ctx.output.error(`Restoring on exit failed: ${errorMessage(err)}`);
  }
  ctx.dispose();
  ctx.output.dispose();
}
