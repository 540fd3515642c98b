// The WebSocket behind each exec, over one agent per kubeconfig instead of a fresh one per exec.
// client-node opens every exec through a new agent from applyToHTTPSOptions, so each one pays a
// full TLS handshake (verify the server's certificate chain, a signature on each side) and
// parses the CA again; the agent here (warmAgent.ts) resumes TLS sessions and has a connection
// open before the exec asks for one.
//
// An agent is the only way in: ws ignores a `createConnection` next to an `agent` (an earlier
// version passed one, and it was never called), and client-node's agent cannot simply be
// dropped, because with a kubeconfig `proxy-url` it is the proxy (HTTP CONNECT, HTTPS or SOCKS).
// So with a proxy the first proxy agent client-node makes is kept instead; its HTTPS kind hands
// its TLS sessions to https.Agent too, so they are resumed through the proxy as well.
// Frames go unmasked (an all-zero mask, which ws sends without touching the payload): masking
// protects browsers' proxies from script-crafted bytes and means nothing to a client that
// writes its own data, over TLS, to the API server; in JavaScript it cost ~35 ms per 3 MB sent.
// Everything else is as client-node's own handler: same URL, protocols, options and framing.
import type { Agent } from 'node:http';
import type { AgentOptions } from 'node:https';
import tls from 'node:tls';
import type { KubeConfig } from '@kubernetes/client-node';
import WebSocket from 'ws';
import { WarmAgent } from './warmAgent';

/** The exec protocols client-node offers, newest first (v5 adds close-stdin, which we need). */
const PROTOCOLS = [
  'v5.channel.k8s.io',
  'v4.channel.k8s.io',
  'v3.channel.k8s.io',
  'v2.channel.k8s.io',
  'channel.k8s.io',
];

type BinaryHandler = (stream: number, buff: Buffer) => boolean;

/** client-node's WebSocketInterface (not exported by the package), for `new Exec(kc, handler)`. */
export interface ExecSocketFactory {
  /** `protocols` defaults to the exec ones; pods/portforward offers its own. */
  connect(
    path: string,
    textHandler: ((text: string) => boolean) | null,
    binaryHandler: BinaryHandler | null,
    protocols?: string[],
  ): Promise<WebSocket>;
  /** Closes the connections kept open for later execs (open execs go on). */
  dispose(): void;
}

/**
 * How long after an exec's upgrade the next exec's connection is opened. Its TLS handshake costs
 * CPU on both sides, and opened at the upgrade itself it held up the exec's own answer (a short
 * command's status comes within a few ms): `exec true` to the sandbox took 7.7-9.6 ms that way
 * and 7.8-8.0 ms with the spare opened 5 ms later. On a remote cluster the spare's two round
 * trips (TCP, then TLS) take far longer than these 5 ms.
 */
const WARM_AFTER_MS = 5;

/** An agent whose TLS connections share one secure context, resume sessions and are opened ahead. */
function warmAgent(opts: Record<string, any>): WarmAgent {
  const options: AgentOptions = {
    secureContext: tls.createSecureContext({
      ca: opts.ca,
      cert: opts.cert,
      key: opts.key,
      pfx: opts.pfx,
      passphrase: opts.passphrase,
    }),
  };
  // Only what is set: the agent's options override the request's, and an undefined servername
  // would drop the SNI that ws derives from the host.
  if (opts.servername !== undefined) options.servername = opts.servername;
  if (opts.rejectUnauthorized !== undefined) options.rejectUnauthorized = opts.rejectUnauthorized;
  return new WarmAgent(options);
}

/** One factory per kubeconfig for port-forwards, so they share one agent: its TLS context, sessions and spare connections. */
const factories = new WeakMap<KubeConfig, ExecSocketFactory>();

export function socketFactoryFor(kc: KubeConfig): ExecSocketFactory {
  let factory = factories.get(kc);
  if (!factory) factories.set(kc, (factory = execSocketFactory(kc)));
  return factory;
}

export function execSocketFactory(kc: KubeConfig): ExecSocketFactory {
  let agent: Agent | undefined;
  let agentKey: string | undefined;
  return {
    async connect(path, textHandler, binaryHandler, protocols = PROTOCOLS) {
      const cluster = kc.getCurrentCluster();
      if (!cluster) throw new Error('No cluster is defined.');
      const server = cluster.server;
      const uri = `${server.startsWith('https://') ? 'wss' : 'ws'}://${server.replace(/^https?:\/\//, '')}${path}`;
      // Headers (a token that may have been refreshed) and TLS material, as client-node applies them.
      const opts: Record<string, any> = {};
      await kc.applyToHTTPSOptions(opts);
      // A changed CA or client certificate (rotation), server or proxy gets a new agent, and new sessions.
      const key = JSON.stringify([
        server,
        cluster.proxyUrl,
        opts.ca,
        opts.cert,
        opts.key,
        opts.pfx,
        opts.rejectUnauthorized,
        opts.servername,
      ]);
      if (key !== agentKey || !agent) {
        // The agent it replaces is left to go: destroying it would end the execs still open on it.
        agent = cluster.proxyUrl || !server.startsWith('https://') ? opts.agent : warmAgent(opts);
        agentKey = key;
      }
      opts.agent = agent;
      return new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(uri, protocols, { ...opts, generateMask: () => {} } as WebSocket.ClientOptions);
        let opened = false;
        // The server took the exec and runs its command: soon after is a good moment to open the
        // next one's connection (see WARM_AFTER_MS).
        const warming = agent;
        ws.once('upgrade', () => {
          if (warming instanceof WarmAgent) setTimeout(() => warming.warm(), WARM_AFTER_MS).unref();
        });
        ws.on('open', () => {
          opened = true;
          resolve(ws);
        });
        ws.on('error', (err) => {
          if (!opened) reject(err);
        });
        ws.on('message', (data: Buffer, isBinary: boolean) => {
          if (!isBinary) {
            if (textHandler && !textHandler(data.toString())) ws.close();
            return;
          }
          if (binaryHandler && !binaryHandler(data.readUint8(0), data.subarray(1))) ws.close();
        });
      });
    },
    dispose() {
      if (agent instanceof WarmAgent) agent.closeSpares();
      agent = undefined;
    },
  };
}
