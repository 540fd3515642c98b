// Where the sync engine's batches go in a pod. A new exec per batch costs a WebSocket handshake
// and a process start in the pod before the first byte moves (about 15 ms per pod on the
// sandbox, far more on a real cluster's API server and kubelet); the 10-file change after a save
// is mostly that. So each pod gets one long-lived shell per sync root, started once, that applies
// framed batches from its stdin and answers each with a status line.
//
// Framing, because tar reads its input to the end: a batch is a ping line ("P", see
// PING_TIMEOUT_MS), then an op line. "A <bytes>" extracts a tar archive of exactly that many
// bytes, copied to tar by one `head -c` (the engine knows an archive's length before it sends
// it: tarStream.ts). "D" (delete NUL-separated paths) and "X" (run a script) are followed by
// chunks "C <bytes>\n<bytes>", then "E". The shell copies exactly <bytes> with `head -c` (GNU
// reads no more than asked) or else `dd iflag=fullblock`, and checks at start that the tool it
// picked does not read ahead (busybox's head buffers, which would swallow the next op); when
// neither is exact it says "unsupported" and the engine falls back to one exec per batch. Every
// line the shell writes for us starts with a random nonce, so tar's messages (merged into
// stdout, in order) cannot be mistaken for a status.
import { randomBytes } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import type { ExecStream } from '../kube/exec';
import { Chunk } from './chunks';

/** One batch on its way to a pod: its bytes, then end() resolves once the pod has applied it. */
export interface BatchSink {
  write(chunk: Chunk): Promise<void>;
  end(): Promise<void>;
  /** Gives the batch up half-sent (its source failed): the connection is closed. */
  abort(): void;
}

export type BatchOp = 'extract' | 'delete';
/** What the shell does with a batch: a BatchOp, or run a script (see PodShell.run). */
type ShellOp = BatchOp | 'run';

const OPS: Record<ShellOp, { code: string; what: string }> = {
  extract: { code: 'A', what: 'tar' },
  delete: { code: 'D', what: 'deleting files' },
  run: { code: 'X', what: 'the command' },
};

// $1: the remote root; $2: the nonce. `exec 2>&1`: tar's messages reach us in order, before the status.
const SHELL = `exec 2>&1
take() { head -c "$1"; }
frames() { while read -r k n && [ "$k" = C ]; do take "$n"; done; }
exact() { [ "$(printf 'C 1\\nxC 2\\nyzE\\n' | frames)" = xyz ]; }
exact || { take() { dd bs="$1" count=1 iflag=fullblock 2>/dev/null; }; exact; } || { echo "$2 unsupported"; exit 0; }
echo "$2 ready"
while read -r op n; do
  case $op in
    A) take "$n" | { [ -d "$1" ] || mkdir -p "$1"; tar -xf - -C "$1"; s=$?; cat >/dev/null; exit $s; } ;;
    D) frames | { cd "$1" && xargs -0 -r rm -rf --; s=$?; cat >/dev/null; exit $s; } ;;
    X) c=$(frames); sh -c "$c" truva-run </dev/null ;;
    P) echo "$2 pong"; continue ;;
    *) echo "$2 unknown op"; exit 2 ;;
  esac
  echo "$2 $?"
done`;
// `cat >/dev/null` drains the rest of a batch that tar gave up on, so the next op is read from
// the right place. X runs a script with its stdin closed, so it cannot read our frames.

/** Per-batch execs, for containers where the shell cannot frame its input. */
const ONE_SHOT: Record<BatchOp, string> = {
  // `[` is a shell builtin and `exec` replaces the shell: one process (tar) in the common case.
  extract: '[ -d "$1" ] || mkdir -p "$1" || exit; exec tar -xf - -C "$1"',
  delete: 'cd "$1" && xargs -0 -r rm -rf --',
};

/** Longest a pod may take to apply one batch before its shell is given up. */
const OP_TIMEOUT_MS = 300_000;
/** While a pod applies a batch, how often the connection is checked (see whileConnected). */
const HEARTBEAT_MS = 5_000;
/**
 * How long pings may go unanswered while sent data is still on its way into the container (a
 * real API server reads a ping only after the stdin ahead of it): client-go's pingReadDeadline.
 */
const BUSY_PING_BUDGET_MS = 61_000;
/**
 * Longest the shell may take to answer the ping sent ahead of each batch. A long-lived
 * connection can die without closing (a laptop that slept, a NAT or load balancer that forgot
 * it); writes then vanish into the socket and no answer ever comes. The ping is answered before
 * the batch is read, so it costs no wait on a live shell, and a dead one is given up after this
 * long instead of after OP_TIMEOUT_MS; the batch is then retried through a new shell.
 */
const PING_TIMEOUT_MS = 5_000;
/** Output kept from a failing batch, for the error message. */
const MAX_DIAGNOSTICS = 2000;

type Opener = (command: string[]) => Promise<ExecStream>;

/** A batch the pod could not apply (or a script that exited non-zero), with what it printed. */
class BatchFailure extends Error {
  constructor(
    op: ShellOp,
    pod: string,
    readonly exitCode: number,
    readonly output: string,
  ) {
    super(`${OPS[op].what} in pod ${pod} failed (exit code ${exitCode}): ${output.trim().slice(0, 500)}`);
  }
}

function failure(op: ShellOp, pod: string, exitCode: number, output: string): Error {
  return new BatchFailure(op, pod, exitCode, output);
}

export class PodShell {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  private diagnostics = '';
  /** Who waits for the shell's next status lines, in the order they will come. */
  private waiting: { resolve: (token: string) => void; reject: (err: Error) => void }[] = [];
  private ended?: Error;
  /** Ops run one after another. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly stream: ExecStream,
    private readonly pod: string,
    private readonly nonce: string,
  ) {
    stream.onOutput((data) => this.output(data));
    stream.exited.then(
      (code) => this.end(new Error(`The sync shell in pod ${pod} ended (exit code ${code}).`)),
      (err: Error) => this.end(err),
    );
  }

  /** Starts the shell; undefined when the container cannot frame input (then use oneShotSink). */
  static async open(open: Opener, pod: string, remoteRoot: string): Promise<PodShell | undefined> {
    const nonce = `truva-${randomBytes(8).toString('hex')}`;
    const stream = await open(['sh', '-c', SHELL, 'truva-sync', remoteRoot, nonce]);
    const shell = new PodShell(stream, pod, nonce);
    const token = await timeLimit(
      shell.next(),
      2 * PING_TIMEOUT_MS,
      () => new Error(`The sync shell in pod ${pod} did not start within ${(2 * PING_TIMEOUT_MS) / 1000} s.`),
    ).catch((err) => {
      stream.close();
      throw err;
    });
    if (token === 'ready') return shell;
    stream.close();
    return undefined;
  }

  /** False once the shell has ended (pod gone, container restarted, connection dropped). */
  get alive(): boolean {
    return this.ended === undefined;
  }

  close(reason = new Error(`The sync shell in pod ${this.pod} was closed.`)): void {
    this.end(reason);
    this.stream.end();
    this.stream.close();
  }

  /**
   * Runs a shell script in the container through this shell, once the batches before it are
   * done: no exec of its own, so no process start in the API server or the kubelet and no new
   * connection (a restart after a batch took 67 ms this way against 185 ms by an exec, on the
   * sandbox under load). Its stdin is closed; stdout and stderr come merged, at most 2,000
   * characters.
   */
  async run(script: string): Promise<{ exitCode: number; output: string }> {
    const sink = await this.begin('run');
    await sink.write(Chunk.of(Buffer.from(script)));
    try {
      await sink.end();
      return { exitCode: 0, output: sink.output() };
    } catch (err) {
      if (err instanceof BatchFailure) return { exitCode: err.exitCode, output: err.output };
      throw err;
    }
  }

  /** Starts a batch once the previous one is done; an archive to extract is `bytes` long. */
  begin(op: 'extract', bytes: number): Promise<BatchSink>;
  begin(op: 'delete' | 'run'): Promise<BatchSink & { output(): string }>;
  begin(op: ShellOp, bytes?: number): Promise<BatchSink & { output(): string }> {
    const started = this.queue.then(() => this.sink(op, bytes));
    this.queue = started
      .then(
        (sink) => sink.done,
        () => undefined,
      )
      .catch(() => undefined);
    return started;
  }

  private async sink(op: ShellOp, bytes?: number): Promise<BatchSink & { done: Promise<void>; output(): string }> {
    if (this.ended) throw this.ended;
    this.diagnostics = '';
    const pong = this.next();
    void timeLimit(pong, PING_TIMEOUT_MS, () => {
      const err = new Error(
        `The sync shell in pod ${this.pod} did not answer within ${PING_TIMEOUT_MS / 1000} s; its connection was probably lost (it is opened again).`,
      );
      this.close(err);
      return err;
    }).catch(() => undefined); // a lost shell fails the batch's own writes and end()
    const archive = op === 'extract';
    await this.stream.write(Buffer.from(`P\n${OPS[op].code}${archive ? ` ${bytes}` : ''}\n`));
    let sent = 0;
    let finish!: (err?: Error) => void;
    const done = new Promise<void>((resolve, reject) => (finish = (err) => (err ? reject(err) : resolve())));
    done.catch(() => {});
    let output = '';
    return {
      done,
      output: () => output,
      write: async (chunk) => {
        if (this.ended) throw this.ended;
        sent += chunk.length;
        // An archive's bytes go as they are; other chunks get a frame header. Either way one
        // message is shared by every pod (chunks.ts).
        await this.stream.write(chunk.message(archive ? '' : `C ${chunk.length}\n`));
      },
      end: async () => {
        try {
          if (archive && sent !== bytes) {
            // The shell would wait for the rest forever: this connection cannot be used again.
            const err = new Error(
              `The sync shell in pod ${this.pod} was sent ${sent} of the archive's ${bytes} bytes.`,
            );
            this.close(err);
            throw err;
          }
          const reply = this.next();
          if (!archive) await this.stream.write(Buffer.from('E\n'));
          const code = Number(await whileConnected(reply, this.stream, this.pod, (err) => this.close(err)));
          if (!Number.isInteger(code)) throw new Error(`The sync shell in pod ${this.pod} answered "${code}".`);
          // Taken before finish(): the next batch starts from it and clears the diagnostics.
          output = this.diagnostics;
          if (code !== 0) throw failure(op, this.pod, code, output);
          finish();
        } catch (err) {
          finish(err as Error);
          throw err;
        }
      },
      abort: () => {
        this.close();
        finish(this.ended);
      },
    };
  }

  /** The next status token the shell writes. */
  private next(): Promise<string> {
    if (this.ended) return Promise.reject(this.ended);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private output(data: Buffer) {
    const lines = (this.partial + this.decoder.write(data)).split('\n');
    this.partial = lines.pop()!;
    for (const line of lines) {
      // A status may follow output that did not end its last line (a script's `cat` of a file).
      const at = line.indexOf(`${this.nonce} `);
      const text = at < 0 ? `${line}\n` : line.slice(0, at);
      if (this.diagnostics.length < MAX_DIAGNOSTICS) this.diagnostics += text;
      if (at >= 0) this.waiting.shift()?.resolve(line.slice(at + this.nonce.length + 1));
    }
  }

  private end(err: Error) {
    if (this.ended) return;
    this.ended = err;
    for (const waiting of this.waiting.splice(0)) waiting.reject(err);
  }
}

/**
 * Waits for a batch's result. A big batch may take minutes, so rather than a short limit the
 * connection is checked every HEARTBEAT_MS with a WebSocket ping. The API server reads a ping
 * only after the stdin ahead of it has gone into the container, so while sent data has not
 * been confirmed by an answer (a slow tar still reading), answers may be missing for up to
 * BUSY_PING_BUDGET_MS since the last one; with nothing unconfirmed, one missing for
 * PING_TIMEOUT_MS means the connection died without closing. `lost` closes it.
 */
function whileConnected<T>(
  result: Promise<T>,
  stream: ExecStream,
  pod: string,
  lost: (err: Error) => void,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let lastAnswer = started;
    let done = false;
    let timer: NodeJS.Timeout;
    const silent = async () => {
      if (await stream.ping(PING_TIMEOUT_MS)) {
        lastAnswer = Date.now();
        return false;
      }
      // An answer that came too late for the ping that asked still shows the connection alive.
      lastAnswer = Math.max(lastAnswer, stream.lastPongAt());
      return !stream.hasUnconfirmedInput() || Date.now() - lastAnswer > BUSY_PING_BUDGET_MS;
    };
    const check = async () => {
      const why =
        Date.now() - started > OP_TIMEOUT_MS
          ? `did not finish applying a batch within ${OP_TIMEOUT_MS / 1000} s`
          : (await silent()) && 'lost its connection while it applied a batch';
      if (done) return;
      if (!why) return void (timer = setTimeout(check, HEARTBEAT_MS));
      const err = new Error(`Pod ${pod} ${why}.`);
      lost(err);
      reject(err);
    };
    timer = setTimeout(check, HEARTBEAT_MS);
    result.then(resolve, reject).finally(() => {
      done = true;
      clearTimeout(timer);
    });
  });
}

/** The promise, or the error `onTimeout` returns once `ms` have passed. */
function timeLimit<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(onTimeout()), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A batch sent by an exec of its own (containers whose shell cannot frame input). */
export async function oneShotSink(open: Opener, pod: string, remoteRoot: string, op: BatchOp): Promise<BatchSink> {
  const stream = await open(['sh', '-c', ONE_SHOT[op], 'truva-sync', remoteRoot]);
  if (stream.protocol !== 'v5.channel.k8s.io') {
    stream.close();
    throw new Error(
      'The API server does not support the v5.channel.k8s.io exec protocol, which Truva needs to send files to this container (Kubernetes 1.30 or newer).',
    );
  }
  let output = '';
  stream.onOutput((data) => {
    if (output.length < MAX_DIAGNOSTICS) output += data.toString();
  });
  return {
    write: (chunk) => stream.write(chunk.message('')),
    async end() {
      stream.end();
      const code = await whileConnected(stream.exited, stream, pod, () => stream.close());
      if (code !== 0) throw failure(op, pod, code, output);
    },
    abort: () => stream.close(),
  };
}
