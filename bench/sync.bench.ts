// Sync figures on a 3-replica deployment in dev mode, each next to `kubectl cp` doing the same
// work on the same pods in the same run (rounds alternate; medians reported).
import { execFile, spawn } from 'node:child_process';
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DevMode } from '../src/core/devmode/devMode';
import { Cluster } from '../src/core/kube/cluster';
import { SyncEngine, clusterSyncTarget } from '../src/core/sync';
import { createTestDeployment, kubectlPath, podNames } from '../test/helpers/sandbox';
import { PodProbe } from './support/podProbe';
import { startSandboxProcess } from './support/sandboxProcess';
import type { Benchmark } from './types';

const DEBOUNCE = 500;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.slice(0, 3).join(' ')}: ${err}`)),
    );
  });
}

/**
 * One initial sync in a child process running the engine bundled as the extension ships it
 * (support/engineChild.ts): its peak RSS is the engine's own, without this process's TypeScript
 * loader and benchmark bookkeeping.
 */
async function engineInChild(dir: string, args: string[]): Promise<{ ms: number; peakRssMb: number }> {
  const outfile = join(dir, 'engine-child.js');
  await build({
    entryPoints: [join(__dirname, 'support', 'engineChild.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile,
    logLevel: 'warning',
  });
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [outfile, ...args], { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`engine child: ${err.message} ${stderr}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop()!));
    });
  });
}

/** restartApp: restart the app after each batch (the live rows); the tree rows measure file transfer only, like kubectl cp. */
function engineFor(
  cluster: Cluster,
  devMode: DevMode,
  name: string,
  local: string,
  remote: string,
  debounceMs: number,
  restartApp: boolean,
) {
  const restart = restartApp ? (pod: string) => devMode.restartProcess(pod).then(() => undefined) : async () => {};
  return new SyncEngine(
    clusterSyncTarget(cluster, { namespace: 'demo', deployment: name, container: 'web', restart }),
    {
      roots: [{ local, remote }],
      exclude: [],
      debounceMs,
      batchSize: 1000,
      batchBytes: 64 << 20,
      concurrency: 5,
      mirror: false,
    },
  );
}

const bench: Benchmark = {
  title: 'sync engine (3 pods) vs kubectl cp',
  keys: ['sync.'],
  async run() {
    // The sandbox runs in its own process: this one holds the engine (and the benchmark's
    // bookkeeping), so its memory and event loop are the engine's.
    const sandbox = await startSandboxProcess();
    const cluster = new Cluster({ kubeconfigPath: sandbox.kubeconfigPath });
    const work = mkdtempSync(join(tmpdir(), 'truva-bench-sync-'));
    const out: Record<string, number> = { 'sync.debounce_ms': DEBOUNCE };
    const kubectl = kubectlPath()!;
    const probes: PodProbe[] = [];
    try {
      const name = 'bench-sync';
      await createTestDeployment(sandbox, { name, replicas: 3 });
      const devMode = new DevMode(cluster, { namespace: 'demo', deployment: name, container: 'web' });
      await devMode.enter();
      const pods = await podNames(sandbox, name);

      // Save -> content in all pods, and -> a restarted app answering with it (seen by a probe in
      // each pod, see support/podProbe.ts).
      const app = join(work, 'app');
      mkdirSync(app);
      writeFileSync(join(app, 'version.txt'), 'v0\n');
      const live = engineFor(cluster, devMode, name, app, '/app', DEBOUNCE, true);
      await live.start();
      for (const pod of pods) probes.push(new PodProbe(kubectl, sandbox.kubeconfigPath, 'demo', pod, 'web'));
      const toPods: number[] = [];
      const toAnswer: number[] = [];
      for (let i = 1; i <= 10; i++) {
        const text = `v${i}-${Date.now()}\n`;
        await Promise.all(probes.map((p) => p.arm(i, '/app/version.txt', text)));
        const t0 = performance.now();
        writeFileSync(join(app, 'version.txt'), text);
        live.notify(join(app, 'version.txt'));
        const present = await Promise.all(probes.map((p) => p.when(`present ${i}`)));
        toPods.push(Math.max(...present) - t0);
        const answered = await Promise.all(probes.map((p) => p.when(`answer ${i}`)));
        toAnswer.push(Math.max(...answered) - t0);
        await new Promise((r) => setTimeout(r, 300));
      }
      for (const p of probes.splice(0)) p.stop();
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
      const clean = () =>
        Promise.all(
          pods.map((p) => cluster.exec(p, 'web', ['rm', '-rf', '/app/tree', '/app/treecp'], { namespace: 'demo' })),
        );
      const cpAll = () =>
        Promise.all(
          pods.map((p) =>
            run(kubectl, [
              `--kubeconfig=${sandbox.kubeconfigPath}`,
              '-n',
              'demo',
              'cp',
              tree,
              `${p}:/app/treecp`,
              '-c',
              'web',
            ]),
          ),
        );
      const initial: number[] = [];
      const watching: number[] = [];
      const initialCp: number[] = [];
      const change10: number[] = [];
      const change10Cp: number[] = [];
      const execFloor: number[] = [];
      for (let round = 0; round < 3; round++) {
        await clean();
        let t0 = performance.now();
        await cpAll();
        initialCp.push(performance.now() - t0);
        t0 = performance.now();
        await cpAll(); // the original Truva's way to send a change: copy the whole tree again
        change10Cp.push(performance.now() - t0);

        const engine = engineFor(cluster, devMode, name, tree, '/app/tree', 0, false);
        t0 = performance.now();
        await engine.start();
        initial.push(performance.now() - t0);
        // The watchers start after the initial sync (changes meanwhile are caught up, not lost).
        await engine.watchersReady();
        watching.push(performance.now() - t0);
        for (let i = 0; i < 10; i++) writeFileSync(join(tree, `d${i}`, `f${i}.js`), `// changed ${round} ${i}\n`);
        t0 = performance.now();
        for (let i = 0; i < 10; i++) engine.notify(join(tree, `d${i}`, `f${i}.js`));
        await engine.flush();
        change10.push(performance.now() - t0);
        // The floor under any change sent by exec (after, so it cannot warm anything up for
        // change10): a no-op exec into each pod, in parallel.
        t0 = performance.now();
        await Promise.all(pods.map((p) => cluster.exec(p, 'web', ['true'], { namespace: 'demo' })));
        execFloor.push(performance.now() - t0);
        await engine.dispose();
      }
      out['sync.initial_2000_ms'] = median(initial);
      out['sync.initial_2000_kubectl_cp_ms'] = median(initialCp);
      out['sync.initial_2000_speedup_vs_kubectl_cp'] = median(initialCp) / median(initial);
      out['sync.initial_2000_watching_ms'] = median(watching);
      out['sync.change10_ms'] = median(change10);
      out['sync.change10_kubectl_cp_full_ms'] = median(change10Cp);
      out['sync.change10_speedup_vs_kubectl_cp'] = median(change10Cp) / median(change10);
      out['sync.exec_true_3pods_ms'] = median(execFloor);
      // Memory: one more initial sync of the same tree, by the engine alone in a child process.
      await clean();
      const child = await engineInChild(work, [sandbox.kubeconfigPath, 'demo', name, 'web', tree, '/app/tree']);
      out['sync.peak_rss_mb'] = child.peakRssMb;
      out['sync.initial_2000_child_ms'] = child.ms;
      await devMode.restore({ force: true });
    } finally {
      for (const p of probes) p.stop();
      cluster.dispose();
      await sandbox.stop();
      rmSync(work, { recursive: true, force: true });
    }
    return out;
  },
};

export default bench;
