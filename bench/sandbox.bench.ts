// The sandbox cluster's figures on both control planes, side by side: how fast a pod starts, an
// exec round trip through client-node, and how many concurrent follow streams it holds
// (sandbox.* on the sandbox's API server, cluster.* on the real Kubernetes control plane, which
// adds its start-up, its memory and the cold build time recorded by cluster/build.sh); next to
// client-node's exec, Truva's own (kube.exec_rtt_ms), alternating in the same run.
import { performance } from 'node:perf_hooks';
import { PassThrough, Writable } from 'node:stream';
import {
  AppsV1Api,
  CoreV1Api,
  Exec,
  KubeConfig,
  Log,
  PatchStrategy,
  Watch,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { startSandbox, type ControlPlaneKind, type Sandbox } from '../sandbox';
import { binariesPresent, buildRecord } from '../sandbox/kubernetes/binaries';
import { Cluster } from '../src/core/kube/cluster';
import { startSandboxProcess } from './support/sandboxProcess';
import type { Benchmark } from './types';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const NS = 'demo';

/** A light deployment: a shell loop that logs a line every 200 ms, no probes. */
function ticker(name: string, replicas: number) {
  return {
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'main',
              image: 'web',
              workingDir: '/app',
              command: ['sh', '-c', 'while true; do echo tick; sleep 0.2; done'],
            },
          ],
        },
      },
    },
  };
}

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Resident memory of processes, in MB (VmRSS from /proc). */
function rssMb(pids: number[]): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {}
  }
  return Math.round(kb / 1024);
}

async function measure(sandbox: Pick<Sandbox, 'kubeconfigPath' | 'kubernetes'>) {
  const kc = new KubeConfig();
  kc.loadFromFile(sandbox.kubeconfigPath);
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

  // Pod start: from the pod's ADDED event to the MODIFIED event that says Running, one at a time.
  const added = new Map<string, number>();
  const startMs: number[] = [];
  const watch = await new Watch(kc).watch(
    `/api/v1/namespaces/${NS}/pods`,
    { labelSelector: 'app=start' },
    (type, pod: any) => {
      const name = pod.metadata.name as string;
      if (type === 'ADDED') added.set(name, performance.now());
      else if (pod.status?.phase === 'Running' && added.has(name)) {
        startMs.push(performance.now() - added.get(name)!);
        added.delete(name);
      }
    },
    () => undefined,
  );
  await apps.createNamespacedDeployment({ namespace: NS, body: ticker('start', 0) });
  for (let i = 1; i <= 11; i++) {
    await apps.patchNamespacedDeployment({ name: 'start', namespace: NS, body: { spec: { replicas: i } } }, merge);
    await waitUntil(() => startMs.length === i, 20_000, `pod ${i} running`);
  }
  watch.abort();

  // Exec round trip: `true` in a running pod, stdin closed, status on channel 3. Done before
  // the deployment is deleted: an exec into a terminating pod fails.
  const pod = (await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=start' })).items.find(
    (p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp,
  )!.metadata!.name!;
  const sink = () => new Writable({ write: (_c, _e, cb) => cb() });
  const execOnce = () =>
    new Promise<void>((resolve, reject) => {
      const stdin = new PassThrough();
      new Exec(kc)
        .exec(NS, pod, 'main', ['true'], sink(), sink(), stdin, false, (s) =>
          s.status === 'Success' ? resolve() : reject(new Error(s.message)),
        )
        .catch(reject);
      stdin.end();
    });
  // Truva's exec: one agent per kubeconfig that resumes TLS sessions (src/core/kube/execSocket.ts).
  const cluster = new Cluster({ kubeconfigPath: sandbox.kubeconfigPath });
  const truvaExecOnce = async () => {
    const r = await cluster.exec(pod, 'main', ['true'], { namespace: NS });
    if (r.exitCode !== 0) throw new Error(`exec true exited with ${r.exitCode}`);
  };
  for (let i = 0; i < 3; i++) await execOnce(); // warm-up: TLS session, module loading
  for (let i = 0; i < 3; i++) await truvaExecOnce();
  const execMs: number[] = [];
  const truvaExecMs: number[] = [];
  const timed = async (once: () => Promise<void>, into: number[]) => {
    const t = performance.now();
    await once();
    into.push(performance.now() - t);
  };
  for (let i = 0; i < 30; i++) {
    await timed(execOnce, execMs);
    await timed(truvaExecOnce, truvaExecMs);
  }
  cluster.dispose();
  await apps.deleteNamespacedDeployment({ name: 'start', namespace: NS });

  // Log streams: 100 follow streams over 50 pods, held for 3 s; a stream counts if it kept
  // receiving lines and never errored or ended.
  await apps.createNamespacedDeployment({ namespace: NS, body: ticker('logs', 50) });
  await waitUntil(
    async () =>
      (
        await core.listNamespacedPod({
          namespace: NS,
          labelSelector: 'app=logs',
          fieldSelector: 'status.phase=Running',
        })
      ).items.length === 50,
    120_000,
    '50 pods running',
  );
  const pods = (await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=logs' })).items.map(
    (p) => p.metadata!.name!,
  );
  const streams = pods
    .flatMap((name) => [name, name])
    .map((name) => {
      const s = { bytes: 0, failed: false, abort: undefined as AbortController | undefined };
      const out = new Writable({
        write: (c, _e, cb) => {
          s.bytes += c.length;
          cb();
        },
      });
      out.on('finish', () => (s.failed = true));
      new Log(kc).log(NS, name, 'main', out, { follow: true, tailLines: 1 }).then(
        (a) => (s.abort = a),
        () => (s.failed = true),
      );
      return s;
    });
  await new Promise((r) => setTimeout(r, 1500));
  const marks = streams.map((s) => s.bytes);
  await new Promise((r) => setTimeout(r, 1500));
  const held = streams.filter((s, i) => !s.failed && s.bytes > marks[i]).length;
  streams.forEach((s) => s.abort?.abort());

  return {
    pod_start_ms: median(startMs),
    exec_rtt_ms: median(execMs),
    truva_exec_rtt_ms: median(truvaExecMs),
    log_streams_held: held,
    // With 50 pods running, before they are deleted.
    control_plane_rss_mb: rssMb(sandbox.kubernetes?.controlPlanePids() ?? []),
  };
}

async function onControlPlane(controlPlane: ControlPlaneKind, prefix: string): Promise<Record<string, number>> {
  const started = performance.now();
  // The sandbox's API server runs in a process of its own, as an API server does: in this one its
  // TLS handshakes and process starts took turns with the clients' on one thread, so the work a
  // client does ahead (a spare connection's handshake while an exec runs) was not ahead at all.
  const sandbox =
    controlPlane === 'sandbox'
      ? { ...(await startSandboxProcess()), kubernetes: undefined }
      : await startSandbox({ seed: false, controlPlane });
  const startS = (performance.now() - started) / 1000;
  try {
    const { control_plane_rss_mb, truva_exec_rtt_ms, ...figures } = await measure(sandbox);
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(figures)) out[`${prefix}${k}`] = v;
    // Truva's exec beside client-node's: kube.* on the sandbox's API server, cluster.kube_* on the real one.
    const kube = prefix === 'sandbox.' ? 'kube.' : `${prefix}kube_`;
    out[`${kube}exec_rtt_ms`] = truva_exec_rtt_ms;
    out[`${kube}exec_rtt_vs_client_node_ratio`] = truva_exec_rtt_ms / figures.exec_rtt_ms;
    if (sandbox.kubernetes) {
      out['cluster.start_s'] = startS;
      out['cluster.apiserver_ready_s'] = sandbox.kubernetes.apiserverReadySeconds;
      out['cluster.control_plane_rss_mb'] = control_plane_rss_mb;
    }
    return out;
  } finally {
    await sandbox.stop();
  }
}

const bench: Benchmark = {
  title: 'sandbox cluster (sandbox API server, then the real control plane)',
  keys: ['sandbox.', 'kube.', 'cluster.'],
  async run({ only }) {
    const wanted = (prefix: string) => !only || prefix.startsWith(only) || only.startsWith(prefix);
    const figures: Record<string, number> = {};
    if (wanted('sandbox.') || wanted('kube.')) Object.assign(figures, await onControlPlane('sandbox', 'sandbox.'));
    if (wanted('cluster.')) {
      const build = buildRecord();
      if (build) figures['cluster.build_cold_s'] = build.seconds;
      if (build) figures['cluster.build_peak_rss_mb'] = build.peak_rss_mb;
      if (!binariesPresent()) throw new Error('the real control plane is not built: run bash cluster/build.sh');
      Object.assign(figures, await onControlPlane('kubernetes', 'cluster.'));
    }
    return figures;
  },
};

export default bench;
