// Raw HTTP to the API server with client-node doing the authentication (tokens, client
// certificates, exec credential plugins). Raw JSON in and out: client-node's generated models
// drop fields they do not know and turn timestamps into Dates, and dev mode must put a pod
// template back byte for byte.
import type { KubeConfig } from '@kubernetes/client-node';
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { errorFromStatus, type CallTarget } from './errors';

export interface RawRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** API path, e.g. /apis/apps/v1/namespaces/demo/deployments/web. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  /** A long-lived stream (watch, log follow): sent through the streams' own agent. */
  stream?: boolean;
}

export interface RawResponse {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** Sends requests for one kubeconfig context, reusing connections. */
export class HttpTransport {
  private agents?: { requests: http.Agent; streams: http.Agent };
  private agentKey?: string;
  private retired: http.Agent[] = [];
  /** The API server's clock minus ours, from its Date headers (whole seconds); 0 until one is seen. */
  private clockOffsetMs = 0;

  constructor(private readonly kc: KubeConfig) {}

  /** Now, by the API server's clock (as its Date headers tell it), in ms. */
  serverNow(): number {
    return Date.now() + this.clockOffsetMs;
  }

  /** Learns the server's clock from an answer: a Date header is whole seconds, so the middle of that second. */
  private observeDate(res: IncomingMessage, sentAt: number): void {
    const date = Date.parse(String(res.headers.date ?? ''));
    if (!Number.isFinite(date)) return;
    const local = (sentAt + Date.now()) / 2;
    this.clockOffsetMs = date + 500 - local;
  }

  /** The cluster's server URL, for messages. */
  get server(): string {
    return this.kc.getCurrentCluster()?.server ?? '(no server)';
  }

  private url(path: string, query?: RawRequest['query']): URL {
    const server = this.kc.getCurrentCluster()?.server;
    if (!server) throw new Error('The kubeconfig context names no cluster server.');
    const url = new URL(server.replace(/\/+$/, '') + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url;
  }

  /**
   * Request options with fresh credentials (exec plugins may rotate tokens and client
   * certificates) and a pooled agent for that TLS material: a rotated certificate gets a new
   * agent, since a pooled socket keeps presenting the certificate it was opened with. Streams
   * (watches, log follows) get agents of their own, so however many are open they never take
   * the sockets that requests need.
   */
  private async options(url: URL, method: string, stream: boolean): Promise<https.RequestOptions> {
    const opts: https.RequestOptions = { method, headers: {} };
    await this.kc.applyToHTTPSOptions(opts);
    const headers = { ...(opts.headers as Record<string, string>) };
    if (opts.auth) {
      headers.Authorization = 'Basic ' + Buffer.from(opts.auth).toString('base64');
      delete opts.auth;
    }
    const cluster = this.kc.getCurrentCluster();
    // client-node makes a new agent per call; keep pooled ones unless a proxy is involved.
    if (!cluster?.proxyUrl) opts.agent = this.agentFor(url, opts, stream);
    return {
      ...opts,
      method,
      headers,
      hostname: url.hostname,
      port: url.port,
      path: url.pathname + url.search,
      protocol: url.protocol,
    };
  }

  private agentFor(url: URL, opts: https.RequestOptions, stream: boolean): http.Agent {
    const key = JSON.stringify([
      url.protocol,
      opts.ca,
      opts.cert,
      opts.key,
      opts.pfx,
      opts.passphrase,
      opts.servername,
      opts.rejectUnauthorized,
    ]);
    if (key !== this.agentKey) {
      // Old agents are not destroyed: streams on them run on until they end (their TLS session
      // was authenticated when it opened); they are released on dispose().
      if (this.agents) this.retired.push(this.agents.requests, this.agents.streams);
      const make = (pool: { keepAlive: boolean; maxSockets: number }) =>
        url.protocol === 'https:'
          ? new https.Agent({
              ca: opts.ca,
              cert: opts.cert,
              key: opts.key,
              pfx: opts.pfx,
              passphrase: opts.passphrase,
              servername: opts.servername,
              rejectUnauthorized: opts.rejectUnauthorized,
              ...pool,
            })
          : new http.Agent(pool);
      this.agents = {
        requests: make({ keepAlive: true, maxSockets: 64 }),
        streams: make({ keepAlive: false, maxSockets: Infinity }),
      };
      this.agentKey = key;
    }
    return stream ? this.agents!.streams : this.agents!.requests;
  }

  /** Opens a request and resolves with the response head; the body is left for the caller to read. */
  async open(req: RawRequest): Promise<IncomingMessage> {
    const url = this.url(req.path, req.query);
    const opts = await this.options(url, req.method, req.stream ?? false);
    let payload: Buffer | undefined;
    if (req.body !== undefined) {
      payload = Buffer.from(typeof req.body === 'string' ? req.body : JSON.stringify(req.body));
      (opts.headers as Record<string, string>)['Content-Type'] = req.contentType ?? 'application/json';
      (opts.headers as Record<string, string>)['Content-Length'] = String(payload.length);
    }
    (opts.headers as Record<string, string>).Accept = 'application/json';
    const lib = url.protocol === 'https:' ? https : http;
    const sentAt = Date.now();
    return new Promise<IncomingMessage>((resolve, reject) => {
      const r = lib.request({ ...opts, signal: req.signal }, (res) => {
        this.observeDate(res, sentAt);
        resolve(res);
      });
      r.on('error', reject);
      if (payload) r.end(payload);
      else r.end();
    });
  }

  /** Sends a request and reads the whole answer. */
  async send(req: RawRequest): Promise<RawResponse> {
    const res = await this.open(req);
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) };
  }

  /** Sends a request and parses JSON; non-2xx answers become typed KubeErrors. */
  async json<T>(req: RawRequest, target: CallTarget): Promise<T> {
    const res = await this.send(req);
    if (res.status < 200 || res.status >= 300) throw errorFromStatus(res.status, res.body, target, res.headers);
    return (res.body.length ? JSON.parse(res.body.toString('utf8')) : {}) as T;
  }

  /** Releases pooled connections. */
  dispose(): void {
    for (const agent of [...this.retired, this.agents?.requests, this.agents?.streams]) agent?.destroy();
    this.retired = [];
    this.agents = undefined;
    this.agentKey = undefined;
  }
}

/** Reads a failed streaming response's body (a Status) and turns it into a KubeError. */
export async function errorFromResponse(res: IncomingMessage, target: CallTarget): Promise<Error> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of res) chunks.push(chunk as Buffer);
  } catch {}
  return errorFromStatus(res.statusCode ?? 0, Buffer.concat(chunks), target, res.headers);
}
