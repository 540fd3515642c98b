// Sync figures on a 3-replica deployment in dev mode, each next to `kubectl cp` doing the same
// work on the same pods in the same run (rounds alternate; medians reported).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startSandbox, type Sandbox } from '../sandbox';
import { DevMode } from '../src/core/devmode/devMode';
import type { Cluster } from '../src/core/kube/cluster';
import { SyncEngine, clusterSyncTarget } from '../src/core/sync';
import { createTestDeployment, kubectlPath, podNames, sandboxCluster } from '../test/helpers/sandbox';
import type { Benchmark } from './types';

const DEBOUNCE = 500;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.slice(0, 3).join(' ')}: ${err}`))));
  });
}

async function untilAll(pods: string[], check: (pod: string) => Promise<boolean>): Promise<void> {
  const pending = new Set(pods);
  const deadline = Date.now() + 60_000;
  while (pending.size) {
    if (Date.now() > deadline) throw new Error('timed out');
    await Promise.all([...pending].map(async (p) => { if (await check(p)) pending.delete(p); }));
  }
}

/** restartApp: restart the app after each batch (the live rows); the tree rows measure file transfer only, like kubectl cp. */
function engineFor(cluster: Cluster, devMode: DevMode, name: string, local: string, remote: string, debounceMs: number, restartApp: boolean) {
  const restart = restartApp ? (pod: string) => devMode.restartProcess(pod).then(() => undefined) : async () => {};
  return new SyncEngine(
    clusterSyncTarget(cluster, { namespace: 'demo', labelSelector: `app=${name}`, container: 'web', restart }),
    { roots: [{ local, remote }], exclude: [], debounceMs, batchSize: 1000, batchBytes: 64 << 20, concurrency: 5, mirror: false },
  );
}

const bench: Benchmark = {
  title: 'sync engine (3 pods) vs kubectl cp',
  keys: ['sync.'],
  async run() {
    const sandbox: Sandbox = await startSandbox({ seed: false });
    const cluster = sandboxCluster(sandbox);
    const work = mkdtempSync(join(tmpdir(), 'truva-bench-sync-'));
    const out: Record<string, number> = { 'sync.debounce_ms': DEBOUNCE };
    const kubectl = kubectlPath()!;
    try {
      const name = 'bench-sync';
      await createTestDeployment(sandbox, { name, replicas: 3 });
      const devMode = new DevMode(cluster, { namespace: 'demo', deployment: name });
      await devMode.enter();
      const pods = await podNames(sandbox, name);
      const cat = (pod: string, path: string) => cluster.exec(pod, 'web', ['cat', path], { namespace: 'demo' }).then((r) => r.stdout.toString());

      // Save -> content in all pods, and -> the app answering with it.
      const app = join(work, 'app');
      mkdirSync(app);
      writeFileSync(join(app, 'version.txt'), 'v0\n');
      const live = engineFor(cluster, devMode, name, app, '/app', DEBOUNCE, true);
      await live.start();
      const toPods: number[] = [];
      const toAnswer: number[] = [];
      for (let i = 1; i <= 10; i++) {
        const text = `v${i}-${Date.now()}\n`;
        const t0 = performance.now();
        writeFileSync(join(app, 'version.txt'), text);
        live.notify(join(app, 'version.txt'));
        await untilAll(pods, async (p) => (await cat(p, '/app/version.txt')) === text);
        toPods.push(performance.now() - t0);
        await untilAll(pods, async (p) => {
          const r = await cluster.exec(p, 'web', ['node', '-e', "fetch('http://127.0.0.1:8080/').then(r=>r.text()).then(t=>process.stdout.write(t)).catch(()=>{})"], { namespace: 'demo' });
          return r.stdout.toString().includes(text.trim());
        });
        toAnswer.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 300));
      }
      await live.dispose();
      out['sync.save_to_pods_p50_ms'] = median(toPods);
      out['sync.save_to_pods_p95_ms'] = percentile(toPods, 0.95);
      out['sync.save_to_answer_p50_ms'] = median(toAnswer);

      // A 2,000-file tree: initial sync vs kubectl cp; then 10 changed files vs kubectl cp of it all.
      const tree = join(work, 'tree');
      for (let i = 0; i < 2000; i++) {
        mkdirSync(join(tree, `d${i % 40}`), { recursive: true });
        writeFileSync(join(tree, `d${i % 40}`, `f${i}.js`), `// file ${i}\n${'x'.repeat(1000)}\n`);
      }
      const clean = () => Promise.all(pods.map((p) => cluster.exec(p, 'web', ['rm', '-rf', '/app/tree', '/app/treecp'], { namespace: 'demo' })));
      const cpAll = () => Promise.all(pods.map((p) => run(kubectl, [`--kubeconfig=${sandbox.kubeconfigPath}`, '-n', 'demo', 'cp', tree, `${p}:/app/treecp`, '-c', 'web'])));
      const initial: number[] = [];
      const initialCp: number[] = [];
      const change10: number[] = [];
      const change10Cp: number[] = [];
      let peakRss = 0;
      for (let round = 0; round < 3; round++) {
        await clean();
        let t0 = performance.now();
        await cpAll();
        initialCp.push(performance.now() - t0);
        t0 = performance.now();
        await cpAll(); // the original Truva's way to send a change: copy the whole tree again
        change10Cp.push(performance.now() - t0);

        const engine = engineFor(cluster, devMode, name, tree, '/app/tree', 0, false);
        const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
        t0 = performance.now();
        await engine.start();
        initial.push(performance.now() - t0);
        clearInterval(sampler);
        for (let i = 0; i < 10; i++) writeFileSync(join(tree, `d${i}`, `f${i}.js`), `// changed ${round} ${i}\n`);
        t0 = performance.now();
        for (let i = 0; i < 10; i++) engine.notify(join(tree, `d${i}`, `f${i}.js`));
        await engine.flush();
        change10.push(performance.now() - t0);
        await engine.dispose();
      }
      out['sync.initial_2000_ms'] = median(initial);
      out['sync.initial_2000_kubectl_cp_ms'] = median(initialCp);
      out['sync.initial_2000_speedup_vs_kubectl_cp'] = median(initialCp) / median(initial);
      out['sync.change10_ms'] = median(change10);
      out['sync.change10_kubectl_cp_full_ms'] = median(change10Cp);
      out['sync.change10_speedup_vs_kubectl_cp'] = median(change10Cp) / median(change10);
      // The sandbox runs in this process too, so this is an upper bound for the engine alone.
      out['sync.peak_rss_mb'] = peakRss / (1 << 20);
      await devMode.restore({ force: true });
    } finally {
      cluster.dispose();
      await sandbox.stop();
      rmSync(work, { recursive: true, force: true });
    }
    return out;
  },
};

export default bench;
