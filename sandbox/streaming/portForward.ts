// pods/portforward as the kubelet serves it, for the sandbox's API server and the real control
// plane's node agent alike. Three ways in:
// - a WebSocket with the channel protocol (`v4.channel.k8s.io`, its base64 form, or no protocol):
//   what client-node and Truva use. One WebSocket per TCP connection: `?ports=` names the ports,
//   and port i gets data channel 2i and error channel 2i+1, whose first frame is the port as two
//   little-endian bytes. The server dials every port at once; a failure goes out as text on the
//   error channel; the WebSocket closes when every port's connection has ended.
// - a WebSocket with `SPDY/3.1+portforward.k8s.io`: SPDY carried in binary messages (kubectl
//   1.31+, and 1.30 with KUBECTL_PORT_FORWARD_WEBSOCKETS=true).
// - a plain `Upgrade: SPDY/3.1` with `X-Stream-Protocol-Version: portforward.k8s.io` (kubectl's
//   fallback, and every kubectl before 1.30).
// Over SPDY the client opens two streams per TCP connection, an error and a data stream sharing
// a `requestID` and naming the `port`; the server dials when both are there, relays the data
// stream, writes a failure to the error stream, and ends both when the connection is done.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { statusBody } from '../server/status';
import { refuseUpgrade } from './execBridge';
import type { SpdyServerConnection, SpdyStream } from './spdy/connection';
import { headerValue, type SpdyHeaders } from './spdy/headerBlock';
import { spdyOverSocket, spdyOverWebSocket } from './spdy/transports';

export const PORT_FORWARD_SPDY_PROTOCOL = 'portforward.k8s.io';
export const PORT_FORWARD_TUNNEL_PROTOCOL = `SPDY/3.1+${PORT_FORWARD_SPDY_PROTOCOL}`;
const V4_BINARY = 'v4.channel.k8s.io';
const V4_BASE64 = 'v4.base64.channel.k8s.io';
/** The WebSocket subprotocols served, in the order they are preferred when a client offers several. */
export const PORT_FORWARD_WS_PROTOCOLS = [PORT_FORWARD_TUNNEL_PROTOCOL, V4_BINARY, V4_BASE64];

/** How a port-forward connection was made, for logs and tests. */
export type PortForwardProtocol =
  typeof V4_BINARY | typeof V4_BASE64 | '' | typeof PORT_FORWARD_TUNNEL_PROTOCOL | 'SPDY/3.1';

/** The pod a port-forward request is for. */
export interface PortForwardTarget {
  pod: string;
  uid: string;
  /** A TCP connection to localhost:port inside the pod's network namespace, paused; rejects with the reason. */
  dial(port: number): Promise<Duplex>;
}

export interface PortForwardHooks {
  /** A connection was established with this protocol. */
  onConnection?(protocol: PortForwardProtocol, close: () => void, closed: Promise<void>): void;
}

/** How long a SPDY request may wait for its second stream (the kubelet's streamCreationTimeout). */
const STREAM_PAIR_TIMEOUT_MS = 30_000;

/** The subprotocol servePortForward chose for a request. */
const chosenProtocol = new WeakMap<IncomingMessage, string>();

/** A WebSocket server for port-forward upgrades (pass it to servePortForward). */
export function portForwardWebSocketServer(): WebSocketServer {
  return new WebSocketServer({
    noServer: true,
    // Port-forwards carry arbitrary bytes: no compression.
    perMessageDeflate: false,
    handleProtocols: (_offered, req) => chosenProtocol.get(req) ?? false,
  });
}

/** The subprotocol picked for the offered ones: the client's order, as the kubelet's wsstream picks. */
function chooseProtocol(offered: Set<string>): string | undefined {
  return [...offered].find((p) => PORT_FORWARD_WS_PROTOCOLS.includes(p));
}

/** The `ports` of a WebSocket request (repeated or comma-separated), or why they are wrong. */
export function parsePorts(query: URLSearchParams): number[] | string {
  const values = query.getAll('ports');
  if (values.length === 0) return 'query parameter "ports" is required';
  const ports: number[] = [];
  for (const value of values) {
    if (value === '') return 'query parameter "ports" cannot be empty';
    for (const part of value.split(',')) {
      if (!/^\d+$/.test(part) || Number(part) > 65535) return `unable to parse "${value}" as a port`;
      if (Number(part) < 1) return `port "${value}" must be > 0`;
      ports.push(Number(part));
    }
  }
  return ports;
}

function dialFailure(target: PortForwardTarget, port: number, err: unknown): string {
  return `error forwarding port ${port} to pod ${target.pod}, uid ${target.uid}: ${(err as Error)?.message ?? err}`;
}

/**
 * Serves one pods/portforward upgrade request: any of the three protocols. The caller has
 * authenticated and authorised it and found the pod. What cannot be served is answered with an
 * HTTP error, as the kubelet does.
 */
export function servePortForward(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  wss: WebSocketServer,
  target: PortForwardTarget,
  hooks: PortForwardHooks = {},
): void {
  const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
  const status = (code: number, reason: string, message: string) =>
    refuseUpgrade(socket, code, reason, statusBody(code, reason, message));
  if (upgrade === 'websocket') {
    const offered = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    const protocol = offered.length === 0 ? '' : chooseProtocol(new Set(offered));
    if (protocol === undefined)
      return status(
        400,
        'BadRequest',
        `unable to upgrade: requested protocol(s) are not supported: [${offered.join(' ')}]; supports [${PORT_FORWARD_WS_PROTOCOLS.join(' ')}]`,
      );
    let ports: number[] = [];
    if (protocol !== PORT_FORWARD_TUNNEL_PROTOCOL) {
      const parsed = parsePorts(new URL(req.url ?? '/', 'https://sandbox').searchParams);
      if (typeof parsed === 'string') return status(400, 'BadRequest', parsed);
      ports = parsed;
    }
    // ws refuses "SPDY/3.1+portforward.k8s.io" as a subprotocol ("/" is not a token character in
    // RFC 6455) where the kubelet's gorilla/websocket takes it: the choice is made above, and ws
    // only sees a placeholder it can parse.
    if (protocol) {
      chosenProtocol.set(req, protocol);
      req.headers['sec-websocket-protocol'] = 'chosen';
    } else delete req.headers['sec-websocket-protocol'];
    wss.handleUpgrade(req, socket, head, (ws) => {
      const closed = new Promise<void>((r) => ws.once('close', () => r()));
      hooks.onConnection?.(protocol as PortForwardProtocol, () => ws.terminate(), closed);
      if (protocol === PORT_FORWARD_TUNNEL_PROTOCOL) serveSpdy(spdyOverWebSocket, ws, target);
      else serveChannels(ws, ports, target, protocol === V4_BASE64);
    });
    return;
  }
  if (upgrade.includes('spdy/3.1')) {
    const offered = String(req.headers['x-stream-protocol-version'] ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    if (offered.length === 0)
      return status(400, 'BadRequest', 'unable to upgrade: header X-Stream-Protocol-Version does not exist in request');
    if (!offered.includes(PORT_FORWARD_SPDY_PROTOCOL))
      return status(
        403,
        'Forbidden',
        `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${PORT_FORWARD_SPDY_PROTOCOL}]`,
      );
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' +
        `X-Stream-Protocol-Version: ${PORT_FORWARD_SPDY_PROTOCOL}\r\nDate: ${new Date().toUTCString()}\r\n\r\n`,
    );
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    hooks.onConnection?.('SPDY/3.1', () => socket.destroy(), closed);
    serveSpdy((s, options) => spdyOverSocket(s, head, options), socket, target);
    return;
  }
  status(400, 'BadRequest', 'Upgrade request required');
}

// ---------------------------------------------------------------------------------------------
// The WebSocket channel protocol

function serveChannels(ws: WebSocket, ports: number[], target: PortForwardTarget, base64: boolean): void {
  const send = (channel: number, data: Buffer) => {
    if (ws.readyState !== ws.OPEN) return;
    if (base64) ws.send(String.fromCharCode(48 + channel) + data.toString('base64'));
    else ws.send(Buffer.concat([Buffer.from([channel]), data]));
  };
  const sockets: (Duplex | undefined)[] = ports.map(() => undefined);
  /** Data that arrived before its port's connection was up. */
  const early: Buffer[][] = ports.map(() => []);
  const port2 = (port: number) => {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(port);
    return b;
  };
  ports.forEach((port, i) => {
    send(2 * i, port2(port));
    send(2 * i + 1, port2(port));
  });
  let remaining = ports.length;
  const portDone = () => {
    if (--remaining === 0 && ws.readyState === ws.OPEN) ws.close(1000);
  };
  ports.forEach((port, i) => {
    target.dial(port).then(
      (socket) => {
        if (ws.readyState !== ws.OPEN) return void socket.destroy();
        sockets[i] = socket;
        for (const chunk of early[i].splice(0)) socket.write(chunk);
        socket.on('data', (chunk: Buffer) => {
          send(2 * i, chunk);
          // The client reads slower than the pod writes: hold the pod until the socket drains.
          if (ws.bufferedAmount > 1 << 20) {
            socket.pause();
            const check = () =>
              ws.bufferedAmount < 256 << 10 || ws.readyState !== ws.OPEN ? socket.resume() : setTimeout(check, 2);
            check();
          }
        });
        // The channel protocol has no half-close: the pod's end ends the connection.
        socket.on('end', () => socket.end());
        socket.on('error', (err) => send(2 * i + 1, Buffer.from(dialFailure(target, port, err))));
        socket.once('close', portDone);
        socket.resume();
      },
      (err) => {
        send(2 * i + 1, Buffer.from(dialFailure(target, port, err)));
        portDone();
      },
    );
  });
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    let frame = data;
    if (!isBinary) {
      const text = data.toString();
      frame = Buffer.concat([Buffer.from([text.charCodeAt(0) - 48]), Buffer.from(text.slice(1), 'base64')]);
    }
    const channel = frame[0];
    // Only data channels are readable; bytes on an error channel are the client's mistake, ignored.
    if (frame.length < 2 || channel % 2 !== 0 || channel / 2 >= ports.length) return;
    const i = channel / 2;
    const payload = frame.subarray(1);
    const socket = sockets[i];
    if (!socket) early[i].push(payload);
    else if (!socket.write(payload)) {
      ws.pause();
      socket.once('drain', () => ws.resume());
    }
  });
  ws.on('close', () => {
    for (const socket of sockets) socket?.destroy();
  });
  ws.on('error', () => ws.terminate());
}

// ---------------------------------------------------------------------------------------------
// SPDY (plain or tunnelled)

interface StreamPair {
  port: number;
  data?: SpdyStream;
  error?: SpdyStream;
  timer: NodeJS.Timeout;
}

/** Why the kubelet would refuse a new stream, or undefined. */
function streamProblem(headers: SpdyHeaders): string | undefined {
  const port = headerValue(headers, 'port');
  if (!port) return '"port" header is required';
  if (!/^\d+$/.test(port) || Number(port) > 65535) return `unable to parse "${port}" as a port`;
  if (Number(port) < 1) return `port "${port}" must be > 0`;
  const type = headerValue(headers, 'streamtype');
  if (!type) return '"streamType" header is required';
  if (type !== 'error' && type !== 'data') return `invalid stream type "${type}"`;
  return undefined;
}

function serveSpdy<T>(
  open: (transport: T, options: Parameters<typeof spdyOverSocket>[2]) => SpdyServerConnection,
  transport: T,
  target: PortForwardTarget,
): void {
  const pairs = new Map<string, StreamPair>();
  let connection: SpdyServerConnection | undefined = undefined;
  connection = open(transport, {
    accept: (headers) => streamProblem(headers),
    onStream(stream) {
      const type = headerValue(stream.headers, 'streamtype') as 'data' | 'error';
      // Clients before request IDs sent the error stream, then the data stream, with consecutive ids.
      const requestId =
        headerValue(stream.headers, 'requestid') ?? String(type === 'error' ? stream.id : stream.id - 2);
      let pair = pairs.get(requestId);
      if (!pair) {
        pair = {
          port: Number(headerValue(stream.headers, 'port')),
          timer: setTimeout(() => {
            pairs.delete(requestId);
            if (pair?.error) {
              pair.error.write(Buffer.from('timed out waiting for streams'));
              pair.error.end();
            }
            pair?.data?.reset();
          }, STREAM_PAIR_TIMEOUT_MS),
        };
        pairs.set(requestId, pair);
      }
      if (pair[type]) {
        stream.reset();
        return;
      }
      pair[type] = stream;
      if (pair.data && pair.error) {
        clearTimeout(pair.timer);
        pairs.delete(requestId);
        forwardPair(connection!, pair as Required<StreamPair>, target);
      }
    },
  });
  connection.onClosed(() => {
    for (const pair of pairs.values()) clearTimeout(pair.timer);
    pairs.clear();
  });
}

/** Relays one TCP connection over its data stream; reports a failure on the error stream. */
function forwardPair(connection: SpdyServerConnection, pair: Required<StreamPair>, target: PortForwardTarget): void {
  const { data, error, port } = pair;
  const finish = (problem?: string) => {
    if (problem && !error.localEnded) error.write(Buffer.from(problem));
    data.end();
    error.end();
  };
  if (data.isReset) return finish();
  // The client sends as soon as its streams exist: hold what comes before the pod is dialled.
  let socket: Duplex | undefined;
  const early: Buffer[] = [];
  let earlyEnd = false;
  let release: (() => void) | undefined;
  data.on('data', (chunk: Buffer) => {
    if (!socket) return void early.push(chunk);
    if (!socket.write(chunk) && !release) {
      release = connection.holdReceiving();
      socket.once('drain', () => {
        release?.();
        release = undefined;
      });
    }
  });
  // The client's FIN: the pod sees end of input, and may still answer.
  data.on('end', () => (socket ? socket.end() : (earlyEnd = true)));
  data.on('reset', () => socket?.destroy());
  target.dial(port).then(
    (pod) => {
      if (data.isReset || connection.isClosed) return void pod.destroy();
      socket = pod;
      for (const chunk of early.splice(0)) pod.write(chunk);
      if (earlyEnd) pod.end();
      pod.on('data', (chunk: Buffer) => {
        if (!data.write(chunk)) {
          pod.pause();
          connection.whenDrained(() => pod.resume());
        }
      });
      pod.on('end', () => data.end());
      let failure: string | undefined;
      pod.on('error', (err) => (failure = dialFailure(target, port, err)));
      pod.once('close', () => {
        release?.();
        finish(failure);
      });
      pod.resume();
    },
    (err) => finish(dialFailure(target, port, err)),
  );
}
