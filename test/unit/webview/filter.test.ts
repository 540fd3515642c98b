import assert from 'node:assert/strict';
import {
  applyFilter,
  compileFilter,
  EMPTY_FILTER,
  sanitizeFilterState,
  type FilterableLine,
  type FilterState,
} from '../../../webview/logs/filter';

const lines: FilterableLine[] = [
  { pod: 'web-a', container: 'app', level: 'error', plain: 'Connection refused to db:5432' },
  { pod: 'web-a', container: 'app', level: 'info', plain: 'GET /health 200' },
  { pod: 'web-b', container: 'app', level: 'warn', plain: 'slow query took 1200ms' },
  { pod: 'web-b', container: 'sidecar', level: 'info', plain: 'proxy ready' },
  { pod: 'web-b', container: 'app', level: 'other', plain: 'connection pool size=10' },
  { pod: 'web-c', container: 'app', level: 'debug', plain: 'cache miss key=a.b' },
];

const visible = (state: Partial<FilterState>) =>
  applyFilter(lines, compileFilter({ ...EMPTY_FILTER, ...state })).visible;

describe('logs: filter engine', () => {
  it('shows everything with no criteria', () => {
    assert.deepEqual(visible({}), [0, 1, 2, 3, 4, 5]);
  });

  it('matches plain text case-insensitively by default, and exactly with the case toggle', () => {
    assert.deepEqual(visible({ text: 'connection' }), [0, 4]);
    assert.deepEqual(visible({ text: 'connection', caseSensitive: true }), [4]);
  });

  it('treats regex metacharacters literally unless regex is on', () => {
    assert.deepEqual(visible({ text: 'a.b' }), [5]);
    assert.deepEqual(visible({ text: 'd+b' }), []);
    assert.deepEqual(visible({ text: '\\d{4}', regex: true }), [0, 2]);
    assert.deepEqual(visible({ text: '^(GET|proxy)', regex: true }), [1, 3]);
  });

  it('reports an invalid regex and then filters nothing out', () => {
    const f = compileFilter({ ...EMPTY_FILTER, text: '(unclosed', regex: true });
    assert.match(f.error ?? '', /Invalid regular expression/);
    assert.deepEqual(applyFilter(lines, f).visible, [0, 1, 2, 3, 4, 5]);
  });

  it('hides levels, pods and containers, combined with text (AND)', () => {
    assert.deepEqual(visible({ hiddenLevels: ['info', 'debug'] }), [0, 2, 4]);
    assert.deepEqual(visible({ hiddenPods: ['web-a'] }), [2, 3, 4, 5]);
    assert.deepEqual(visible({ hiddenContainers: ['app'] }), [3]);
    assert.deepEqual(
      visible({ text: 'o', hiddenPods: ['web-c'], hiddenLevels: ['other'], hiddenContainers: ['sidecar'] }),
      [0, 2],
    );
  });

  it('counts levels over the lines passing the other criteria', () => {
    const { levelCounts } = applyFilter(
      lines,
      compileFilter({ ...EMPTY_FILTER, hiddenPods: ['web-c'], hiddenLevels: ['error'] }),
    );
    assert.deepEqual(levelCounts, { error: 1, warn: 1, info: 2, debug: 0, other: 1 });
  });

  it('returns highlight ranges for every match, and survives empty regex matches', () => {
    const f = compileFilter({ ...EMPTY_FILTER, text: 'o' });
    assert.deepEqual(f.highlights('foo bOx'), [
      [1, 2],
      [2, 3],
      [5, 6],
    ]);
    const empty = compileFilter({ ...EMPTY_FILTER, text: 'x*', regex: true });
    assert.deepEqual(empty.highlights('axxb'), [[1, 3]]);
  });

  it('sanitizes stored or posted state', () => {
    assert.deepEqual(sanitizeFilterState(null), EMPTY_FILTER);
    assert.deepEqual(
      sanitizeFilterState({ text: 5, regex: 'yes', hiddenLevels: ['error', 'bogus', 3], hiddenPods: ['p', {}] }),
      { ...EMPTY_FILTER, hiddenLevels: ['error'], hiddenPods: ['p'] },
    );
  });
});
