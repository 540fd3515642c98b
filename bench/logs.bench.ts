// Log figures: aggregator throughput from 10 pods next to `kubectl logs -f` on the same pods in
// the same run; the webview's filter time over 100,000 lines and its longest frame at 5,000
// lines/s (headless Chromium, the real bundle); host memory with 50,000 buffered lines.
import { spawn } from 'node:child_process';
import { startSandbox } from '../sandbox';
import { LogAggregator } from '../src/core/logs/aggregator';
import { clusterLogSource } from '../src/core/logs/clusterSource';
import { RingBuffer } from '../src/core/logs/ringBuffer';
import type { LogLine } from '../src/core/logs/types';
import { openLogsWebview } from '../test/helpers/logsWebview';
import { createTestDeployment, kubectlPath, sandboxCluster } from '../test/helpers/sandbox';
import type { Benchmark } from './types';

const WINDOW_MS = 4000;
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

async function aggregatorRate(sandbox: Awaited<ReturnType<typeof startSandbox>>, app: string): Promise<number> {
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

async function kubectlRate(kubeconfig: string, app: string): Promise<number> {
  const child = spawn(kubectlPath()!, [
    `--kubeconfig=${kubeconfig}`,
    '-n',
    'demo',
    'logs',
    '-f',
    '-l',
    `app=${app}`,
    '--tail=0',
    '--max-log-requests=20',
    '--prefix',
  ]);
  let count = 0;
  let counting = false;
  child.stdout.on('data', (d: Buffer) => {
    if (!counting) return;
    for (const b of d) if (b === 10) count++;
  });
  await new Promise((r) => setTimeout(r, 1000));
  counting = true;
  await new Promise((r) => setTimeout(r, WINDOW_MS));
  child.kill();
  return (count * 1000) / WINDOW_MS;
}

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
  const sandbox = await startSandbox({ seed: false });
  try {
    const app = 'bench-logs';
    const printer =
      "let i=0;function f(){for(let k=0;k<200;k++)console.log('line '+(i++)+' of a chatty service');setTimeout(f,10)}f()";
    await createTestDeployment(sandbox, { name: app, replicas: 10, command: ['node', '-e', printer] });
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let round = 0; round < 2; round++) {
      ours.push(await aggregatorRate(sandbox, app));
      theirs.push(await kubectlRate(sandbox.kubeconfigPath, app));
    }
    out['logs.aggregator_lines_per_s'] = median(ours);
    out['logs.kubectl_lines_per_s'] = median(theirs);
    out['logs.aggregator_vs_kubectl_ratio'] = median(ours) / median(theirs);
  } finally {
    await sandbox.stop();
  }
}

const bench: Benchmark = {
  title: 'logs: aggregator vs kubectl logs -f, webview filter and frames, host memory',
  keys: ['logs.'],
  async run({ only }) {
    const out: Record<string, number> = {};
    // `--only logs.max_frame` (or logs.filter) skips the sandbox rows.
    const wanted = (key: string) => !only || key.startsWith(only) || only.startsWith(key);
    if (wanted('logs.aggregator_lines_per_s')) await clusterFigures(out);
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
