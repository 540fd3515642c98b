// The Cluster facade seen as the aggregator's LogSource.
import type { Cluster } from '../kube/cluster';
import type { LogSource } from './source';

export function clusterLogSource(cluster: Cluster): LogSource {
  return {
    watchPods(namespace, labelSelector, onEvent, onError) {
      const selector = labelSelector ?? undefined;
      return cluster.watchPods(
        selector,
        (event) => onEvent(event.type, event.object as never),
        // The kube layer retries dropped watches itself; only a final failure ends the watch.
        (err, info) => {
          if (!info.retrying) onError(err);
        },
        { namespace },
      );
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
