// A small app for port-forward tests and benchmarks, and the local ends that talk to it: HTTP
// on 8080 (GET / answers "<hostname> <pid>"; POST /upload answers "<bytes> <sha256>") and a raw TCP
// echo on 9000 that passes a half-close back, so bytes can be checked both ways.
import { createHash } from 'node:crypto';
import net from 'node:net';
import type { SandboxAccess } from './sandbox';
import { createTestDeployment } from './sandbox';

export const FORWARD_APP = [
  "const net = require('net'), http = require('http'), os = require('os'), crypto = require('crypto');",
  'http.createServer((req, res) => {',
  "  if (req.url !== '/upload') return res.end(os.hostname() + ' ' + process.pid + '\\n');",
  "  let n = 0; const h = crypto.createHash('sha256');",
  "  req.on('data', (d) => { n += d.length; h.update(d); });",
  "  req.on('end', () => res.end(n + ' ' + h.digest('hex')));",
  '}).listen(8080);',
  'net.createServer((c) => c.pipe(c)).listen(9000);',
  "process.on('SIGTERM', () => process.exit(0));",
].join('\n');

/** A deployment running FORWARD_APP (no probes), rolled out. */
export function createForwardDeployment(sandbox: SandboxAccess, name: string, replicas = 1): Promise<unknown> {
  return createTestDeployment(sandbox, { name, replicas, command: ['node', '-e', FORWARD_APP] });
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Sends `payload` to an echo behind 127.0.0.1:port, half-closes, and resolves with everything that came back. */
export function echoThrough(port: number, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('end', () => {
      socket.end();
      resolve(Buffer.concat(chunks));
    });
    socket.on('error', reject);
    socket.on('connect', () => socket.end(payload));
  });
}

/** The body of GET http://127.0.0.1:port/path (fresh connection, no keep-alive). */
export async function httpGet(port: number, path = '/'): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { connection: 'close' } });
  return res.text();
}

/** A port on 127.0.0.1 nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
