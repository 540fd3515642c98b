// A deployment's pods, exactly: those its selector matches AND whose controller is one of the
// deployment's ReplicaSets (ownerReferences), as the deployment controller itself decides. A
// selector alone is not enough: a second deployment whose labels overlap has pods the selector
// also matches, and Truva must never sync into, restart or follow those.
import type { Cluster } from './cluster';
import type { KubeError } from './errors';
import { selectorMatcher, selectorQuery } from './selectors';
import type { Deployment, Pod, ReplicaSet, WatchEvent, Watcher } from './types';

/** The deployment controller's revision of a deployment and of each of its ReplicaSets. */
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';

interface Owned {
  metadata?: { ownerReferences?: { uid?: string; kind?: string; controller?: boolean }[] };
}

/** The uid of the object's managing controller (the ownerReference with controller: true). */
export function controllerUid(obj: Owned | undefined, kind?: string): string | undefined {
  const ref = obj?.metadata?.ownerReferences?.find((r) => r.controller === true && (!kind || r.kind === kind));
  return ref?.uid;
}

/** The pods among `pods` that belong to the deployment, given the namespace's ReplicaSets. */
export function podsOwnedBy(deployment: Deployment, replicaSets: ReplicaSet[], pods: Pod[]): Pod[] {
  const uid = deployment.metadata?.uid;
  const matches = selectorMatcher(deployment.spec?.selector, `Deployment "${deployment.metadata?.name}"`);
  const sets = new Set(
    replicaSets.filter((rs) => uid && controllerUid(rs, 'Deployment') === uid).map((rs) => rs.metadata?.uid),
  );
  return pods.filter((p) => matches(p.metadata?.labels) && sets.has(controllerUid(p, 'ReplicaSet')));
}

export class DeploymentPods {
  readonly selector: string;
  readonly namespace: string;

  constructor(
    private readonly cluster: Cluster,
    private readonly deployment: Deployment,
  ) {
    this.namespace = deployment.metadata?.namespace ?? cluster.namespace;
    // Throws SelectorError for an empty selector, before anything is listed.
    this.selector = selectorQuery(deployment.spec?.selector, `Deployment "${deployment.metadata?.name}"`);
  }

  /** The deployment's pods now: one list of its ReplicaSets and one of the pods, in parallel. */
  async list(opts: { revision?: string } = {}): Promise<Pod[]> {
    const [sets, pods] = await Promise.all([
      this.cluster.listReplicaSets(this.selector, this.namespace),
      this.cluster.listPods(this.selector, this.namespace),
    ]);
    // With a revision: only the pods of that ReplicaSet (the deployment's current one).
    const wanted = opts.revision
      ? sets.filter((rs) => rs.metadata?.annotations?.[REVISION_ANNOTATION] === opts.revision)
      : sets;
    return podsOwnedBy(this.deployment, wanted, pods);
  }

  /**
   * Watches the deployment's pods: ADDED for each one first, then changes. A pod whose
   * ReplicaSet the watch has not seen yet (the two watches are separate streams) is held back
   * and reported once its ReplicaSet arrives.
   */
  watch(
    onEvent: (event: WatchEvent<Pod>) => void,
    onError: (error: KubeError, info: { retrying: boolean }) => void,
  ): Watcher {
    const uid = this.deployment.metadata?.uid;
    const ownSets = new Set<string>();
    const pods = new Map<string, Pod>();
    const reported = new Set<string>();
    const matches = selectorMatcher(this.deployment.spec?.selector);
    const owned = (pod: Pod) => matches(pod.metadata?.labels) && ownSets.has(controllerUid(pod, 'ReplicaSet') ?? '');
    const settle = (key: string) => {
      const pod = pods.get(key);
      const isOwned = pod !== undefined && owned(pod);
      if (isOwned) {
        onEvent({ type: reported.has(key) ? 'MODIFIED' : 'ADDED', object: pod });
        reported.add(key);
      } else if (reported.has(key)) {
        reported.delete(key);
        if (pod) onEvent({ type: 'DELETED', object: pod });
      }
    };
    const sets = this.cluster.watchReplicaSets(
      this.selector,
      (e) => {
        const setUid = e.object.metadata?.uid ?? '';
        const ours = e.type !== 'DELETED' && uid !== undefined && controllerUid(e.object, 'Deployment') === uid;
        if (ours === ownSets.has(setUid)) return;
        if (ours) ownSets.add(setUid);
        else ownSets.delete(setUid);
        for (const key of pods.keys()) settle(key);
      },
      onError,
      { namespace: this.namespace },
    );
    const podWatch = this.cluster.watchPods(
      this.selector,
      (e) => {
        const key = e.object.metadata?.uid ?? e.object.metadata?.name ?? '';
        if (e.type === 'DELETED') {
          pods.delete(key);
          if (reported.delete(key)) onEvent(e);
          return;
        }
        pods.set(key, e.object);
        settle(key);
      },
      onError,
      { namespace: this.namespace },
    );
    return {
      stop() {
        sets.stop();
        podWatch.stop();
      },
    };
  }
}
