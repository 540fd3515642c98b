// The Cluster facade seen as the aggregator's LogSource.
import type { Cluster } from '../kube/cluster';
import { DeploymentPods } from '../kube/deploymentPods';
import type { Deployment } from '../kube/types';
import type { LogSource } from './source';

/**
 * With a deployment, only its own pods are followed (its selector and its ReplicaSets decide,
 * so a second deployment whose labels overlap is left alone); without, pods by label selector.
 */
export function clusterLogSource(cluster: Cluster, deployment?: Deployment): LogSource {
  const owned = deployment && new DeploymentPods(cluster, deployment);
  return {
    serverNow: () => cluster.serverNow(),
    watchPods(namespace, labelSelector, onEvent, onError) {
      const forward = (event: { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: unknown }) =>
        onEvent(event.type, event.object as never);
      // The kube layer retries dropped watches itself; only a final failure ends the watch.
      const failed = (err: unknown, info: { retrying: boolean }) => {
        if (!info.retrying) onError(err);
      };
      if (owned) return owned.watch(forward, failed);
      return cluster.watchPods(labelSelector ?? undefined, forward, failed, { namespace });
    },
    followLogs(namespace, pod, container, options, signal) {
      return cluster.followLogs(
        pod,
        container,
        { sinceTime: options.sinceTime, tailLines: options.tailLines, timestamps: true },
        signal,
        namespace,
      );
    },
  };
}
