// Follows every container of every pod matching a deployment's selector (or one pod) and
// merges their lines into one bounded buffer. Guarantees: after a dropped stream it reconnects
// with back-off and resumes from the last timestamp seen, dropping replayed lines, so no line is
// lost or repeated; a stream that ends because the container ended waits for the next instance
// instead of counting as an error.
import { backoffDelay, sleep } from '../kube/resilience';
import { LineSplitter } from './lineSplitter';
import { detectLevel, type Level } from './levels';
import { ResumeTracker } from './resume';
import { RingBuffer } from './ringBuffer';
import { splitTimestamp } from './timestamp';
import type { ContainerStatusLike, LogSource, PodEventType, PodLike, PodWatch } from './source';
import type { LogLine } from './types';

export interface LogAggregatorOptions {
  source: LogSource;
  namespace: string;
  /** Follow every pod matching this selector (a deployment's matchLabels as `k=v,k2=v2`). */
  labelSelector?: string;
  /** Follow only this pod. */
  podName?: string;
  /** Lines of history per container when attaching to a pod that already ran. Default 200. */
  tailLines?: number;
  /** Lines kept in memory. Default 50,000. */
  bufferLines?: number;
  /** Reconnect back-off: first delay and cap, in ms. Defaults 100 and 5,000. */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
}

export interface PodSummary {
  name: string;
  phase: string;
  containers: string[];
}

export interface AggregatorListener {
  /** New lines, oldest first, already in the buffer. */
  lines?(lines: LogLine[]): void;
  /** The set of pods (and their containers) changed. */
  pods?(pods: PodSummary[]): void;
  /** A problem worth showing (the pod watch failed and is being retried). */
  warning?(message: string): void;
}

interface StreamState {
  pod: PodState;
  container: string;
  tracker: ResumeTracker;
  splitter: LineSplitter;
  abort?: AbortController;
  running: boolean;
  stopped: boolean;
  /** Set while waiting for a new container instance: the instance whose stream ended. */
  endedInstance?: string;
  attempts: number;
  everConnected: boolean;
}

interface PodState {
  name: string;
  pod: PodLike;
  /** Appeared after the aggregator started: read its whole log rather than a tail. */
  isNew: boolean;
  announcedRunning: boolean;
  announcedTerminating: boolean;
  restartCounts: Map<string, number>;
  streams: Map<string, StreamState>;
  deleted: boolean;
}

function statusOf(pod: PodLike, container: string): ContainerStatusLike | undefined {
  return pod.status?.containerStatuses?.find((s) => s.name === container);
}

function instanceKey(status: ContainerStatusLike | undefined): string {
  return status ? `${status.containerID ?? ''}#${status.restartCount}` : '';
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class LogAggregator {
  private readonly buffer: RingBuffer<LogLine>;
  private readonly pods = new Map<string, PodState>();
  private readonly listeners = new Set<AggregatorListener>();
  private readonly tailLines: number;
  private readonly backoffInitialMs: number;
  private readonly backoffMaxMs: number;
  private readonly lifetime = new AbortController();
  private watch?: PodWatch;
  private seq = 0;
  private started = false;
  /** When start() ran, by the local clock; see startedAtServer. */
  private startedAt = 0;
  /** The same moment by the server's clock, fixed at the first pod event (the list answer set the offset). */
  private startedAtServer: number | undefined;

  constructor(private readonly options: LogAggregatorOptions) {
    if (!options.labelSelector && !options.podName) {
      throw new Error('LogAggregator needs a labelSelector (deployment) or a podName to follow.');
    }
    this.buffer = new RingBuffer(options.bufferLines ?? 50_000);
    this.tailLines = options.tailLines ?? 200;
    this.backoffInitialMs = options.backoffInitialMs ?? 100;
    this.backoffMaxMs = options.backoffMaxMs ?? 5_000;
  }

  subscribe(listener: AggregatorListener): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** Buffered lines, oldest first. */
  lines(): LogLine[] {
    return this.buffer.toArray();
  }

  get size(): number {
    return this.buffer.size;
  }

  /** Lines evicted from the buffer to respect its bound. */
  get dropped(): number {
    return this.buffer.dropped;
  }

  podSummaries(): PodSummary[] {
    return [...this.pods.values()]
      .filter((p) => !p.deleted)
      .map((p) => ({ name: p.name, phase: p.pod.status?.phase ?? 'Unknown', containers: [...p.streams.keys()] }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  clear(): void {
    this.buffer.clear();
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.startedAt = Date.now();
    void this.runWatch();
  }

  stop(): void {
    if (this.lifetime.signal.aborted) return;
    this.lifetime.abort();
    this.watch?.stop();
    for (const pod of this.pods.values()) for (const s of pod.streams.values()) this.stopStream(s);
  }

  private get stopped(): boolean {
    return this.lifetime.signal.aborted;
  }

  private async runWatch(): Promise<void> {
    let attempts = 0;
    while (!this.stopped) {
      const ended = new Promise<unknown>((resolve) => {
        Promise.resolve(
          this.options.source.watchPods(
            this.options.namespace,
            this.options.labelSelector,
            (type, pod) => {
              attempts = 0;
              this.onPodEvent(type, pod);
            },
            resolve,
          ),
        ).then((w) => {
          this.watch = w;
          if (this.stopped) w.stop();
        }, resolve);
      });
      let onAbort = () => {};
      const aborted = new Promise((r) => {
        onAbort = () => r(undefined);
      });
      this.lifetime.signal.addEventListener('abort', onAbort, { once: true });
      const err = await Promise.race([ended, aborted]);
      this.lifetime.signal.removeEventListener('abort', onAbort);
      this.watch?.stop();
      if (this.stopped) return;
      this.warn(`The pod watch in namespace ${this.options.namespace} ended (${errorText(err)}); retrying.`);
      await sleep(this.backoff(attempts++), this.lifetime.signal);
    }
  }

  /** Before retry number attempts + 1. */
  private backoff(attempts: number): number {
    return backoffDelay(attempts + 1, { initialDelayMs: this.backoffInitialMs, maxDelayMs: this.backoffMaxMs });
  }

  private onPodEvent(type: PodEventType, pod: PodLike): void {
    const name = pod.metadata?.name;
    if (!name || this.stopped) return;
    if (this.options.podName && name !== this.options.podName) return;
    let state = this.pods.get(name);
    if (type === 'DELETED') {
      if (state && !state.deleted) {
        state.deleted = true;
        state.pod = pod;
        this.emitEvent(name, '', 'info', `pod ${name} deleted`);
        // Let streams drain what the ended containers wrote, then let go.
        for (const s of state.streams.values()) {
          s.stopped = true;
          setTimeout(() => this.stopStream(s), 2_000).unref?.();
        }
        this.pods.delete(name);
        this.emitPods();
      }
      return;
    }
    const isNewPod = !state;
    if (!state) {
      const created = Date.parse(String(pod.metadata?.creationTimestamp ?? ''));
      // creationTimestamp is the server's clock: compare it with the start by that clock, not ours.
      this.startedAtServer ??= this.startedAt + ((this.options.source.serverNow?.() ?? Date.now()) - Date.now());
      state = {
        name,
        pod,
        deleted: false,
        announcedRunning: false,
        announcedTerminating: false,
        isNew: Number.isFinite(created) && created >= this.startedAtServer - 1_000,
        restartCounts: new Map(),
        streams: new Map(),
      };
      this.pods.set(name, state);
    }
    state.pod = pod;
    const phase = pod.status?.phase ?? 'Pending';

    if (!state.announcedRunning && phase === 'Running') {
      state.announcedRunning = true;
      this.emitEvent(name, '', 'info', state.isNew ? `pod ${name} started` : `following pod ${name}`);
    }
    if (!state.announcedTerminating && pod.metadata?.deletionTimestamp) {
      state.announcedTerminating = true;
      this.emitEvent(name, '', 'info', `pod ${name} stopping`);
    }
    if (!state.announcedTerminating && (phase === 'Succeeded' || phase === 'Failed') && state.announcedRunning) {
      state.announcedTerminating = true;
      this.emitEvent(name, '', phase === 'Failed' ? 'error' : 'info', `pod ${name} ended (${phase})`);
    }

    let containersChanged = isNewPod;
    for (const { name: container } of pod.spec?.containers ?? []) {
      const status = statusOf(pod, container);
      const previous = state.restartCounts.get(container);
      if (status) {
        if (previous !== undefined && status.restartCount > previous) this.announceRestart(name, container, status);
        state.restartCounts.set(container, status.restartCount);
      }
      let stream = state.streams.get(container);
      if (!stream) {
        stream = {
          pod: state,
          container,
          tracker: new ResumeTracker(),
          splitter: new LineSplitter(),
          running: false,
          stopped: false,
          attempts: 0,
          everConnected: false,
        };
        state.streams.set(container, stream);
        containersChanged = true;
      }
      this.maybeConnect(stream);
    }
    if (containersChanged) this.emitPods();
  }

  private announceRestart(pod: string, container: string, status: ContainerStatusLike): void {
    const last = status.lastState?.terminated;
    const why = last
      ? `${last.reason ?? 'terminated'}, exit code ${last.exitCode}${last.signal ? `, signal ${last.signal}` : ''}`
      : (status.state?.waiting?.reason ?? 'reason unknown');
    this.emitEvent(
      pod,
      container,
      'warn',
      `container ${container} restarted (restart count ${status.restartCount}, last exit: ${why})`,
    );
  }

  /** Containers that have (or had) a process have logs; waiting ones do not yet. */
  private hasLogs(stream: StreamState): boolean {
    const status = statusOf(stream.pod.pod, stream.container);
    if (!status?.state) return false;
    if (stream.endedInstance !== undefined && stream.endedInstance === instanceKey(status)) return false;
    return Boolean(status.state.running || status.state.terminated);
  }

  private maybeConnect(stream: StreamState): void {
    if (stream.running || stream.stopped || this.stopped || !this.hasLogs(stream)) return;
    stream.endedInstance = undefined;
    stream.running = true;
    void this.follow(stream).finally(() => {
      stream.running = false;
    });
  }

  private async follow(stream: StreamState): Promise<void> {
    const { source, namespace } = this.options;
    const pod = stream.pod.name;
    while (!stream.stopped && !this.stopped) {
      const abort = new AbortController();
      stream.abort = abort;
      const options: { timestamps: true; sinceTime?: string; tailLines?: number } = { timestamps: true };
      const since = stream.tracker.sinceTime;
      if (since) options.sinceTime = since;
      else if (!stream.everConnected && !stream.pod.isNew) options.tailLines = this.tailLines;
      stream.tracker.streamOpened();
      stream.splitter = new LineSplitter();
      const instanceAtStart = instanceKey(statusOf(stream.pod.pod, stream.container));
      try {
        const body = await source.followLogs(namespace, pod, stream.container, options, abort.signal);
        stream.everConnected = true;
        for await (const chunk of body) {
          if (stream.stopped) break;
          stream.attempts = 0;
          this.ingest(stream, stream.splitter.push(chunk));
        }
      } catch {
        // A failed or dropped stream: the code below tells why and whether to go on.
      }
      if (stream.stopped || this.stopped) break;
      // Give the pod watch a moment to report why the stream ended.
      await sleep(this.backoff(stream.attempts++), this.lifetime.signal);
      if (stream.stopped || this.stopped) break;
      const status = statusOf(stream.pod.pod, stream.container);
      const instanceGone = !status?.state?.running || instanceKey(status) !== instanceAtStart;
      if (instanceGone || stream.pod.deleted) {
        // The container ended: what it wrote last without a newline is its final line.
        this.ingest(stream, stream.splitter.end());
        if (!this.hasLogsAfterEnd(stream, status, instanceAtStart)) {
          stream.endedInstance = instanceKey(status);
          return;
        }
      } else {
        // A dropped connection: the replay from sinceTime brings the unfinished line back whole.
        stream.splitter.discard();
      }
    }
  }

  /** After an instance ended, is there already a newer one to read? */
  private hasLogsAfterEnd(
    stream: StreamState,
    status: ContainerStatusLike | undefined,
    endedInstance: string,
  ): boolean {
    return Boolean(status?.state?.running && instanceKey(status) !== endedInstance && !stream.pod.deleted);
  }

  private ingest(stream: StreamState, rawLines: string[]): void {
    if (rawLines.length === 0) return;
    const out: LogLine[] = [];
    for (const raw of rawLines) {
      const { timestamp, text } = splitTimestamp(raw);
      if (!stream.tracker.accept(timestamp, text)) continue;
      out.push({
        seq: ++this.seq,
        pod: stream.pod.name,
        container: stream.container,
        timestamp,
        level: detectLevel(text),
        kind: 'log',
        text,
      });
    }
    this.publish(out);
  }

  private emitEvent(pod: string, container: string, level: Level, text: string): void {
    this.publish([
      { seq: ++this.seq, pod, container, timestamp: new Date().toISOString(), level, kind: 'event', text },
    ]);
  }

  private publish(lines: LogLine[]): void {
    if (lines.length === 0) return;
    for (const l of lines) this.buffer.push(l);
    for (const listener of this.listeners) listener.lines?.(lines);
  }

  private emitPods(): void {
    const pods = this.podSummaries();
    for (const listener of this.listeners) listener.pods?.(pods);
  }

  private warn(message: string): void {
    for (const listener of this.listeners) listener.warning?.(message);
  }

  private stopStream(stream: StreamState): void {
    stream.stopped = true;
    stream.abort?.abort();
  }
}
