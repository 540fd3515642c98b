// The forward manager on a real cluster: the deployment's running pods (the sync engine's pod
// listing, so both see the same pods) and one pods/portforward WebSocket per connection.
import type { PortForwardSpec } from '../config/types';
import type { Cluster } from '../kube/cluster';
import type { Deployment } from '../kube/types';
import { clusterPods } from '../sync/clusterTarget';
import { ForwardManager } from './forwardManager';

export interface ClusterForwardOptions {
  namespace: string;
  /** The deployment whose pods are forwarded to (its selector and ReplicaSets decide which pods). */
  deployment: Deployment | string;
  /** The dev container: a pod counts once it runs. */
  container: string;
  forwards: PortForwardSpec[];
  log?: (message: string) => void;
  connectTimeoutMs?: number;
}

/** Pod events are coalesced this long before the pods are listed again: short, a forward waits on it. */
const SETTLE_MS = 50;

export function clusterForwards(cluster: Cluster, options: ClusterForwardOptions): ForwardManager {
  return new ForwardManager({
    forwards: options.forwards,
    pods: clusterPods(cluster, { ...options, settleMs: SETTLE_MS }),
    dialer: { open: (pod, port) => cluster.openPortForward(pod, port, options.namespace) },
    log: options.log,
    connectTimeoutMs: options.connectTimeoutMs,
  });
}
