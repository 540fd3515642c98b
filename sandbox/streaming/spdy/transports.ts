// What a SPDY connection runs over: the raw socket of a plain `Upgrade: SPDY/3.1` request, or a
// WebSocket whose binary messages carry the SPDY bytes (kubectl 1.31+'s tunnel,
// `SPDY/3.1+portforward.k8s.io`: message boundaries mean nothing, as in client-go's
// TunnelingConnection).
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { SpdyServerConnection, type FrameTransport, type SpdyServerOptions } from './connection';

/** WebSocket bytes queued past which the tunnel counts as full, and the level it must drain to. */
const WS_HIGH_WATER = 1 << 20;
const WS_LOW_WATER = 256 << 10;

/** A SPDY server connection over an upgraded socket; `head` is what the HTTP parser read past the request. */
export function spdyOverSocket(socket: Duplex, head: Buffer, options: SpdyServerOptions): SpdyServerConnection {
  const transport: FrameTransport = {
    send: (data) => socket.write(data),
    whenDrained(callback) {
      if (!socket.writableNeedDrain || socket.destroyed) return callback();
      const done = () => {
        socket.off('drain', done);
        socket.off('close', done);
        callback();
      };
      socket.on('drain', done);
      socket.on('close', done);
    },
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    close: () => socket.end(),
  };
  const connection = new SpdyServerConnection(transport, options);
  socket.on('error', () => socket.destroy());
  socket.on('close', () => connection.transportClosed());
  socket.on('data', (chunk: Buffer) => connection.receive(chunk));
  if (head.length > 0) connection.receive(head);
  return connection;
}

/** A SPDY server connection tunnelled through a WebSocket's binary messages. */
export function spdyOverWebSocket(ws: WebSocket, options: SpdyServerOptions): SpdyServerConnection {
  const transport: FrameTransport = {
    send(data) {
      if (ws.readyState === ws.OPEN) ws.send(data, { binary: true });
      return ws.bufferedAmount < WS_HIGH_WATER;
    },
    whenDrained(callback) {
      // ws has no drain event of its own: watch the amount it still holds.
      const check = () => {
        if (ws.bufferedAmount <= WS_LOW_WATER || ws.readyState !== ws.OPEN) callback();
        else setTimeout(check, 2);
      };
      check();
    },
    pause: () => ws.pause(),
    resume: () => ws.resume(),
    close: () => ws.close(1000),
  };
  const connection = new SpdyServerConnection(transport, options);
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    // client-go's tunnel fails on anything but binary messages; so does this end.
    if (!isBinary) {
      options.onProblem?.('a text message on a SPDY tunnel');
      return ws.close(1003, 'SPDY tunnel messages must be binary');
    }
    connection.receive(data);
  });
  ws.on('close', () => connection.transportClosed());
  ws.on('error', () => ws.terminate());
  return connection;
}
