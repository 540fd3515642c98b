// Every Truva command. Each one is thin: it asks what it must, then calls the core.
import * as vscode from 'vscode';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configToYaml, type TruvaConfig } from '../core/config';
import {
  DEFAULT_CONTAINER_ANNOTATION,
  DevMode,
  RestoreConflictError,
  findDevModeDeployments,
} from '../core/devmode/devMode';
import { SessionCancelledError, type Session } from '../core/session/session';
import { sessionId } from '../core/session/sessionManager';
import type { ClusterNode } from './clusterTree';
import { errorMessage, showError } from './output';
import { createSessionParts } from './sessionFactory';
import type { TruvaContext } from './truvaContext';

const UNTRUSTED =
  "Truva does not start dev sessions in an untrusted workspace: a session runs this workspace's code in your cluster and reads its truva.yaml. Trust the workspace (Manage Workspace Trust) to use Truva here.";

async function pickConfigFile(): Promise<vscode.Uri | undefined> {
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
  const contexts = truva.contexts();
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
  const cluster = truva.clusterFor({ context: context.name } as TruvaConfig);
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
    const preferred = deployment.spec?.template?.metadata?.annotations?.[DEFAULT_CONTAINER_ANNOTATION];
    const containers = [...(deployment.spec?.template?.spec?.containers ?? [])].sort(
      (a, b) => Number(b.name === preferred) - Number(a.name === preferred),
    );
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
    const text = configToYaml(yaml);
    const config = truva.loadConfigText(text, vscode.Uri.file(file));
    if (!existsSync(file)) {
      void vscode.window
        .showInformationMessage(
          'Save these answers as truva.yaml, so the next start needs no questions?',
          'Save truva.yaml',
        )
        .then((choice) => {
          if (choice) writeFileSync(file, text);
        });
    }
    return config;
  } finally {
    cluster.dispose();
  }
}

/** Starts a session: from a truva.yaml (given, or found in the workspace), or from a tree item, or by asking. */
export async function startSession(truva: TruvaContext, arg?: ClusterNode | vscode.Uri): Promise<Session | undefined> {
  const node = arg instanceof vscode.Uri ? undefined : arg;
  if (!vscode.workspace.isTrusted) {
    void showError(truva.output, UNTRUSTED);
    return undefined;
  }
  let config: TruvaConfig | undefined;
  try {
    const preset = node?.kind === 'deployment' ? node.deployment.metadata!.name! : undefined;
    const file = arg instanceof vscode.Uri ? arg : await pickConfigFile();
    config = file ? truva.loadConfigFile(file) : undefined;
    if (!config || (preset && config.deployment !== preset)) config = await askForConfig(truva, preset);
  } catch (err) {
    void showError(truva.output, `Cannot start a dev session: ${errorMessage(err)}`);
    return undefined;
  }
  if (!config) return undefined;
  const cluster = truva.clusterFor(config);
  const namespace = config.namespace ?? cluster.namespace;
  const id = sessionId(cluster.contextName, namespace, config.deployment);
  let session: Session;
  try {
    session = truva.sessions.create(id, createSessionParts(truva, config, cluster, namespace));
  } catch (err) {
    cluster.dispose();
    void showError(truva.output, errorMessage(err));
    return undefined;
  }
  // A failed session of the same deployment is replaced: its cluster client goes with it.
  const replaced = truva.sessionInfo.get(id);
  if (replaced) {
    truva.health.untrack(replaced.cluster);
    replaced.cluster.dispose();
  }
  truva.sessionInfo.set(id, {
    deployment: config.deployment,
    namespace,
    config,
    cluster,
    pods: () => {
      const pods = truva.clusterTree.podsOf(config!.deployment);
      return {
        ready: pods.filter(
          (p) => (p.status?.containerStatuses ?? []).every((c) => c.ready) && p.status?.phase === 'Running',
        ).length,
        total: pods.length,
      };
    },
  });
  truva.health.track(cluster);
  truva.output.info(
    `Starting a dev session for deployment "${config.deployment}" in namespace "${namespace}" (context "${cluster.contextName}").`,
  );
  try {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Truva: ${config.deployment}`, cancellable: true },
      (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        return session.start((p) => {
          truva.output.info(`[${config!.deployment}] ${p.message}`);
          progress.report({ message: p.message });
        }, abort.signal);
      },
    );
    truva.output.info(`Dev session for "${config.deployment}" is running.`);
    truva.syncChanged();
    return session;
  } catch (err) {
    if (err instanceof SessionCancelledError) {
      void vscode.window.showInformationMessage(err.message);
    } else {
      void showError(truva.output, `The dev session for "${config.deployment}" did not start: ${errorMessage(err)}`);
    }
    return undefined;
  }
}

async function pickSession(truva: TruvaContext, arg?: unknown): Promise<Session | undefined> {
  if (typeof arg === 'string') return truva.sessions.get(arg);
  if (arg && typeof arg === 'object' && 'session' in arg) return (arg as { session: Session }).session;
  const node = arg as ClusterNode | undefined;
  if (node?.kind === 'deployment' || node?.kind === 'pod') {
    const name = node.kind === 'deployment' ? node.deployment.metadata?.name : node.deployment;
    return truva.sessions.list().find((s) => truva.sessionInfo.get(s.id)?.deployment === name);
  }
  const sessions = truva.sessions.list();
  if (sessions.length <= 1) return sessions[0];
  const pick = await vscode.window.showQuickPick(
    sessions.map((s) => ({ label: truva.sessionInfo.get(s.id)?.deployment ?? s.id, description: s.id, s })),
    { placeHolder: 'Which dev session?' },
  );
  return pick?.s;
}

export async function stopSession(truva: TruvaContext, arg?: unknown, force = false): Promise<void> {
  const session = await pickSession(truva, arg);
  if (!session) return;
  const name = truva.sessionInfo.get(session.id)?.deployment ?? session.id;
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
      (b) => !truva.sessions.list().some((s) => truva.sessionInfo.get(s.id)?.deployment === b.deployment),
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
  const session = truva.sessions.list()[0];
  const config = session ? truva.sessionInfo.get(session.id)?.config : undefined;
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
  act: (s: Session) => unknown,
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
  const info = session && truva.sessionInfo.get(session.id);
  if (info)
    return truva.showLogs({
      namespace: info.namespace,
      deployment: info.deployment,
      context: info.cluster.contextName,
    });
  const name = await vscode.window.showQuickPick(truva.clusterTree.deploymentNames(), {
    placeHolder: 'Show the logs of which deployment?',
  });
  if (name) return truva.showLogs({ namespace, deployment: name, context });
}

export function registerCommands(truva: TruvaContext): vscode.Disposable[] {
  const register = (id: string, fn: (...args: any[]) => unknown) => vscode.commands.registerCommand(id, fn);
  const toggle = (s: Session) =>
    s.parts.sync.snapshot().state === 'paused' ? s.parts.sync.resume() : s.parts.sync.pause();
  return [
    register('truva.startSession', (arg?: ClusterNode | vscode.Uri) => startSession(truva, arg)),
    register('truva.stopSession', (arg?: unknown) => stopSession(truva, arg)),
    register('truva.syncNow', (arg?: unknown) => forSession(truva, arg, 'Sync Now', (s) => s.parts.sync.fullSync())),
    register('truva.restartProcess', (arg?: unknown) =>
      forSession(truva, arg, 'Restart Process', (s) => s.parts.sync.restartAll()),
    ),
    register('truva.pauseSync', (arg?: unknown) => forSession(truva, arg, 'Pause Sync', (s) => s.parts.sync.pause())),
    register('truva.resumeSync', (arg?: unknown) =>
      forSession(truva, arg, 'Resume Sync', (s) => s.parts.sync.resume()),
    ),
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
