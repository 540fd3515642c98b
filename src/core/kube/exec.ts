// exec over client-node's Exec (WebSocket, v5.channel.k8s.io) with stdin streamed under
// back-pressure: client-node writes every stdin chunk straight to the socket, so a large tar
// stream would pile up in memory; we feed it only while the socket's send buffer is small.
import { Exec, type KubeConfig, type V1Status } from '@kubernetes/client-node';
import { PassThrough, Readable, Writable } from 'node:stream';
import { ExecError, TimeoutError, toKubeError, type CallTarget } from './errors';
import { execSocketFactory } from './execSocket';
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

class Collector extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void) {
    this.chunks.push(Buffer.from(chunk));
    cb();
  }
  get buffer(): Buffer {
    return Buffer.concat(this.chunks);
  }
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

/** One Exec per kubeconfig, so its sockets share a TLS context and resume the TLS session. */
const execs = new WeakMap<KubeConfig, Exec>();

function execFor(kc: KubeConfig): Exec {
  let exec = execs.get(kc);
  if (!exec) {
    exec = new Exec(kc, execSocketFactory(kc) as unknown as ConstructorParameters<typeof Exec>[1]);
    execs.set(kc, exec);
  }
  return exec;
}

export async function execInContainer(
  kc: KubeConfig,
  resilience: Resilience,
  target: CallTarget,
  namespace: string,
  pod: string,
  container: string,
  command: string[],
  opts: ExecOptions = {},
): Promise<ExecResult> {
  const stdout = new Collector();
  const stderr = new Collector();
  const stdinProxy = opts.stdin !== undefined ? new PassThrough() : null;
  let status: V1Status | undefined;
  let statusSeen: () => void = () => {};
  const statusPromise = new Promise<void>((r) => (statusSeen = r));

  const ws = await resilience.call(target, { idempotent: opts.retrySafe ?? false }, async (policySignal) => {
    const socket = await execFor(kc).exec(namespace, pod, container, command, stdout, stderr, stdinProxy, false, (s) => {
      status = s;
      statusSeen();
    });
    // The policy gave up (timeout) while the handshake was still going: do not leave it open.
    if (policySignal.aborted) {
      socket.close();
      throw new TimeoutError(`Starting ${command[0]} in pod "${pod}" timed out.`, { target });
    }
    return socket;
  });

  const source: Readable | undefined =
    opts.stdin === undefined ? undefined : opts.stdin instanceof Readable ? opts.stdin : Readable.from([Buffer.from(opts.stdin)]);

  return new Promise<ExecResult>((resolve, reject) => {
    let finished = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (err?: Error) => {
      if (finished) return;
      finished = true;
      if (timer) clearTimeout(timer);
      if (source && !source.readableEnded) source.destroy();
      if (err) {
        try {
          ws.close();
        } catch {}
        return reject(err);
      }
      const exitCode = status ? exitCodeFromStatus(status) : undefined;
      if (exitCode === undefined) {
        const why = status?.message ?? 'the connection closed before the command reported how it ended';
        return reject(new ExecError(`Running ${command[0]} in container "${container}" of pod "${pod}" failed: ${why}`, { target }));
      }
      resolve({ exitCode, stdout: stdout.buffer, stderr: stderr.buffer });
    };
    if (opts.timeoutMs && opts.timeoutMs > 0) {
      timer = setTimeout(
        () => finish(new TimeoutError(`${command[0]} in container "${container}" of pod "${pod}" did not finish within ${opts.timeoutMs} ms.`, { target })),
        opts.timeoutMs,
      );
    }
    ws.on('close', () => {
      // The status frame may arrive just before close; let its callback run first.
      void Promise.race([statusPromise, new Promise((r) => setTimeout(r, 20))]).then(() => finish());
    });
    ws.on('error', (err) => finish(toKubeError(err, target)));
    void statusPromise.then(() => finish());

    if (source && stdinProxy) {
      if (ws.protocol !== 'v5.channel.k8s.io') {
        return finish(
          new ExecError(
            `The API server does not support the v5.channel.k8s.io exec protocol, which Truva needs to send files (Kubernetes 1.30 or newer).`,
            { target },
          ),
        );
      }
      void (async () => {
        try {
          for await (const chunk of source) {
            if (finished) return;
            stdinProxy.write(chunk);
            if (ws.bufferedAmount > HIGH_WATER) await waitForDrain(ws);
          }
          if (!finished) stdinProxy.end();
        } catch (err) {
          finish(new ExecError(`Reading the data to send to pod "${pod}" failed: ${(err as Error).message}`, { target, cause: err }));
        }
      })();
    }
  });
}
