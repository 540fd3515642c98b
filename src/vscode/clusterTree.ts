// The Cluster view: deployments (ready/desired, dev-mode and session badges) -> pods (phase,
// ready, restarts, age) -> containers. Refreshed by watches, debounced, never by polling.
import * as vscode from 'vscode';
import type { Cluster } from '../core/kube/cluster';
import { KubeError } from '../core/kube/errors';
import type { Deployment, Pod, ReplicaSet, Watcher } from '../core/kube/types';
import { podsOwnedBy } from '../core/kube/deploymentPods';
import { BACKUP_ANNOTATION } from '../core/devmode/devMode';

export type ClusterState = 'ok' | 'noKubeconfig' | 'unreachable' | 'forbidden' | 'loading';

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
  private deployments = new Map<string, Deployment>();
  private pods = new Map<string, Pod>();
  /** A deployment's pods are those of its ReplicaSets, not every pod its selector matches. */
  private replicaSets = new Map<string, ReplicaSet>();
  private watchers: Watcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private cluster: Cluster | undefined;
  state: ClusterState = 'loading';
  private readonly warned = new Set<string>();

  constructor(
    private readonly sessionDeployments: () => Set<string>,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Points the tree at a cluster (or none) and starts watching its namespace. */
  setCluster(cluster: Cluster | undefined, state: ClusterState = cluster ? 'loading' : 'noKubeconfig'): void {
    this.stopWatches();
    this.cluster = cluster;
    this.deployments.clear();
    this.pods.clear();
    this.replicaSets.clear();
    this.setState(state);
    if (!cluster) return this.refreshSoon();
    const onError = (err: KubeError, info: { retrying: boolean }) => {
      // The watches retry for as long as the API is down: each distinct problem is a warning
      // once (until the cluster answers again), repeats go to the debug level.
      const message = `cluster view: ${err.message}${info.retrying ? ' (retrying)' : ''}`;
      if (this.warned.has(message)) this.log.debug(message);
      else {
        this.warned.add(message);
        this.log.warn(message);
      }
      if (err.kind === 'forbidden') this.setState('forbidden');
      else if (err.kind === 'unreachable' || err.kind === 'timeout') this.setState('unreachable');
    };
    this.watchers.push(
      cluster.watchDeployments(
        undefined,
        (e) => {
          const key = e.object.metadata!.name!;
          if (e.type === 'DELETED') this.deployments.delete(key);
          else this.deployments.set(key, e.object);
          this.setState('ok');
          this.refreshSoon();
        },
        onError,
      ),
      cluster.watchPods(
        undefined,
        (e) => {
          const key = e.object.metadata!.name!;
          if (e.type === 'DELETED') this.pods.delete(key);
          else this.pods.set(key, e.object);
          this.refreshSoon();
        },
        onError,
      ),
      cluster.watchReplicaSets(
        undefined,
        (e) => {
          const key = e.object.metadata!.name!;
          if (e.type === 'DELETED') this.replicaSets.delete(key);
          else this.replicaSets.set(key, e.object);
          this.refreshSoon();
        },
        onError,
      ),
    );
    // An empty namespace sends no events: confirm reachability with one list.
    cluster.listDeployments().then(
      () => this.setState('ok'),
      (err: KubeError) => onError(err, { retrying: false }),
    );
  }

  private setState(state: ClusterState) {
    if (state === 'ok') this.warned.clear();
    if (this.state === state) return;
    this.state = state;
    void vscode.commands.executeCommand('setContext', 'truva.clusterState', state);
    this.refreshSoon();
  }

  /** Coalesces bursts of watch events (a rollout sends dozens) into one redraw. */
  refreshSoon(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.changed.fire(undefined), 150);
  }

  deploymentNames(): string[] {
    return [...this.deployments.keys()].sort();
  }

  getDeployment(name: string): Deployment | undefined {
    return this.deployments.get(name);
  }

  podsOf(name: string): Pod[] {
    const d = this.deployments.get(name);
    if (!d) return [];
    try {
      return podsOwnedBy(d, [...this.replicaSets.values()], [...this.pods.values()]).sort((a, b) =>
        a.metadata!.name!.localeCompare(b.metadata!.name!),
      );
    } catch {
      return []; // an empty or malformed selector: no pod is shown as the deployment's
    }
  }

  getChildren(node?: ClusterNode): ClusterNode[] {
    if (!node)
      return this.state === 'ok' || this.deployments.size
        ? this.deploymentNames().map((n) => ({ kind: 'deployment', deployment: this.deployments.get(n)! }))
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
      const devMode = !!d.metadata?.annotations?.[BACKUP_ANNOTATION];
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

  private stopWatches() {
    for (const w of this.watchers) w.stop();
    this.watchers = [];
  }

  dispose(): void {
    this.stopWatches();
    clearTimeout(this.timer);
    this.changed.dispose();
  }
}
