// Log figures: aggregator throughput from 10 pods next to `kubectl logs -f` on the same pods in
// the same run, reading logs already written (the producers are not the limit) and following
// pods that print 20,000 lines/s each; the webview's filter time over 100,000 lines and its
// longest frame at 5,000 lines/s (headless Chromium, the real bundle); host memory with 50,000
// buffered lines.
import { spawn } from 'node:child_process';
// performance is the global one: the functions handed to page.evaluate run in the page, where an
// import would be a name that does not exist ("import_node_perf_hooks is not defined")
import { LogAggregator } from '../src/core/logs/aggregator';
import { clusterLogSource } from '../src/core/logs/clusterSource';
import { RingBuffer } from '../src/core/logs/ringBuffer';
import type { LogLine } from '../src/core/logs/types';
import { openLogsWebview } from '../test/helpers/logsWebview';
import { createTestDeployment, kubectlPath, sandboxCluster, type SandboxAccess } from '../test/helpers/sandbox';
import { startSandboxProcess } from './support/sandboxProcess';
import { Cluster } from '../src/core/kube/cluster';
import type { Benchmark } from './types';

const WINDOW_MS = 4000;
/** Lines each pod of the backlog scenario writes before anyone reads (about 6 MB, under the sandbox's 10 MiB per container). */
const BACKLOG_LINES = 100_000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function line(i: number, pod = `web-${i % 3}`): LogLine {
  const level = (['info', 'warn', 'error', 'debug', 'other'] as const)[i % 5];
  return {
    seq: i + 1,
    pod,
    container: 'web',
    timestamp: '2026-11-28T12:00:00.000000000Z',
    level,
    kind: 'log',
    text: `${level.toUpperCase()} request ${i} served in ${i % 97} ms path=/api/items/${i}`,
  };
}

/** Lines per second the aggregator delivers from every pod of `app` over a window, once attached. */
async function aggregatorRate(sandbox: SandboxAccess, app: string): Promise<number> {
  const cluster = sandboxCluster(sandbox);
  const aggregator = new LogAggregator({
    source: clusterLogSource(cluster),
    namespace: 'demo',
    labelSelector: `app=${app}`,
    tailLines: 0,
    bufferLines: 1_000_000,
  });
  let count = 0;
  aggregator.subscribe({ lines: (lines) => (count += lines.length) });
  aggregator.start();
  await new Promise((r) => setTimeout(r, 1000)); // attach every stream first
  const start = count;
  await new Promise((r) => setTimeout(r, WINDOW_MS));
  const rate = ((count - start) * 1000) / WINDOW_MS;
  aggregator.stop();
  cluster.dispose();
  return rate;
}

/** Counts the lines in a chunk of kubectl's output (native search: the counting must not be what limits kubectl). */
function newlines(d: Buffer): number {
  let n = 0;
  for (let i = d.indexOf(10); i >= 0; i = d.indexOf(10, i + 1)) n++;
  return n;
}

function kubectlLogs(kubeconfig: string, app: string, tail: number) {
  return spawn(kubectlPath()!, [
    `--kubeconfig=${kubeconfig}`,
    '-n',
    'demo',
    'logs',
    '-f',
    '-l',
    `app=${app}`,
    `--tail=${tail}`,
    '--max-log-requests=20',
    '--prefix',
  ]);
}

async function kubectlRate(kubeconfig: string, app: string): Promise<number> {
  const child = kubectlLogs(kubeconfig, app, 0);
  let count = 0;
  let counting = false;
  child.stdout.on('data', (d: Buffer) => {
    if (counting) count += newlines(d);
  });
  await new Promise((r) => setTimeout(r, 1000));
  counting = true;
  await new Promise((r) => setTimeout(r, WINDOW_MS));
  child.kill();
  return (count * 1000) / WINDOW_MS;
}

/**
 * Lines per second reading logs that are already written: each pod printed its lines and went
 * quiet, so no producer sets the pace; the readers take every line, following, as fast as the
 * API server hands them out and they can parse them. From the start (connecting included) to the
 * last line of every pod.
 */
async function backlogRate(read: (done: () => void, count: (n: number) => void) => () => void, total: number) {
  let count = 0;
  const t0 = performance.now();
  let finished!: () => void;
  const all = new Promise<void>((r) => (finished = r));
  const stop = read(
    () => finished(),
    (n) => {
      count += n;
      if (count >= total) finished();
    },
  );
  const timeout = setTimeout(() => finished(), 120_000);
  await all;
  const ms = performance.now() - t0;
  clearTimeout(timeout);
  stop();
  if (count < total) throw new Error(`only ${count} of ${total} lines arrived`);
  return (total * 1000) / ms;
}

const aggregatorBacklog = (sandbox: SandboxAccess, app: string, total: number) =>
  backlogRate((_done, count) => {
    const cluster = sandboxCluster(sandbox);
    const aggregator = new LogAggregator({
      source: clusterLogSource(cluster),
      namespace: 'demo',
      labelSelector: `app=${app}`,
      tailLines: BACKLOG_LINES + 1, // the whole log of a pod that was running before
      bufferLines: 50_000, // the extension's default: lines beyond it are evicted, as in use
    });
    aggregator.subscribe({ lines: (lines) => count(lines.filter((l) => l.kind === 'log').length) });
    aggregator.start();
    return () => {
      aggregator.stop();
      cluster.dispose();
    };
  }, total);

const kubectlBacklog = (kubeconfig: string, app: string, total: number) =>
  backlogRate((_done, count) => {
    const child = kubectlLogs(kubeconfig, app, -1);
    child.stdout.on('data', (d: Buffer) => count(newlines(d)));
    return () => child.kill();
  }, total);

async function webviewFigures(): Promise<{ filterMs: number; maxFrameMs: number }> {
  const webview = await openLogsWebview();
  try {
    const page = webview.page;
    const lines = Array.from({ length: 100_000 }, (_, i) => line(i));
    await webview.post({
      type: 'init',
      title: 'bench',
      target: { namespace: 'demo', deployment: 'web' },
      lines,
      dropped: 0,
      pods: [{ name: 'web-0', phase: 'Running', containers: ['web'] }],
      maxLines: 200_000,
    });
    await page.waitForFunction(
      () => /100000 of 100000/.test(document.querySelector('.status')?.textContent ?? ''),
      undefined,
      { timeout: 60_000 },
    );
    const filterTimes: number[] = [];
    for (const text of ['request 4', 'served in 13', 'items/9', '']) {
      filterTimes.push(
        await page.evaluate(async (t) => {
          const field = document.querySelector('vscode-textfield.filter') as HTMLElement & { value: string };
          const t0 = performance.now();
          field.value = t;
          field.dispatchEvent(new Event('input'));
          await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
          return performance.now() - t0;
        }, text),
      );
    }
    const longestFrame = await webview.meterFrames();
    await page.evaluate(async () => {
      let seq = 200_000;
      for (let tick = 0; tick < 100; tick++) {
        const batch = Array.from({ length: 250 }, () => ({
          seq: ++seq,
          pod: 'web-1',
          container: 'web',
          timestamp: '2026-11-28T12:00:00Z',
          level: 'info',
          kind: 'log',
          text: `INFO streaming line ${seq}`,
        }));
        window.postMessage({ type: 'lines', lines: batch, dropped: 0 }, '*');
        await new Promise((r) => setTimeout(r, 50));
      }
    });
    const maxFrameMs = await longestFrame();
    return { filterMs: median(filterTimes), maxFrameMs };
  } finally {
    await webview.close();
  }
}

async function clusterFigures(out: Record<string, number>) {
  // Out of process, so the sandbox's API server and pods do not share this process's CPU with
  // the aggregator: kubectl has a process of its own as well.
  const sandbox = await startSandboxProcess();
  try {
    // Producers not the limit: 10 pods that wrote their lines before anyone reads.
    const backlog = 'bench-backlog';
    const writer = `const line = (i) => 'line ' + i + ' of a chatty service, request served in ' + (i % 97) + ' ms\\n';
let out = ''; for (let i = 0; i < ${BACKLOG_LINES}; i++) out += line(i);
process.stdout.write(out, () => setInterval(() => {}, 1 << 30));`;
    await createTestDeployment(sandbox, { name: backlog, replicas: 10, command: ['node', '-e', writer] });
    await waitForBacklog(sandbox.kubeconfigPath, backlog, 10);
    const total = 10 * BACKLOG_LINES;
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let round = 0; round < 3; round++) {
      ours.push(await aggregatorBacklog(sandbox, backlog, total));
      theirs.push(await kubectlBacklog(sandbox.kubeconfigPath, backlog, total));
    }
    out['logs.aggregator_lines_per_s'] = median(ours);
    out['logs.kubectl_lines_per_s'] = median(theirs);
    out['logs.aggregator_vs_kubectl_ratio'] = median(ours) / median(theirs);

    // Live: 10 pods printing 20,000 lines/s each (the producers may set the pace here).
    const app = 'bench-logs';
    const printer =
      "let i=0;function f(){for(let k=0;k<200;k++)console.log('line '+(i++)+' of a chatty service');setTimeout(f,10)}f()";
    await createTestDeployment(sandbox, { name: app, replicas: 10, command: ['node', '-e', printer] });
    const live: number[] = [];
    const liveKubectl: number[] = [];
    for (let round = 0; round < 2; round++) {
      live.push(await aggregatorRate(sandbox, app));
      liveKubectl.push(await kubectlRate(sandbox.kubeconfigPath, app));
    }
    out['logs.live_aggregator_lines_per_s'] = median(live);
    out['logs.live_kubectl_lines_per_s'] = median(liveKubectl);
    out['logs.live_aggregator_vs_kubectl_ratio'] = median(live) / median(liveKubectl);
  } finally {
    await sandbox.stop();
  }
}

/** Waits until each of the app's pods has written its whole backlog (its last line is in its log). */
async function waitForBacklog(kubeconfig: string, app: string, pods: number) {
  const cluster = new Cluster({ kubeconfigPath: kubeconfig });
  try {
    const last = `line ${BACKLOG_LINES - 1} `;
    let lastError: unknown;
    for (const deadline = Date.now() + 180_000; ;) {
      // A poll that fails counts as "not yet": while 10 pods write their backlog at once a busy
      // machine's sandbox can be slow enough to open the circuit for a moment.
      try {
        const names = (await cluster.listPods(`app=${app}`, 'demo')).map((p) => p.metadata!.name!);
        const tails = await Promise.all(
          names.map(async (pod) => {
            const body = await cluster.followLogs(
              pod,
              'web',
              { tailLines: 1, follow: false },
              new AbortController().signal,
              'demo',
            );
            let text = '';
            for await (const chunk of body) text += chunk;
            return text;
          }),
        );
        if (names.length === pods && tails.every((t) => t.startsWith(last))) return;
      } catch (err) {
        lastError = err;
      }
      if (Date.now() > deadline)
        throw new Error(
          `the ${app} pods did not finish writing their logs${lastError ? ` (last poll: ${(lastError as Error).message})` : ''}`,
        );
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    cluster.dispose();
  }
}

const bench: Benchmark = {
  title: 'logs: aggregator vs kubectl logs -f, webview filter and frames, host memory',
  keys: ['logs.'],
  async run({ only }) {
    const out: Record<string, number> = {};
    // `--only logs.max_frame` (or logs.filter) skips the sandbox rows.
    const wanted = (key: string) => !only || key.startsWith(only) || only.startsWith(key);
    if (wanted('logs.aggregator_lines_per_s') || wanted('logs.kubectl') || wanted('logs.live'))
      await clusterFigures(out);
    if (wanted('logs.filter_100k_ms') || wanted('logs.max_frame_ms_at_5k_lps')) {
      const { filterMs, maxFrameMs } = await webviewFigures();
      out['logs.filter_100k_ms'] = filterMs;
      out['logs.max_frame_ms_at_5k_lps'] = maxFrameMs;
    }
    if (wanted('logs.host_mb_50k')) {
      (globalThis as { gc?: () => void }).gc?.();
      const before = process.memoryUsage().heapUsed;
      const buffer = new RingBuffer<LogLine>(50_000);
      for (let i = 0; i < 50_000; i++) buffer.push(line(i));
      (globalThis as { gc?: () => void }).gc?.();
      out['logs.host_mb_50k'] = (process.memoryUsage().heapUsed - before) / (1 << 20);
      if (buffer.size !== 50_000) throw new Error('the buffer lost lines');
    }
    return out;
  },
};

export default bench;
