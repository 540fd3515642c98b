// One control-plane process (etcd, kube-apiserver...): started under `setpriv --pdeathsig KILL`,
// so the kernel kills it if the Node process dies without calling stop() (a crash, SIGKILL), its
// output in a log file, and stopped with SIGTERM, then SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';

export class ControlPlaneProcess {
  private readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private done = false;

  constructor(
    readonly name: string,
    binary: string,
    args: string[],
    readonly logFile: string,
  ) {
    const log = openSync(logFile, 'a');
    // Its own process group: a Ctrl+C in the terminal reaches only the Node process, which then
    // stops the control plane in order (the node first, etcd last).
    this.child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', binary, ...args], {
      stdio: ['ignore', log, log],
      detached: true,
    });
    closeSync(log);
    this.exited = new Promise((resolve) => {
      this.child.once('error', () => resolve({ code: 127, signal: null }));
      this.child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    void this.exited.then(() => (this.done = true));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return !this.done;
  }

  /** The end of the process's output, for error messages. */
  tail(lines = 15): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  async stop(graceMs = 5_000): Promise<void> {
    if (this.done) return;
    this.child.kill('SIGTERM');
    const outcome = await Promise.race([this.exited.then(() => 'exited'), sleep(graceMs, 'timeout')]);
    if (outcome === 'timeout') this.child.kill('SIGKILL');
    await this.exited;
  }

  /**
   * Polls `url` (HTTPS, verified against `ca`) until it answers 200. Fails at once, quoting the
   * log, when the process exits, and after `timeoutMs` otherwise.
   */
  async waitReady(url: string, tls: { ca: string; cert?: string; key?: string }, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`${this.name} exited while starting:\n${this.tail()}`);
      if ((await statusOf(url, tls)) === 200) return;
      if (Date.now() > deadline)
        throw new Error(`${this.name} was not ready after ${timeoutMs / 1000} s:\n${this.tail()}`);
      await sleep(100);
    }
  }
}

function statusOf(url: string, tls: { ca: string; cert?: string; key?: string }): Promise<number> {
  return new Promise((resolve) => {
    const options = { ...tls, timeout: 2_000 };
    const onResponse = (res: http.IncomingMessage) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    };
    const req = url.startsWith('https:') ? https.get(url, options, onResponse) : http.get(url, options, onResponse);
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
  });
}
