// One TCP connection to a port in a pod, through the API's pods/portforward WebSocket with the
// channel protocol (`v4.channel.k8s.io`, what client-node and kubectl's non-SPDY path use; every
// API server proxies it to the kubelet, 1.30+ straight through when the node declares
// ExtendWebSocketsToKubelet): one WebSocket per connection, data on channel 0 and errors on
// channel 1, each channel's first two bytes the port (little-endian). The kubelet dials the pod
// when the WebSocket opens and reports a failure as text on the error channel, then closes.
// The protocol has no half-close, so ending the writable side sends nothing: the connection ends
// when the pod closes it or when it is destroyed.
// Servers that only take SPDY for port-forward (an API proxy that does not pass WebSocket
// upgrades on) refuse the upgrade with an HTTP error; that becomes a KubeError saying so.
import type { KubeConfig } from '@kubernetes/client-node';
import { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import { socketFactoryFor } from '../kube/execSocket';

export const PORT_FORWARD_PROTOCOL = 'v4.channel.k8s.io';

/** Why a pod connection failed, from the kubelet's error text or the WebSocket's end. */
export type PodPortFailure =
  /** Nothing listens on the port in the pod (yet): the app is starting or restarting. */
  | 'refused'
  /** The pod is gone or not running. */
  | 'gone'
  /** The WebSocket to the API server broke off. */
  | 'lost'
  | 'failed';

export class PodPortError extends Error {
  override name = 'PodPortError';
  constructor(
    message: string,
    readonly failure: PodPortFailure,
  ) {
    super(message);
  }
}

export function classifyPortForwardError(text: string): PodPortFailure {
  if (/connection refused|failed to connect|connect: /i.test(text)) return 'refused';
  if (/not running|not found|no network namespace|being deleted|no such (pod|container)/i.test(text)) return 'gone';
  return 'failed';
}

/** Socket bytes queued before a write waits, and the level it waits for. */
const HIGH_WATER = 1 << 20;
const LOW_WATER = 256 << 10;
/** Close codes of a WebSocket the server ended on purpose (Go's x/net/websocket sends no status: 1005). */
const NORMAL_CLOSE = new Set([1000, 1005]);

/** Reads the channel protocol for one port: strips the port prefix of each channel, collects the error text. */
export class PortForwardChannels {
  private prefixLeft = [2, 2];
  private errorText = '';

  constructor(
    private readonly onData: (data: Buffer) => void,
    private readonly onErrorText?: (text: string) => void,
  ) {}

  /** Hands one WebSocket message (channel byte stripped) to the right place. */
  accept(channel: number, payload: Buffer): void {
    if (channel > 1) return; // only one port per connection: other channels carry nothing for us
    let data = payload;
    if (this.prefixLeft[channel] > 0) {
      const skip = Math.min(this.prefixLeft[channel], data.length);
      this.prefixLeft[channel] -= skip;
      data = data.subarray(skip);
    }
    if (data.length === 0) return;
    if (channel === 0) this.onData(data);
    else {
      this.errorText += data.toString('utf8');
      this.onErrorText?.(this.errorText);
    }
  }

  get error(): string {
    return this.errorText;
  }
}

/** A connection to a port in a pod, as a Duplex; it fails with PodPortError. */
export class PodPortStream extends Duplex {
  private ws?: WebSocket;
  private readonly channels = new PortForwardChannels((data) => {
    if (!this.push(data)) this.ws?.pause();
  });

  constructor(readonly pod: string) {
    // The readable side outlives our writes: the pod may still answer after we are done.
    super({ allowHalfOpen: true });
  }

  /** @internal The WebSocket's messages, channel byte split off. */
  receive(channel: number, payload: Buffer): boolean {
    this.channels.accept(channel, payload);
    return true;
  }

  /** @internal */
  attach(ws: WebSocket): void {
    this.ws = ws;
    ws.once('close', (code: number) => {
      if (this.destroyed) return;
      const text = this.channels.error;
      if (text) this.destroy(new PodPortError(text, classifyPortForwardError(text)));
      else if (!NORMAL_CLOSE.has(code))
        this.destroy(new PodPortError(`The connection to pod "${this.pod}" broke off (WebSocket ${code}).`, 'lost'));
      else this.push(null);
    });
    ws.on('error', () => ws.terminate());
  }

  override _read(): void {
    if (this.ws?.isPaused) this.ws.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== ws.OPEN) return callback();
    ws.send(Buffer.concat([Buffer.from([0]), chunk]));
    if (ws.bufferedAmount <= HIGH_WATER) return callback();
    const check = () =>
      ws.bufferedAmount <= LOW_WATER || ws.readyState !== ws.OPEN ? callback() : setTimeout(check, 2);
    check();
  }

  override _final(callback: () => void): void {
    callback(); // nothing to send: the channel protocol cannot say "no more input"
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const ws = this.ws;
    if (ws && (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING)) ws.close(1000);
    callback(error);
  }
}

/** Opens the WebSocket for one connection to `port` in `pod`; rejects as the upgrade failed (404, 403...). */
export async function openPodPort(
  kc: KubeConfig,
  target: { namespace: string; pod: string; port: number },
): Promise<PodPortStream> {
  const stream = new PodPortStream(target.pod);
  const path = `/api/v1/namespaces/${encodeURIComponent(target.namespace)}/pods/${encodeURIComponent(target.pod)}/portforward?ports=${target.port}`;
  const ws = await socketFactoryFor(kc).connect(path, null, (channel, payload) => stream.receive(channel, payload), [
    PORT_FORWARD_PROTOCOL,
  ]);
  stream.attach(ws);
  return stream;
}
