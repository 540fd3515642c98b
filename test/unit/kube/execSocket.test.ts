// Truva's exec resumes TLS sessions instead of a full handshake per exec, directly and through a
// kubeconfig `proxy-url`. The server is a real TLS server on 127.0.0.1 that speaks just enough of
// the exec protocol (v5.channel.k8s.io, a Success status on channel 3) and counts the execs that
// came over a full handshake and over a resumed one; the proxy is a real HTTP CONNECT proxy that counts the tunnels it opened.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer } from 'ws';
import { generateTls, type SandboxTls } from '../../../sandbox/server/tls';
import { Cluster } from '../../../src/core/kube/cluster';

/** Execs whose connection made a full TLS handshake, and those whose connection resumed a session. */
interface Counts {
  full: number;
  resumed: number;
}

async function execServer(tls: SandboxTls): Promise<{ port: number; counts: Counts; close(): Promise<void> }> {
  const counts: Counts = { full: 0, resumed: 0 };
  const server = https.createServer({ cert: tls.certPem, key: tls.keyPem });
  const wss = new WebSocketServer({
    server,
    handleProtocols: (offered) => (offered.has('v5.channel.k8s.io') ? 'v5.channel.k8s.io' : false),
  });
  wss.on('connection', (ws, req) => {
    assert.match(req.url ?? '', /^\/api\/v1\/namespaces\/demo\/pods\/p\/exec\?/);
    assert.equal(req.headers.authorization, 'Bearer tok');
    if ((req.socket as TLSSocket).isSessionReused()) counts.resumed++;
    else counts.full++;
    ws.send(Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify({ status: 'Success' }))]));
    ws.close();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    counts,
    close: () =>
      new Promise((resolve) => {
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function connectProxy(): Promise<{ port: number; tunnels: () => number; close(): Promise<void> }> {
  let tunnels = 0;
  const proxy = http.createServer((_req, res) => res.writeHead(405).end());
  const open = new Set<net.Socket>();
  proxy.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const [host, port] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      tunnels++;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('error', () => {});
      s.on('close', () => open.delete(s));
    }
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    port: (proxy.address() as AddressInfo).port,
    tunnels: () => tunnels,
    close: () =>
      new Promise((resolve) => {
        for (const s of open) s.destroy();
        proxy.close(() => resolve());
      }),
  };
}

function kubeconfig(dir: string, tls: SandboxTls, port: number, proxyUrl?: string): string {
  const path = join(dir, `kubeconfig-${port}-${proxyUrl ? 'proxy' : 'direct'}`);
  const cluster = {
    server: `https://127.0.0.1:${port}`,
    'certificate-authority-data': Buffer.from(tls.caCertPem).toString('base64'),
    ...(proxyUrl ? { 'proxy-url': proxyUrl } : {}),
  };
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster }],
      users: [{ name: 'u', user: { token: 'tok' } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u', namespace: 'demo' } }],
      'current-context': 'x',
    }),
  );
  return path;
}

describe('exec TLS session reuse', function () {
  this.timeout(30_000);
  let tls: SandboxTls;
  let dir: string;

  before(() => {
    tls = generateTls();
    dir = mkdtempSync(join(tmpdir(), 'truva-exec-tls-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function tenExecs(cluster: Cluster) {
    for (let i = 0; i < 10; i++) {
      const result = await cluster.exec('p', 'c', ['true'], { namespace: 'demo' });
      assert.equal(result.exitCode, 0);
    }
  }

  it('10 execs make one full TLS handshake and resume the session 9 times', async () => {
    const server = await execServer(tls);
    const cluster = new Cluster({ kubeconfigPath: kubeconfig(dir, tls, server.port) });
    try {
      await tenExecs(cluster);
      assert.deepEqual(server.counts, { full: 1, resumed: 9 });
    } finally {
      cluster.dispose();
      await server.close();
    }
  });

  it('through a kubeconfig proxy-url every exec goes by the proxy, and the session is resumed there too', async () => {
    const server = await execServer(tls);
    const proxy = await connectProxy();
    const cluster = new Cluster({
      kubeconfigPath: kubeconfig(dir, tls, server.port, `http://127.0.0.1:${proxy.port}`),
    });
    try {
      await tenExecs(cluster);
      assert.equal(proxy.tunnels(), 10, 'each exec opened a tunnel through the proxy');
      assert.deepEqual(server.counts, { full: 1, resumed: 9 });
    } finally {
      cluster.dispose();
      await proxy.close();
      await server.close();
    }
  });
});
