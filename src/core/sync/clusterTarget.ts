// The sync engine's view of the cluster: the running pods of the deployment and exec in the
// synced container, through the kube layer (so timeouts, retries and the breaker apply).
import type { Cluster } from '../kube/cluster';
import { KubeError } from '../kube/errors';
import type { Pod } from '../kube/types';
import type { PodRef, SyncTarget } from './engine';

export interface ClusterTargetOptions {
  namespace: string;
  /** The deployment's pod selector. */
  labelSelector: string;
  container: string;
  restart(pod: string): Promise<void>;
  /** Coalesces bursts of pod events into one check. */
  settleMs?: number;
}

function runningRef(pod: Pod, container: string): PodRef | undefined {
  if (pod.metadata?.deletionTimestamp || pod.status?.phase !== 'Running') return undefined;
  const status = pod.status.containerStatuses?.find((c) => c.name === container);
  if (!status?.state?.running) return undefined;
  return { name: pod.metadata!.name!, incarnation: `${pod.metadata!.uid}:${status.restartCount}` };
}

/** The deployment's pods whose container runs, and a watch that says when that may have changed. */
export function clusterPods(
  cluster: Cluster,
  options: Pick<ClusterTargetOptions, 'namespace' | 'labelSelector' | 'container' | 'settleMs'>,
): Pick<SyncTarget, 'listPods' | 'watchPods'> {
  return {
    async listPods() {
      const pods = await cluster.listPods(options.labelSelector, options.namespace);
      return pods.flatMap((p) => runningRef(p, options.container) ?? []);
    },
    watchPods(onChange) {
      let timer: NodeJS.Timeout | undefined;
      const watcher = cluster.watchPods(
        options.labelSelector,
        () => {
          clearTimeout(timer);
          timer = setTimeout(onChange, options.settleMs ?? 200);
        },
        () => {},
        { namespace: options.namespace },
      );
      return {
        stop: () => {
          clearTimeout(timer);
          watcher.stop();
        },
      };
    },
  };
}

export function clusterSyncTarget(cluster: Cluster, options: ClusterTargetOptions): SyncTarget {
  return {
    ...clusterPods(cluster, options),
    exec(pod, command) {
      return cluster.exec(pod, options.container, command, { namespace: options.namespace, timeoutMs: 300_000 });
    },
    open(pod, command) {
      return cluster.openExec(pod, options.container, command, options.namespace);
    },
    restart: options.restart,
    isGone(err) {
      if (!(err instanceof KubeError)) return false;
      return (
        err.kind === 'notFound' || (err.status === 400 && /not running|waiting to start|not found/i.test(err.message))
      );
    },
  };
}
