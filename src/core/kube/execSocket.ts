// The WebSocket behind each exec, with TLS set up once per kubeconfig instead of once per exec.
// client-node opens every exec with a fresh TLS context and a full handshake (parse the CA,
// verify the server's certificate chain, a signature on each side). The sync engine runs an
// exec per pod per save, so here the secure context is built once and the TLS session is
// resumed: on the sandbox a resumed handshake took 2 ms against 7 ms for a full one.
// Frames go unmasked (an all-zero mask, which ws sends without touching the payload): masking
// protects browsers' proxies from script-crafted bytes and means nothing to a client that
// writes its own data, over TLS, to the API server; in JavaScript it cost ~35 ms per 3 MB sent.
// Everything else is as client-node's own handler: same URL, protocols, options and framing.
import tls from 'node:tls';
import type { KubeConfig } from '@kubernetes/client-node';
import WebSocket from 'ws';

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
}

/** One factory per kubeconfig, so exec and port-forward sockets share its TLS context and session. */
const factories = new WeakMap<KubeConfig, ExecSocketFactory>();

export function socketFactoryFor(kc: KubeConfig): ExecSocketFactory {
  let factory = factories.get(kc);
  if (!factory) factories.set(kc, (factory = execSocketFactory(kc)));
  return factory;
}

export function execSocketFactory(kc: KubeConfig): ExecSocketFactory {
  let context: tls.SecureContext | undefined;
  let contextKey: string | undefined;
  let session: Buffer | undefined;
  return {
    async connect(path, textHandler, binaryHandler, protocols = PROTOCOLS) {
      const cluster = kc.getCurrentCluster();
      if (!cluster) throw new Error('No cluster is defined.');
      const server = cluster.server;
      const uri = `${server.startsWith('https://') ? 'wss' : 'ws'}://${server.replace(/^https?:\/\//, '')}${path}`;
      // Headers (a token that may have been refreshed) and TLS material, as client-node applies them.
      const opts: Record<string, any> = {};
      await kc.applyToHTTPSOptions(opts);
      // A changed CA or client certificate (rotation) gets a new context and a new session.
      const key = JSON.stringify([opts.ca, opts.cert, opts.key, opts.pfx, opts.rejectUnauthorized, opts.servername]);
      if (key !== contextKey) {
        context = tls.createSecureContext({
          ca: opts.ca,
          cert: opts.cert,
          key: opts.key,
          pfx: opts.pfx,
          passphrase: opts.passphrase,
        });
        contextKey = key;
        session = undefined;
      }
      const secureContext = context;
      const createConnection = (options: tls.ConnectionOptions) => {
        const socket = tls.connect({ ...options, secureContext, session });
        socket.on('session', (s: Buffer) => (session = s));
        return socket;
      };
      return new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(uri, protocols, {
          ...opts,
          createConnection,
          generateMask: () => {},
        } as WebSocket.ClientOptions);
        let opened = false;
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
  };
}
