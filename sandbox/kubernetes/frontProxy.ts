// The TLS front door of the real control plane: the tests' kubeconfig points here, and every
// request goes on to kube-apiserver unchanged (bodies piped, upgraded connections such as exec
// piped raw, so WebSocket frames, pings and the final Status are the real server's). It is
// where the network faults happen: latency, hangs, failed requests, lost answers, dropped
// streams, failed and silenced execs, and the admin endpoint that sets them
// (/truva-admin/faults, its own token).
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { Faults } from '../server/faults';
import { statusBody } from '../server/status';
import { OpenStreams } from '../server/openStreams';

export interface FrontProxyOptions {
  /** Serving certificate for 127.0.0.1 (clients verify it against the cluster CA). */
  cert: string;
  key: string;
  upstream: { url: string; ca: string };
  faultsToken: string;
  /** Kills a pod's container (the node agent does it): the one fault that is not about the network. */
  killContainer(namespace: string, pod: string, container: string): void;
}

const REASONS: Record<number, string> = {
  409: 'Conflict',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
};

// Hop-by-hop headers (RFC 9110 7.6.1) belong to one connection and are not forwarded.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A request that stays open: a watch, a followed log, or an upgraded connection. */
function isStream(url: URL): boolean {
  const q = url.searchParams;
  return ['true', '1'].includes(q.get('watch') ?? '') || (url.pathname.endsWith('/log') && q.get('follow') === 'true');
}

const isExec = (path: string) => /\/pods\/[^/]+\/(exec|attach)$/.test(path);
/** The pod a /api/v1/namespaces/NS/pods/POD/... path names. */
const podOf = (path: string) => /\/pods\/([^/]+)\//.exec(path)?.[1] ?? '';

export class FrontProxy {
  readonly faults: Faults;
  private readonly server: https.Server;
  private readonly agent: https.Agent;
  private readonly upstream: URL;
  private readonly streams = new OpenStreams();
  private readonly execSilencers = new Set<() => void>();

  constructor(private readonly options: FrontProxyOptions) {
    this.upstream = new URL(options.upstream.url);
    this.agent = new https.Agent({ keepAlive: true, ca: options.upstream.ca, maxFreeSockets: 32 });
    this.faults = new Faults(
      {
        closeStreams: () => this.closeStreams(),
        silenceExecs: () => {
          const n = this.execSilencers.size;
          for (const silence of this.execSilencers) silence();
          this.execSilencers.clear();
          return n;
        },
        killContainer: (namespace, pod, container) => options.killContainer(namespace, pod, container),
      },
      // Admission and the exec handler are kube-apiserver's own here.
      ['podAdmission', 'mutateTemplates', 'failExec afterUpgrade'],
    );
    this.server = https.createServer(
      { cert: options.cert, key: options.key },
      (req, res) => void this.handle(req, res),
    );
    this.server.on('upgrade', (req, socket, head) => void this.upgrade(req, socket, head));
    this.server.keepAliveTimeout = 30_000;
  }

  async listen(port = 0): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    return `https://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  async close(): Promise<void> {
    this.closeStreams();
    this.server.closeAllConnections();
    this.agent.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  closeStreams(): number {
    return this.streams.closeAll();
  }

  /** Latency, hang and failure rules; returns the status to fail with, if any. */
  private async injected(method: string, path: string): Promise<number | undefined> {
    const delay = this.faults.delayFor(path);
    if (delay > 0) await sleep(delay);
    return this.faults.failureFor(method, path);
  }

  private sendStatus(res: http.ServerResponse, code: number, message: string) {
    const reason = REASONS[code] ?? 'InternalError';
    const text = JSON.stringify(statusBody(code, reason, message));
    res.writeHead(code, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text),
      ...(code === 429 ? { 'Retry-After': '1' } : {}),
    });
    res.end(text);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', 'https://proxy');
    const path = url.pathname;
    if (path === '/truva-admin/faults') return this.admin(req, res);
    const failure = await this.injected(req.method ?? 'GET', path);
    if (failure) return this.sendStatus(res, failure, `injected fault: ${REASONS[failure] ?? failure} (front proxy)`);
    const headers = forwardedHeaders(req.headers, this.upstream.host);
    // kube-apiserver carries the request out; its answer is lost on the way back.
    const drop = this.faults.dropsResponse(req.method ?? 'GET', path);
    let answered = false;
    const upstream = https.request(
      {
        host: this.upstream.hostname,
        port: this.upstream.port,
        method: req.method,
        path: req.url,
        headers,
        agent: this.agent,
      },
      (up) => {
        if (drop) {
          up.resume();
          up.on('end', () => req.socket.destroy());
          return;
        }
        const out: http.OutgoingHttpHeaders = {};
        for (const [k, v] of Object.entries(up.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) out[k] = v;
        res.writeHead(up.statusCode ?? 502, up.statusMessage, out);
        res.flushHeaders(); // a watch's client waits for the headers before the first event
        up.pipe(res);
        up.on('end', () => (answered = true));
        up.on('error', () => res.destroy());
      },
    );
    upstream.on('error', (err) => {
      if (res.headersSent) res.destroy();
      else this.sendStatus(res, 503, `the front proxy cannot reach kube-apiserver: ${err.message}`);
    });
    // A client that goes away mid-answer (a watch it stops) frees the upstream request too.
    res.on('close', () => answered || upstream.destroy());
    if (isStream(url)) {
      this.streams.track({ destroy: () => (res.destroy(), upstream.destroy()) }, res);
      req.socket.setTimeout(0);
    }
    req.pipe(upstream);
  }

  private admin(req: http.IncomingMessage, res: http.ServerResponse) {
    if (req.headers.authorization !== `Bearer ${this.options.faultsToken}`) {
      return this.sendJson(res, 401, statusBody(401, 'Unauthorized', 'Unauthorized'));
    }
    let body = '';
    req.on('data', (d: Buffer) => (body += d));
    req.on('end', () => {
      try {
        const result = this.faults.apply(body ? JSON.parse(body) : {});
        this.sendJson(res, 200, result ?? { ok: true });
      } catch (err) {
        this.sendJson(res, 400, statusBody(400, 'BadRequest', (err as Error).message));
      }
    });
  }

  private sendJson(res: http.ServerResponse, code: number, body: unknown) {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  /** Upgraded requests (exec, attach, port-forward): the client's bytes go to kube-apiserver raw, both ways. */
  private async upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer) {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'https://proxy');
    const refuse = (code: number, message: string) => {
      const body = JSON.stringify(statusBody(code, REASONS[code] ?? 'InternalError', message));
      socket.end(
        `HTTP/1.1 ${code} ${http.STATUS_CODES[code]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${code === 429 ? 'Retry-After: 1\r\n' : ''}Connection: close\r\n\r\n${body}`,
      );
    };
    const failure = await this.injected(req.method ?? 'GET', url.pathname);
    if (failure) return refuse(failure, `injected fault: ${REASONS[failure] ?? failure} (front proxy)`);
    const exec = isExec(url.pathname);
    // Only refusals before the upgrade: failExec's afterUpgrade cannot be set on this proxy.
    if (exec && this.faults.execFault(podOf(url.pathname))) return refuse(500, 'injected exec failure (front proxy)');
    const upstream = tls.connect({
      host: this.upstream.hostname,
      port: Number(this.upstream.port),
      ca: this.options.upstream.ca,
      servername: this.upstream.hostname === '127.0.0.1' ? undefined : this.upstream.hostname,
      ALPNProtocols: ['http/1.1'],
    });
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i];
      lines.push(`${name}: ${name.toLowerCase() === 'host' ? this.upstream.host : req.rawHeaders[i + 1]}`);
    }
    upstream.write(lines.join('\r\n') + '\r\n\r\n');
    if (head.length) upstream.write(head);
    socket.pipe(upstream);
    upstream.pipe(socket);
    const destroy = () => {
      socket.destroy();
      upstream.destroy();
    };
    upstream.on('error', destroy);
    upstream.on('close', destroy);
    socket.on('close', destroy);
    this.streams.track({ destroy }, socket);
    if (exec) {
      const silence = () => {
        socket.unpipe(upstream);
        upstream.unpipe(socket);
        socket.pause();
        upstream.pause();
      };
      this.execSilencers.add(silence);
      socket.once('close', () => this.execSilencers.delete(silence));
    }
  }
}

function forwardedHeaders(headers: http.IncomingHttpHeaders, host: string): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) out[k] = v;
  out.host = host;
  return out;
}
