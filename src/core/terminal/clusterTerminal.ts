// A terminal and run-in-pods on a real cluster: exec in the dev container through the kube
// layer (its timeouts, retries and breaker), and a pod lookup to tell "the pod went away".
import type { Cluster } from '../kube/cluster';
import { KubeError } from '../kube/errors';
import { TerminalSession, type TerminalExec, type TerminalOptions } from './terminalSession';

export interface ClusterTerminalPlace {
  namespace: string;
  pod: string;
  container: string;
}

export function clusterTerminalExec(cluster: Cluster, place: ClusterTerminalPlace): TerminalExec {
  return {
    open: (command, terminal) => cluster.openExec(place.pod, place.container, command, place.namespace, terminal),
    async podExists() {
      try {
        const pod = await cluster.getPod(place.pod, place.namespace);
        return !pod.metadata?.deletionTimestamp;
      } catch (err) {
        if (err instanceof KubeError && err.kind === 'notFound') return false;
        throw err;
      }
    },
  };
}

/** Opens a shell on a terminal in the pod's dev container. */
export function openTerminal(
  cluster: Cluster,
  place: ClusterTerminalPlace,
  options: Omit<TerminalOptions, 'pod'>,
): Promise<TerminalSession> {
  return TerminalSession.open(clusterTerminalExec(cluster, place), { ...options, pod: place.pod });
}
