// The log panel's model in Node, without a browser: line numbering across the buffer bound,
// filtering and level counts, selection, follow mode, and each pod's own colour.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Level } from '../../../src/core/logs/levels';
import type { LogLine } from '../../../src/core/logs/types';
import { EMPTY_FILTER } from '../../../webview/logs/filter';
import { LogModel, POD_COLOURS } from '../../../webview/logs/model';

let seq = 0;
function line(text: string, over: Partial<LogLine> = {}): LogLine {
  return {
    seq: ++seq,
    pod: 'web-0',
    container: 'web',
    timestamp: '2026-12-01T09:00:00.000000000Z',
    level: 'info',
    kind: 'log',
    text,
    ...over,
  };
}

const model = () => new LogModel({ ...EMPTY_FILTER, hiddenLevels: [] as Level[] });

describe('log panel model', () => {
  it('numbers lines for good: dropping the oldest past the bound keeps the numbers, selection and counts of the rest', () => {
    const m = model();
    m.maxLines = 3;
    m.add([line('a'), line('b', { level: 'error' }), line('c')]);
    m.select(2, 'only');
    m.add([line('d'), line('e')]);
    assert.equal(m.size, 3);
    assert.deepEqual(m.visible, [2, 3, 4]);
    assert.equal(m.rowAt(2).text, 'c');
    assert.deepEqual([...m.selected], [2]);
    assert.equal(m.expanded, 2);
    assert.equal(m.levelCounts.error, 0, 'the error line was dropped with its count');
    assert.equal(m.levelCounts.info, 3);
    m.add([line('f')]);
    assert.deepEqual([...m.selected], [], 'a selected line that is dropped leaves the selection');
    assert.equal(m.expanded, undefined);
  });

  it('filters by text and level, counting levels for the lines the other criteria let through', () => {
    const m = model();
    m.add([line('GET /a'), line('GET /b', { level: 'error' }), line('POST /c', { level: 'error' })]);
    m.filterState.text = 'get';
    m.refilter();
    assert.deepEqual(m.visible, [0, 1]);
    assert.equal(m.levelCounts.error, 1);
    m.filterState.hiddenLevels = ['error'];
    m.refilter();
    assert.deepEqual(m.visible, [0]);
    assert.equal(m.levelCounts.error, 1, 'a hidden level still shows its count');
    m.add([line('get /d', { level: 'error' }), line('get /e')]);
    assert.deepEqual(m.visible, [0, 4]);
    assert.equal(m.levelCounts.error, 2);
  });

  it('selects one line, toggles more, or a range of the visible ones; copy and export keep the whole text', () => {
    const m = model();
    m.add([line('\x1b[31mred\x1b[0m one'), line('two'), line('three', { pod: 'web-1' }), line('four')]);
    m.select(1, 'only');
    m.select(3, 'range');
    assert.deepEqual([...m.selected].sort(), [1, 2, 3]);
    assert.equal(m.expanded, undefined, 'the detail view shows a single line only');
    m.select(0, 'toggle');
    assert.equal(m.copyText(), 'red one\ntwo\nthree\nfour');
    assert.match(m.exportText(), /^2026-12-01T09:00:00\.000000000Z web-1\/web three$/m);
  });

  it('counts the lines that arrive while not following, and forgets them when following again', () => {
    const m = model();
    m.setFollow(false);
    m.add([line('a'), line('b')]);
    assert.equal(m.unseen, 2);
    m.setFollow(true);
    assert.equal(m.unseen, 0);
    m.add([line('c')]);
    assert.equal(m.unseen, 0);
  });

  it('says when chips or every row must be drawn again: a new pod, a second container', () => {
    const m = model();
    assert.deepEqual(m.add([line('a')]), { chips: true, rows: false });
    assert.deepEqual(m.add([line('b')]), { chips: false, rows: false });
    assert.deepEqual(m.add([line('c', { container: 'sidecar' })]), { chips: true, rows: true });
    m.addPods([{ name: 'web-9', containers: ['web'] }]);
    assert.ok(m.pods.includes('web-9'));
  });

  it('gives each pod of a panel its own colour, in order of appearance', () => {
    const m = model();
    // Two pods of one deployment whose names hashed to the same colour before.
    const pods = ['web-7d9f8c6b5-x2k4p', 'web-7d9f8c6b5-q8r2m', ...Array.from({ length: 6 }, (_, i) => `web-${i}`)];
    m.addPods([{ name: pods[0], containers: ['web'] }]);
    m.add(pods.slice(1).map((pod) => line('hello', { pod })));
    const colours = pods.map((p) => m.colourOf(p));
    assert.equal(new Set(colours).size, POD_COLOURS, `${colours}`);
    assert.equal(m.colourOf(pods[1]), colours[1], 'a pod keeps its colour');
    m.reset();
    assert.equal(m.colourOf(pods[1]), colours[1], 'also after the buffer is cleared');
  });

  it('logs.css has exactly those colours, all different, none red or yellow (they read as error and warning)', () => {
    const css = readFileSync(join(__dirname, '../../../webview/logs/logs.css'), 'utf8');
    const colours = [...css.matchAll(/\.pod-colour-(\d+) \{\s*color: ([^;]+);/g)].map((m) => [Number(m[1]), m[2]]);
    assert.deepEqual(
      colours.map(([i]) => i),
      Array.from({ length: POD_COLOURS }, (_, i) => i),
    );
    const values = colours.map(([, v]) => String(v));
    assert.equal(new Set(values).size, POD_COLOURS);
    for (const v of values) assert.doesNotMatch(v, /red|yellow|error|warning/i, v);
  });
});
