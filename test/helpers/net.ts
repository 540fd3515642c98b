// Local ends for port-forward tests: talk to an echo or an HTTP app behind a local port, and find
// free local ports. Dependency-free, so unit tests can use it too.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';

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

/**
 * Sends `payload` to an echo behind 127.0.0.1:port and reads the same number of bytes back, then
 * closes: for forwards over the channel protocol, which cannot pass a half-close on.
 */
export function echoRoundTrip(port: number, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let length = 0;
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      length += d.length;
      if (length >= payload.length) {
        socket.destroy();
        resolve(Buffer.concat(chunks));
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`the connection closed after ${length} of ${payload.length} bytes`)));
    socket.on('connect', () => socket.write(payload));
  });
}

/** The body of GET http://127.0.0.1:port/path (fresh connection, no keep-alive). */
export async function httpGet(port: number, path = '/'): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { connection: 'close' } });
  return res.text();
}

function listenOn(port: number): Promise<net.Server | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/**
 * The lowest port of the kernel's ephemeral range: where it picks the local port of every
 * outgoing connection (and of listen(0)) on this machine, for any process.
 */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (low > 0) return low;
  } catch {}
  return 32768;
}

/**
 * The first of `count` consecutive ports on 127.0.0.1 that nothing listens on right now, below
 * the ephemeral range. A port from inside it (as listen(0) gives) can be taken by any process's
 * outgoing connection before the code under test binds it: on a busy machine a forward's local
 * port was, and the test's request to it was refused.
 */
export async function freePorts(count = 1): Promise<number> {
  const low = ephemeralLow();
  const from = 10_000;
  for (;;) {
    const base = from + Math.floor(Math.random() * (low - from - count));
    const all: (net.Server | undefined)[] = [];
    for (let i = 0; i < count; i++) all.push(await listenOn(base + i));
    await Promise.all(all.map((s) => s && new Promise((r) => s.close(r))));
    if (all.every(Boolean)) return base;
  }
}
