// The deployment controller's helpers (pkg/controller/deployment/util/deployment_util.go), as
// far as the sandbox's controllers need them: the pod-template hash, the annotations a
// ReplicaSet gets from its deployment, surge and unavailability fenceposts, and the sum of its
// ReplicaSets' terminating pods.
import { createHash } from 'node:crypto';
import { SAFE_ALPHABET as SAFE } from './names';

/** Like the real pod-template-hash: a short, stable name fragment derived from the template. */
export function templateHash(template: unknown): string {
  const digest = createHash('sha256').update(stableJson(template)).digest();
  return Array.from(digest.subarray(0, 10), (b) => SAFE[b % SAFE.length]).join('');
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as any)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Deployment annotations the controller does not copy onto ReplicaSets (deployment_util.go annotationsToSkip). */
export const ANNOTATIONS_NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  'deployment.kubernetes.io/revision',
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);

export function percentOrNumber(
  value: number | string | undefined,
  total: number,
  roundUp: boolean,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number') return value;
  const pct = Number(value.replace('%', '')) / 100;
  return roundUp ? Math.ceil(total * pct) : Math.floor(total * pct);
}

/**
 * A deployment's status.terminatingReplicas: its ReplicaSets' sum, unknown (left out) while one
 * the ReplicaSet controller has seen does not report it (GetTerminatingReplicaCountForReplicaSets).
 */
export function terminatingReplicas(sets: any[]): { terminatingReplicas?: number } {
  let sum = 0;
  for (const rs of sets) {
    if (rs.status?.terminatingReplicas === undefined) {
      if (rs.status?.observedGeneration) return {};
      continue;
    }
    sum += rs.status.terminatingReplicas;
  }
  return { terminatingReplicas: sum };
}

/** The deployment's surge in pods (ResolveFenceposts): a percentage of the replicas rounded up; none for Recreate. */
function maxSurge(deployment: any): number {
  if ((deployment.spec.strategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') return 0;
  const desired = deployment.spec.replicas ?? 1;
  return percentOrNumber(deployment.spec.strategy?.rollingUpdate?.maxSurge ?? '25%', desired, true, 0);
}

/**
 * The annotations the deployment controller writes on a ReplicaSet it creates or resizes
 * (SetReplicasAnnotations): the deployment's replicas, and those plus its surge, the most
 * pods it may have at once.
 */
export function replicasAnnotations(deployment: any): Record<string, string> {
  const desired = deployment.spec.replicas ?? 1;
  return {
    'deployment.kubernetes.io/desired-replicas': String(desired),
    'deployment.kubernetes.io/max-replicas': String(desired + maxSurge(deployment)),
  };
}
