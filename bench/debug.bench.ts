// The debugger across a save: a real dev session (truva.yaml with `debug`, the sandbox's web app,
// the default 500 ms debounce) and a Chrome DevTools Protocol client on the debugger's forward
// that re-attaches as VS Code's Node debugger does with the `restart` setting Truva gives it
// (NODE_REATTACH: after the connection drops, try again every 250 ms). debug.reattach_after_save_ms
// runs from writing a file in the synced folder to that client being attached to the restarted
// process (another pid): debounce, sync, restart, Node's inspector listening, the re-attach.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { loadConfig } from '../src/core/config';
import { NODE_REATTACH } from '../src/core/debug';
import { Cluster } from '../src/core/kube/cluster';
import { DevSession } from '../src/core/session/devSession';
import { freePorts } from '../test/helpers/net';
import { createTestDeployment } from '../test/helpers/sandbox';
import { startSandboxProcess } from './support/sandboxProcess';
import type { Benchmark } from './types';

const ROUNDS = 7;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A debugger on 127.0.0.1:port that stays attached, re-attaching after each drop; `pid` is the attached process's. */
class ReattachingClient {
  pid?: number;
  private ws?: WebSocket;
  private stopped = false;

  constructor(private readonly port: number) {
    void this.loop();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.attach();
      } catch {
        // not listening yet: as js-debug, wait and try again
      }
      this.pid = undefined;
      if (!this.stopped) await sleep(NODE_REATTACH.delay);
    }
  }

  /** Attaches, learns the pid, and resolves when the connection drops. */
  private async attach(): Promise<void> {
    const list = (await (await fetch(`http://127.0.0.1:${this.port}/json/list`)).json()) as {
      webSocketDebuggerUrl: string;
      id: string;
    }[];
    const ws = new WebSocket(`ws://127.0.0.1:${this.port}/${list[0].id}`);
    this.ws = ws;
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    ws.on('error', () => {});
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data));
      if (msg.id === 1) this.pid = msg.result?.result?.value;
      // The process is exiting: a debugger that stays connected keeps it waiting ("Waiting for the
      // debugger to disconnect..."), so js-debug lets go here, and so does this client.
      if (msg.method === 'Runtime.executionContextDestroyed') ws.close();
    });
    ws.send(
      JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression: 'process.pid', returnByValue: true } }),
    );
    ws.send(JSON.stringify({ id: 2, method: 'Runtime.enable' }));
    await closed;
  }

  stop(): void {
    this.stopped = true;
    this.ws?.terminate();
  }
}

const bench: Benchmark = {
  title: 'debugger across a save',
  keys: ['debug.'],
  async run() {
    const sandbox = await startSandboxProcess();
    const folder = mkdtempSync(join(tmpdir(), 'truva-debug-bench-'));
    const cluster = new Cluster({ kubeconfigPath: sandbox.kubeconfigPath });
    let session: DevSession | undefined;
    let client: ReattachingClient | undefined;
    try {
      await createTestDeployment(sandbox, { name: 'dbg-bench', replicas: 1 });
      cpSync(join(__dirname, '../sandbox/images/web'), folder, { recursive: true });
      const debugPort = await freePorts();
      const yaml = `namespace: demo\ndeployment: dbg-bench\nsync:\n  - local: .\n    remote: /app\ndebug:\n  local: ${debugPort}\n`;
      const file = join(folder, 'truva.yaml');
      writeFileSync(file, yaml);
      const loaded = loadConfig(yaml, { filePath: file });
      if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join('; '));
      session = new DevSession({ config: loaded.config, cluster });
      await session.start();
      client = new ReattachingClient(debugPort);
      const attachedTo = async (differentFrom?: number) => {
        for (;;) {
          const pid = client!.pid;
          if (pid !== undefined && pid !== differentFrom) return pid;
          await sleep(5);
        }
      };
      const times: number[] = [];
      let pid = await attachedTo();
      for (let round = 0; round < ROUNDS; round++) {
        const t0 = performance.now();
        writeFileSync(join(folder, 'version.txt'), `bench-${round}\n`);
        pid = await attachedTo(pid);
        times.push(performance.now() - t0);
        await sleep(300); // the sync engine settles before the next save
      }
      return {
        'debug.reattach_after_save_ms': Math.round(median(times)),
        'debug.reattach_after_save_p95_ms': Math.round(
          [...times].sort((a, b) => a - b)[Math.ceil(times.length * 0.95) - 1],
        ),
      };
    } finally {
      client?.stop();
      await session?.stop().catch(() => undefined);
      session?.dispose();
      rmSync(folder, { recursive: true, force: true });
      await sandbox.stop();
    }
  },
};

export default bench;
