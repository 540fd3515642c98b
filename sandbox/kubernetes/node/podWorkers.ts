// What the kubelet's pod workers and status manager do for the pods bound to this node: list
// and watch them (spec.nodeName), start each in the runtime once its env and volumes resolve
// (retrying, and saying why, while they do not), write status changes through pods/status one at
// a time per pod, and on deletion stop the containers within the grace period, write the final
// status, and make the final DELETE (gracePeriodSeconds 0, uid precondition) that removes the pod.
import { setTimeout as sleep } from 'node:timers/promises';
import type { PodRuntime, RuntimePodStatus } from '../../runtime/types';
import { ApiStatusError, type ApiClient, type WatchEvent } from '../apiClient';
import { PodSetupError, runtimePod } from './podSpec';
import { ConditionClock, podStatus, type StatusInput } from './podStatus';

interface PodEntry {
  pod: any;
  clock: ConditionClock;
  podIP: string;
  /** Latest state to report; undefined until there is something. */
  status?: StatusInput;
  lastSent?: string;
  writing?: Promise<void>;
  dirty: boolean;
  inRuntime: boolean;
  terminating?: Promise<void>;
  gone: boolean;
}

let podIpCounter = 0;
/** 127.2.x.y: inside the pod's own network namespace every 127/8 address is its loopback, so an app can bind its $POD_IP. */
function nextPodIP(): string {
  const n = podIpCounter++;
  return `127.2.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`;
}

const terminalPhase = (s: RuntimePodStatus['containerStatuses']): 'Succeeded' | 'Failed' =>
  s.every((c) => c.state.terminated?.exitCode === 0) ? 'Succeeded' : 'Failed';

export class PodWorkers {
  private readonly pods = new Map<string, PodEntry>();
  private readonly abort = new AbortController();
  private watching?: Promise<void>;

  constructor(
    private readonly api: ApiClient,
    private readonly runtime: PodRuntime,
    private readonly nodeName: string,
    private readonly hostIP: string,
    private readonly allocatable: Record<string, string>,
    private readonly log: (line: string) => void = () => {},
  ) {}

  /** The pod this node runs under that name, for the kubelet API. */
  find(namespace: string, name: string): any | undefined {
    for (const e of this.pods.values())
      if (!e.gone && e.pod.metadata.namespace === namespace && e.pod.metadata.name === name) return e.pod;
    return undefined;
  }

  /** Called by the runtime for every change of a pod it runs. */
  onRuntimeStatus(uid: string, status: RuntimePodStatus): void {
    const e = this.pods.get(uid);
    if (!e || e.gone) return;
    e.status = {
      phase: status.phase,
      containerStatuses: status.containerStatuses,
      podIP: e.podIP,
      startTime: status.startTime,
    };
    if (e.terminating && status.phase !== 'Succeeded' && status.phase !== 'Failed') return; // the final status follows
    this.report(e);
  }

  /** Lists the node's pods and keeps watching them; resolves once the first list is handled. */
  async start(): Promise<void> {
    const rv = await this.relist();
    this.watching = this.watchLoop(rv);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.watching;
    this.log('stopping: the pods');
    for (const e of this.pods.values()) e.gone = true;
    await this.runtime.stopAll();
  }

  private get listPath() {
    return `/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${this.nodeName}`)}`;
  }

  private async relist(): Promise<string> {
    const list = await this.api.request('GET', this.listPath);
    const seen = new Set<string>();
    for (const pod of list.items ?? []) {
      seen.add(pod.metadata.uid);
      this.observe(pod);
    }
    for (const [uid, e] of this.pods) if (!seen.has(uid)) this.forget(e);
    return list.metadata.resourceVersion;
  }

  private async watchLoop(rv: string): Promise<void> {
    while (!this.abort.signal.aborted) {
      let expired = false;
      await this.api.watch(
        this.listPath,
        rv,
        (event: WatchEvent) => {
          if (event.type === 'ERROR') {
            expired = true;
            return;
          }
          if (event.object?.metadata?.resourceVersion) rv = event.object.metadata.resourceVersion;
          if (event.type === 'BOOKMARK') return;
          if (event.type === 'DELETED') {
            const e = this.pods.get(event.object.metadata.uid);
            if (e) this.forget(e);
          } else this.observe(event.object);
        },
        this.abort.signal,
      );
      if (this.abort.signal.aborted) return;
      if (expired) {
        rv = await this.relist().catch(() => rv);
      } else await sleep(200, undefined, { signal: this.abort.signal }).catch(() => {});
    }
  }

  private observe(pod: any): void {
    const uid = pod.metadata.uid;
    let e = this.pods.get(uid);
    if (!e) {
      // A pod that ended on an earlier run of the node is only history.
      if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') {
        if (pod.metadata.deletionTimestamp) void this.finalDelete(pod);
        return;
      }
      e = { pod, clock: new ConditionClock(), podIP: nextPodIP(), dirty: false, inRuntime: false, gone: false };
      this.pods.set(uid, e);
      if (!pod.metadata.deletionTimestamp) void this.startPod(e);
    }
    const seenGeneration = e.pod.metadata.generation;
    e.pod = pod;
    if (pod.metadata.deletionTimestamp && !e.terminating) e.terminating = this.terminate(e);
    // A changed spec (generation) is reported as observed, as the kubelet's next status sync does.
    else if (pod.metadata.generation !== seenGeneration && e.status) this.report(e);
  }

  /** Deleted from the API without this node's final DELETE (a forced delete): stop it at once. */
  private forget(e: PodEntry): void {
    e.gone = true;
    this.pods.delete(e.pod.metadata.uid);
    void this.runtime.deletePod(e.pod.metadata.uid, 0);
  }

  private async startPod(e: PodEntry): Promise<void> {
    for (let attempt = 0; !e.gone && !e.terminating; attempt++) {
      try {
        const spec = await runtimePod(this.api, e.pod, { podIP: e.podIP, hostIP: this.hostIP }, this.allocatable);
        if (e.gone || e.terminating) return;
        e.inRuntime = true;
        this.runtime.startPod(spec);
        return;
      } catch (err) {
        this.log(`pod ${e.pod.metadata.namespace}/${e.pod.metadata.name}: cannot start yet: ${(err as Error).message}`);
        // A failed mount shows as a plain ContainerCreating (the kubelet says why in an event).
        const waiting =
          err instanceof PodSetupError
            ? err.reason === 'ContainerCreating'
              ? { reason: err.reason }
              : { reason: err.reason, message: err.message }
            : { reason: 'CreateContainerConfigError', message: (err as Error).message };
        e.status = { phase: 'Pending', containerStatuses: [], podIP: e.podIP, waiting };
        this.report(e);
      }
      await sleep(Math.min(10_000, 100 * 2 ** attempt), undefined, { signal: this.abort.signal }).catch(() => {});
    }
  }

  private async terminate(e: PodEntry): Promise<void> {
    const uid = e.pod.metadata.uid;
    const grace = e.pod.metadata.deletionGracePeriodSeconds ?? e.pod.spec.terminationGracePeriodSeconds ?? 30;
    if (e.inRuntime) {
      await this.runtime.deletePod(uid, grace);
      if (e.status) {
        e.status = { ...e.status, phase: terminalPhase(e.status.containerStatuses) };
        this.report(e);
      }
    }
    await e.writing;
    await this.finalDelete(e.pod);
    e.gone = true;
    this.pods.delete(uid);
  }

  private async finalDelete(pod: any): Promise<void> {
    const { namespace, name, uid } = pod.metadata;
    for (let attempt = 0; attempt < 5 && !this.abort.signal.aborted; attempt++) {
      try {
        await this.api.request('DELETE', `/api/v1/namespaces/${namespace}/pods/${name}`, {
          apiVersion: 'v1',
          kind: 'DeleteOptions',
          gracePeriodSeconds: 0,
          preconditions: { uid },
        });
        return;
      } catch (err) {
        // Gone already, or a new pod of the same name (the uid precondition failed): nothing to do.
        if (err instanceof ApiStatusError && (err.code === 404 || err.code === 409)) return;
        await sleep(500);
      }
    }
  }

  /** Writes the entry's latest status; one write per pod at a time, the newest state wins. */
  private report(e: PodEntry): void {
    // Once stopping, writeStatus returns at once and leaves the entry dirty: reporting again from
    // its finally would loop in microtasks forever, starving the stop itself (a stop hung at
    // "stopping: the pod watch" with the process at 100% CPU).
    if (this.abort.signal.aborted) return;
    e.dirty = true;
    if (e.writing) return;
    e.writing = this.writeStatus(e).finally(() => {
      e.writing = undefined;
      // A change reported while the last write was finishing.
      if (e.dirty && !e.gone) this.report(e);
    });
  }

  private async writeStatus(e: PodEntry): Promise<void> {
    while (e.dirty && !e.gone && !this.abort.signal.aborted) {
      e.dirty = false;
      if (!e.status) return;
      const status = podStatus(e.pod, e.status, e.clock, this.hostIP);
      const text = JSON.stringify(status);
      if (text === e.lastSent) continue;
      const { namespace, name, uid } = e.pod.metadata;
      try {
        await this.api.request(
          'PATCH',
          `/api/v1/namespaces/${namespace}/pods/${name}/status`,
          { metadata: { uid }, status },
          'application/strategic-merge-patch+json',
        );
        e.lastSent = text;
      } catch (err) {
        this.log(`pod ${namespace}/${name}: status write failed: ${(err as Error).message}`);
        // Gone, or replaced by a pod of the same name (the uid precondition): nothing to write to.
        if (err instanceof ApiStatusError && (err.code === 404 || err.code === 409)) return;
        e.dirty = true;
        await sleep(500);
      }
    }
  }
}
