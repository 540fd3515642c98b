// An in-memory LogSource for aggregator unit tests: pods whose containers "write" timestamped
// lines, follow streams that honour sinceTime (whole seconds, like the API) and tailLines, and
// knobs to drop every open stream or restart a container.
import { PassThrough } from 'node:stream';
import type { FollowOptions, LogSource, PodEventType, PodLike } from '../../../src/core/logs/source';

interface Written {
  ts: string;
  text: string;
  instance: number;
}

interface OpenStream {
  pod: string;
  container: string;
  out: PassThrough;
  instance: number;
}

export class FakeSource implements LogSource {
  readonly pods = new Map<string, PodLike>();
  private readonly logs = new Map<string, Written[]>();
  private readonly open = new Set<OpenStream>();
  private watchers = new Set<(type: PodEventType, pod: PodLike) => void>();
  private clockMs = Date.parse('2026-11-28T10:00:00Z');
  readonly requests: Array<{ pod: string; container: string; options: FollowOptions }> = [];
  /** Splits every chunk sent to a stream into pieces of this many bytes. */
  chunkBytes = 0;

  watchPods(_ns: string, _sel: string | undefined, onEvent: (type: PodEventType, pod: PodLike) => void) {
    this.watchers.add(onEvent);
    for (const pod of this.pods.values()) onEvent('ADDED', pod);
    return {
      stop: () => {
        this.watchers.delete(onEvent);
      },
    };
  }

  async followLogs(_ns: string, pod: string, container: string, options: FollowOptions, signal: AbortSignal) {
    this.requests.push({ pod, container, options: { ...options } });
    const status = this.pods.get(pod)?.status?.containerStatuses?.find((s) => s.name === container);
    if (!status?.state?.running && !status?.state?.terminated) throw new Error(`container ${container} is not running`);
    const instance = status.restartCount;
    const out = new PassThrough();
    const stream: OpenStream = { pod, container, out, instance };
    let backlog = (this.logs.get(`${pod}/${container}`) ?? []).filter((w) => w.instance === instance);
    if (options.sinceTime) {
      const since = Date.parse(options.sinceTime);
      backlog = backlog.filter((w) => Date.parse(w.ts) >= since);
    } else if (options.tailLines !== undefined) {
      backlog = backlog.slice(-options.tailLines);
    }
    this.send(out, backlog.map((w) => `${w.ts} ${w.text}\n`).join(''));
    if (status.state?.terminated) out.end();
    else this.open.add(stream);
    signal.addEventListener(
      'abort',
      () => {
        this.open.delete(stream);
        out.destroy();
      },
      { once: true },
    );
    return out;
  }

  private send(out: PassThrough, text: string): void {
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.length === 0) return;
    const step = this.chunkBytes > 0 ? this.chunkBytes : bytes.length;
    for (let i = 0; i < bytes.length; i += step) out.write(bytes.subarray(i, i + step));
  }

  /** Adds a running pod with the given containers and tells watchers. */
  addPod(name: string, containers: string[], created = new Date(this.clockMs)): void {
    const pod: PodLike = {
      metadata: { name, uid: `uid-${name}`, creationTimestamp: created },
      spec: { containers: containers.map((c) => ({ name: c })) },
      status: {
        phase: 'Running',
        containerStatuses: containers.map((c) => ({
          name: c,
          restartCount: 0,
          containerID: `id-${name}-${c}-0`,
          state: { running: {} },
        })),
      },
    };
    this.pods.set(name, pod);
    this.notify(this.watchers.size && 'ADDED', pod);
  }

  deletePod(name: string): void {
    const pod = this.pods.get(name);
    if (!pod) return;
    this.pods.delete(name);
    for (const s of [...this.open])
      if (s.pod === name) {
        this.open.delete(s);
        s.out.end();
      }
    this.notify('DELETED', pod);
  }

  /** Appends a line with a timestamp `stepMs` after the previous one. */
  write(pod: string, container: string, text: string, stepMs = 7): void {
    this.clockMs += stepMs;
    const status = this.pods.get(pod)?.status?.containerStatuses?.find((s) => s.name === container);
    const instance = status?.restartCount ?? 0;
    const ms = this.clockMs;
    // RFC3339Nano with trailing zeros trimmed, as Go writes it.
    const ts = new Date(ms)
      .toISOString()
      .replace(/\.(\d{3})Z$/, (_m, f: string) => (f === '000' ? 'Z' : `.${f}123`.replace(/0+$/, '') + 'Z'));
    const key = `${pod}/${container}`;
    const list = this.logs.get(key) ?? [];
    list.push({ ts, text, instance });
    this.logs.set(key, list);
    for (const s of this.open)
      if (s.pod === pod && s.container === container && s.instance === instance) this.send(s.out, `${ts} ${text}\n`);
  }

  /** Sends a line of raw bytes (e.g. invalid UTF-8) to the open streams, split into chunkBytes pieces; it is not kept for replay. */
  writeBytes(pod: string, container: string, bytes: Uint8Array): void {
    this.clockMs += 7;
    const line = Buffer.concat([Buffer.from(`${new Date(this.clockMs).toISOString()} `), bytes, Buffer.from('\n')]);
    const step = this.chunkBytes > 0 ? this.chunkBytes : line.length;
    for (const s of this.open) {
      if (s.pod !== pod || s.container !== container) continue;
      for (let i = 0; i < line.length; i += step) s.out.write(line.subarray(i, i + step));
    }
  }

  /** Ends every open follow stream as a broken connection would (containers keep running). */
  dropStreams(): number {
    const n = this.open.size;
    for (const s of [...this.open]) {
      this.open.delete(s);
      s.out.destroy(new Error('connection reset'));
    }
    return n;
  }

  /** Kills a container; the next instance is running immediately after the watch hears of it. */
  restart(pod: string, container: string, reason = 'Error', exitCode = 137): void {
    const p = this.pods.get(pod)!;
    for (const s of [...this.open])
      if (s.pod === pod && s.container === container) {
        this.open.delete(s);
        s.out.end();
      }
    const statuses = p.status!.containerStatuses!;
    const old = statuses.find((s) => s.name === container)!;
    const next = {
      ...old,
      restartCount: old.restartCount + 1,
      containerID: `id-${pod}-${container}-${old.restartCount + 1}`,
      state: { running: {} },
      lastState: { terminated: { exitCode, reason } },
    };
    const updated: PodLike = {
      ...p,
      status: { ...p.status, containerStatuses: statuses.map((s) => (s.name === container ? next : s)) },
    };
    this.pods.set(pod, updated);
    this.notify('MODIFIED', updated);
  }

  openStreams(): number {
    return this.open.size;
  }

  private notify(type: PodEventType | 0, pod: PodLike): void {
    if (!type) return;
    for (const w of this.watchers) w(type, pod);
  }
}
