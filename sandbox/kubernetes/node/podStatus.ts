// The pod status a kubelet writes, from what the runtime reports: phase, the kubelet-owned
// conditions in the kubelet's order (PodReadyToStartContainers, Initialized, Ready,
// ContainersReady, PodScheduled) with lastTransitionTime kept while a condition holds,
// containerStatuses, host and pod IPs, startTime and observedGeneration.
import type { RuntimeContainerStatus, RuntimePodStatus } from '../../runtime/types';

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

export interface StatusInput {
  phase: RuntimePodStatus['phase'];
  containerStatuses: RuntimeContainerStatus[];
  podIP?: string;
  startTime?: string;
  /** A pod the runtime has not started (e.g. a missing ConfigMap): its containers' waiting reason. */
  waiting?: { reason: string; message?: string };
}

/** Remembers when each condition of one pod last changed status. */
export class ConditionClock {
  private readonly since = new Map<string, { status: string; at: string }>();

  at(type: string, status: string, fromApi?: string): string {
    const seen = this.since.get(type);
    if (seen && seen.status === status) return seen.at;
    const at = seen ? now() : (fromApi ?? now());
    this.since.set(type, { status, at });
    return at;
  }
}

export function podStatus(pod: any, input: StatusInput, clock: ConditionClock, hostIP: string) {
  const generation = pod.metadata.generation ?? 1;
  const names: string[] = (pod.spec.containers ?? []).map((c: any) => c.name);
  const statuses: RuntimeContainerStatus[] = input.waiting
    ? names.map((name, i) => ({
        name,
        image: pod.spec.containers[i].image,
        imageID: '',
        containerID: '',
        ready: false,
        started: false,
        restartCount: 0,
        state: { waiting: input.waiting },
        lastState: {},
      }))
    : input.containerStatuses;
  const apiCondition = (type: string) => (pod.status?.conditions ?? []).find((c: any) => c.type === type);
  const condition = (type: string, ok: boolean, reason?: string, message?: string) => {
    const status = ok ? 'True' : 'False';
    return {
      type,
      observedGeneration: generation,
      status,
      lastProbeTime: null,
      lastTransitionTime: clock.at(
        type,
        status,
        apiCondition(type)?.status === status ? apiCondition(type).lastTransitionTime : undefined,
      ),
      ...(reason ? { reason } : {}),
      ...(message ? { message } : {}),
    };
  };
  const terminal = input.phase === 'Succeeded' || input.phase === 'Failed';
  const unready = statuses.filter((s) => !s.ready).map((s) => s.name);
  const ready = !terminal && unready.length === 0 && statuses.length > 0;
  const readyWhy = ready
    ? []
    : terminal
      ? [input.phase === 'Failed' ? 'PodFailed' : 'PodCompleted']
      : ['ContainersNotReady', `containers with unready status: [${unready.join(' ')}]`];
  const sandboxUp =
    !input.waiting && statuses.some((s) => !s.state.waiting || s.state.waiting.reason !== 'ContainerCreating');
  const scheduled = apiCondition('PodScheduled');
  const ips = input.podIP ? { podIP: input.podIP, podIPs: [{ ip: input.podIP }] } : {};
  return {
    observedGeneration: generation,
    phase: input.phase,
    conditions: [
      condition('PodReadyToStartContainers', sandboxUp || terminal),
      condition('Initialized', true, input.phase === 'Succeeded' ? 'PodCompleted' : undefined),
      condition('Ready', ready, ...readyWhy),
      condition('ContainersReady', ready, ...readyWhy),
      {
        type: 'PodScheduled',
        observedGeneration: generation,
        status: 'True',
        lastProbeTime: null,
        lastTransitionTime: scheduled?.lastTransitionTime ?? now(),
      },
    ],
    hostIP,
    hostIPs: [{ ip: hostIP }],
    ...ips,
    startTime: input.startTime ?? pod.status?.startTime ?? now(),
    containerStatuses: statuses,
    qosClass: pod.status?.qosClass,
  };
}
