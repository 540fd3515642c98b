// Start Dev Session: find or ask for the truva.yaml, build the session on a lease from the pool,
// run its steps under a progress notification, then open its log panel.
import * as vscode from 'vscode';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TruvaConfig } from '../core/config';
import type { DevSession } from '../core/session/devSession';
import type { ClusterNode } from './clusterTree';
import { core } from './lazy';
import { errorMessage, showError } from './output';
import type { TruvaContext } from './truvaContext';

const UNTRUSTED =
  "Truva does not start dev sessions in an untrusted workspace: a session runs this workspace's code in your cluster and reads its truva.yaml. Trust the workspace (Manage Workspace Trust) to use Truva here.";

/** Loads a truva.yaml with the VS Code settings as defaults; errors name line and column. */
function loadConfigText(truva: TruvaContext, text: string, uri: vscode.Uri): TruvaConfig {
  const result = core().loadConfig(text, { filePath: uri.fsPath, settings: truva.settings.configDefaults() });
  if (!result.ok) {
    const first = result.errors[0];
    const more =
      result.errors.length > 1 ? ` (and ${result.errors.length - 1} more problems; see the Problems view)` : '';
    throw new Error(`${vscode.workspace.asRelativePath(uri)}:${first.line}:${first.column}: ${first.message}${more}`);
  }
  return result.config;
}

export async function pickConfigFile(): Promise<vscode.Uri | undefined> {
  const files = await vscode.workspace.findFiles('**/truva.yaml', '**/node_modules/**', 20);
  if (files.length <= 1) return files[0];
  const pick = await vscode.window.showQuickPick(
    files.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri })),
    { placeHolder: 'Which truva.yaml?' },
  );
  return pick?.uri;
}

/** Without a truva.yaml: context, namespace, deployment, container, folder, remote path, command; then offer to save. */
async function askForConfig(truva: TruvaContext, preset?: string): Promise<TruvaConfig | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) {
    void vscode.window.showErrorMessage(
      'Open the folder of your service first: Truva syncs a workspace folder into the pods.',
    );
    return undefined;
  }
  const contexts = core().listContexts(core().loadKubeConfig({ path: truva.settings.kubeconfig() }));
  const context =
    contexts.length === 1
      ? contexts[0]
      : await vscode.window
          .showQuickPick(
            contexts.map((c) => ({ label: c.name, description: c.current ? 'current' : c.server, ctx: c })),
            { placeHolder: 'Kubernetes context', title: 'Start Dev Session (1/6)' },
          )
          .then((p) => p?.ctx);
  if (!context) return undefined;
  const cluster = truva.clusterFor({ context: context.name });
  try {
    let namespace = context.namespace;
    try {
      const namespaces = (await cluster.listNamespaces()).map((n) => n.metadata!.name!);
      const picked = await vscode.window.showQuickPick(
        namespaces.map((n) => ({ label: n, picked: n === context.namespace })),
        { placeHolder: `Namespace (context default: ${context.namespace})`, title: 'Start Dev Session (2/6)' },
      );
      if (!picked) return undefined;
      namespace = picked.label;
    } catch {
      // Listing namespaces may be forbidden; the context's namespace is then the only sensible one.
    }
    const deployments = await cluster.listDeployments({ namespace });
    const name =
      preset ??
      (
        await vscode.window.showQuickPick(
          deployments.map((d) => ({
            label: d.metadata!.name!,
            description: `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0} ready`,
          })),
          { placeHolder: 'Deployment to put in dev mode', title: 'Start Dev Session (3/6)' },
        )
      )?.label;
    const deployment = deployments.find((d) => d.metadata?.name === name);
    if (!deployment) return undefined;
    // The container kubectl would pick (its default-container annotation) comes first.
    const { containers, annotated: preferred } = core().containersDefaultFirst(deployment.spec?.template);
    const container =
      containers.length === 1
        ? containers[0]
        : await vscode.window
            .showQuickPick(
              containers.map((c) => ({
                label: c.name,
                description: c.name === preferred ? `${c.image} (default container)` : c.image,
                c,
              })),
              { placeHolder: 'Container to sync into', title: 'Start Dev Session (4/6)' },
            )
            .then((p) => p?.c);
    if (!container) return undefined;
    const local = await vscode.window.showInputBox({
      title: 'Start Dev Session (5/6)',
      prompt: 'Local folder to sync (relative to the workspace folder)',
      value: '.',
    });
    if (local === undefined) return undefined;
    const remote = await vscode.window.showInputBox({
      title: 'Start Dev Session (5/6)',
      prompt: 'Path inside the container',
      value: container.workingDir ?? '/app',
      validateInput: (v) => (v.startsWith('/') ? undefined : 'Use an absolute path, such as /app'),
    });
    if (remote === undefined) return undefined;
    // Without a command the image's entrypoint runs, which the API does not show: args alone are not the command.
    const original = container.command?.length ? [...container.command, ...(container.args ?? [])].join(' ') : '';
    const run = await vscode.window.showInputBox({
      title: 'Start Dev Session (6/6)',
      prompt: 'Command that starts your app in the container',
      value: original,
      validateInput: (v) => (v.trim() ? undefined : 'Truva needs a command to restart after each sync'),
    });
    if (run === undefined) return undefined;
    const yaml = {
      context: context.current ? undefined : context.name,
      namespace,
      deployment: name,
      container: containers.length > 1 ? container.name : undefined,
      sync: [{ local, remote }],
      ...(run !== original ? { run } : {}),
    };
    const file = join(folder.uri.fsPath, 'truva.yaml');
    const text = core().configToYaml(yaml);
    const config = loadConfigText(truva, text, vscode.Uri.file(file));
    if (!existsSync(file)) {
      void vscode.window
        .showInformationMessage(
          'Save these answers as truva.yaml, so the next start needs no questions?',
          'Save truva.yaml',
        )
        .then(async (choice) => {
          if (choice) await vscode.workspace.fs.writeFile(vscode.Uri.file(file), Buffer.from(text));
        })
        .then(undefined, (err) => showError(truva.output, `Saving truva.yaml failed: ${errorMessage(err)}`));
    }
    return config;
  } finally {
    cluster.dispose();
  }
}

/** Starts a session: from a truva.yaml (given, or found in the workspace), or from a tree item, or by asking. */
export async function startSession(
  truva: TruvaContext,
  arg?: ClusterNode | vscode.Uri,
): Promise<DevSession | undefined> {
  const node = arg instanceof vscode.Uri ? undefined : arg;
  if (!vscode.workspace.isTrusted) {
    void showError(truva.output, UNTRUSTED);
    return undefined;
  }
  let config: TruvaConfig | undefined;
  try {
    const preset = node?.kind === 'deployment' ? node.deployment.metadata!.name! : undefined;
    const file = arg instanceof vscode.Uri ? arg : await pickConfigFile();
    config = file ? loadConfigText(truva, readFileSync(file.fsPath, 'utf8'), file) : undefined;
    if (!config || (preset && config.deployment !== preset)) config = await askForConfig(truva, preset);
  } catch (err) {
    void showError(truva.output, `Cannot start a dev session: ${errorMessage(err)}`);
    return undefined;
  }
  if (!config) return undefined;
  const name = config.deployment;
  let session: DevSession;
  try {
    session = truva.sessions.add(
      new (core().DevSession)({
        config,
        cluster: truva.clusterFor(config),
        log: (message) => truva.output.info(`[${name}] ${message}`),
        backups: { save: (key, backup) => truva.extension.globalState.update(key, backup) },
      }),
    );
  } catch (err) {
    void showError(truva.output, errorMessage(err));
    return undefined;
  }
  truva.output.info(
    `Starting a dev session for deployment "${name}" in namespace "${session.namespace}" (context "${session.contextName}").`,
  );
  try {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Truva: ${name}`, cancellable: true },
      (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        return session.start((p) => {
          truva.output.info(`[${name}] ${p.message}`);
          progress.report({ message: p.message });
        }, abort.signal);
      },
    );
  } catch (err) {
    if (err instanceof core().SessionCancelledError) {
      void vscode.window.showInformationMessage(err.message);
    } else {
      void showError(truva.output, `The dev session for "${name}" did not start: ${errorMessage(err)}`);
    }
    return undefined;
  }
  truva.output.info(`Dev session for "${name}" is running.`);
  // A local port in use does not stop the session; it is said once, with what to do.
  const failed = session.forwards().filter((f) => f.state === 'failed');
  if (failed.length) void vscode.window.showWarningMessage(failed.map((f) => f.error).join(' '));
  // The panel owns its aggregator: it outlives the session, so the logs of the restore stay readable.
  truva.logPanels
    .show({ namespace: session.namespace, deployment: name, context: session.contextName }, config.kubeconfig)
    .catch((err) => showError(truva.output, `Show Logs failed: ${errorMessage(err)}`));
  return session;
}
