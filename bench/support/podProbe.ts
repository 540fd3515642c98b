// A probe inside each pod (one long-lived `kubectl exec -i` running node), so the benchmark sees
// the moment a synced file is present and the moment a restarted app answers with it, without a
// new exec (TLS + WebSocket + process start) per poll adding its own latency to the figures.
//
// Per request line {seq, path, text}: it records the app's current PID, replies "armed", then
// reads `path` every 2 ms until it holds exactly `text` ("present"), then asks the app over HTTP
// every 5 ms until a process with a different PID than before answers with `text` ("answer").
// The PID check matters: the sandbox app reads version.txt per request, so without it the old
// process would count as "new code answering" before any restart.
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

const PROBE = `
const fs = require('fs'), http = require('http');
const read = (p) => { try { return fs.readFileSync(p, 'utf8'); } catch { return undefined; } };
const pid = () => (read('/tmp/truva/app.pid') || '').trim();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const get = () => new Promise((resolve) => {
  const req = http.get({ host: '127.0.0.1', port: 8080, path: '/', agent: false, timeout: 1000 }, (res) => {
    let body = ''; res.on('data', (d) => (body += d)); res.on('end', () => resolve(body)); res.on('error', () => resolve(''));
  });
  req.on('error', () => resolve('')); req.on('timeout', () => { req.destroy(); resolve(''); });
});
require('readline').createInterface({ input: process.stdin }).on('line', async (line) => {
  const { seq, path, text } = JSON.parse(line);
  const before = pid();
  console.log('armed ' + seq);
  while (read(path) !== text) await sleep(2);
  console.log('present ' + seq);
  for (;;) {
    const now = pid();
    if (now && now !== before && (await get()).includes(text.trim())) break;
    await sleep(5);
  }
  console.log('answer ' + seq);
});
`;

export class PodProbe {
  private readonly child: ChildProcess;
  private readonly waiters = new Map<string, (at: number) => void>();
  private readonly seen = new Map<string, number>();

  constructor(kubectl: string, kubeconfig: string, namespace: string, pod: string, container: string) {
    this.child = spawn(
      kubectl,
      [`--kubeconfig=${kubeconfig}`, '-n', namespace, 'exec', '-i', pod, '-c', container, '--', 'node', '-e', PROBE],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const at = performance.now();
      const waiter = this.waiters.get(line);
      if (waiter) {
        this.waiters.delete(line);
        waiter(at);
      } else this.seen.set(line, at);
    });
  }

  /** performance.now() when the probe printed `line` (it may already have). */
  when(line: string, timeoutMs = 60_000): Promise<number> {
    const at = this.seen.get(line);
    if (at !== undefined) return Promise.resolve(at);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`pod probe: no "${line}" within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.set(line, (t) => {
        clearTimeout(timer);
        resolve(t);
      });
    });
  }

  /** Starts watching for `text` in `path`; resolves once the probe has recorded the PID before the change. */
  arm(seq: number, path: string, text: string): Promise<number> {
    this.child.stdin!.write(JSON.stringify({ seq, path, text }) + '\n');
    return this.when(`armed ${seq}`);
  }

  stop(): void {
    this.child.stdin!.end();
    this.child.kill();
  }
}
