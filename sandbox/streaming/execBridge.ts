// The exec stream protocol between a WebSocket client and a process of the pod runtime, as the
// kubelet serves it: the sandbox's API server and (on the real control plane) the node agent
// both hand their upgraded exec connections to bridgeExec.
// Channels: 0 stdin, 1 stdout, 2 stderr, 3 the final Status, 4 resize (applied to a TTY exec's
// terminal); v5 adds 255 = close stdin.
import type { Duplex, Readable } from 'node:stream';
import type { WebSocket } from 'ws';
import type { ExecProcess } from '../runtime/types';

/** The exec protocols served, newest first. */
export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

export interface BridgeOptions {
  command: string[];
  /** The client asked for stdin (`stdin=true` / `input=1`). */
  stdin: boolean;
  /** Where the bridge registers its "go silent" switch (the silenceExecs fault). */
  silencers?: Set<() => void>;
  /** Stdin bytes held on the way into the process before the connection is read no further (default 16 MiB). */
  pipelineBytes?: number;
}

/** The Status the kubelet sends on channel 3 when the command ended with `code`. */
export function exitStatus(command: string[], code: number) {
  return code === 0
    ? { metadata: {}, status: 'Success' }
    : {
        metadata: {},
        status: 'Failure',
        message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${code}`,
        reason: 'NonZeroExitCode',
        details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
      };
}

export function bridgeExec(ws: WebSocket, proc: ExecProcess, opts: BridgeOptions): void {
  const v5 = ws.protocol === 'v5.channel.k8s.io';
  if (!opts.stdin) proc.stdin.end();
  proc.stdin.on('error', () => {});
  let silent = false; // silenceExecs: nothing passes either way, nothing closes
  const silence = () => (silent = true);
  opts.silencers?.add(silence);
  ws.once('close', () => opts.silencers?.delete(silence));
  const frame = (channel: number, data: Buffer) => silent || ws.send(Buffer.concat([Buffer.from([channel]), data]));
  proc.stdout.on('data', (d: Buffer) => frame(1, d));
  proc.stderr.on('data', (d: Buffer) => frame(2, d));
  // Between a real API server's WebSocket and the container's stdin sit its connection to the
  // kubelet and the kubelet's to the runtime, each with buffers of their own: several MB.
  const pipeline = opts.pipelineBytes ?? 16 << 20;
  let waitingForDrain = false;
  const resume = () => {
    if (!waitingForDrain || proc.stdin.writableLength > pipeline) return;
    waitingForDrain = false;
    ws.resume();
  };
  proc.stdin.on('drain', resume);
  proc.stdin.once('close', resume);
  ws.on('ping', (data: Buffer) => silent || ws.pong(data)); // a silent connection answers no ping either
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (silent) return;
    const buf = isBinary ? data : Buffer.from(data.toString(), 'utf8');
    if (buf.length === 0) return;
    if (buf[0] === 0 && opts.stdin) {
      // As the API server and kubelet: stdin is copied into the process under back-pressure,
      // and the connection's frames, pings included, are read no further until the process
      // has taken what came before. A slow reader therefore delays the answer to a ping.
      proc.stdin.write(buf.subarray(1));
      if (proc.stdin.writableLength > pipeline && !waitingForDrain) {
        waitingForDrain = true;
        ws.pause();
      }
    } else if (buf[0] === 4) applyResize(proc, buf.subarray(1));
    else if (v5 && buf[0] === 255 && buf[1] === 0) proc.stdin.end();
  });
  const ended = (s: Readable) =>
    new Promise<void>((r) => (s.readableEnded || s.destroyed ? r() : s.once('close', () => r())));
  let finished = false;
  ws.on('close', () => {
    if (!finished) proc.kill('SIGKILL');
  });
  void proc.exited.then(async (code) => {
    await Promise.all([ended(proc.stdout), ended(proc.stderr)]);
    finished = true;
    if (ws.readyState === ws.OPEN) {
      frame(3, Buffer.from(JSON.stringify(exitStatus(opts.command, code))));
      ws.close(1000);
    }
  });
}

/**
 * Channel 4 carries the terminal size as JSON: kubectl writes {"Width":W,"Height":H}, client-node
 * {"width":W,"height":H}; the kubelet's Go decoder matches field names case-insensitively, so both work.
 */
export function parseTerminalSize(text: string): { width: number; height: number } | undefined {
  try {
    const raw = JSON.parse(text) as Record<string, unknown>;
    const field = (name: string) => Object.entries(raw).find(([k]) => k.toLowerCase() === name)?.[1];
    const width = Number(field('width'));
    const height = Number(field('height'));
    return Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0
      ? { width, height }
      : undefined;
  } catch {
    return undefined;
  }
}

function applyResize(proc: ExecProcess, payload: Buffer): void {
  const size = parseTerminalSize(payload.toString('utf8'));
  if (size) proc.resize?.(size.width, size.height);
}

/** Answers an upgrade request with an HTTP error carrying a Status body, as a refused upgrade does. */
export function refuseUpgrade(socket: Duplex, code: number, reason: string, status: unknown): void {
  const body = JSON.stringify(status);
  socket.end(
    `HTTP/1.1 ${code} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * The Status a 1.30+ API server sends on channel 3 when the node refused the exec: it upgrades
 * the client's WebSocket first, then dials the kubelet, so a node-side failure (the container
 * is not running, the pod is gone from the node) arrives after the upgrade as an InternalError.
 */
export function internalErrorStatus(cause: string) {
  return {
    metadata: {},
    status: 'Failure',
    message: `Internal error occurred: ${cause}`,
    reason: 'InternalError',
    details: { causes: [{ message: cause }] },
    code: 500,
  };
}

/** Ends an upgraded exec with that Status, as the API server's stream translator does. */
export function failAfterUpgrade(ws: WebSocket, cause: string): void {
  ws.send(Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify(internalErrorStatus(cause)))]));
  ws.close(1000);
}
