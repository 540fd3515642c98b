// What the Cluster view knows of one namespace: its deployments, ReplicaSets and pods (a
// deployment's pods are those of its ReplicaSets), kept current by three watches, and a state for the view's welcome texts. Free of `vscode`, so it is unit-tested.
// Only the cluster it follows now may change it: a call of the cluster it followed before can
// fail long after the switch (its retries), and such a late "unreachable" used to stick on a
// view that was in fact showing a healthy cluster.
import type { Cluster } from '../core/kube/cluster';
import type { KubeError } from '../core/kube/errors';
import type { Deployment, Pod, ReplicaSet, Watcher } from '../core/kube/types';

export type ClusterState = 'ok' | 'noKubeconfig' | 'unreachable' | 'forbidden' | 'loading';

/** The part of a Cluster the view uses. */
export type WatchedCluster = Pick<Cluster, 'watchDeployments' | 'watchPods' | 'watchReplicaSets' | 'listDeployments'>;

export interface ClusterWatchLog {
  warn(message: string): void;
  debug(message: string): void;
}

export class ClusterWatch {
  readonly deployments = new Map<string, Deployment>();
  readonly pods = new Map<string, Pod>();
  readonly replicaSets = new Map<string, ReplicaSet>();
  state: ClusterState = 'loading';
  private watchers: Watcher[] = [];
  /** Which follow() is current; callbacks of an earlier one are ignored. */
  private generation = 0;
  private readonly warned = new Set<string>();

  constructor(
    private readonly log: ClusterWatchLog,
    /** The objects or the state changed. */
    private readonly changed: (stateChanged: boolean) => void,
  ) {}

  /** Follows a cluster's namespace (or none, in the given state), forgetting the one before. */
  follow(cluster: WatchedCluster | undefined, state: ClusterState = cluster ? 'loading' : 'noKubeconfig'): void {
    this.stop();
    const generation = ++this.generation;
    const current = () => generation === this.generation;
    this.deployments.clear();
    this.pods.clear();
    this.replicaSets.clear();
    this.setState(state);
    this.changed(false);
    if (!cluster) return;
    const onError = (err: KubeError, info: { retrying: boolean }) => {
      if (!current()) return;
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
    const keep = <T extends Deployment | Pod | ReplicaSet>(into: Map<string, T>, reachable: boolean) => {
      return (e: { type: string; object: T }) => {
        if (!current()) return;
        const key = e.object.metadata!.name!;
        if (e.type === 'DELETED') into.delete(key);
        else into.set(key, e.object);
        if (reachable) this.setState('ok');
        this.changed(false);
      };
    };
    this.watchers.push(
      cluster.watchDeployments(undefined, keep(this.deployments, true), onError),
      cluster.watchPods(undefined, keep(this.pods, false), onError),
      cluster.watchReplicaSets(undefined, keep(this.replicaSets, false), onError),
    );
    // An empty namespace sends no events: confirm reachability with one list.
    cluster.listDeployments().then(
      () => current() && this.setState('ok'),
      (err: KubeError) => onError(err, { retrying: false }),
    );
  }

  private setState(state: ClusterState) {
    if (state === 'ok') this.warned.clear();
    if (this.state === state) return;
    this.state = state;
    this.changed(true);
  }

  private stop() {
    for (const w of this.watchers) w.stop();
    this.watchers = [];
  }

  dispose(): void {
    this.generation++;
    this.stop();
  }
}
