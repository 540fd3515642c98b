// What kube-apiserver does to a Pod after the defaults and before storing it: the default
// admission plugins that change pods (plugin/pkg/admission: ServiceAccount, Priority,
// DefaultTolerationSeconds) and the pod strategy (pkg/registry/core/pod/strategy.go): a new pod
// is generation 1, Pending, with its QoS class, and a spec change bumps the generation.
// The sandbox keeps no ServiceAccount or PriorityClass objects: every namespace's service
// accounts are taken to exist with automount unset, and no PriorityClass is a global default.
import { isDeepStrictEqual } from 'node:util';
import { quantityValue } from '../kubernetes/node/quantity';
import { nameSuffix } from './names';

/** Where the ServiceAccount plugin mounts the kube-api-access volume in every container. */
export const SERVICE_ACCOUNT_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';
const TOKEN_VOLUME_PREFIX = 'kube-api-access-';

/** The projected volume the ServiceAccount plugin adds: a bound token, the cluster's CA, the namespace. */
function tokenVolumeSource() {
  return {
    defaultMode: 420,
    sources: [
      // 3607 s: an hour plus the kubelet's refresh margin (serviceaccount.WarnOnlyBoundTokenExpirationSeconds).
      { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      {
        downwardAPI: {
          items: [{ fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' }, path: 'namespace' }],
        },
      },
    ],
  };
}

function mountServiceAccount(spec: any): void {
  spec.serviceAccountName ||= spec.serviceAccount || 'default';
  spec.serviceAccount = spec.serviceAccountName;
  if (spec.automountServiceAccountToken === false) return;
  const existing = (spec.volumes ?? []).find((v: any) => String(v.name).startsWith(TOKEN_VOLUME_PREFIX));
  const name: string = existing?.name ?? `${TOKEN_VOLUME_PREFIX}${nameSuffix()}`;
  let needed = false;
  // A container that already mounts something at the path keeps its own.
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    if ((c.volumeMounts ?? []).some((m: any) => m.mountPath === SERVICE_ACCOUNT_MOUNT)) continue;
    c.volumeMounts = [...(c.volumeMounts ?? []), { name, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT }];
    needed = true;
  }
  if (!existing && needed) spec.volumes = [...(spec.volumes ?? []), { name, projected: tokenVolumeSource() }];
}

/** DefaultTolerationSeconds: a pod stays 300 s on a node that turns not-ready or unreachable, unless it says otherwise. */
function addDefaultTolerations(spec: any): void {
  const tolerations: any[] = spec.tolerations ?? [];
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    const tolerated = tolerations.some((t) => (!t.key || t.key === key) && (!t.effect || t.effect === 'NoExecute'));
    if (!tolerated) tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
  }
  spec.tolerations = tolerations;
}

const positive = (q: unknown) => {
  try {
    return Math.max(0, quantityValue(q as string));
  } catch {
    return 0; // validation's business; an unreadable quantity counts for nothing here
  }
};

/** The QoS class (pkg/apis/core/helper/qos): from the cpu and memory requests and limits. */
export function qosClass(spec: any): 'BestEffort' | 'Burstable' | 'Guaranteed' {
  const requests = new Map<string, number>();
  const limits = new Map<string, number>();
  let guaranteed = true;
  const add = (into: Map<string, number>, list: Record<string, unknown> | undefined) => {
    for (const name of ['cpu', 'memory']) {
      const v = positive(list?.[name]);
      if (v > 0) into.set(name, (into.get(name) ?? 0) + v);
    }
  };
  // Pod-level resources, when given, decide alone (PodLevelResources, on since 1.34).
  const holders = spec.resources ? [spec] : [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  for (const h of holders) {
    add(requests, h.resources?.requests);
    add(limits, h.resources?.limits);
    const limited = ['cpu', 'memory'].every((n) => positive(h.resources?.limits?.[n]) > 0);
    if (!limited && (!spec.resources || h.resources?.limits)) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  const equal = [...requests].every(([n, v]) => limits.get(n) === v) && requests.size === limits.size;
  return guaranteed && equal ? 'Guaranteed' : 'Burstable';
}

/** Admission and PrepareForCreate of a new pod (after applyPodDefaults). */
export function admitNewPod(pod: any): void {
  mountServiceAccount(pod.spec);
  // Priority: with no PriorityClass named and none a global default, 0 and PreemptLowerPriority.
  if (!pod.spec.priorityClassName) {
    pod.spec.priority ??= 0;
    pod.spec.preemptionPolicy ??= 'PreemptLowerPriority';
  }
  addDefaultTolerations(pod.spec);
  // Whatever status the client sent goes; generation counts spec changes from here.
  pod.metadata.generation = 1;
  pod.status = { phase: 'Pending', qosClass: qosClass(pod.spec) };
}

/** Admission and PrepareForUpdate of a pod write (not its status): before the immutability check. */
export function admitPodUpdate(next: any, current: any): void {
  // A patch's result shares what it did not touch with `current`: change copies only.
  next.spec = structuredClone(next.spec);
  next.metadata = { ...next.metadata };
  // Priority keeps what it computed at create when an update leaves it out.
  next.spec.priority ??= current.spec.priority;
  next.spec.preemptionPolicy ??= current.spec.preemptionPolicy;
  next.spec.serviceAccountName ||= next.spec.serviceAccount;
  if (next.spec.serviceAccountName) next.spec.serviceAccount = next.spec.serviceAccountName;
  addDefaultTolerations(next.spec);
  const plain = (o: unknown) => JSON.parse(JSON.stringify(o ?? {}));
  const changed = !isDeepStrictEqual(plain(next.spec), plain(current.spec));
  next.metadata.generation = (current.metadata.generation ?? 1) + (changed ? 1 : 0);
}

/** A pods/status write that leaves observedGeneration out keeps the one before (preserveOldObservedGeneration). */
export function keepObservedGeneration(next: any, current: any): void {
  if (!next.status) return;
  next.status.observedGeneration ??= current.status?.observedGeneration;
  const old = new Map<string, any[]>();
  for (const c of current.status?.conditions ?? []) old.set(c.type, [...(old.get(c.type) ?? []), c]);
  for (const c of next.status.conditions ?? []) {
    const before = old.get(c.type)?.shift();
    if (!c.observedGeneration && before?.observedGeneration) c.observedGeneration = before.observedGeneration;
  }
}
