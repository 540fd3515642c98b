// A small kube-apiserver client: JSON requests and watches over HTTPS. The node agent uses it with
// the node's client certificate (system:node:<name>), so the Node authorizer and NodeRestriction
// judge it as they judge a kubelet; the start-up uses it with the admin token.
import https from 'node:https';

export class ApiStatusError extends Error {
  constructor(
    readonly code: number,
    readonly status: any,
  ) {
    super(status?.message ?? `HTTP ${code}`);
  }
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: any;
}

export class ApiClient {
  private readonly agent: https.Agent;
  private readonly base: URL;

  private readonly auth: Record<string, string>;

  constructor(
    url: string,
    credentials: { ca: string } & ({ cert: string; key: string } | { token: string }),
    readonly userAgent = 'truva-node-agent',
  ) {
    this.base = new URL(url);
    const { token, ...tls } = credentials as { ca: string; token?: string; cert?: string; key?: string };
    this.agent = new https.Agent({ keepAlive: true, ...tls });
    this.auth = token ? { authorization: `Bearer ${token}` } : {};
  }

  close(): void {
    this.agent.destroy();
  }

  request<T = any>(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
    timeoutMs = 30_000,
  ): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: this.base.hostname,
          port: this.base.port,
          method,
          path,
          agent: this.agent,
          timeout: timeoutMs,
          headers: {
            accept: 'application/json',
            'user-agent': this.userAgent,
            ...this.auth,
            ...(payload !== undefined
              ? { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) }
              : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: any = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {}
            const code = res.statusCode ?? 0;
            if (code >= 200 && code < 300) resolve(parsed as T);
            else reject(new ApiStatusError(code, typeof parsed === 'object' ? parsed : { message: text }));
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /**
   * Watches `path` (which carries its own query) from `resourceVersion`; resolves when the stream
   * ends for any reason. Events go to `onEvent` in order.
   */
  watch(path: string, resourceVersion: string, onEvent: (e: WatchEvent) => void, signal: AbortSignal): Promise<void> {
    const sep = path.includes('?') ? '&' : '?';
    const full = `${path}${sep}watch=true&allowWatchBookmarks=true&timeoutSeconds=300&resourceVersion=${encodeURIComponent(resourceVersion)}`;
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const req = https.request(
        {
          host: this.base.hostname,
          port: this.base.port,
          method: 'GET',
          path: full,
          agent: this.agent,
          headers: { accept: 'application/json', 'user-agent': this.userAgent, ...this.auth },
        },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            res.on('end', () => resolve());
            return;
          }
          let buf = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buf += chunk;
            let nl: number;
            while ((nl = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, nl).trim();
              buf = buf.slice(nl + 1);
              if (!line) continue;
              try {
                onEvent(JSON.parse(line));
              } catch {}
            }
          });
          res.on('end', () => resolve());
          res.on('close', () => resolve());
          res.on('error', () => resolve());
        },
      );
      const abort = () => req.destroy();
      signal.addEventListener('abort', abort, { once: true });
      req.on('close', () => {
        signal.removeEventListener('abort', abort);
        resolve();
      });
      req.on('error', () => resolve());
      req.end();
    });
  }
}
