// The one object that owns everything the extension creates: output, cluster access, sessions,
// views, the status bar and the language client. extension.ts builds it; commands act on it.
import * as vscode from 'vscode';
import { readFileSync } from 'node:fs';
import type { Cluster } from '../core/kube/cluster';
import { ClusterPool } from '../core/kube/clusterPool';
import { KubeError } from '../core/kube/errors';
import { loadKubeConfig, listContexts } from '../core/kube/kubeconfig';
import { loadConfig, type TruvaConfig } from '../core/config';
import type { LogLevel } from '../core/config/types';
import type { DevSession } from '../core/session/devSession';
import { SessionManager } from '../core/session/sessionManager';
import { ClusterTree } from './clusterTree';
import { LogPanels } from './logs/logPanels';
import type { LogPanelTarget } from '../core/logs/protocol';
import { SessionsTree } from './sessionsTree';
import { statusView } from './statusModel';
import { ApiHealth } from './apiHealth';

export class TruvaContext implements vscode.Disposable {
  readonly output: vscode.LogOutputChannel;
  readonly sessions = new SessionManager<DevSession>();
  readonly clusterTree: ClusterTree;
  readonly sessionsTree: SessionsTree;
  readonly statusBar: vscode.StatusBarItem;
  readonly logPanels: LogPanels;
  /** Every Cluster of the extension is leased from here: one connection and breaker per server and user. */
  readonly pool = new ClusterPool();
  /** The sidebar's lease. */
  cluster: Cluster | undefined;
  /** The API's health over every connection of the pool, for status bar and output. */
  readonly health: ApiHealth;
  private readonly disposables: vscode.Disposable[] = [];
  private statusTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly extension: vscode.ExtensionContext,
    output: vscode.LogOutputChannel,
  ) {
    this.output = output;
    this.clusterTree = new ClusterTree(() => this.sessionDeployments(), output);
    this.sessionsTree = new SessionsTree(this.sessions);
    this.statusBar = vscode.window.createStatusBarItem('truva.status', vscode.StatusBarAlignment.Left, 10);
    this.statusBar.name = 'Truva';
    this.health = new ApiHealth(output, () => this.updateStatusBar());
    this.pool.subscribe({
      opened: (connection) => this.health.track(connection),
      closed: (connection) => this.health.untrack(connection),
    });
    this.disposables.push(
      this.statusBar,
      this.clusterTree,
      this.sessionsTree,
      vscode.window.createTreeView('truva.cluster', { treeDataProvider: this.clusterTree, showCollapseAll: true }),
      vscode.window.createTreeView('truva.sessions', { treeDataProvider: this.sessionsTree }),
    );
    this.logPanels = this.own(
      new LogPanels(extension.extensionUri, {
        clusterFor: (t, kubeconfig) =>
          this.pool.acquire({
            kubeconfigPath: kubeconfig ?? (this.settings().get<string>('kubeconfig') || undefined),
            context: t.context,
            namespace: t.namespace,
          }),
        tailLines: () => this.settings().get<number>('logs.tail', 200),
        bufferLines: () => this.settings().get<number>('logs.bufferSize', 50_000),
        log: output,
      }),
    );
    this.sessions.on('changed', () => this.sessionsChanged());
    // "synced N s ago" must keep counting while nothing else changes.
    this.statusTimer = setInterval(() => this.updateStatusBar(), 1000);
  }

  own<T extends vscode.Disposable>(d: T): T {
    this.disposables.push(d);
    return d;
  }

  private settings() {
    return vscode.workspace.getConfiguration('truva');
  }

  /** (Re)connects the sidebar to the context and namespace the settings name. */
  connect(): void {
    this.cluster?.dispose();
    this.cluster = undefined;
    const kubeconfigPath = this.settings().get<string>('kubeconfig') || undefined;
    try {
      this.cluster = this.pool.acquire({
        kubeconfigPath,
        context: this.settings().get<string>('context') || undefined,
        namespace: this.settings().get<string>('namespace') || undefined,
      });
      this.output.info(
        `Using context "${this.cluster.contextName}", namespace "${this.cluster.namespace}" (${this.cluster.server}).`,
      );
      this.clusterTree.setCluster(this.cluster);
    } catch (err) {
      this.output.warn((err as Error).message);
      this.clusterTree.setCluster(
        undefined,
        err instanceof KubeError && err.kind === 'config' ? 'noKubeconfig' : 'unreachable',
      );
    }
    this.updateTreeDescription();
    this.updateStatusBar();
  }

  /** The contexts of the kubeconfig the settings point at. */
  contexts() {
    return listContexts(loadKubeConfig({ path: this.settings().get<string>('kubeconfig') || undefined }));
  }

  private updateTreeDescription() {
    void vscode.commands.executeCommand('setContext', 'truva.hasCluster', !!this.cluster);
  }

  /** A cluster client for a session's truva.yaml (its own context, namespace, kubeconfig). */
  clusterFor(config: TruvaConfig): Cluster {
    return this.pool.acquire({
      kubeconfigPath: config.kubeconfig ?? (this.settings().get<string>('kubeconfig') || undefined),
      context: config.context ?? (this.settings().get<string>('context') || undefined),
      namespace: config.namespace ?? (this.settings().get<string>('namespace') || undefined),
    });
  }

  /** Loads a truva.yaml with the VS Code settings as defaults; errors name line and column. */
  loadConfigFile(uri: vscode.Uri): TruvaConfig {
    return this.loadConfigText(readFileSync(uri.fsPath, 'utf8'), uri);
  }

  /** Same, for a truva.yaml that is not (yet) on disk, e.g. the quick-pick answers. */
  loadConfigText(text: string, uri: vscode.Uri): TruvaConfig {
    const s = this.settings();
    const result = loadConfig(text, {
      filePath: uri.fsPath,
      settings: {
        logLevel: s.get<LogLevel>('logLevel'),
        debounce: s.get<number>('debounce'),
        concurrency: s.get<number>('concurrency'),
        logs: { tail: s.get<number>('logs.tail'), buffer: s.get<number>('logs.bufferSize') },
      },
    });
    if (!result.ok) {
      const first = result.errors[0];
      throw new Error(
        `${vscode.workspace.asRelativePath(uri)}:${first.line}:${first.column}: ${first.message}${result.errors.length > 1 ? ` (and ${result.errors.length - 1} more problems; see the Problems view)` : ''}`,
      );
    }
    return result.config;
  }

  /** Deployments of the sidebar's context and namespace that are in a session of this window. */
  private sessionDeployments(): Set<string> {
    const here = this.cluster;
    return new Set(
      this.sessions
        .list()
        .filter((s) => s.contextName === here?.contextName && s.namespace === here?.namespace)
        .map((s) => s.deployment),
    );
  }

  private sessionsChanged() {
    const active = this.sessions.list().some((s) => s.phase === 'running' || s.phase === 'starting');
    const paused = this.sessions.list().some((s) => s.snapshot().state === 'paused');
    void vscode.commands.executeCommand('setContext', 'truva.sessionActive', active);
    void vscode.commands.executeCommand('setContext', 'truva.syncPaused', paused);
    this.sessionsTree.refresh();
    this.clusterTree.refreshSoon();
    this.updateStatusBar();
  }

  /** Opens (or reveals) the log panel of a deployment or pod (of a truva.yaml's own kubeconfig, when it names one). */
  async showLogs(target: LogPanelTarget, kubeconfig?: string): Promise<void> {
    try {
      await this.logPanels.show(target, kubeconfig);
    } catch (err) {
      this.output.error(`Cannot show the logs: ${(err as Error).message}`);
      void vscode.window
        .showErrorMessage(`Cannot show the logs: ${(err as Error).message}`, 'Show Output')
        .then((c) => c && this.output.show(true));
    }
  }

  /** Called by sessions whenever their sync snapshot changes. */
  syncChanged(): void {
    this.sessionsChanged();
  }

  updateStatusBar(): void {
    const view = statusView({
      sessions: this.sessions.list().map((s) => s.status()),
      breaker: this.health.state,
      apiReachable:
        this.clusterTree.state === 'unreachable' ? false : this.clusterTree.state === 'ok' ? true : undefined,
      context: this.cluster?.contextName,
      now: Date.now(),
    });
    this.statusBar.text = view.text;
    const tooltip = new vscode.MarkdownString(view.tooltip, true);
    tooltip.isTrusted = {
      enabledCommands: [
        'truva.startSession',
        'truva.toggleSync',
        'truva.syncNow',
        'truva.showLogs',
        'truva.stopSession',
        'truva.showOutput',
      ],
    };
    this.statusBar.tooltip = tooltip;
    this.statusBar.command = view.command;
    this.statusBar.backgroundColor = view.background
      ? new vscode.ThemeColor(
          view.background === 'error' ? 'statusBarItem.errorBackground' : 'statusBarItem.warningBackground',
        )
      : undefined;
    this.statusBar.show();
  }

  dispose(): void {
    clearInterval(this.statusTimer);
    for (const d of this.disposables.reverse()) d.dispose();
    this.cluster?.dispose();
    this.sessions.dispose();
    this.pool.dispose();
  }
}
