// The https.Agent behind Truva's execs (see execSocket.ts). Two things make an exec's connection
// cheap:
// - One secure context for all of them (the CA is parsed once), and TLS sessions resumed: Node's
//   https.Agent keeps the sessions it was given and offers them again, so the server signs
//   nothing and the client verifies no certificate chain.
// - A connection opened ahead of time. Each exec consumes its connection (it becomes the
//   WebSocket), so without one ready every exec first waits for a TCP and a TLS handshake: two
//   round trips, which on a remote cluster are most of a restart after a save. warm() opens a
//   spare while an exec's command runs (the API server has answered the upgrade and is waiting
//   for the command, the client is waiting for its status), and the next exec takes it. A spare
//   is used only while young: the API server closes a connection that sends no request within
//   32 s (ReadHeaderTimeout in k8s.io/apiserver's secure serving), and proxies and load balancers
//   may do so sooner.
import https from 'node:https';
import type tls from 'node:tls';

export interface WarmOptions {
  /** Spares kept at most (parallel execs: one per pod restarting). */
  spares: number;
  /** How long a spare may wait unused. */
  maxAgeMs: number;
}

const WARM: WarmOptions = { spares: 4, maxAgeMs: 15_000 };

type ConnectOptions = tls.ConnectionOptions & { _agentKey?: string };

interface Spare {
  socket: tls.TLSSocket;
  key?: string;
  born: number;
  /** Stops watching the spare (it is taken, or gone). */
  release(): void;
}

/**
 * https.Agent's own createConnection (it resumes a kept session and keeps the new one), without
 * Nagle's algorithm: a request written on a connection that has been open a while was held back
 * about 11 ms until the server acknowledged the end of the handshake (measured on the sandbox).
 */
const connect = (agent: https.Agent, options: ConnectOptions) =>
  (https.Agent.prototype as unknown as { createConnection(o: ConnectOptions): tls.TLSSocket }).createConnection
    .call(agent, options)
    .setNoDelay(true);

export class WarmAgent extends https.Agent {
  private spares: Spare[] = [];
  private lastOptions?: ConnectOptions;
  private closed = false;

  constructor(
    options: https.AgentOptions,
    private readonly warmth: WarmOptions = WARM,
  ) {
    super(options);
  }

  override createConnection(options: ConnectOptions): tls.TLSSocket {
    this.lastOptions = options;
    while (this.spares.length) {
      const spare = this.spares.shift()!;
      spare.release();
      const fresh = Date.now() - spare.born < this.warmth.maxAgeMs;
      if (fresh && spare.key === options._agentKey && spare.socket.writable && !spare.socket.destroyed)
        return spare.socket.ref();
      spare.socket.destroy();
    }
    return connect(this, options);
  }

  /** Opens a spare connection for the next exec (the last one's server, TLS options and session). */
  warm(): void {
    const options = this.lastOptions;
    if (this.closed || !options || this.spares.length >= this.warmth.spares) return;
    const socket = connect(this, { ...options });
    socket.unref(); // a spare keeps no process alive
    const gone = () => {
      spare.release();
      this.spares = this.spares.filter((s) => s !== spare);
      socket.destroy();
    };
    const timer = setTimeout(gone, this.warmth.maxAgeMs).unref();
    const spare: Spare = {
      socket,
      key: options._agentKey,
      born: Date.now(),
      release: () => {
        clearTimeout(timer);
        socket.off('error', gone).off('close', gone).off('end', gone);
      },
    };
    socket.on('error', gone).on('close', gone).on('end', gone);
    this.spares.push(spare);
  }

  /** Closes the spares and opens no more; connections in use (open execs) are left alone. */
  closeSpares(): void {
    this.closed = true;
    for (const spare of this.spares.splice(0)) {
      spare.release();
      spare.socket.destroy();
    }
  }
}
