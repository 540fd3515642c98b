// One initial sync in a process of its own, bundled by esbuild as the extension is, so its peak
// memory is the engine's (Node, client-node, the engine and its buffers) and nothing else: no
// benchmark bookkeeping, no TypeScript loader, no sandbox. Prints {"ms", "watchReadyMs", "peakRssMb"}
// as JSON.
// Usage: node engine-child.js KUBECONFIG NAMESPACE DEPLOYMENT CONTAINER LOCAL REMOTE
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Cluster } from '../../src/core/kube/cluster';
import { SyncEngine, clusterSyncTarget } from '../../src/core/sync';

async function main() {
  const [kubeconfigPath, namespace, deployment, container, local, remote] = process.argv.slice(2);
  const cluster = new Cluster({ kubeconfigPath });
  const engine = new SyncEngine(
    clusterSyncTarget(cluster, { namespace, deployment, container, restart: async () => {} }),
    {
      roots: [{ local, remote }],
      exclude: [],
      debounceMs: 0,
      batchSize: 1000,
      batchBytes: 64 << 20,
      concurrency: 5,
      mirror: false,
    },
  );
  const t0 = performance.now();
  await engine.start();
  const ms = performance.now() - t0;
  await engine.watchersReady(); // their memory counts too
  const watchReadyMs = engine.watchReadyMs;
  await engine.dispose();
  cluster.dispose();
  // VmHWM: the most this process ever held in RAM (its whole life, which is this one sync).
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
  console.log(JSON.stringify({ ms, watchReadyMs, peakRssMb: kb / 1024 }));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
