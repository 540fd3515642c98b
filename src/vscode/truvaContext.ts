// The one object that owns what the extension creates: the output, the settings, the pool of
// cluster connections, the sessions, the views (Cluster and Sessions trees, log panels) and the
// status bar. extension.ts builds it; commands act on it. It owns and connects; the sessions,
// the views and the status bar do their own work.
import * as vscode from 'vscode';
import type { Cluster } from '../core/kube/cluster';
import type { ClusterPool } from '../core/kube/clusterPool';
import type { DevSession } from '../core/session/devSession';
import { SessionManager } from '../core/session/sessionManager';
import { ClusterTree } from './clusterTree';
import { core } from './lazy';
import { Debuggers } from './debugger';
import { LogPanels } from './logs/logPanels';
import { errorMessage } from './output';
import type { PodTerminal } from './podTerminal';
import { SessionsTree } from './sessionsTree';
import { Settings } from './settings';
import { StatusBar } from './statusBar';

export class TruvaContext implements vscode.Disposable {
  readonly settings = new Settings();
  readonly sessions = new SessionManager<DevSession>();
  readonly clusterTree: ClusterTree;
  readonly sessionsTree: SessionsTree;
  readonly logPanels: LogPanels;
  readonly statusBar: StatusBar;
  /** The debug sessions of "Truva: Debug", per dev session. */
  readonly debuggers: Debuggers;
  /** Terminals opened by "Truva: Open Terminal" that are still open. */
  readonly terminals = new Set<PodTerminal>();
  private runOutput?: vscode.OutputChannel;
  /** The sidebar's lease, on the context and namespace the settings name. */
  cluster: Cluster | undefined;
  /** Settles once the work activation leaves for right after it (the sidebar's connection) has run. */
  started: Promise<void> = Promise.resolve();
  private poolOf: ClusterPool | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    readonly extension: vscode.ExtensionContext,
    readonly output: vscode.LogOutputChannel,
  ) {
    this.clusterTree = new ClusterTree(
      () => this.sessionDeployments(),
      output,
      () => this.statusBar?.update(),
    );
    this.sessionsTree = new SessionsTree(this.sessions);
    this.statusBar = new StatusBar(
      {
        sessions: () => this.sessions.list().map((s) => s.status()),
        apiReachable: () =>
          this.clusterTree.state === 'unreachable' ? false : this.clusterTree.state === 'ok' ? true : undefined,
        context: () => this.cluster?.contextName,
      },
      output,
    );
    this.logPanels = new LogPanels(extension.extensionUri, {
      clusterFor: (t, kubeconfig) =>
        this.pool.acquire({
          kubeconfigPath: kubeconfig ?? this.settings.kubeconfig(),
          context: t.context,
          namespace: t.namespace,
        }),
      tailLines: () => this.settings.logs.tail(),
      bufferLines: () => this.settings.logs.bufferSize(),
      log: output,
    });
    this.debuggers = new Debuggers(output);
    this.disposables.push(
      this.debuggers,
      this.statusBar,
      this.clusterTree,
      this.sessionsTree,
      vscode.window.createTreeView('truva.cluster', { treeDataProvider: this.clusterTree, showCollapseAll: true }),
      vscode.window.createTreeView('truva.sessions', { treeDataProvider: this.sessionsTree }),
      this.logPanels,
    );
    this.sessions.on('changed', () => this.sessionsChanged());
  }

  /**
   * Every Cluster of the extension is leased from here: one connection and breaker per server and
   * user. Made on first use, which loads the core (the cluster client) too.
   */
  get pool(): ClusterPool {
    if (!this.poolOf) {
      this.poolOf = new (core().ClusterPool)();
      this.statusBar.follow(this.poolOf);
    }
    return this.poolOf;
  }

  own<T extends vscode.Disposable>(d: T): T {
    this.disposables.push(d);
    return d;
  }

  /** "Truva: Run in All Pods" writes each pod's output and exit code here. */
  runInPodsOutput(): vscode.OutputChannel {
    this.runOutput ??= this.own(vscode.window.createOutputChannel('Truva: Run in Pods'));
    return this.runOutput;
  }

  /** (Re)connects the sidebar to the context and namespace the settings name. */
  connect(): void {
    this.cluster?.dispose();
    this.cluster = undefined;
    try {
      this.cluster = this.pool.acquire({
        kubeconfigPath: this.settings.kubeconfig(),
        context: this.settings.context(),
        namespace: this.settings.namespace(),
      });
      this.output.info(
        `Using context "${this.cluster.contextName}", namespace "${this.cluster.namespace}" (${this.cluster.server}).`,
      );
      this.clusterTree.setCluster(this.cluster);
    } catch (err) {
      this.output.warn(errorMessage(err));
      this.clusterTree.setCluster(
        undefined,
        err instanceof core().KubeError && err.kind === 'config' ? 'noKubeconfig' : 'unreachable',
      );
    }
    void vscode.commands.executeCommand('setContext', 'truva.hasCluster', !!this.cluster);
    this.statusBar.update();
  }

  /** A lease for a session's truva.yaml: its own kubeconfig, context and namespace, else the settings'. */
  clusterFor(config: { kubeconfig?: string; context?: string; namespace?: string }): Cluster {
    return this.pool.acquire({
      kubeconfigPath: config.kubeconfig ?? this.settings.kubeconfig(),
      context: config.context ?? this.settings.context(),
      namespace: config.namespace ?? this.settings.namespace(),
    });
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
    this.statusBar.update();
  }

  /** After deactivate() restored what it should: every view, lease and connection goes. */
  dispose(): void {
    for (const d of this.disposables.reverse()) d.dispose();
    this.cluster?.dispose();
    this.sessions.dispose();
    this.poolOf?.dispose();
  }
}
