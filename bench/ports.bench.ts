// Port-forward figures on a deployment in dev mode, next to `kubectl port-forward` on the same pod
// in the same run (rounds alternate; medians reported).
// - reconnect_after_restart: from asking the supervisor to restart the app to the first answer from
//   the new process through a forward that was open before. Truva's forward holds the request
//   until the new process listens. kubectl's forward dies at the first connection the restarting
//   app refuses ("lost connection to pod"), so its row restarts kubectl when it has exited, as a
//   script around it would.
// - request: one HTTP request on a new connection through a forward that is up (Truva opens a
//   WebSocket per connection; kubectl multiplexes its connections over one).
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { Cluster } from '../src/core/kube/cluster';
import { clusterForwards } from '../src/core/ports';
import { forwardAppInDevMode } from '../test/helpers/forwardApp';
import { freePorts, httpGet } from '../test/helpers/net';
import { kubectlPath, podNames } from '../test/helpers/sandbox';
import { startSandboxProcess } from './support/sandboxProcess';
import type { Benchmark } from './types';

const ROUNDS = 9;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The pid of the app answering behind a local port, or undefined when nothing answers. */
async function pidBehind(port: number): Promise<string | undefined> {
  try {
    return (await httpGet(port)).trim().split(' ')[1];
  } catch {
    return undefined;
  }
}

interface KubectlForward {
  port: number;
  child: ChildProcess;
}

/** A `kubectl port-forward` of the pod's 8080, once it listens. */
function kubectlForward(kubeconfig: string, pod: string, port: number): Promise<KubectlForward> {
  const child = spawn(
    kubectlPath()!,
    [`--kubeconfig=${kubeconfig}`, 'port-forward', '--address=127.0.0.1', `pod/${pod}`, `${port}:8080`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('Forwarding from')) resolve({ port, child });
    });
    child.stderr!.on('data', () => {});
    child.once('exit', (code) => reject(new Error(`kubectl port-forward exited (${code}): ${out}`)));
  });
}

const bench: Benchmark = {
  title: 'port-forwards',
  keys: ['ports.'],
  async run() {
    const sandbox = await startSandboxProcess();
    const cluster = new Cluster({ kubeconfigPath: sandbox.kubeconfigPath });
    let kubectl: KubectlForward | undefined;
    const manager = { current: undefined as ReturnType<typeof clusterForwards> | undefined };
    try {
      const devMode = await forwardAppInDevMode(sandbox, cluster, 'pf-bench');
      const [pod] = await podNames(sandbox, 'pf-bench');
      const truvaPort = await freePorts();
      const kubectlPort = await freePorts();
      manager.current = clusterForwards(cluster, {
        namespace: 'demo',
        deployment: 'pf-bench',
        container: 'web',
        forwards: [{ source: 'ports[0]', remote: 8080, local: truvaPort, pods: 'first' }],
      });
      await manager.current.start();
      kubectl = await kubectlForward(sandbox.kubeconfigPath, pod, kubectlPort);

      const truvaReconnect: number[] = [];
      const kubectlReconnect: number[] = [];
      const truvaRequest: number[] = [];
      const kubectlRequest: number[] = [];
      let kubectlRestarts = 0;
      for (let round = 0; round < ROUNDS; round++) {
        // Truva: the forward stays; one request right after the restart.
        let before = await pidBehind(truvaPort);
        let t0 = performance.now();
        await devMode.restartProcess(pod);
        for (;;) {
          const pid = await pidBehind(truvaPort);
          if (pid && pid !== before) break;
        }
        truvaReconnect.push(performance.now() - t0);

        // kubectl: poll through its forward; when it has died, start it again.
        before = await pidBehind(kubectlPort);
        t0 = performance.now();
        await devMode.restartProcess(pod);
        for (;;) {
          if (kubectl.child.exitCode !== null || kubectl.child.signalCode !== null) {
            kubectlRestarts++;
            kubectl = await kubectlForward(sandbox.kubeconfigPath, pod, kubectlPort);
          }
          const pid = await pidBehind(kubectlPort);
          if (pid && pid !== before) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        kubectlReconnect.push(performance.now() - t0);

        for (const [port, into] of [
          [truvaPort, truvaRequest],
          [kubectlPort, kubectlRequest],
        ] as const) {
          const t = performance.now();
          await httpGet(port);
          into.push(performance.now() - t);
        }
      }
      return {
        'ports.reconnect_after_restart_ms': Math.round(median(truvaReconnect)),
        'ports.reconnect_after_restart_kubectl_ms': Math.round(median(kubectlReconnect)),
        'ports.kubectl_forward_deaths_per_restart': Number((kubectlRestarts / ROUNDS).toFixed(2)),
        'ports.request_ms': Number(median(truvaRequest).toFixed(1)),
        'ports.request_kubectl_ms': Number(median(kubectlRequest).toFixed(1)),
      };
    } finally {
      kubectl?.child.kill();
      await manager.current?.dispose();
      cluster.dispose();
      await sandbox.stop();
    }
  },
};

export default bench;
