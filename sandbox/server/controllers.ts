// What kube-controller-manager and the scheduler do, in miniature: a Deployment owns one
// ReplicaSet per pod-template hash, ReplicaSets own pods, a template change rolls pods over,
// and every status (pod, ReplicaSet, Deployment) is kept true enough for `kubectl rollout status`.
import type { PodRuntime, RuntimePodStatus } from '../runtime/types';
import { applyPodDefaults } from './defaults';
import { recordUpdate } from './managedFields';
import {
  ANNOTATIONS_NOT_COPIED,
  percentOrNumber,
  replicasAnnotations,
  templateHash,
  terminatingReplicas,
} from './deploymentUtil';
import { nameSuffix as suffix } from './names';
import { admitNewPod } from './podAdmission';
import { withServiceAccountFiles } from './podVolumes';
import { specSelectorMatcher } from './selectors';
import type { Store } from './store';

/** The field manager kube-controller-manager's writes are recorded under. */
const CONTROLLER_MANAGER = 'kube-controller-manager';

const owned = (obj: any, owner: any) =>
  (obj.metadata.ownerReferences ?? []).some((r: any) => r.uid === owner.metadata.uid);
const terminating = (pod: any) => Boolean(pod.metadata.deletionTimestamp);
/** Being deleted and not yet Succeeded or Failed: what status.terminatingReplicas counts (IsPodTerminating). */
const stillTerminating = (pod: any) =>
  terminating(pod) && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
/** Succeeded when every container exited 0, else Failed (the kubelet's phase for a stopped pod). */
const terminalPhase = (statuses: any[]) =>
  statuses.every((c) => c.state?.terminated?.exitCode === 0) ? 'Succeeded' : 'Failed';
const podReady = (pod: any) =>
  (pod.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');

function ownerRef(owner: any) {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** What admission and the scheduler decide about a pod a ReplicaSet wants to create. */
export interface PodAdmission {
  /** A refusal message (as the API server's admission would answer the create), or undefined to admit. */
  refuseCreate?(namespace: string, podName: string, deployment: string | undefined): string | undefined;
  /** An Unschedulable message (as the scheduler reports it), or undefined to schedule. */
  unschedulable?(namespace: string, deployment: string | undefined): string | undefined;
}

export class Controllers {
  private scheduled = false;
  private readonly now = () => this.store.clock.iso();
  private podsByUid = new Map<string, { namespace: string; name: string }>();
  /** Per deployment: its last rollout progress (generation, updated, ready, pods) and when it changed. */
  private progress = new Map<string, { key: string; at: number }>();
  private stopped = false;

  /** When the progress deadline of each unfinished rollout is next checked. */
  private readonly deadlineTimer: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    private readonly runtime: PodRuntime,
    /** Admission of pod creates and scheduling, which the faults can refuse (see Faults.podAdmission). */
    private readonly admission: PodAdmission = {},
    /** The cluster's CA, which pods find in their kube-api-access volume as ca.crt. */
    private readonly caCertPem = '',
  ) {
    // Progress deadlines pass without any write to react to.
    this.deadlineTimer = setInterval(() => this.schedule(), 1_000);
    this.deadlineTimer.unref();
  }

  /** Coalesces reconcile requests: many writes in one tick cause one pass. */
  schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.stopped) this.reconcile();
    });
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.deadlineTimer);
  }

  private reconcile(): void {
    for (const deployment of this.store.list('deployments')) this.reconcileDeployment(deployment);
    for (const rs of this.store.list('replicasets')) this.reconcileReplicaSet(rs);
    for (const deployment of this.store.list('deployments')) this.updateDeploymentStatus(deployment);
  }

  private replicaSetsOf(deployment: any): any[] {
    return this.store.list('replicasets', deployment.metadata.namespace).filter((rs) => owned(rs, deployment));
  }

  private podsOf(rs: any): any[] {
    return this.store.list('pods', rs.metadata.namespace).filter((pod) => owned(pod, rs));
  }

  private reconcileDeployment(deployment: any): void {
    const { namespace, name } = deployment.metadata;
    const desired = deployment.spec.replicas ?? 1;
    const hash = templateHash(deployment.spec.template);
    const sets = this.replicaSetsOf(deployment);
    let current = sets.find((rs) => rs.metadata.labels?.['pod-template-hash'] === hash);
    // A paused deployment rolls nothing out: no new ReplicaSet for a changed template.
    if (!current && deployment.spec.paused) return;
    const revision = String(
      Math.max(0, ...sets.map((rs) => Number(rs.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0))) +
        (current ? 0 : 1),
    );
    if (!current) {
      const labels = { ...(deployment.spec.template.metadata?.labels ?? {}), 'pod-template-hash': hash };
      const rs = {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: `${name}-${hash}`,
          namespace,
          labels,
          annotations: { ...replicasAnnotations(deployment), 'deployment.kubernetes.io/revision': revision },
          ownerReferences: [ownerRef(deployment)],
          generation: 1,
        } as Record<string, any>,
        spec: {
          replicas: 0,
          selector: {
            matchLabels: { ...(deployment.spec.selector?.matchLabels ?? {}), 'pod-template-hash': hash },
            ...(deployment.spec.selector?.matchExpressions
              ? { matchExpressions: deployment.spec.selector.matchExpressions }
              : {}),
          },
          template: { ...deployment.spec.template, metadata: { ...(deployment.spec.template.metadata ?? {}), labels } },
        },
        status: { replicas: 0, observedGeneration: 1 },
      };
      rs.metadata.managedFields = recordUpdate(undefined, rs, CONTROLLER_MANAGER, this.now());
      current = this.store.create('replicasets', rs);
    }
    // As the deployment controller: a ReplicaSet the deployment returns to gets the next revision,
    // and the deployment's annotations (but not the skipped ones) are copied onto its current set.
    const maxRevision = Math.max(
      0,
      ...sets.map((rs) => Number(rs.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0)),
    );
    const currentRevision = Number(current.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0);
    const copied = Object.fromEntries(
      Object.entries(deployment.metadata.annotations ?? {}).filter(([k]) => !ANNOTATIONS_NOT_COPIED.has(k)),
    );
    if (
      currentRevision < maxRevision ||
      Object.entries(copied).some(([k, v]) => current.metadata.annotations?.[k] !== v)
    ) {
      const fresh = this.store.get('replicasets', namespace, current.metadata.name);
      fresh.metadata.annotations = {
        ...(fresh.metadata.annotations ?? {}),
        ...copied,
        'deployment.kubernetes.io/revision': String(currentRevision < maxRevision ? maxRevision + 1 : currentRevision),
      };
      current = this.store.update('replicasets', fresh);
    }
    if (
      deployment.metadata.annotations?.['deployment.kubernetes.io/revision'] !==
      current.metadata.annotations['deployment.kubernetes.io/revision']
    ) {
      const fresh = this.store.get('deployments', namespace, name);
      fresh.metadata.annotations = {
        ...(fresh.metadata.annotations ?? {}),
        'deployment.kubernetes.io/revision': current.metadata.annotations['deployment.kubernetes.io/revision'],
      };
      this.store.update('deployments', fresh);
    }
    // Surge: the new set goes straight to the desired size; old sets shrink as new pods turn ready,
    // so availability never drops below what is already serving.
    const newReady = this.podsOf(current).filter((p) => !terminating(p) && podReady(p)).length;
    this.scaleReplicaSet(current, desired, deployment);
    let remainingOld = Math.max(0, desired - newReady);
    for (const rs of sets.filter((s) => s.metadata.uid !== current.metadata.uid)) {
      const keep = Math.min(rs.spec.replicas ?? 0, remainingOld);
      remainingOld -= keep;
      this.scaleReplicaSet(rs, keep, deployment);
    }
  }

  /** A resize writes the deployment's replicas annotations too, as the deployment controller's scaleReplicaSet. */
  private scaleReplicaSet(rs: any, replicas: number, deployment: any): void {
    if (rs.spec.replicas === replicas) return;
    const fresh = this.store.get('replicasets', rs.metadata.namespace, rs.metadata.name);
    fresh.spec.replicas = replicas;
    fresh.metadata.annotations = { ...(fresh.metadata.annotations ?? {}), ...replicasAnnotations(deployment) };
    fresh.metadata.generation = (fresh.metadata.generation ?? 1) + 1;
    this.store.update('replicasets', fresh);
  }

  private reconcileReplicaSet(rs: any): void {
    const pods = this.podsOf(rs);
    const live = pods.filter((p) => !terminating(p));
    for (const pod of live) this.retrySchedule(pod);
    const desired = rs.spec.replicas ?? 0;
    for (let i = live.length; i < desired; i++) this.createPod(rs);
    if (live.length > desired) {
      // Delete not-ready and newest pods first, as the ReplicaSet controller does.
      const victims = live
        .sort(
          (a, b) =>
            Number(podReady(a)) - Number(podReady(b)) ||
            b.metadata.creationTimestamp.localeCompare(a.metadata.creationTimestamp),
        )
        .slice(0, live.length - desired);
      for (const pod of victims) this.deletePod(pod.metadata.namespace, pod.metadata.name);
    }
    const ready = live.filter(podReady).length;
    const fresh = this.store.get('replicasets', rs.metadata.namespace, rs.metadata.name);
    const status = {
      replicas: live.length,
      fullyLabeledReplicas: live.length,
      readyReplicas: ready,
      availableReplicas: ready,
      // DeploymentReplicaSetTerminatingReplicas (beta, on since 1.35): 0 is written too.
      terminatingReplicas: this.podsOf(rs).filter(stillTerminating).length,
      observedGeneration: rs.metadata.generation ?? 1,
      ...(fresh.status?.conditions ? { conditions: fresh.status.conditions } : {}),
    };
    if (JSON.stringify(status) !== JSON.stringify(fresh.status)) {
      fresh.status = status;
      this.store.update('replicasets', fresh);
    }
  }

  private createPod(rs: any): void {
    const deployment = rs.metadata.ownerReferences?.find((r: any) => r.kind === 'Deployment')?.name;
    const name = `${rs.metadata.name}-${suffix()}`;
    const refusal = this.admission.refuseCreate?.(rs.metadata.namespace, name, deployment);
    if (refusal) return this.setReplicaFailure(rs, refusal);
    this.setReplicaFailure(rs, undefined);
    const unschedulable = this.admission.unschedulable?.(rs.metadata.namespace, deployment);
    const template = structuredClone(rs.spec.template);
    const pod: any = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        generateName: `${rs.metadata.name}-`,
        namespace: rs.metadata.namespace,
        labels: template.metadata?.labels ?? {},
        ...(template.metadata?.annotations ? { annotations: template.metadata.annotations } : {}),
        ownerReferences: [{ ...ownerRef(rs) }],
      },
      spec: template.spec,
    };
    // As a create through the API: decoding's defaults, the fields recorded under the
    // controller's name, then admission (which managedFields do not count).
    applyPodDefaults(pod.spec);
    pod.metadata.managedFields = recordUpdate(undefined, pod, CONTROLLER_MANAGER, this.now());
    admitNewPod(pod);
    // The scheduler's part: bound to the one node, or Unschedulable while a fault says so.
    pod.spec.nodeName = 'sandbox';
    pod.status.conditions = [
      unschedulable
        ? {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: unschedulable,
            lastProbeTime: null,
            lastTransitionTime: this.now(),
          }
        : { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: this.now() },
    ];
    const stored = this.store.create('pods', pod);
    if (!unschedulable) this.startPod(stored);
  }

  /** As the scheduler retries: an Unschedulable pod is placed once nothing stops it any more. */
  private retrySchedule(pod: any): void {
    const scheduled = (pod.status?.conditions ?? []).find((c: any) => c.type === 'PodScheduled');
    if (scheduled?.status !== 'False') return;
    const deployment = this.store
      .find('replicasets', pod.metadata.namespace, pod.metadata.ownerReferences?.[0]?.name ?? '')
      ?.metadata.ownerReferences?.find((r: any) => r.kind === 'Deployment')?.name;
    if (this.admission.unschedulable?.(pod.metadata.namespace, deployment)) return;
    const fresh = this.store.get('pods', pod.metadata.namespace, pod.metadata.name);
    fresh.status.conditions = [
      { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: this.now() },
    ];
    this.startPod(this.store.update('pods', fresh));
  }

  /** The ReplicaSet's ReplicaFailure condition, as the ReplicaSet controller keeps it after a refused create. */
  private setReplicaFailure(rs: any, message: string | undefined): void {
    const fresh = this.store.get('replicasets', rs.metadata.namespace, rs.metadata.name);
    const others = (fresh.status?.conditions ?? []).filter((c: any) => c.type !== 'ReplicaFailure');
    const had = (fresh.status?.conditions ?? []).find((c: any) => c.type === 'ReplicaFailure');
    if (!message && !had) return;
    if (message && had?.message === message) return;
    fresh.status = {
      ...(fresh.status ?? {}),
      conditions: message
        ? [
            ...others,
            { type: 'ReplicaFailure', status: 'True', lastTransitionTime: this.now(), reason: 'FailedCreate', message },
          ]
        : others,
    };
    if (!fresh.status.conditions.length) delete fresh.status.conditions;
    this.store.update('replicasets', fresh);
  }

  /** Runs a stored pod's containers (pods created by controllers and by POST alike). */
  startPod(pod: any): void {
    this.podsByUid.set(pod.metadata.uid, { namespace: pod.metadata.namespace, name: pod.metadata.name });
    this.runtime.startPod(withServiceAccountFiles(pod, this.caCertPem));
  }

  /** Graceful delete: the pod stays listed with a deletionTimestamp until its processes are gone. */
  deletePod(namespace: string, name: string, gracePeriodSeconds?: number): any {
    const pod = this.store.get('pods', namespace, name);
    if (terminating(pod)) return pod;
    const grace = gracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
    pod.metadata.deletionTimestamp = this.now();
    pod.metadata.deletionGracePeriodSeconds = grace;
    const updated = this.store.update('pods', pod);
    this.runtime.deletePod(pod.metadata.uid, grace).finally(() => {
      this.podsByUid.delete(pod.metadata.uid);
      const stopped = this.store.find('pods', namespace, name);
      if (stopped?.metadata.uid === pod.metadata.uid) {
        // As a kubelet does: a pod stopped for deletion is written in a terminal phase, then removed.
        const phase = terminalPhase(stopped.status?.containerStatuses ?? []);
        if (stopped.status?.phase !== phase)
          this.store.update('pods', { ...stopped, status: { ...stopped.status, phase } });
        this.store.delete('pods', namespace, name);
      }
      this.schedule();
    });
    this.schedule();
    return updated;
  }

  /** Deletes a deployment's ReplicaSets and their pods (background cascading deletion). */
  cascadeDelete(deployment: any): void {
    for (const rs of this.replicaSetsOf(deployment)) {
      for (const pod of this.podsOf(rs)) this.deletePod(pod.metadata.namespace, pod.metadata.name);
      this.store.delete('replicasets', rs.metadata.namespace, rs.metadata.name);
    }
  }

  /** As the kubelet once it has synced a pod whose spec changed: its status says it saw the new generation. */
  observeGeneration(namespace: string, name: string): void {
    const pod = this.store.find('pods', namespace, name);
    if (!pod || !this.podsByUid.has(pod.metadata.uid) || pod.status?.observedGeneration === undefined) return;
    const generation = pod.metadata.generation;
    if (pod.status.observedGeneration === generation) return;
    pod.status = {
      ...pod.status,
      observedGeneration: generation,
      conditions: (pod.status.conditions ?? []).map((c: any) => ({ ...c, observedGeneration: generation })),
    };
    this.store.update('pods', pod);
  }

  /** The runtime's view of a pod, copied into pod.status. */
  onPodStatus(uid: string, status: RuntimePodStatus): void {
    const ref = this.podsByUid.get(uid);
    const pod = ref && this.store.find('pods', ref.namespace, ref.name);
    if (!pod || pod.metadata.uid !== uid) return;
    const previous = new Map<string, any>((pod.status?.conditions ?? []).map((c: any) => [c.type, c]));
    // As a 1.36 kubelet (PodObservedGenerationTracking, GA): the status and each condition say
    // which generation of the pod they describe.
    const generation = pod.metadata.generation ?? 1;
    const condition = (type: string, value: boolean) => {
      const s = value ? 'True' : 'False';
      const old = previous.get(type);
      return {
        type,
        observedGeneration: generation,
        status: s,
        lastProbeTime: null,
        lastTransitionTime: old?.status === s ? old.lastTransitionTime : this.now(),
      };
    };
    const allReady = status.ready;
    // The write that says a deleted pod's containers stopped also gives its terminal phase.
    const stopped = terminating(pod) && status.containerStatuses.every((c) => !c.state.running);
    pod.status = {
      ...pod.status,
      observedGeneration: generation,
      phase: stopped ? terminalPhase(status.containerStatuses) : status.phase,
      conditions: [
        condition('PodReadyToStartContainers', true),
        condition('Initialized', true),
        condition('Ready', allReady),
        condition('ContainersReady', allReady),
        condition('PodScheduled', true),
      ],
      hostIP: '127.0.0.1',
      hostIPs: [{ ip: '127.0.0.1' }],
      podIP: status.podIP ?? '127.0.0.1',
      podIPs: [{ ip: status.podIP ?? '127.0.0.1' }],
      startTime: status.startTime ?? pod.status?.startTime ?? this.now(),
      containerStatuses: status.containerStatuses,
    };
    this.store.update('pods', pod);
    this.schedule();
  }

  private updateDeploymentStatus(deployment: any): void {
    const desired = deployment.spec.replicas ?? 1;
    const hash = templateHash(deployment.spec.template);
    const sets = this.replicaSetsOf(deployment);
    const current = sets.find((rs) => rs.metadata.labels?.['pod-template-hash'] === hash);
    const pods = sets
      .flatMap((rs) => this.podsOf(rs))
      .filter((p) => !terminating(p) && specSelectorMatcher(deployment.spec.selector)(p.metadata.labels));
    const updated = current ? this.podsOf(current).filter((p) => !terminating(p)) : [];
    const ready = pods.filter(podReady).length;
    const updatedAvailable = updated.filter(podReady).length;
    const maxUnavailable = percentOrNumber(
      deployment.spec.strategy?.rollingUpdate?.maxUnavailable,
      desired,
      false,
      Math.floor(desired / 4),
    );
    const complete = updated.length === desired && pods.length === desired && updatedAvailable === desired;
    const old = new Map<string, any>((deployment.status?.conditions ?? []).map((c: any) => [c.type, c]));
    const condition = (type: string, status: 'True' | 'False', reason: string, message: string) => {
      const prev = old.get(type);
      const same = prev?.status === status;
      return {
        type,
        status,
        lastUpdateTime: prev?.reason === reason && same ? prev.lastUpdateTime : this.now(),
        lastTransitionTime: same ? prev.lastTransitionTime : this.now(),
        reason,
        message,
      };
    };
    const available = ready >= desired - maxUnavailable;
    const rsName = current?.metadata.name ?? deployment.metadata.name;
    // The progress deadline counts from the last change in updated or ready pods, as the
    // deployment controller's Progressing condition does.
    const progress = `${deployment.metadata.generation}/${updated.length}/${ready}/${pods.length}`;
    const seen = this.progress.get(deployment.metadata.uid);
    if (seen?.key !== progress) this.progress.set(deployment.metadata.uid, { key: progress, at: Date.now() });
    const deadlineMs = (deployment.spec.progressDeadlineSeconds ?? 600) * 1000;
    const timedOut =
      !complete && Date.now() - (this.progress.get(deployment.metadata.uid)?.at ?? Date.now()) > deadlineMs;
    const replicaFailure = current?.status?.conditions?.find((c: any) => c.type === 'ReplicaFailure');
    const status: Record<string, any> = {
      observedGeneration: deployment.metadata.generation ?? 1,
      replicas: pods.length,
      updatedReplicas: updated.length,
      readyReplicas: ready,
      availableReplicas: ready,
      ...(desired - ready > 0 ? { unavailableReplicas: desired - ready } : {}),
      ...terminatingReplicas(sets),
      conditions: [
        available
          ? condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.')
          : condition(
              'Available',
              'False',
              'MinimumReplicasUnavailable',
              'Deployment does not have minimum availability.',
            ),
        complete
          ? condition(
              'Progressing',
              'True',
              'NewReplicaSetAvailable',
              `ReplicaSet "${rsName}" has successfully progressed.`,
            )
          : timedOut
            ? condition(
                'Progressing',
                'False',
                'ProgressDeadlineExceeded',
                `ReplicaSet "${rsName}" has timed out progressing.`,
              )
            : condition('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`),
        ...(replicaFailure ? [condition('ReplicaFailure', 'True', 'FailedCreate', replicaFailure.message)] : []),
      ],
    };
    for (const key of ['readyReplicas', 'availableReplicas', 'replicas', 'updatedReplicas'])
      if (status[key] === 0) delete status[key];
    const comparable = (s: any) =>
      JSON.stringify({
        ...s,
        conditions: (s?.conditions ?? []).map((c: any) => [
          c.type,
          c.status,
          c.reason,
          c.type === 'ReplicaFailure' && c.message,
        ]),
      });
    if (comparable(status) !== comparable(deployment.status)) {
      const fresh = this.store.get('deployments', deployment.metadata.namespace, deployment.metadata.name);
      fresh.status = status;
      this.store.update('deployments', fresh);
    }
  }
}
