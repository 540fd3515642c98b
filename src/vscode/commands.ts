// Every Truva command, in one map keyed by the command ids package.json contributes, registered in
// one loop that gives each the same error handling: a failure is written to the output and shown
// as "<title> failed: <why>", never left as an unhandled rejection. Each command is thin: it asks
// what it must, then acts on the sessions or the core.
import * as vscode from 'vscode';
import type { DevMode } from '../core/devmode/devMode';
import type { Cluster } from '../core/kube/cluster';
import type { DevSession } from '../core/session/devSession';
import type { PodRunResult } from '../core/terminal/runInPods';
import type { ClusterNode } from './clusterTree';
import { core } from './lazy';
import { errorMessage, showError } from './output';
import { PodTerminal } from './podTerminal';
import { pickConfigFile, startSession } from './startSession';
import type { TruvaContext } from './truvaContext';

export type TruvaCommandId =
  | 'truva.startSession'
  | 'truva.stopSession'
  | 'truva.syncNow'
  | 'truva.restartProcess'
  | 'truva.pauseSync'
  | 'truva.resumeSync'
  | 'truva.toggleSync'
  | 'truva.showLogs'
  | 'truva.restoreDeployment'
  | 'truva.selectContext'
  | 'truva.selectNamespace'
  | 'truva.refresh'
  | 'truva.openConfig'
  | 'truva.showOutput'
  | 'truva.copyName'
  | 'truva.debug'
  | 'truva.openTerminal'
  | 'truva.runInAllPods'
  | 'truva.openForward';

/** Commands are called from the palette (no argument), tree items, status bar links and tests (a session id). */
type Command = (truva: TruvaContext, arg?: unknown) => unknown;

const COMMANDS: Record<TruvaCommandId, Command> = {
  'truva.startSession': (truva, arg) => startSession(truva, arg as ClusterNode | vscode.Uri | undefined),
  'truva.stopSession': (truva, arg) => stopSession(truva, arg),
  'truva.syncNow': (truva, arg) => forSession(truva, arg, (s) => s.sync?.fullSync()),
  'truva.restartProcess': (truva, arg) => forSession(truva, arg, (s) => s.sync?.restartAll()),
  'truva.pauseSync': (truva, arg) => forSession(truva, arg, (s) => s.sync?.pause()),
  'truva.resumeSync': (truva, arg) => forSession(truva, arg, (s) => s.sync?.resume()),
  // The status bar's click: toggles every session (one click, one meaning).
  'truva.toggleSync': (truva) => {
    for (const s of truva.sessions.list()) {
      if (s.snapshot().state === 'paused') s.sync?.resume();
      else s.sync?.pause();
    }
  },
  'truva.showLogs': (truva, arg) => showLogs(truva, arg),
  'truva.restoreDeployment': (truva, arg) => restoreDeployment(truva, arg as ClusterNode | undefined),
  'truva.selectContext': (truva) => selectContext(truva),
  'truva.selectNamespace': (truva) => selectNamespace(truva),
  'truva.refresh': (truva) => truva.connect(),
  'truva.openConfig': (truva) => openConfig(truva),
  'truva.showOutput': (truva) => truva.output.show(true),
  'truva.debug': (truva, arg) => forSession(truva, arg, (s) => truva.debuggers.attach(s)),
  'truva.openTerminal': (truva, arg) => openPodTerminal(truva, arg),
  'truva.runInAllPods': (truva, arg) => runInAllPods(truva, arg),
  'truva.openForward': (_truva, arg) => {
    if (typeof arg === 'string') return vscode.env.openExternal(vscode.Uri.parse(arg));
  },
  'truva.copyName': (_truva, arg) => {
    const node = arg as ClusterNode | undefined;
    const name =
      node?.kind === 'deployment'
        ? node.deployment.metadata?.name
        : node?.kind === 'pod'
          ? node.pod.metadata?.name
          : node?.name;
    if (name) void vscode.env.clipboard.writeText(name);
  },
};

export function registerCommands(truva: TruvaContext): vscode.Disposable[] {
  const titles = new Map<string, string>(
    (truva.extension.extension.packageJSON.contributes.commands as { command: string; title: string }[]).map((c) => [
      c.command,
      c.title,
    ]),
  );
  return Object.entries(COMMANDS).map(([id, command]) =>
    vscode.commands.registerCommand(id, async (arg?: unknown) => {
      try {
        return await command(truva, arg);
      } catch (err) {
        void showError(truva.output, `${titles.get(id) ?? id} failed: ${errorMessage(err)}`);
        return undefined;
      }
    }),
  );
}

async function pickSession(truva: TruvaContext, arg?: unknown): Promise<DevSession | undefined> {
  if (typeof arg === 'string') return truva.sessions.get(arg);
  if (arg && typeof arg === 'object' && 'session' in arg) {
    const { session } = arg as { session: DevSession | string };
    return typeof session === 'string' ? truva.sessions.get(session) : session;
  }
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

async function forSession<T>(
  truva: TruvaContext,
  arg: unknown,
  act: (s: DevSession) => T,
): Promise<Awaited<T> | undefined> {
  const session = await pickSession(truva, arg);
  if (!session) return void vscode.window.showInformationMessage('No dev session is running.');
  return await act(session);
}

/**
 * Open Terminal on a pod of the Cluster view (the dev container when the pod is in a session,
 * else its first container), on a session (a pick when it has several pods) or from the palette.
 */
async function openPodTerminal(truva: TruvaContext, arg?: unknown): Promise<PodTerminal | undefined> {
  const node = arg as ClusterNode | undefined;
  let cluster: Cluster | undefined;
  let place: { namespace: string; pod: string; container: string } | undefined;
  let cwd: string | undefined;
  if (node?.kind === 'pod') {
    const namespace = node.pod.metadata!.namespace ?? truva.cluster?.namespace ?? 'default';
    const session = truva.sessions
      .list()
      .find((s) => s.deployment === node.deployment && s.namespace === namespace && s.phase === 'running');
    cluster = session?.clusterLease ?? truva.cluster;
    const container = session?.target?.container ?? node.pod.spec?.containers[0]?.name;
    if (!container) throw new Error(`Pod ${node.pod.metadata!.name} has no container.`);
    place = { namespace, pod: node.pod.metadata!.name!, container };
    cwd = session?.config.sync[0]?.remote;
  } else {
    const session = await pickSession(truva, arg);
    if (!session) return void vscode.window.showInformationMessage('No dev session is running.');
    const pods = (await session.runTarget().listPods()).map((p) => p.name);
    if (pods.length === 0) throw new Error(`No pod of "${session.deployment}" is running.`);
    const pod =
      pods.length === 1 || (arg && typeof arg === 'object' && 'pod' in arg)
        ? ((arg as { pod?: string } | undefined)?.pod ?? pods[0])
        : await vscode.window.showQuickPick(pods, { placeHolder: `Terminal in which pod of ${session.deployment}?` });
    if (!pod) return undefined;
    cluster = session.clusterLease;
    place = { namespace: session.namespace, pod, container: session.target!.container };
    cwd = session.config.sync[0]?.remote;
  }
  if (!cluster) throw new Error('No cluster is connected: select a context first.');
  const pty = new PodTerminal(cluster, place, cwd);
  const terminal = vscode.window.createTerminal({
    name: `Truva: ${place.pod}`,
    pty,
    iconPath: new vscode.ThemeIcon('terminal'),
  });
  truva.terminals.add(pty);
  const closed = vscode.window.onDidCloseTerminal((t) => {
    if (t !== terminal) return;
    truva.terminals.delete(pty);
    closed.dispose();
  });
  terminal.show();
  return pty;
}

/** Run in All Pods: one shell line in every running pod of a session, each pod's output and exit code in an output channel. */
async function runInAllPods(truva: TruvaContext, arg?: unknown): Promise<PodRunResult[] | undefined> {
  const given = arg && typeof arg === 'object' && 'command' in arg ? (arg as { command: string }).command : undefined;
  const session = await pickSession(truva, given !== undefined ? (arg as { session?: unknown }).session : arg);
  if (!session) return void vscode.window.showInformationMessage('No dev session is running.');
  const command =
    given ??
    (await vscode.window.showInputBox({
      prompt: `A shell command to run in every pod of ${session.deployment}, in ${session.config.sync[0]?.remote ?? 'its working folder'}`,
      placeHolder: 'npm ls --depth=0',
    }));
  if (!command?.trim()) return undefined;
  const out = truva.runInPodsOutput();
  out.show(true);
  out.appendLine(`$ ${command}    (${session.deployment}, ${new Date().toLocaleTimeString()})`);
  // Whole lines per pod, prefixed with its name, so pods' output does not interleave mid-line.
  const partial = new Map<string, string>();
  const flush = (pod: string, text: string) => {
    const lines = ((partial.get(pod) ?? '') + text).split('\n');
    partial.set(pod, lines.pop()!);
    for (const line of lines) out.appendLine(`[${pod}] ${line.replace(/\r$/, '')}`);
  };
  const results = await core().runInPods(session.runTarget(), command, {
    cwd: session.config.sync[0]?.remote,
    onOutput: (pod, data) => flush(pod, data.toString('utf8')),
  });
  for (const r of results) {
    const rest = partial.get(r.pod);
    if (rest) out.appendLine(`[${r.pod}] ${rest}`);
    out.appendLine(
      `[${r.pod}] ${r.error ? `failed: ${r.error}` : `exit code ${r.exitCode}`}${r.truncatedBytes ? ` (${r.truncatedBytes} bytes of output not kept)` : ''}`,
    );
  }
  const failed = results.filter((r) => r.error || r.exitCode !== 0);
  out.appendLine(`${results.length - failed.length} of ${results.length} pods exited with 0.`);
  out.appendLine('');
  if (failed.length)
    void vscode.window.showWarningMessage(
      `Run in All Pods: ${failed.map((r) => `${r.pod} ${r.error ? 'failed' : `exited with ${r.exitCode}`}`).join(', ')}.`,
    );
  return results;
}

async function stopSession(truva: TruvaContext, arg?: unknown, force = false): Promise<void> {
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
    if (!(err instanceof core().RestoreConflictError)) throw err;
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
  }
}

/** Deployments left in dev mode by an earlier window (a crash, a killed VS Code) are offered for restore. */
export async function offerCrashRecovery(truva: TruvaContext): Promise<void> {
  const cluster = truva.cluster;
  if (!cluster) return;
  const left = await core().findDevModeDeployments(cluster);
  if (left.length === 0) return;
  const names = left.map((b) => `"${b.deployment}"`).join(', ');
  const choice = await vscode.window.showWarningMessage(
    `Truva left ${left.length === 1 ? 'deployment' : 'deployments'} ${names} in dev mode (an earlier session did not stop cleanly).`,
    'Restore',
    'Later',
  );
  if (choice !== 'Restore') return;
  for (const b of left)
    await restoreWithConflictPrompt(
      truva,
      new (core().DevMode)(cluster, { namespace: b.namespace, deployment: b.deployment }),
    );
}

async function restoreDeployment(truva: TruvaContext, node?: ClusterNode): Promise<void> {
  const cluster = truva.cluster;
  if (!cluster) throw new Error('No cluster is connected: select a context first.');
  let target: { namespace: string; deployment: string } | undefined;
  if (node?.kind === 'deployment')
    target = { namespace: node.deployment.metadata!.namespace!, deployment: node.deployment.metadata!.name! };
  else {
    const left = (await core().findDevModeDeployments(cluster)).filter(
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
    new (core().DevMode)(cluster, { namespace: target.namespace, deployment: target.deployment }),
  );
}

/** Restores a deployment left in dev mode, asking before overwriting someone else's changes. */
async function restoreWithConflictPrompt(truva: TruvaContext, devMode: DevMode, force = false): Promise<void> {
  const name = devMode.options.deployment;
  try {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Truva: restoring ${name}` },
      () => devMode.restore({ force }),
    );
    void vscode.window.showInformationMessage(`Deployment "${name}" is restored.`);
  } catch (err) {
    if (!(err instanceof core().RestoreConflictError) || force) throw err;
    const choice = await vscode.window.showWarningMessage(err.message, { modal: true }, 'Restore Anyway');
    if (choice === 'Restore Anyway') await restoreWithConflictPrompt(truva, devMode, true);
  }
}

async function selectContext(truva: TruvaContext): Promise<void> {
  const contexts = core().listContexts(core().loadKubeConfig({ path: truva.settings.kubeconfig() }));
  const pick = await vscode.window.showQuickPick(
    contexts.map((c) => ({
      label: c.name,
      description: c.current ? 'current in kubeconfig' : c.namespace,
      detail: c.server,
    })),
    { placeHolder: 'Kubernetes context for the Truva sidebar and new sessions' },
  );
  if (!pick) return;
  await truva.settings.setForWorkspace('context', pick.label);
  await truva.settings.setForWorkspace('namespace', undefined);
}

async function selectNamespace(truva: TruvaContext): Promise<void> {
  const cluster = truva.cluster;
  if (!cluster) throw new Error('No cluster is connected: select a context first.');
  const names = (await cluster.listNamespaces()).map((n) => n.metadata!.name!);
  const pick = await vscode.window.showQuickPick(
    names.map((n) => ({ label: n, description: n === cluster.namespace ? 'current' : undefined })),
    { placeHolder: 'Namespace' },
  );
  if (pick) await truva.settings.setForWorkspace('namespace', pick.label);
}

async function openConfig(truva: TruvaContext): Promise<void> {
  const file = await pickConfigFile();
  if (file) return void vscode.window.showTextDocument(file);
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error("Open a folder first: truva.yaml lives in your service's folder.");
  const config = truva.sessions.list()[0]?.config;
  const text = config
    ? core().configToYaml(config)
    : "# Truva dev session. See the README's truva.yaml reference.\nnamespace: default\ndeployment: my-app\nsync:\n  - local: .\n    remote: /app\n";
  const uri = vscode.Uri.joinPath(folder.uri, 'truva.yaml');
  await vscode.workspace.fs.writeFile(uri, Buffer.from(text));
  await vscode.window.showTextDocument(uri);
}

/** Show Logs from the palette (a session or a deployment), the tree (deployment, pod) or a session. */
async function showLogs(truva: TruvaContext, arg?: unknown): Promise<void> {
  const node = arg as ClusterNode | undefined;
  const namespace = truva.cluster?.namespace ?? 'default';
  const context = truva.cluster?.contextName;
  if (node?.kind === 'deployment')
    return truva.logPanels.show({
      namespace: node.deployment.metadata!.namespace ?? namespace,
      deployment: node.deployment.metadata!.name!,
      context,
    });
  if (node?.kind === 'pod')
    return truva.logPanels.show({
      namespace: node.pod.metadata!.namespace ?? namespace,
      pod: node.pod.metadata!.name!,
      context,
    });
  const session = truva.sessions.list().length ? await pickSession(truva, arg) : undefined;
  if (session)
    return truva.logPanels.show(
      { namespace: session.namespace, deployment: session.deployment, context: session.contextName },
      session.config.kubeconfig,
    );
  const name = await vscode.window.showQuickPick(truva.clusterTree.deploymentNames(), {
    placeHolder: 'Show the logs of which deployment?',
  });
  if (name) return truva.logPanels.show({ namespace, deployment: name, context });
}
