// The sync engine's view of the cluster: the running pods of the deployment and exec in the
// synced container, through the kube layer (so timeouts, retries and the breaker apply).
import type { Cluster } from '../kube/cluster';
import { DeploymentPods } from '../kube/deploymentPods';
import { KubeError } from '../kube/errors';
import type { Deployment, Pod } from '../kube/types';
import type { PodRef, PodRun, SyncTarget } from './engine';

export interface ClusterTargetOptions {
  namespace: string;
  /**
   * The deployment whose pods are synced: its selector and its ReplicaSets decide which pods
   * those are. A name is read once, on first use.
   */
  deployment: Deployment | string;
  container: string;
  /** `run`: a command in the synced container, through the pod's sync shell when it can (see SyncTarget). */
  restart(pod: string, run: PodRun): Promise<void>;
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
  options: Pick<ClusterTargetOptions, 'namespace' | 'deployment' | 'container' | 'settleMs'>,
): Pick<SyncTarget, 'listPods' | 'watchPods'> {
  let pods: DeploymentPods | undefined;
  const deploymentPods = async () => {
    const d = options.deployment;
    pods ??= new DeploymentPods(cluster, typeof d === 'string' ? await cluster.getDeployment(d, options.namespace) : d);
    return pods;
  };
  return {
    async listPods() {
      return (await (await deploymentPods()).list()).flatMap((p) => runningRef(p, options.container) ?? []);
    },
    watchPods(onChange) {
      let timer: NodeJS.Timeout | undefined;
      let stopped = false;
      let watcher: { stop(): void } | undefined;
      // listPods ran first (the engine's start), so the deployment is known by now.
      void deploymentPods().then((p) => {
        if (stopped) return;
        watcher = p.watch(
          () => {
            clearTimeout(timer);
            timer = setTimeout(onChange, options.settleMs ?? 200);
          },
          () => {},
        );
      });
      return {
        stop: () => {
          stopped = true;
          clearTimeout(timer);
          watcher?.stop();
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
      if (err.kind === 'notFound') return true;
      // Refused before the upgrade (400); or after it: a 1.30-1.35 server reports what the node
      // refused as an InternalError Status on the exec stream ("container not found"); or a
      // 1.36+ server, which sends the WebSocket straight to the kubelet, passes the kubelet's
      // own refusal on before the upgrade: HTTP 500, "container not found".
      const refused =
        err.status === 400 || err.status === 500 || (err.kind === 'exec' && err.reason === 'InternalError');
      return refused && /not running|waiting to start|not found|does not exist/i.test(err.message);
    },
  };
}
