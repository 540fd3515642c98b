// The Cluster view: deployments (ready/desired, dev-mode and session badges) -> pods (phase,
// ready, restarts, age) -> containers. Refreshed by watches, debounced, never by polling.
import * as vscode from 'vscode';
import type { Cluster } from '../core/kube/cluster';
import type { Deployment, Pod } from '../core/kube/types';
import { ClusterWatch, type ClusterState } from './clusterWatch';
import { core } from './lazy';

export type ClusterNode =
  | { kind: 'deployment'; deployment: Deployment }
  | { kind: 'pod'; pod: Pod; deployment: string }
  | { kind: 'container'; pod: string; name: string; ready: boolean; restarts: number };

function age(timestamp: string | undefined, now = Date.now()): string {
  if (!timestamp) return '';
  const s = Math.max(0, Math.round((now - Date.parse(timestamp)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

export class ClusterTree implements vscode.TreeDataProvider<ClusterNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ClusterNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly watch: ClusterWatch;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sessionDeployments: () => Set<string>,
    log: vscode.LogOutputChannel,
    /** The state changed (the status bar says whether the API is reachable). */
    onStateChange: () => void,
  ) {
    this.watch = new ClusterWatch(log, (stateChanged) => {
      if (stateChanged) {
        void vscode.commands.executeCommand('setContext', 'truva.clusterState', this.state);
        onStateChange();
      }
      this.refreshSoon();
    });
  }

  get state(): ClusterState {
    return this.watch.state;
  }

  /** Points the tree at a cluster (or none) and starts watching its namespace. */
  setCluster(cluster: Cluster | undefined, state?: ClusterState): void {
    this.watch.follow(cluster, state);
  }

  /** Coalesces bursts of watch events (a rollout sends dozens) into one redraw. */
  refreshSoon(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.changed.fire(undefined), 150);
  }

  deploymentNames(): string[] {
    return [...this.watch.deployments.keys()].sort();
  }

  podsOf(name: string): Pod[] {
    const d = this.watch.deployments.get(name);
    if (!d) return [];
    try {
      return core()
        .podsOwnedBy(d, [...this.watch.replicaSets.values()], [...this.watch.pods.values()])
        .sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!));
    } catch {
      return []; // an empty or malformed selector: no pod is shown as the deployment's
    }
  }

  getChildren(node?: ClusterNode): ClusterNode[] {
    if (!node)
      return this.state === 'ok' || this.watch.deployments.size
        ? this.deploymentNames().map((n) => ({ kind: 'deployment', deployment: this.watch.deployments.get(n)! }))
        : [];
    if (node.kind === 'deployment')
      return this.podsOf(node.deployment.metadata!.name!).map((pod) => ({
        kind: 'pod',
        pod,
        deployment: node.deployment.metadata!.name!,
      }));
    if (node.kind === 'pod') {
      const statuses = node.pod.status?.containerStatuses ?? [];
      return (node.pod.spec?.containers ?? []).map((c) => {
        const s = statuses.find((x) => x.name === c.name);
        return {
          kind: 'container',
          pod: node.pod.metadata!.name!,
          name: c.name,
          ready: !!s?.ready,
          restarts: s?.restartCount ?? 0,
        };
      });
    }
    return [];
  }

  getTreeItem(node: ClusterNode): vscode.TreeItem {
    if (node.kind === 'deployment') {
      const d = node.deployment;
      const name = d.metadata!.name!;
      const inSession = this.sessionDeployments().has(name);
      const devMode = !!d.metadata?.annotations?.[core().BACKUP_ANNOTATION];
      const item = new vscode.TreeItem(name, vscode.TreeItemCollapsibleState.Collapsed);
      const badges = [inSession ? 'session' : devMode ? 'dev mode' : ''].filter(Boolean);
      item.description = `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}${badges.length ? ` · ${badges.join(' · ')}` : ''}`;
      item.contextValue = inSession ? 'deployment.session' : devMode ? 'deployment.devmode' : 'deployment';
      item.iconPath = new vscode.ThemeIcon(
        inSession ? 'sync' : devMode ? 'tools' : 'package',
        devMode && !inSession ? new vscode.ThemeColor('list.warningForeground') : undefined,
      );
      item.tooltip = new vscode.MarkdownString(
        `**${name}**\n\n${devMode ? (inSession ? 'In a Truva dev session.' : 'Left in dev mode by Truva: restore it from the context menu.') : 'Not in dev mode.'}`,
      );
      item.id = `deployment/${name}`;
      return item;
    }
    if (node.kind === 'pod') {
      const p = node.pod;
      const statuses = p.status?.containerStatuses ?? [];
      const ready = statuses.filter((s) => s.ready).length;
      const restarts = statuses.reduce((n, s) => n + (s.restartCount ?? 0), 0);
      const waiting = statuses.find((s) => s.state?.waiting?.reason)?.state?.waiting?.reason;
      const phase = p.metadata?.deletionTimestamp ? 'Terminating' : (waiting ?? p.status?.phase ?? 'Unknown');
      const item = new vscode.TreeItem(p.metadata!.name!, vscode.TreeItemCollapsibleState.Collapsed);
      item.description = `${phase} · ${ready}/${statuses.length || (p.spec?.containers.length ?? 0)} ready · ${restarts} restarts · ${age(p.status?.startTime ?? p.metadata?.creationTimestamp)}`;
      item.contextValue = this.sessionDeployments().has(node.deployment) ? 'pod.session' : 'pod';
      item.iconPath = new vscode.ThemeIcon(
        phase === 'Running' && ready === statuses.length
          ? 'pass'
          : phase === 'Running'
            ? 'circle-large-outline'
            : 'warning',
      );
      item.id = `pod/${p.metadata!.name!}`;
      return item;
    }
    const item = new vscode.TreeItem(node.name, vscode.TreeItemCollapsibleState.None);
    item.description = `${node.ready ? 'ready' : 'not ready'} · ${node.restarts} restarts`;
    item.contextValue = 'container';
    item.iconPath = new vscode.ThemeIcon('symbol-constructor');
    item.id = `container/${node.pod}/${node.name}`;
    return item;
  }

  dispose(): void {
    this.watch.dispose();
    clearTimeout(this.timer);
    this.changed.dispose();
  }
}
