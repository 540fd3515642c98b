// exec over client-node's Exec (WebSocket, v5.channel.k8s.io), with stdin written to the socket
// by us, under back-pressure: client-node copies every stdin chunk and writes it at once, so a
// large tar stream would pile up in memory; we write only while the socket's send buffer is small.
// openExec is the streaming form (a command that stays running and is fed over time, like the
// sync engine's pod shell); execInContainer runs a command to its end and collects the output.
import { Exec, type KubeConfig, type V1Status } from '@kubernetes/client-node';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { PassThrough, Readable, Writable } from 'node:stream';
import type WebSocket from 'ws';
import { ExecError, TimeoutError, toKubeError, type CallTarget } from './errors';
import { execSocketFactory, type ExecSocketFactory } from './execSocket';
import type { Resilience } from './resilience';

export interface ExecOptions {
  /** Bytes for the command's stdin; a Readable is streamed, never buffered whole. */
  stdin?: Readable | Buffer | string;
  /** Ends the command (closes the connection) after this long. Default: no limit. */
  timeoutMs?: number;
  /** Retry establishing the connection on transient failures (only if running the command twice is harmless). */
  retrySafe?: boolean;
}

export interface ExecResult {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
}

/** Socket bytes queued before we stop reading stdin; enough to keep the pipe full. */
const HIGH_WATER = 1 << 20;
const LOW_WATER = 256 << 10;

/**
 * Bytes for stdin as the WebSocket message that carries them: the stdin channel's byte, then the
 * data. Built once, it can go to several pods (the sync engine sends each chunk of a tar to
 * every pod; client-node would copy it for each, to put the channel byte in front). `holder`
 * is told while a connection still needs the bytes, so the buffer is not reused before.
 */
export class StdinMessage {
  constructor(
    readonly bytes: Buffer,
    readonly holder?: { hold(): () => void },
  ) {}

  static of(...parts: Buffer[]): StdinMessage {
    return new StdinMessage(Buffer.concat([STDIN_CHANNEL, ...parts]));
  }
}
const STDIN_CHANNEL = Buffer.from([0]);

/** A running command: feed its stdin, watch its output, learn how it ended. */
export interface ExecStream {
  /** Sends bytes (or a message built for several pods) to stdin; resolves once the socket has room for more. */
  write(chunk: Buffer | StdinMessage): Promise<void>;
  /** Closes stdin (the command sees end of input). */
  end(): void;
  /** Output as it arrives, stdout and stderr. */
  onOutput(listener: (data: Buffer, stream: 'stdout' | 'stderr') => void): void;
  /** The exit code once the command has ended; rejects when the connection failed or closed first. */
  readonly exited: Promise<number>;
  /** Closes the connection, which ends the command. */
  close(): void;
  /** The exec protocol the server chose (close-stdin needs v5.channel.k8s.io). */
  readonly protocol: string;
  /** True when the API server answers a WebSocket ping within `timeoutMs` (the connection is alive). */
  ping(timeoutMs: number): Promise<boolean>;
  /**
   * True while stdin was written that no answered ping has confirmed. A real API server reads
   * a ping only after the stdin ahead of it has gone into the container, so with a slow reader
   * a missing answer then means "busy", not "dead".
   */
  hasUnconfirmedInput(): boolean;
  /** When the last pong arrived (Date.now() ms; 0 before any), late answers to ping() included. */
  lastPongAt(): number;
  /** Sets the terminal size of a TTY exec (resize channel); nothing without a TTY. */
  resize(columns: number, rows: number): void;
}

/** The terminal a TTY exec runs on: its size at the start. */
export interface ExecTerminal {
  columns: number;
  rows: number;
}

/** A Writable that hands every chunk to a listener (client-node writes output into Writables). */
function outputTo(listener: (data: Buffer) => void): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      listener(Buffer.from(chunk));
      cb();
    },
  });
}

/** Exit code from the Status on channel 3: Success is 0; NonZeroExitCode carries it in causes. */
export function exitCodeFromStatus(status: V1Status | Record<string, any>): number | undefined {
  if (status.status === 'Success') return 0;
  if (status.reason === 'NonZeroExitCode') {
    const cause = status.details?.causes?.find((c: { reason?: string }) => c.reason === 'ExitCode');
    const code = Number(cause?.message);
    return Number.isInteger(code) ? code : undefined;
  }
  return undefined;
}

function waitForDrain(ws: { bufferedAmount: number; readyState: number }): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (ws.bufferedAmount <= LOW_WATER || ws.readyState !== 1) resolve();
      else setTimeout(check, 2);
    };
    check();
  });
}

/** One Exec per kubeconfig, so its sockets share a TLS context, resume sessions and are opened ahead. */
const execs = new WeakMap<KubeConfig, { exec: Exec; sockets: ExecSocketFactory }>();

/**
 * ws turns a refused upgrade into "Unexpected server response: 400" and drops the body, the
 * Status that says why. The WebSocket options are the kubeconfig's HTTPS options, so a
 * `finishRequest` (a ws option) added to them gets hold of the socket before the answer comes,
 * and the body is read and kept on the error (statusCode, body), which toKubeError understands.
 */
function keepingRefusals(kc: KubeConfig): KubeConfig {
  const wrapped = Object.create(kc) as KubeConfig;
  wrapped.applyToHTTPSOptions = async (opts) => {
    await kc.applyToHTTPSOptions(opts);
    (opts as Record<string, unknown>).finishRequest = keepRefusalBody;
  };
  return wrapped;
}

function keepRefusalBody(req: ClientRequest, ws: WebSocket): void {
  ws.once('unexpected-response', (_req: ClientRequest, res: IncomingMessage) => {
    const chunks: Buffer[] = [];
    const fail = () => {
      const err = Object.assign(new Error(`Unexpected server response: ${res.statusCode}`), {
        statusCode: res.statusCode,
        body: Buffer.concat(chunks),
      });
      req.destroy();
      ws.emit('error', err);
    };
    res.on('data', (c: Buffer) => chunks.push(c));
    res.once('end', fail);
    res.once('error', fail);
  });
  req.end();
}

function execFor(kc: KubeConfig): Exec {
  let entry = execs.get(kc);
  if (!entry) {
    const sockets = execSocketFactory(keepingRefusals(kc));
    entry = { exec: new Exec(kc, sockets as unknown as ConstructorParameters<typeof Exec>[1]), sockets };
    execs.set(kc, entry);
  }
  return entry.exec;
}

/** Closes the connections a kubeconfig's execs keep open for later ones (open execs go on). */
export function closeIdleExecConnections(kc: KubeConfig): void {
  execs.get(kc)?.sockets.dispose();
  execs.delete(kc);
}

/** Which container to exec in, and through what (kubeconfig, resilience policy, call target for errors). */
export interface ExecPlace {
  kc: KubeConfig;
  resilience: Resilience;
  target: CallTarget;
  namespace: string;
  pod: string;
  container: string;
}

export async function openExec(
  place: ExecPlace,
  command: string[],
  opts: { stdin: boolean; retrySafe?: boolean; tty?: ExecTerminal },
): Promise<ExecStream> {
  const { kc, resilience, target, namespace, pod, container } = place;
  const listeners: ((data: Buffer, stream: 'stdout' | 'stderr') => void)[] = [];
  const stdout = outputTo((data) => listeners.forEach((l) => l(data, 'stdout')));
  // On a TTY the terminal merges stderr into stdout, and the exec asks for no stderr. client-node
  // sends a stdout's size on the resize channel when it has `columns` and `rows`, and again on
  // each 'resize' event.
  const stderr = opts.tty ? null : outputTo((data) => listeners.forEach((l) => l(data, 'stderr')));
  if (opts.tty) Object.assign(stdout, { columns: opts.tty.columns, rows: opts.tty.rows });
  const stdinProxy = opts.stdin ? new PassThrough() : null;
  let status: V1Status | undefined;
  let statusSeen: () => void = () => {};
  const statusPromise = new Promise<void>((r) => (statusSeen = r));

  const ws = await resilience.call(target, { idempotent: opts.retrySafe ?? false }, async (policySignal) => {
    const socket = await execFor(kc).exec(
      namespace,
      pod,
      container,
      command,
      stdout,
      stderr,
      stdinProxy,
      opts.tty !== undefined,
      (s) => {
        status = s;
        statusSeen();
      },
    );
    // The policy gave up (timeout) while the handshake was still going: do not leave it open.
    if (policySignal.aborted) {
      socket.close();
      throw new TimeoutError(`Starting ${command[0]} in pod "${pod}" timed out.`, { target });
    }
    return socket;
  });

  const exited = new Promise<number>((resolve, reject) => {
    let settled = false;
    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      if (err) return reject(err);
      const exitCode = status ? exitCodeFromStatus(status) : undefined;
      if (exitCode !== undefined) return resolve(exitCode);
      // A 1.30+ server upgrades first and reports what the node refused (the container is not
      // running, the pod left the node) as a Status here: keep its code and reason, so callers
      // can tell a container that is gone from a failed command.
      const why = status?.message ?? 'the connection closed before the command reported how it ended';
      reject(
        new ExecError(`The exec of ${command[0]} in container "${container}" of pod "${pod}" failed: ${why}`, {
          target,
          status: status?.code,
          reason: status?.reason,
        }),
      );
    };
    ws.on('close', () => {
      // The status frame may arrive just before close; let its callback run first.
      void Promise.race([statusPromise, new Promise((r) => setTimeout(r, 20))]).then(() => settle());
    });
    ws.on('error', (err) => settle(toKubeError(err, target)));
    void statusPromise.then(() => settle());
  });
  exited.catch(() => {}); // a caller that only writes learns of the failure from write() or exited

  let written = 0;
  let confirmed = 0;
  // Pongs come in the order of their pings; a late one (after ping() gave up waiting) still
  // confirms what was written before its ping, and still says the connection is alive.
  const pingsAhead: number[] = [];
  let lastPongAt = 0;
  ws.on('pong', () => {
    confirmed = Math.max(confirmed, pingsAhead.shift() ?? 0);
    lastPongAt = Date.now();
  });
  return {
    async write(chunk) {
      if (ws.readyState !== 1) throw new ExecError(`The connection to pod "${pod}" is closed.`, { target });
      written++;
      // Straight to the socket, in order: client-node is handed stdinProxy only so that it asks
      // for stdin, and sends the close-stdin message when end() ends the proxy.
      const message = chunk instanceof StdinMessage ? chunk : StdinMessage.of(chunk);
      const release = message.holder?.hold();
      // ws calls back once the socket has taken the bytes, or with an error when it never will.
      ws.send(message.bytes, release);
      if (ws.bufferedAmount > HIGH_WATER) await waitForDrain(ws);
    },
    end: () => stdinProxy?.end(),
    onOutput: (listener) => void listeners.push(listener),
    exited,
    protocol: ws.protocol,
    ping: (timeoutMs) =>
      new Promise<boolean>((resolve) => {
        if (ws.readyState !== 1) return resolve(false);
        pingsAhead.push(written);
        const answered = () => done(true);
        const timer = setTimeout(() => done(false), timeoutMs);
        const done = (alive: boolean) => {
          clearTimeout(timer);
          ws.off('pong', answered);
          resolve(alive);
        };
        ws.once('pong', answered);
        ws.ping();
      }),
    hasUnconfirmedInput: () => written > confirmed,
    resize(columns, rows) {
      if (!opts.tty || ws.readyState !== 1) return;
      Object.assign(stdout, { columns, rows });
      stdout.emit('resize');
    },
    lastPongAt: () => lastPongAt,
    close() {
      try {
        ws.close();
      } catch {}
    },
  };
}

export async function execInContainer(
  place: ExecPlace,
  command: string[],
  opts: ExecOptions = {},
): Promise<ExecResult> {
  const { target, pod, container } = place;
  const stream = await openExec(place, command, { stdin: opts.stdin !== undefined, retrySafe: opts.retrySafe });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stream.onOutput((data, which) => (which === 'stdout' ? out : err).push(data));
  const source: Readable | undefined =
    opts.stdin === undefined
      ? undefined
      : opts.stdin instanceof Readable
        ? opts.stdin
        : Readable.from([Buffer.from(opts.stdin)]);

  let timer: NodeJS.Timeout | undefined;
  const failures: Promise<never>[] = [];
  if (opts.timeoutMs && opts.timeoutMs > 0) {
    const ms = opts.timeoutMs;
    failures.push(
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new TimeoutError(
                `${command[0]} in container "${container}" of pod "${pod}" did not finish within ${ms} ms.`,
                { target },
              ),
            ),
          ms,
        );
      }),
    );
  }
  if (source) {
    failures.push(
      (async (): Promise<never> => {
        if (stream.protocol !== 'v5.channel.k8s.io') {
          throw new ExecError(
            `The API server does not support the v5.channel.k8s.io exec protocol, which Truva needs to send files (Kubernetes 1.30 or newer).`,
            { target },
          );
        }
        try {
          for await (const chunk of source) await stream.write(chunk);
          stream.end();
        } catch (e) {
          if (e instanceof ExecError) return new Promise<never>(() => {}); // the connection closed: `exited` says why
          throw new ExecError(`Reading the data to send to pod "${pod}" failed: ${(e as Error).message}`, {
            target,
            cause: e,
          });
        }
        return new Promise<never>(() => {});
      })(),
    );
  }
  try {
    const exitCode = await Promise.race([stream.exited, ...failures]);
    return { exitCode, stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
  } catch (e) {
    stream.close();
    throw e;
  } finally {
    clearTimeout(timer);
    if (source && !source.readableEnded) source.destroy();
  }
}
