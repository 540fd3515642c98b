// Hostile log lines end to end: a pod prints markup, script, OSC 8 links, cursor movement,
// control characters and invalid UTF-8; the aggregator follows it through the sandbox's API; the
// lines reach the real webview bundle in headless Chromium in 50 ms batches, as the extension
// sends them. Every line must be drawn as its text, and no script may run (scripts_executed).
import type { Sandbox } from '../sandbox';
import { LogAggregator } from '../src/core/logs/aggregator';
import { clusterLogSource } from '../src/core/logs/clusterSource';
import type { LogLine } from '../src/core/logs/types';
import { HOSTILE_LINES, openLogsWebview } from '../test/helpers/logsWebview';
import { createTestDeployment, sandboxCluster, uniqueName, waitFor } from '../test/helpers/sandbox';
import { emptyRow, type ReliabilityRow } from './report';

const INVALID_UTF8 = {
  bytes: Buffer.concat([Buffer.from('bad utf8 '), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(' end')]),
  shown: 'bad utf8 \uFFFD\uFFFD\uFFFD end',
};

export async function hostileLogs(sandbox: Sandbox, rounds: number): Promise<ReliabilityRow> {
  const row = emptyRow('hostile log lines in the webview (Chromium)');
  const cluster = sandboxCluster(sandbox);
  const name = uniqueName('hostile');
  const round = Buffer.concat([
    ...HOSTILE_LINES.map((h) => Buffer.from(`${h.raw}\n`)),
    INVALID_UTF8.bytes,
    Buffer.from('\n'),
  ]);
  const expected = Array.from({ length: rounds }, () => [
    ...HOSTILE_LINES.map((h) => h.shown),
    INVALID_UTF8.shown,
  ]).flat();
  // Base64 keeps the bytes out of every shell and YAML quoting on the way into the pod.
  const script = `process.stdout.write(Buffer.from('${Buffer.concat(Array(rounds).fill(round)).toString('base64')}','base64'));setInterval(()=>{},1e9)`;
  await createTestDeployment(sandbox, { name, replicas: 1, command: ['node', '-e', script] });
  const webview = await openLogsWebview();
  const aggregator = new LogAggregator({
    source: clusterLogSource(cluster),
    namespace: 'demo',
    labelSelector: `app=${name}`,
    tailLines: 10_000,
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await webview.post({
      type: 'init',
      title: 'Logs: hostile',
      target: { namespace: 'demo', deployment: name },
      lines: [],
      dropped: 0,
      pods: [],
      maxLines: 50_000,
    });
    // The stall that matters here is the panel's: its longest frame while the lines arrive.
    const longestFrame = await webview.meterFrames();
    let pending: LogLine[] = [];
    let received = 0;
    aggregator.subscribe({
      lines: (lines) => {
        pending.push(...lines);
        received += lines.filter((l) => l.kind === 'log').length;
        timer ??= setTimeout(() => {
          timer = undefined;
          const batch = pending;
          pending = [];
          void webview.post({ type: 'lines', lines: batch, dropped: aggregator.dropped });
        }, 50);
      },
    });
    aggregator.start();
    await waitFor(
      () => received >= expected.length && pending.length === 0 && !timer,
      60_000,
      'every hostile line at the panel',
    ).catch(() => undefined);
    row.max_stall_ms = await longestFrame();
    // Scroll the virtualised list from top to bottom; each row's text is read where it is drawn.
    const seen = await webview.page.evaluate(async () => {
      const list = document.querySelector('.list') as HTMLElement;
      // Two frames, and longer than the panel's 100 ms follow-mode redraw throttle, so the rows
      // read are the ones drawn for this scroll position.
      const frame = () =>
        new Promise((r) => setTimeout(() => requestAnimationFrame(() => requestAnimationFrame(r)), 150));
      const texts = new Map<string, string>();
      for (let top = 0; ; top += list.clientHeight) {
        list.scrollTop = top;
        await frame();
        for (const r of document.querySelectorAll<HTMLElement>('.row:not(.event)'))
          texts.set(r.dataset.index!, r.querySelector('.text')!.textContent!);
        if (top + list.clientHeight >= list.scrollHeight) break;
      }
      return [...texts.values()];
    });
    await new Promise((r) => setTimeout(r, 300)); // an injected onerror/onload would fire by now
    const foreign = await webview.foreignElements();
    const violations = await webview.violations();
    const remaining = new Map<string, number>();
    for (const text of expected) remaining.set(text, (remaining.get(text) ?? 0) + 1);
    for (const text of seen) {
      const left = remaining.get(text);
      if (left === undefined) continue; // not a printed line as printed: its original stays lost
      if (left > 0) remaining.set(text, left - 1);
      else row.lines_duplicated++;
    }
    row.lines_lost = [...remaining.values()].reduce((a, b) => a + b, 0);
    row.trials = expected.length;
    // A line that created an element, or anything the CSP had to stop, means the text path failed.
    row.survived = foreign.length + violations.length === 0 ? expected.length - row.lines_lost : 0;
    row.scripts_executed = await webview.scriptsRun();
  } finally {
    clearTimeout(timer);
    aggregator.stop();
    await webview.close();
    await cluster.deleteDeployment(name, { namespace: 'demo' }).catch(() => undefined);
    cluster.dispose();
  }
  return row;
}
