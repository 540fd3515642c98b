// The kubelet API that kube-apiserver calls on this node (the routes of the kubelet's
// pkg/kubelet/server/server.go that Truva and kubectl reach): /containerLogs, /exec, /attach,
// /portForward and /healthz, over HTTPS with a client certificate from the cluster CA. Errors
// are the kubelet's: plain text with its codes and messages, which kube-apiserver wraps in a
// Status. Exec and attach speak the WebSocket channel protocols straight to the client (the node
// declares ExtendWebSocketsToKubelet); SPDY, which only kubectl before 1.31 and kubectl's
// port-forward tunnel need, is refused with a message saying so.
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import { PassThrough, Writable, type Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { RuntimeError, type ExecProcess, type PodRuntime, type RuntimeExecOptions } from '../../runtime/types';
import { EXEC_PROTOCOLS, bridgeExec } from '../../streaming/execBridge';
import { forwardPorts, PORT_FORWARD_PROTOCOLS } from './portForward';

export interface KubeletServerOptions {
  cert: string;
  key: string;
  ca: string;
  runtime: PodRuntime;
  /** The pod this node runs under namespace/name. */
  findPod(namespace: string, name: string): any | undefined;
}

class KubeletError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** An error as go-restful's WriteError sends it: the message as plain text, no newline added. */
function plain(res: ServerResponse | Duplex, code: number, message: string) {
  if ('writeHead' in res) {
    res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
    res.end(message);
    return;
  }
  const body = message;
  res.end(
    `HTTP/1.1 ${code} ${code === 404 ? 'Not Found' : code === 400 ? 'Bad Request' : 'Internal Server Error'}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

const flag = (q: URLSearchParams, name: string) => ['1', 'true'].includes(q.get(name) ?? '');

/** The container's new output as an exec-shaped process, so attach reuses the exec bridge. */
function attachProcess(runtime: PodRuntime, uid: string, container: string): ExecProcess {
  const output = runtime.logs(uid, container, { follow: true, tailLines: 0 });
  const stderr = new PassThrough();
  stderr.end();
  let done: (code: number) => void = () => {};
  const exited = new Promise<number>((r) => (done = r));
  output.on('close', () => done(0));
  output.on('end', () => done(0));
  output.on('error', () => done(0));
  return {
    stdin: new Writable({ write: (_c, _e, cb) => cb() }),
    stdout: output,
    stderr,
    exited,
    kill: () => output.destroy(),
  };
}

export class KubeletServer {
  private readonly server: https.Server;
  private readonly execWss = new WebSocketServer({
    noServer: true,
    autoPong: false,
    handleProtocols: (protocols) => EXEC_PROTOCOLS.find((p) => protocols.has(p)) ?? false,
  });
  private readonly forwardWss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => PORT_FORWARD_PROTOCOLS.find((p) => protocols.has(p)) ?? false,
  });
  private readonly sockets = new Set<{ terminate(): void }>();

  constructor(private readonly options: KubeletServerOptions) {
    this.server = https.createServer(
      { cert: options.cert, key: options.key, ca: options.ca, requestCert: true, rejectUnauthorized: true },
      (req, res) => this.handle(req, res),
    );
    this.server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    return (this.server.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private route(url: URL): { kind: string; namespace: string; pod: any; container: string } {
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const [kind, namespace, name, container] = parts;
    if (!['containerLogs', 'exec', 'attach', 'portForward'].includes(kind) || !namespace || !name)
      throw new KubeletError(404, '404 page not found');
    const pod = this.options.findPod(namespace, name);
    if (!pod)
      throw new KubeletError(404, kind === 'containerLogs' ? `pod "${name}" does not exist` : 'pod does not exist');
    if (kind !== 'portForward') {
      if (!container) throw new KubeletError(400, '{"message": "Missing container name."}');
      if (!(pod.spec.containers ?? []).some((c: any) => c.name === container))
        throw new KubeletError(
          404,
          kind === 'containerLogs'
            ? `container "${container}" not found in pod "${name}"`
            : `container not found ("${container}")`,
        );
    }
    return { kind, namespace, pod, container };
  }

  private handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    if (url.pathname === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      return void res.end('ok');
    }
    try {
      const { kind, pod, container } = this.route(url);
      if (kind !== 'containerLogs') {
        throw new KubeletError(400, `${kind} needs a WebSocket upgrade (v5.channel.k8s.io or v4.channel.k8s.io)`);
      }
      this.logs(res, url.searchParams, pod, container);
    } catch (err) {
      this.fail(res, err);
    }
  }

  private fail(res: ServerResponse | Duplex, err: unknown) {
    if (err instanceof KubeletError) return plain(res, err.code, err.message);
    // The runtime's refusals carry the kubelet's own wording (e.g. "... is waiting to start: ...").
    if (err instanceof RuntimeError) return plain(res, err.reason === 'NotFound' ? 404 : 400, err.message);
    plain(res, 500, (err as Error)?.message ?? String(err));
  }

  private logs(res: ServerResponse, q: URLSearchParams, pod: any, container: string) {
    const num = (key: string) => (q.has(key) ? Number(q.get(key)) : undefined);
    const stream = this.options.runtime.logs(pod.metadata.uid, container, {
      follow: flag(q, 'follow'),
      previous: flag(q, 'previous'),
      timestamps: flag(q, 'timestamps'),
      sinceTime: q.get('sinceTime') ?? undefined,
      sinceSeconds: num('sinceSeconds'),
      tailLines: num('tailLines'),
      limitBytes: num('limitBytes'),
    });
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    stream.pipe(res);
    stream.on('error', () => res.destroy());
    res.once('close', () => stream.destroy());
    res.socket?.setTimeout(0);
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    socket.on('error', () => socket.destroy());
    try {
      const url = new URL(req.url ?? '/', 'https://kubelet');
      const { kind, pod, container } = this.route(url);
      if (kind === 'containerLogs') throw new KubeletError(400, 'containerLogs is not an upgrade');
      if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
        throw new KubeletError(
          400,
          `this node (the Truva sandbox's node agent) speaks only WebSocket for ${kind}, not ${req.headers.upgrade}: use kubectl 1.31 or later, or client-node`,
        );
      }
      const q = url.searchParams;
      const uid = pod.metadata.uid;
      if (kind === 'portForward') {
        const wanted = String(req.headers['sec-websocket-protocol'] ?? '');
        if (!PORT_FORWARD_PROTOCOLS.some((p) => wanted.split(/\s*,\s*/).includes(p))) {
          throw new KubeletError(
            400,
            'port-forward over SPDY tunnelled in WebSocket (kubectl port-forward) is not served by this node; use the v4.channel.k8s.io WebSocket protocol (client-node PortForward)',
          );
        }
        const ports = (q.getAll('port').join(',') || '').split(',').filter(Boolean).map(Number);
        if (ports.length === 0 || ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535))
          throw new KubeletError(400, 'at least one valid port is required');
        return this.forwardWss.handleUpgrade(req, socket, head, (ws) => {
          this.keep(ws);
          forwardPorts(ws, this.options.runtime, pod, ports);
        });
      }
      let proc: ExecProcess;
      let command: string[] = [];
      if (kind === 'exec') {
        command = q.getAll('command');
        if (command.length === 0) throw new KubeletError(400, 'you must specify at least 1 command');
        proc = this.execIn(uid, container, command, { tty: flag(q, 'tty') });
      } else {
        try {
          proc = attachProcess(this.options.runtime, uid, container);
        } catch {
          throw new KubeletError(500, `container not found ("${container}")`);
        }
      }
      this.execWss.handleUpgrade(req, socket, head, (ws) => {
        this.keep(ws);
        bridgeExec(ws, proc, { command, stdin: kind === 'exec' && flag(q, 'input') });
      });
    } catch (err) {
      this.fail(socket, err);
    }
  }

  /** A container that is not running is, for the kubelet, one it cannot find among the running ones. */
  private execIn(uid: string, container: string, command: string[], options: RuntimeExecOptions): ExecProcess {
    try {
      return this.options.runtime.exec(uid, container, command, options);
    } catch (err) {
      if (err instanceof RuntimeError) throw new KubeletError(500, `container not found ("${container}")`);
      throw err;
    }
  }

  private keep(ws: { terminate(): void; once(e: 'close', f: () => void): unknown }) {
    this.sockets.add(ws);
    ws.once('close', () => this.sockets.delete(ws));
  }
}
