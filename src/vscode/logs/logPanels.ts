// Log panels on the extension side: one panel per deployment (reopening reveals it), an
// aggregator per panel that keeps collecting while the panel is hidden, lines batched to the
// webview every 50 ms, every webview message validated, and a serializer that reopens panels
// after a window reload.
import * as vscode from 'vscode';
import { writeFile } from 'node:fs/promises';
import type { LogAggregator } from '../../core/logs/aggregator';
import type { Deployment } from '../../core/kube/types';
import {
  LOG_PANEL_VIEW_TYPE,
  parseWebviewMessage,
  sanitizeTarget,
  type HostMessage,
  type LogPanelTarget,
} from '../../core/logs/protocol';
import type { LogLine } from '../../core/logs/types';
import type { Cluster } from '../../core/kube/cluster';
import { core } from '../lazy';
import { buildPanelHtml, createNonce } from './panelHtml';

const BATCH_MS = 50;

/** Scripts on (the nonce one only, see the CSP); the webview may load the bundle folder and nothing else. */
function panelOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview')] };
}

export interface LogPanelDeps {
  /** A lease for the panel's context, from `kubeconfig` or the settings' (the panel gives it back when it closes). */
  clusterFor(target: LogPanelTarget, kubeconfig?: string): Cluster;
  tailLines(): number;
  bufferLines(): number;
  log: vscode.LogOutputChannel;
}

class LogPanel {
  private pending: LogLine[] = [];
  private timer: NodeJS.Timeout | undefined;
  private ready = false;
  private readyWatchdog: NodeJS.Timeout | undefined;
  private readonly aggregator: LogAggregator;
  /** The webview keeps the same bound as the host's buffer. */
  private readonly maxLines: number;

  constructor(
    readonly panel: vscode.WebviewPanel,
    readonly target: LogPanelTarget,
    private readonly cluster: Cluster,
    /** The deployment whose pods are followed; undefined for a single pod. */
    deployment: Deployment | undefined,
    private readonly extensionUri: vscode.Uri,
    deps: LogPanelDeps,
    onDispose: () => void,
  ) {
    this.maxLines = deps.bufferLines();
    const { LogAggregator, clusterLogSource, selectorQuery } = core();
    this.aggregator = new LogAggregator({
      source: clusterLogSource(cluster, deployment),
      namespace: target.namespace,
      labelSelector: deployment ? selectorQuery(deployment.spec?.selector) : undefined,
      podName: deployment ? undefined : target.pod,
      tailLines: deps.tailLines(),
      bufferLines: this.maxLines,
    });
    const webview = panel.webview;
    webview.options = panelOptions(extensionUri);
    webview.html = this.html();
    this.aggregator.subscribe({
      lines: (lines) => {
        this.pending.push(...lines);
        this.schedule();
      },
      pods: (pods) => this.post({ type: 'pods', pods }),
      warning: (message) => deps.log.warn(`logs ${this.title}: ${message}`),
    });
    webview.onDidReceiveMessage((raw) => this.onMessage(raw));
    this.expectReady();
    panel.onDidChangeViewState(() => {
      if (panel.visible) this.expectReady();
    });
    panel.onDidDispose(() => {
      clearTimeout(this.timer);
      clearTimeout(this.readyWatchdog);
      this.aggregator.stop();
      this.cluster.dispose();
      onDispose();
    });
  }

  get title(): string {
    return this.target.deployment ? `Logs: ${this.target.deployment}` : `Logs: ${this.target.pod}`;
  }

  start(): void {
    this.aggregator.start();
  }

  /**
   * A shown webview announces itself with "ready". In a browser-hosted VS Code its first load can
   * stall (a service worker not yet in control) and leave the panel blank: load it again.
   */
  private expectReady() {
    this.ready = false;
    clearTimeout(this.readyWatchdog);
    this.readyWatchdog = setTimeout(() => {
      if (!this.ready && this.panel.visible) {
        this.panel.webview.html = this.html();
        this.expectReady();
      }
    }, 5_000);
  }

  private html(): string {
    const webview = this.panel.webview;
    const asset = (name: string) =>
      webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview', name)).toString();
    return buildPanelHtml({
      cspSource: webview.cspSource,
      nonce: createNonce(),
      scriptUri: asset('logs.js'),
      styleUri: asset('logs.css'),
      codiconUri: asset('codicon.css'),
      title: this.title,
    });
  }

  private post(message: HostMessage) {
    // A hidden webview is torn down; it asks for everything again ("ready") when shown.
    if (this.panel.visible) void this.panel.webview.postMessage(message);
  }

  private schedule() {
    if (this.timer || !this.panel.visible) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const lines = this.pending;
      this.pending = [];
      if (lines.length) this.post({ type: 'lines', lines, dropped: this.aggregator.dropped });
    }, BATCH_MS);
  }

  private async onMessage(raw: unknown) {
    const message = parseWebviewMessage(raw);
    if (!message) return; // unknown or malformed: ignored
    switch (message.type) {
      case 'ready':
        this.ready = true;
        clearTimeout(this.readyWatchdog);
        this.pending = [];
        this.post({
          type: 'init',
          title: this.title,
          target: this.target,
          lines: this.aggregator.lines(),
          dropped: this.aggregator.dropped,
          pods: this.aggregator.podSummaries(),
          maxLines: this.maxLines,
        });
        return;
      case 'clear':
        this.aggregator.clear();
        this.post({ type: 'cleared' });
        return;
      case 'copy':
        await vscode.env.clipboard.writeText(message.text);
        return;
      case 'export': {
        const uri = await vscode.window.showSaveDialog({
          defaultUri: vscode.Uri.file(message.suggestedName),
          filters: { 'Log files': ['log', 'txt'] },
        });
        if (uri) await writeFile(uri.fsPath, message.text);
        return;
      }
    }
  }
}

export class LogPanels implements vscode.Disposable {
  private readonly panels = new Map<string, LogPanel>();
  private readonly registration: vscode.Disposable;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly deps: LogPanelDeps,
  ) {
    this.registration = vscode.window.registerWebviewPanelSerializer(LOG_PANEL_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, state) => {
        // The webview's saved state (webview/logs/state.ts); only its target matters here.
        const target = sanitizeTarget((state as { target?: unknown } | undefined)?.target);
        if (!target) return panel.dispose();
        await this.attach(panel, target);
      },
    });
  }

  private key(t: LogPanelTarget) {
    return `${t.context ?? ''}/${t.namespace}/${t.deployment ?? `pod:${t.pod}`}`;
  }

  /** Opens the panel for a deployment or pod, or reveals the one already open. */
  async show(target: LogPanelTarget, kubeconfig?: string): Promise<void> {
    const existing = this.panels.get(this.key(target));
    if (existing) return existing.panel.reveal(undefined, true);
    const panel = vscode.window.createWebviewPanel(
      LOG_PANEL_VIEW_TYPE,
      target.deployment ? `Logs: ${target.deployment}` : `Logs: ${target.pod}`,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      panelOptions(this.extensionUri),
    );
    await this.attach(panel, target, kubeconfig);
  }

  private async attach(panel: vscode.WebviewPanel, target: LogPanelTarget, kubeconfig?: string) {
    const key = this.key(target);
    const cluster = this.deps.clusterFor(target, kubeconfig);
    let deployment: Deployment | undefined;
    try {
      if (target.deployment) {
        deployment = await cluster.getDeployment(target.deployment, target.namespace);
        core().selectorQuery(deployment.spec?.selector, `Deployment "${target.deployment}"`); // an empty selector is refused here
      }
    } catch (err) {
      cluster.dispose();
      this.deps.log.error(`Cannot follow the logs of ${key}: ${(err as Error).message}`);
      panel.dispose();
      throw err;
    }
    const logPanel = new LogPanel(panel, target, cluster, deployment, this.extensionUri, this.deps, () =>
      this.panels.delete(key),
    );
    this.panels.set(key, logPanel);
    logPanel.start();
  }

  /** The open panel for a target, if any (the extension-host tests inspect its options and page). */
  panelFor(target: LogPanelTarget): vscode.WebviewPanel | undefined {
    return this.panels.get(this.key(target))?.panel;
  }

  dispose(): void {
    this.registration.dispose();
    for (const p of [...this.panels.values()]) p.panel.dispose();
  }
}
