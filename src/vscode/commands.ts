// Every Truva command. Each one is thin: it asks what it must, then calls the core.
import * as vscode from 'vscode';
import { configToYaml } from '../core/config';
import { DevMode, RestoreConflictError, findDevModeDeployments } from '../core/devmode/devMode';
import type { DevSession } from '../core/session/devSession';
import type { ClusterNode } from './clusterTree';
import { errorMessage, showError } from './output';
import { pickConfigFile, startSession } from './startSession';
import type { TruvaContext } from './truvaContext';

async function pickSession(truva: TruvaContext, arg?: unknown): Promise<DevSession | undefined> {
  if (typeof arg === 'string') return truva.sessions.get(arg);
  if (arg && typeof arg === 'object' && 'session' in arg) return (arg as { session: DevSession }).session;
  const node = arg as ClusterNode | undefined;
  if (node?.kind === 'deployment' || node?.kind === 'pod') {
    const name = node.kind === 'deployment' ? node.deployment.metadata?.name : node.deployment;
    return truva.sessions.list().find((s) => s.deployment === name);
  }
  const sessions = truva.sessions.list();
  if (sessions.length <= 1) return sessions[0];
  const pick = await vscode.window.showQuickPick(
    sessions.map((s) => ({ label: s.deployment, description: s.id, s })),
    { placeHolder: 'Which dev session?' },
  );
  return pick?.s;
}

export async function stopSession(truva: TruvaContext, arg?: unknown, force = false): Promise<void> {
  const session = await pickSession(truva, arg);
  if (!session) return;
  const name = session.deployment;
  try {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Truva: restoring ${name}` },
      () => session.stop({ force }),
    );
    truva.output.info(`Dev session for "${name}" stopped; the deployment is restored.`);
  } catch (err) {
    if (err instanceof RestoreConflictError) {
      const choice = await vscode.window.showWarningMessage(
        err.message,
        { modal: true },
        'Restore Anyway',
        'Keep Current Deployment',
      );
      if (choice === 'Restore Anyway') return stopSession(truva, session.id, true);
      if (choice === 'Keep Current Deployment')
        truva.output.warn(
          `Kept "${name}" as someone else changed it; it still carries Truva's backup annotation (Restore Deployment can put the original back later).`,
        );
      return;
    }
    void showError(truva.output, `Stopping the dev session for "${name}" failed: ${errorMessage(err)}`);
  }
}

async function restoreDeployment(truva: TruvaContext, node?: ClusterNode): Promise<void> {
  const cluster = truva.cluster;
  if (!cluster) return void showError(truva.output, 'No cluster is connected: select a context first.');
  let target: { namespace: string; deployment: string } | undefined;
  if (node?.kind === 'deployment')
    target = { namespace: node.deployment.metadata!.namespace!, deployment: node.deployment.metadata!.name! };
  else {
    const left = (await findDevModeDeployments(cluster)).filter(
      (b) => !truva.sessions.list().some((s) => s.deployment === b.deployment && s.namespace === b.namespace),
    );
    if (left.length === 0)
      return void vscode.window.showInformationMessage('No deployment in this context is left in dev mode.');
    target = (
      await vscode.window.showQuickPick(
        left.map((b) => ({ label: b.deployment, description: `${b.namespace} · backed up ${b.createdAt}`, b })),
        { placeHolder: 'Deployment to restore' },
      )
    )?.b;
  }
  if (!target) return;
  await restoreWithConflictPrompt(
    truva,
    new DevMode(cluster, { namespace: target.namespace, deployment: target.deployment }),
  );
}

/** Restores a deployment left in dev mode, asking before overwriting someone else's changes. */
export async function restoreWithConflictPrompt(truva: TruvaContext, devMode: DevMode, force = false): Promise<void> {
  const name = devMode.options.deployment;
  try {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Truva: restoring ${name}` },
      () => devMode.restore({ force }),
    );
    void vscode.window.showInformationMessage(`Deployment "${name}" is restored.`);
  } catch (err) {
    if (err instanceof RestoreConflictError && !force) {
      const choice = await vscode.window.showWarningMessage(err.message, { modal: true }, 'Restore Anyway');
      if (choice === 'Restore Anyway') await restoreWithConflictPrompt(truva, devMode, true);
      return;
    }
    void showError(truva.output, `Restoring "${name}" failed: ${errorMessage(err)}`);
  }
}

async function selectContext(truva: TruvaContext): Promise<void> {
  try {
    const contexts = truva.contexts();
    const pick = await vscode.window.showQuickPick(
      contexts.map((c) => ({
        label: c.name,
        description: c.current ? 'current in kubeconfig' : c.namespace,
        detail: c.server,
      })),
      { placeHolder: 'Kubernetes context for the Truva sidebar and new sessions' },
    );
    if (!pick) return;
    await vscode.workspace
      .getConfiguration('truva')
      .update('context', pick.label, vscode.ConfigurationTarget.Workspace);
    await vscode.workspace
      .getConfiguration('truva')
      .update('namespace', undefined, vscode.ConfigurationTarget.Workspace);
  } catch (err) {
    void showError(truva.output, errorMessage(err));
  }
}

async function selectNamespace(truva: TruvaContext): Promise<void> {
  const cluster = truva.cluster;
  if (!cluster) return void showError(truva.output, 'No cluster is connected: select a context first.');
  try {
    const names = (await cluster.listNamespaces()).map((n) => n.metadata!.name!);
    const pick = await vscode.window.showQuickPick(
      names.map((n) => ({ label: n, description: n === cluster.namespace ? 'current' : undefined })),
      { placeHolder: 'Namespace' },
    );
    if (pick)
      await vscode.workspace
        .getConfiguration('truva')
        .update('namespace', pick.label, vscode.ConfigurationTarget.Workspace);
  } catch (err) {
    void showError(truva.output, `Cannot list namespaces: ${errorMessage(err)}`);
  }
}

async function openConfig(truva: TruvaContext): Promise<void> {
  const file = await pickConfigFile();
  if (file) return void vscode.window.showTextDocument(file);
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder)
    return void vscode.window.showErrorMessage("Open a folder first: truva.yaml lives in your service's folder.");
  const config = truva.sessions.list()[0]?.config;
  const text = config
    ? configToYaml(config)
    : "# Truva dev session. See the README's truva.yaml reference.\nnamespace: default\ndeployment: my-app\nsync:\n  - local: .\n    remote: /app\n";
  const uri = vscode.Uri.joinPath(folder.uri, 'truva.yaml');
  await vscode.workspace.fs.writeFile(uri, Buffer.from(text));
  await vscode.window.showTextDocument(uri);
}

async function forSession(
  truva: TruvaContext,
  arg: unknown,
  what: string,
  act: (s: DevSession) => unknown,
): Promise<void> {
  const session = await pickSession(truva, arg);
  if (!session) return void vscode.window.showInformationMessage('No dev session is running.');
  try {
    await act(session);
    truva.syncChanged();
  } catch (err) {
    void showError(truva.output, `${what} failed: ${errorMessage(err)}`);
  }
}

/** Show Logs from the palette (a session or a deployment), the tree (deployment, pod) or a session. */
async function showLogs(truva: TruvaContext, arg?: unknown): Promise<void> {
  const node = arg as ClusterNode | undefined;
  const namespace = truva.cluster?.namespace ?? 'default';
  const context = truva.cluster?.contextName;
  if (node?.kind === 'deployment')
    return truva.showLogs({
      namespace: node.deployment.metadata!.namespace ?? namespace,
      deployment: node.deployment.metadata!.name!,
      context,
    });
  if (node?.kind === 'pod')
    return truva.showLogs({
      namespace: node.pod.metadata!.namespace ?? namespace,
      pod: node.pod.metadata!.name!,
      context,
    });
  const session = truva.sessions.list().length ? await pickSession(truva, arg) : undefined;
  if (session)
    return truva.showLogs(
      { namespace: session.namespace, deployment: session.deployment, context: session.contextName },
      session.config.kubeconfig,
    );
  const name = await vscode.window.showQuickPick(truva.clusterTree.deploymentNames(), {
    placeHolder: 'Show the logs of which deployment?',
  });
  if (name) return truva.showLogs({ namespace, deployment: name, context });
}

export function registerCommands(truva: TruvaContext): vscode.Disposable[] {
  const register = (id: string, fn: (...args: any[]) => unknown) => vscode.commands.registerCommand(id, fn);
  const toggle = (s: DevSession) => (s.snapshot().state === 'paused' ? s.sync?.resume() : s.sync?.pause());
  return [
    register('truva.startSession', (arg?: ClusterNode | vscode.Uri) => startSession(truva, arg)),
    register('truva.stopSession', (arg?: unknown) => stopSession(truva, arg)),
    register('truva.syncNow', (arg?: unknown) => forSession(truva, arg, 'Sync Now', (s) => s.sync?.fullSync())),
    register('truva.restartProcess', (arg?: unknown) =>
      forSession(truva, arg, 'Restart Process', (s) => s.sync?.restartAll()),
    ),
    register('truva.pauseSync', (arg?: unknown) => forSession(truva, arg, 'Pause Sync', (s) => s.sync?.pause())),
    register('truva.resumeSync', (arg?: unknown) => forSession(truva, arg, 'Resume Sync', (s) => s.sync?.resume())),
    // The status bar's click: toggles every session (one click, one meaning).
    register('truva.toggleSync', async () => {
      for (const s of truva.sessions.list()) toggle(s);
      truva.syncChanged();
    }),
    register('truva.showLogs', (arg?: unknown) => showLogs(truva, arg)),
    register('truva.restoreDeployment', (node?: ClusterNode) => restoreDeployment(truva, node)),
    register('truva.selectContext', () => selectContext(truva)),
    register('truva.selectNamespace', () => selectNamespace(truva)),
    register('truva.refresh', () => truva.connect()),
    register('truva.openConfig', () => openConfig(truva)),
    register('truva.showOutput', () => truva.output.show(true)),
    register('truva.copyName', (node?: ClusterNode) => {
      const name =
        node?.kind === 'deployment'
          ? node.deployment.metadata?.name
          : node?.kind === 'pod'
            ? node.pod.metadata?.name
            : node?.name;
      if (name) void vscode.env.clipboard.writeText(name);
    }),
  ];
}
