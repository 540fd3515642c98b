// The session's port-forwards: each `ports` entry (and the debugger's) listens on 127.0.0.1 for
// the whole session, on the same local port, whatever happens to the pods behind it. A local
// connection is carried to the pod its slot points at, one pod connection each. When the pod is
// replaced the slot moves to a running pod as soon as the pod source says so; when the app is
// restarting (nothing listens for a moment) the connection is tried again every retry interval,
// replaying what the local side already sent, so a request made during a restart or a pod
// replacement waits and is answered instead of failing. Only bytes the app never received are
// replayed (the kubelet reports a refused dial before it reads anything): once the pod has
// answered, after a connection broke off carrying bytes, or past REPLAY_LIMIT, a failure ends the
// connection.
// `pods: first` has one slot that sticks to its pod while it runs; `pods: all` has one slot per
// pod, on local, local+1, ..., and a replacement pod takes the slot its predecessor left.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { PortForwardSpec } from '../config/types';
import { KubeError } from '../kube/errors';
import type { PodRef } from '../sync/engine';

/** The pods to forward to: running ones, in a stable order (the sync engine's SyncTarget fits). */
export interface ForwardPods {
  listPods(): Promise<PodRef[]>;
  /** Calls back whenever the set of running pods may have changed. */
  watchPods(onChange: () => void): { stop(): void };
}

/** Opens one connection to a port in a pod (cluster.openPortForward). */
export interface PodDialer {
  /**
   * Resolves with the open connection; it fails later with an error whose `failure` is 'refused'
   * when nothing listens on the port (see podPort.ts), or rejects as the API refused it.
   */
  open(pod: string, port: number): Promise<Duplex>;
}

export interface ForwardManagerOptions {
  forwards: PortForwardSpec[];
  pods: ForwardPods;
  dialer: PodDialer;
  /** Where the local ports listen. Default 127.0.0.1: nothing beyond this machine reaches them. */
  host?: string;
  log?: (message: string) => void;
  /** How long a local connection waits for a pod that answers. Default 30 s. */
  connectTimeoutMs?: number;
  /** Pause between attempts while the app does not listen. Default 50 ms: a restart is answered soon after it listens. */
  retryIntervalMs?: number;
}

export type ForwardState =
  /** Listening, with a pod behind it. */
  | 'ready'
  /** Listening; no running pod for it right now (connections wait for one). */
  | 'waiting'
  /** Not listening: the local port could not be taken (see `error`). */
  | 'failed';

export interface ForwardStatus {
  /** The truva.yaml entry: `ports[0]`, `debug`. */
  source: string;
  remote: number;
  /** The local port listened on (the one asked for when it could not be bound). */
  local: number;
  /** 0 for `pods: first`; with `pods: all`, the slot (local = first local + slot). */
  slot: number;
  /** `127.0.0.1:8080`. */
  address: string;
  url: string;
  /** The pod connections go to now. */
  pod?: string;
  state: ForwardState;
  /** Why it failed, naming the port and what to do. */
  error?: string;
  /** Local connections open now. */
  connections: number;
}

/** Bytes a connection keeps for replay until the pod answers. */
export const REPLAY_LIMIT = 1 << 20;

interface Slot {
  spec: PortForwardSpec;
  index: number;
  server?: net.Server;
  boundPort?: number;
  error?: string;
  pod?: string;
  connections: Set<net.Socket>;
  /** Wakes connections waiting for this slot's pod to change. */
  changed: EventEmitter;
}

function failureOf(err: unknown): string | undefined {
  const failure = (err as { failure?: unknown } | undefined)?.failure;
  if (typeof failure === 'string') return failure;
  if (err instanceof KubeError && err.kind === 'notFound') return 'gone';
  return undefined;
}

/** A failure that may pass: the API or the pod will be back. */
function isRetryable(err: unknown): boolean {
  if (err instanceof KubeError) return err.kind !== 'forbidden' && err.kind !== 'unauthorized' && err.kind !== 'config';
  return failureOf(err) !== 'failed';
}

const describe = (spec: PortForwardSpec) => `${spec.source} (local ${spec.local} to port ${spec.remote} in the pod)`;

export class ForwardManager {
  private readonly slots = new Map<PortForwardSpec, Slot[]>();
  private readonly events = new EventEmitter();
  private readonly host: string;
  private readonly connectTimeoutMs: number;
  private readonly retryIntervalMs: number;
  private watch?: { stop(): void };
  private refreshing?: Promise<void>;
  private refreshAgain = false;
  private binds: Promise<void>[] = [];
  private disposed = false;

  constructor(private readonly options: ForwardManagerOptions) {
    this.host = options.host ?? '127.0.0.1';
    this.connectTimeoutMs = options.connectTimeoutMs ?? 30_000;
    this.retryIntervalMs = options.retryIntervalMs ?? 50;
    for (const spec of options.forwards) this.slots.set(spec, []);
  }

  /** Takes the local ports and points them at the pods; a port that cannot be taken is reported, never thrown. */
  async start(): Promise<ForwardStatus[]> {
    this.watch = this.options.pods.watchPods(() => void this.refresh());
    for (const spec of this.options.forwards) this.addSlot(spec);
    await this.refresh();
    await this.settleBinds();
    return this.snapshot();
  }

  snapshot(): ForwardStatus[] {
    const out: ForwardStatus[] = [];
    for (const [spec, slots] of this.slots) {
      for (const slot of slots) {
        const local = slot.boundPort ?? this.wantedPort(slot);
        out.push({
          source: spec.source,
          remote: spec.remote,
          local,
          slot: slot.index,
          address: `${this.host}:${local}`,
          url: `http://${this.host}:${local}`,
          pod: slot.pod,
          state: slot.error ? 'failed' : slot.pod && slot.boundPort ? 'ready' : 'waiting',
          error: slot.error,
          connections: slot.connections.size,
        });
      }
    }
    return out;
  }

  /** Calls back on every change of a forward's pod, state or connections; returns the unsubscribe. */
  onDidChange(listener: () => void): () => void {
    this.events.on('change', listener);
    return () => this.events.off('change', listener);
  }

  /** The local port that forwards `source` to `pod` (e.g. the debugger of one replica), if any. */
  localPortFor(source: string, pod: string): number | undefined {
    for (const [spec, slots] of this.slots) {
      if (spec.source !== source) continue;
      const slot = slots.find((s) => s.pod === pod && s.boundPort);
      if (slot) return slot.boundPort;
    }
    return undefined;
  }

  /** Lists the pods again now (the pod source's own events also do). */
  refresh(): Promise<void> {
    if (this.disposed) return Promise.resolve();
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        let pods: PodRef[];
        try {
          pods = await this.options.pods.listPods();
        } catch (err) {
          this.options.log?.(
            `Port-forwards: listing the pods failed (${(err as Error).message}); trying again on the next pod event.`,
          );
          return;
        }
        if (this.disposed) return;
        this.assign(pods.map((p) => p.name));
      } while (this.refreshAgain && !this.disposed);
    })().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.watch?.stop();
    const closing: Promise<void>[] = [];
    for (const slots of this.slots.values()) {
      for (const slot of slots) {
        for (const socket of slot.connections) socket.destroy();
        slot.changed.emit('change');
        const server = slot.server;
        if (server) closing.push(new Promise((r) => server.close(() => r())));
      }
    }
    await Promise.all(closing);
    this.events.removeAllListeners();
  }

  private changed(): void {
    this.events.emit('change');
  }

  private async settleBinds(): Promise<void> {
    while (this.binds.length > 0) await Promise.all(this.binds.splice(0));
  }

  private wantedPort(slot: Slot): number {
    return slot.spec.local === 0 ? 0 : slot.spec.local + slot.index;
  }

  private addSlot(spec: PortForwardSpec): Slot {
    const slots = this.slots.get(spec)!;
    const slot: Slot = { spec, index: slots.length, connections: new Set(), changed: new EventEmitter() };
    slot.changed.setMaxListeners(0);
    slots.push(slot);
    this.binds.push(this.bind(slot));
    return slot;
  }

  private bind(slot: Slot): Promise<void> {
    const port = this.wantedPort(slot);
    if (port > 65535) {
      slot.error = `${describe(slot.spec)}: pod ${slot.index + 1} would get local port ${port}, past 65535. Set a lower \`local\` port.`;
      this.options.log?.(slot.error);
      return Promise.resolve();
    }
    // Half-open: a client that ends its request still gets the answer.
    const server = net.createServer({ allowHalfOpen: true }, (socket) => this.accept(slot, socket));
    return new Promise<void>((resolve) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        slot.error = this.bindProblem(slot, port, err);
        this.options.log?.(slot.error);
        this.changed();
        resolve();
      });
      server.listen(port, this.host, () => {
        if (this.disposed) server.close();
        slot.server = server;
        slot.boundPort = (server.address() as net.AddressInfo).port;
        this.changed();
        resolve();
      });
    });
  }

  private bindProblem(slot: Slot, port: number, err: NodeJS.ErrnoException): string {
    const what = describe(slot.spec);
    if (err.code === 'EADDRINUSE')
      return `Local port ${port} is already in use on ${this.host}, so ${what} cannot listen there. Stop the program that uses it (\`lsof -i :${port}\` names it), or forward from another local port in truva.yaml: \`local: ${port + 10000 <= 65535 ? port + 10000 : 0}\` (or \`local: 0\` for any free port).`;
    if (err.code === 'EACCES')
      return `Local port ${port} may only be used by root on this machine, so ${what} cannot listen there. Set \`local\` in truva.yaml to a port above 1023, for example \`local: ${port + 8000}\`.`;
    return `${what} cannot listen on ${this.host}:${port}: ${err.message}.`;
  }

  /** Points the slots at the running pods (`names`, in the source's order). */
  private assign(names: string[]): void {
    const running = new Set(names);
    let changed = false;
    const point = (slot: Slot, pod: string | undefined) => {
      if (slot.pod === pod) return;
      const before = slot.pod;
      slot.pod = pod;
      changed = true;
      slot.changed.emit('change');
      if (pod && before)
        this.options.log?.(
          `${slot.spec.source}: ${this.addressOf(slot)} now forwards to pod ${pod} (${before} is gone).`,
        );
    };
    for (const [spec, slots] of this.slots) {
      if (spec.pods === 'first') {
        const slot = slots[0];
        point(slot, slot.pod && running.has(slot.pod) ? slot.pod : names[0]);
        continue;
      }
      for (const slot of slots) if (slot.pod && !running.has(slot.pod)) point(slot, undefined);
      const taken = new Set(slots.map((s) => s.pod).filter(Boolean));
      for (const pod of names) {
        if (taken.has(pod)) continue;
        const free = slots.find((s) => !s.pod) ?? this.addSlot(spec);
        point(free, pod);
      }
    }
    if (changed) this.changed();
  }

  private addressOf(slot: Slot): string {
    return `${this.host}:${slot.boundPort ?? this.wantedPort(slot)}`;
  }

  /** Resolves with the slot's pod once it has one, or undefined when the wait ends first. */
  private podOf(slot: Slot, deadline: number, unlike?: string): Promise<string | undefined> {
    const ready = () => (slot.pod && slot.pod !== unlike ? slot.pod : undefined);
    if (ready() || this.disposed) return Promise.resolve(ready());
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        slot.changed.off('change', check);
        resolve(ready());
      };
      const check = () => (ready() || this.disposed ? done() : undefined);
      const timer = setTimeout(done, Math.max(0, deadline - Date.now()));
      slot.changed.on('change', check);
    });
  }

  private accept(slot: Slot, local: net.Socket): void {
    if (this.disposed) return void local.destroy();
    slot.connections.add(local);
    this.changed();
    local.once('close', () => {
      slot.connections.delete(local);
      this.changed();
    });
    void new Connection(this, slot, local).run();
  }

  /** @internal For Connection. */
  attempt(slot: Slot): {
    podOf: (deadline: number, unlike?: string) => Promise<string | undefined>;
    dialer: PodDialer;
    retryIntervalMs: number;
    connectTimeoutMs: number;
    refresh: () => Promise<void>;
    log: (message: string) => void;
    disposed: () => boolean;
  } {
    return {
      podOf: (deadline, unlike) => this.podOf(slot, deadline, unlike),
      dialer: this.options.dialer,
      retryIntervalMs: this.retryIntervalMs,
      connectTimeoutMs: this.connectTimeoutMs,
      refresh: () => this.refresh(),
      log: (message) => this.options.log?.(message),
      disposed: () => this.disposed,
    };
  }
}

/** One local connection: finds its pod, connects, replays what the pod has not seen, relays both ways. */
class Connection {
  /** Everything the local side sent, kept until the pod answers (undefined: too much to replay). */
  private unanswered: Buffer[] | undefined = [];
  private unansweredBytes = 0;
  private stream?: Duplex;
  private answered = false;
  private localEnded = false;
  private localClosed = false;

  constructor(
    private readonly manager: ForwardManager,
    private readonly slot: Slot,
    private readonly local: net.Socket,
  ) {
    local.on('data', (chunk: Buffer) => {
      if (!this.stream) {
        // Not connected yet: every byte must reach the pod, so reading stops past the limit.
        this.keep(chunk);
        if (this.unansweredBytes > REPLAY_LIMIT) local.pause();
        return;
      }
      if (!this.answered && this.unanswered) {
        this.keep(chunk);
        if (this.unansweredBytes > REPLAY_LIMIT) this.unanswered = undefined;
      }
      if (!this.stream.write(chunk)) {
        local.pause();
        this.stream.once('drain', () => local.resume());
      }
    });
    local.on('end', () => {
      this.localEnded = true;
      this.stream?.end();
    });
    local.on('error', () => local.destroy());
    local.once('close', () => {
      this.localClosed = true;
      this.stream?.destroy();
    });
  }

  private keep(chunk: Buffer): void {
    this.unanswered?.push(chunk);
    this.unansweredBytes += chunk.length;
  }

  async run(): Promise<void> {
    const env = this.manager.attempt(this.slot);
    const deadline = Date.now() + env.connectTimeoutMs;
    let avoid: string | undefined;
    let last = 'no pod is running';
    // Until the pod answers, or nothing can be replayed: a failure means another try.
    for (;;) {
      if (this.localClosed || env.disposed()) return;
      // A pod that just failed as gone is passed over for a moment, while the source catches up.
      const pod =
        (avoid && (await env.podOf(Math.min(deadline, Date.now() + 1000), avoid))) || (await env.podOf(deadline));
      if (this.localClosed || env.disposed()) return;
      if (!pod) return this.giveUp(env, last);
      avoid = undefined;
      let failure: unknown;
      try {
        failure = await this.relay(await env.dialer.open(pod, this.slot.spec.remote));
      } catch (err) {
        failure = err;
      }
      if (failure === undefined || this.localClosed) return;
      last = `${(failure as Error).message}`;
      // A broken-off connection may have delivered what it carried: replay only if it carried nothing.
      const delivered = failureOf(failure) === 'lost' && this.unansweredBytes > 0;
      const replayable = !this.answered && this.unanswered !== undefined && !delivered;
      if (!replayable || !isRetryable(failure) || Date.now() >= deadline) {
        if (replayable) return this.giveUp(env, last);
        return void this.local.destroy();
      }
      if (failureOf(failure) === 'gone') {
        // The pod went away: look for the running ones now rather than at the next event.
        avoid = pod;
        void env.refresh();
      } else {
        await new Promise((r) => setTimeout(r, env.retryIntervalMs));
      }
    }
  }

  /** Relays until the pod connection ends; resolves with its failure, or undefined when it ended well. */
  private relay(stream: Duplex): Promise<unknown> {
    if (this.localClosed) {
      stream.destroy();
      return Promise.resolve(undefined);
    }
    this.stream = stream;
    for (const chunk of this.unanswered ?? []) stream.write(chunk);
    if (this.localEnded) stream.end();
    this.local.resume();
    return new Promise((resolve) => {
      let failure: unknown;
      stream.on('data', (chunk: Buffer) => {
        if (!this.answered) {
          this.answered = true;
          this.unanswered = undefined;
        }
        if (!this.local.write(chunk)) {
          stream.pause();
          this.local.once('drain', () => stream.resume());
        }
      });
      stream.on('end', () => this.local.end());
      stream.on('error', (err) => (failure = err));
      stream.once('close', () => {
        if (this.stream === stream) this.stream = undefined;
        resolve(failure);
      });
    });
  }

  private giveUp(env: ReturnType<ForwardManager['attempt']>, last: string): void {
    env.log(
      `${this.slot.spec.source}: a connection to local port ${this.slot.boundPort} found no pod answering on port ${this.slot.spec.remote} within ${Math.round(env.connectTimeoutMs / 1000)} s (${last}); it was closed. Is the app listening on port ${this.slot.spec.remote} in the container?`,
    );
    this.local.destroy();
  }
}
