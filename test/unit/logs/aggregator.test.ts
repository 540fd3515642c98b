import assert from 'node:assert/strict';
import { LogAggregator } from '../../../src/core/logs/aggregator';
import type { LogLine } from '../../../src/core/logs/types';
import { until as poll } from '../../helpers/poll';
import { FakeSource } from './fakeSource';

/** The suites' polling helper, polling often: these waits are for in-process events. */
const until = (what: string, cond: () => boolean, timeoutMs = 5_000) => poll(what, cond, timeoutMs, 5);

const texts = (lines: LogLine[], pod?: string, container?: string) =>
  lines
    .filter((l) => l.kind === 'log' && (!pod || l.pod === pod) && (!container || l.container === container))
    .map((l) => l.text);

describe('logs: LogAggregator (fake source)', () => {
  let agg: LogAggregator | undefined;
  afterEach(() => agg?.stop());

  it('follows every container of every pod with a tail, and tags pod, container and level', async () => {
    const src = new FakeSource();
    src.addPod('web-a', ['app']);
    src.addPod('worker-a', ['main', 'sidecar']);
    for (let i = 0; i < 300; i++) src.write('web-a', 'app', `old ${i}`);
    src.write('worker-a', 'main', 'ERROR boom');
    src.write('worker-a', 'sidecar', '{"level":"warn","msg":"x"}');
    agg = new LogAggregator({ source: src, namespace: 'ns', labelSelector: 'app=web', tailLines: 200 });
    agg.start();
    await until('history', () => texts(agg!.lines()).length === 202);
    assert.deepEqual(
      texts(agg.lines(), 'web-a'),
      Array.from({ length: 200 }, (_, i) => `old ${i + 100}`),
    );
    src.write('web-a', 'app', 'INFO live');
    await until('live line', () => texts(agg!.lines(), 'web-a').includes('INFO live'));
    const byText = new Map(agg.lines().map((l) => [l.text, l]));
    assert.equal(byText.get('ERROR boom')?.level, 'error');
    assert.equal(byText.get('ERROR boom')?.container, 'main');
    assert.equal(byText.get('{"level":"warn","msg":"x"}')?.container, 'sidecar');
    assert.equal(byText.get('INFO live')?.level, 'info');
    assert.match(byText.get('INFO live')?.timestamp ?? '', /^2026-11-28T10:00:\d\d/);
    assert.deepEqual(
      agg.podSummaries().map((p) => [p.name, p.containers]),
      [
        ['web-a', ['app']],
        ['worker-a', ['main', 'sidecar']],
      ],
    );
    assert.ok(src.requests.every((r) => r.options.tailLines === 200 && r.options.timestamps));
  });

  it('never loses or repeats a line across 20 dropped connections, with lines split mid-character', async () => {
    const src = new FakeSource();
    src.chunkBytes = 5; // splits timestamps, text and the multi-byte characters below
    src.addPod('p1', ['c']);
    src.addPod('p2', ['c']);
    agg = new LogAggregator({
      source: src,
      namespace: 'ns',
      labelSelector: 'app=x',
      backoffInitialMs: 2,
      backoffMaxMs: 10,
    });
    agg.start();
    await until('both streams', () => src.openStreams() === 2);
    let drops = 0;
    for (let i = 0; i < 2000; i++) {
      src.write('p1', 'c', `line ${i} ü€`, 3);
      src.write('p2', 'c', `line ${i} ü€`, 0); // same timestamp as p1's line: streams are independent
      if (i % 100 === 50) {
        await until('reconnected', () => src.openStreams() === 2);
        drops += src.dropStreams() > 0 ? 1 : 0;
      }
      if (i % 20 === 0) await new Promise((r) => setImmediate(r));
    }
    assert.equal(drops, 20);
    const expected = Array.from({ length: 2000 }, (_, i) => `line ${i} ü€`);
    await until(
      'all lines',
      () => texts(agg!.lines(), 'p1').length >= 2000 && texts(agg!.lines(), 'p2').length >= 2000,
    );
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(texts(agg.lines(), 'p1'), expected);
    assert.deepEqual(texts(agg.lines(), 'p2'), expected);
    assert.ok(src.requests.filter((r) => r.options.sinceTime).length >= 40, 'resumed with sinceTime');
  });

  it('announces a container restart with count and reason, then follows the new instance', async () => {
    const src = new FakeSource();
    src.addPod('p', ['app']);
    agg = new LogAggregator({ source: src, namespace: 'ns', podName: 'p', backoffInitialMs: 2, backoffMaxMs: 10 });
    agg.start();
    await until('stream', () => src.openStreams() === 1);
    src.write('p', 'app', 'before');
    await until('before', () => texts(agg!.lines()).includes('before'));
    src.restart('p', 'app', 'Error', 137);
    src.write('p', 'app', 'after');
    await until('after', () => texts(agg!.lines()).includes('after'));
    const events = agg
      .lines()
      .filter((l) => l.kind === 'event')
      .map((l) => l.text);
    assert.ok(
      events.some((e) => /container app restarted \(restart count 1, last exit: Error, exit code 137\)/.test(e)),
      events.join('\n'),
    );
    assert.deepEqual(texts(agg.lines()), ['before', 'after']);
  });

  it('attaches pods that appear later (whole log, no tail) and detaches deleted ones', async () => {
    const src = new FakeSource();
    src.addPod('a', ['app']);
    agg = new LogAggregator({
      source: src,
      namespace: 'ns',
      labelSelector: 'app=x',
      backoffInitialMs: 2,
      backoffMaxMs: 10,
    });
    const podLists: string[][] = [];
    agg.subscribe({ pods: (pods) => podLists.push(pods.map((p) => p.name)) });
    agg.start();
    await until('a', () => src.openStreams() === 1);
    src.addPod('b', ['app'], new Date());
    src.write('b', 'app', 'hello from b');
    await until('b line', () => texts(agg!.lines(), 'b').includes('hello from b'));
    assert.equal(src.requests.find((r) => r.pod === 'b')?.options.tailLines, undefined);
    src.deletePod('a');
    await until('a gone', () => agg!.podSummaries().every((p) => p.name !== 'a'));
    const events = agg
      .lines()
      .filter((l) => l.kind === 'event')
      .map((l) => l.text);
    assert.ok(events.includes('pod b started'), events.join('\n'));
    assert.ok(events.includes('pod a deleted'), events.join('\n'));
    assert.deepEqual(podLists.at(-1), ['b']);
  });

  it('ignores other pods when following a single pod, and bounds its buffer', async () => {
    const src = new FakeSource();
    src.addPod('mine', ['app']);
    src.addPod('other', ['app']);
    agg = new LogAggregator({ source: src, namespace: 'ns', podName: 'mine', bufferLines: 10 });
    agg.start();
    await until('stream', () => src.openStreams() === 1);
    for (let i = 0; i < 25; i++) src.write('mine', 'app', `n${i}`);
    src.write('other', 'app', 'not mine');
    await until('lines', () => texts(agg!.lines()).includes('n24'));
    assert.equal(agg.size, 10);
    assert.ok(agg.dropped >= 15);
    assert.deepEqual(
      texts(agg.lines()),
      Array.from({ length: 10 }, (_, i) => `n${i + 15}`),
    );
  });

  it('refuses to start without a selector or a pod', () => {
    assert.throws(
      () => new LogAggregator({ source: new FakeSource(), namespace: 'ns' }),
      /labelSelector .* or a podName/,
    );
  });
});
