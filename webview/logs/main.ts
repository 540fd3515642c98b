// The log panel: every pod's lines in one virtualised list (only visible rows are in the DOM),
// with text/regex/case filtering, level, pod and container chips, follow mode, JSON expansion,
// ANSI colours, copy and export. Log text only ever reaches the DOM through textContent.
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import { parseAnsi, stripAnsi } from '../../src/core/logs/ansi';
import { applyFilter, compileFilter, EMPTY_FILTER, type CompiledFilter, type FilterState } from '../../src/core/logs/filter';
import { LEVELS, type Level } from '../../src/core/logs/levels';
import { DEFAULT_VIEW, sanitizePanelState, type HostMessage, type LogPanelTarget, type PanelState, type ViewOptions } from '../../src/core/logs/protocol';
import type { LogLine } from '../../src/core/logs/types';

declare function acquireVsCodeApi(): { postMessage(m: unknown): void; getState(): unknown; setState(s: unknown): void };
const vscode = acquireVsCodeApi();

const ROW = 20; // px; rows have a fixed height unless wrapping
const OVERSCAN = 10;

interface Row extends LogLine {
  plain: string;
}

const saved = sanitizePanelState(vscode.getState());
let target: LogPanelTarget | undefined = saved?.target;
const filterState: FilterState = saved?.filter ?? { ...EMPTY_FILTER };
const view: ViewOptions = saved?.view ?? { ...DEFAULT_VIEW };
let rows: Row[] = [];
let visible: number[] = [];
let filter: CompiledFilter = compileFilter(filterState);
let pods: string[] = [];
let containers: string[] = [];
let dropped = 0;
let follow = true;
let unseen = 0;
let selected = new Set<number>();
let anchor = -1;
let expanded: number | undefined;
let maxLines = 50_000;
/** The last level counts, so appended lines add to them instead of recounting everything. */
let levelCounts = Object.fromEntries(LEVELS.map((l) => [l, 0])) as Record<Level, number>;
let chipsDirty = false;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// ---- layout ----
const app = document.getElementById('app')!;
const toolbar = el('div', 'toolbar');
const filterField = document.createElement('vscode-textfield') as HTMLElement & { value: string };
filterField.setAttribute('placeholder', 'Filter (Ctrl+F)');
filterField.setAttribute('aria-label', 'Filter log lines');
filterField.className = 'filter';
const toggle = (label: string, title: string, get: () => boolean, set: (v: boolean) => void) => {
  const b = el('button', 'toggle', label);
  b.title = title;
  b.setAttribute('aria-pressed', String(get()));
  b.addEventListener('click', () => {
    set(!get());
    b.setAttribute('aria-pressed', String(get()));
    changed();
  });
  return b;
};
const regexToggle = toggle('.*', 'Use regular expression', () => filterState.regex, (v) => (filterState.regex = v));
const caseToggle = toggle('Aa', 'Match case', () => filterState.caseSensitive, (v) => (filterState.caseSensitive = v));
const wrapToggle = toggle('Wrap', 'Wrap long lines', () => view.wrap, (v) => (view.wrap = v));
const timeToggle = toggle('Time', 'Show timestamps', () => view.timestamps, (v) => (view.timestamps = v));
const ansiToggle = toggle('Colour', 'Render ANSI colours (off: strip them)', () => view.ansi === 'color', (v) => (view.ansi = v ? 'color' : 'strip'));
const clearButton = el('button', 'action', 'Clear');
const exportButton = el('button', 'action', 'Export');
const filterError = el('div', 'filter-error');
filterError.setAttribute('role', 'alert');
const levelChips = el('div', 'chips levels');
const podChips = el('div', 'chips pods');
const status = el('div', 'status');
toolbar.append(filterField, regexToggle, caseToggle, wrapToggle, timeToggle, ansiToggle, clearButton, exportButton);
const list = el('div', 'list');
list.tabIndex = 0;
list.setAttribute('role', 'log');
list.setAttribute('aria-label', 'Log lines');
const spacer = el('div', 'spacer');
const windowEl = el('div', 'window');
list.append(spacer, windowEl);
const live = el('button', 'live hidden', '');
const detail = el('pre', 'detail hidden');
app.append(toolbar, filterError, levelChips, podChips, list, live, detail, status);

// ---- state ----
function persist() {
  const state: Partial<PanelState> = { target, filter: filterState, view };
  vscode.setState(state);
}

function podColour(pod: string): number {
  let h = 0;
  for (let i = 0; i < pod.length; i++) h = (h * 31 + pod.charCodeAt(i)) >>> 0;
  return h % 8;
}

function refilter() {
  filter = compileFilter(filterState);
  filterError.textContent = filter.error ? `${filter.error} (showing every line)` : '';
  const result = applyFilter(rows, filter);
  visible = result.visible;
  renderChips(result.levelCounts);
}

function changed() {
  persist();
  document.body.classList.toggle('wrap', view.wrap);
  refilter();
  render(true);
}

function chip(label: string, count: number | undefined, hidden: boolean, onClick: () => void, extraClass = '') {
  const b = el('button', `chip ${extraClass}`);
  b.setAttribute('aria-pressed', String(!hidden));
  b.append(el('span', '', label));
  if (count !== undefined) {
    const badge = document.createElement('vscode-badge');
    badge.textContent = String(count);
    b.append(badge);
  }
  b.addEventListener('click', onClick);
  return b;
}

function toggleIn(listOf: string[], value: string): string[] {
  return listOf.includes(value) ? listOf.filter((v) => v !== value) : [...listOf, value];
}

function renderChips(counts: Record<Level, number>) {
  levelCounts = counts;
  levelChips.replaceChildren(...LEVELS.map((level) => chip(level, counts[level], filterState.hiddenLevels.includes(level), () => {
    filterState.hiddenLevels = toggleIn(filterState.hiddenLevels, level) as Level[];
    changed();
  }, `level-${level}`)));
  podChips.replaceChildren(
    ...pods.map((pod) => chip(pod, undefined, filterState.hiddenPods.includes(pod), () => { filterState.hiddenPods = toggleIn(filterState.hiddenPods, pod); changed(); }, `pod-colour-${podColour(pod)}`)),
    ...(containers.length > 1 ? containers.map((c) => chip(`▸ ${c}`, undefined, filterState.hiddenContainers.includes(c), () => { filterState.hiddenContainers = toggleIn(filterState.hiddenContainers, c); changed(); })) : []),
  );
}

function addLines(lines: LogLine[]) {
  const start = rows.length;
  for (const l of lines) {
    rows.push({ ...l, plain: stripAnsi(l.text) });
    if (!containers.includes(l.container)) containers.push(l.container);
    if (!pods.includes(l.pod)) pods.push(l.pod);
  }
  // The host's buffer is bounded; the webview keeps the same bound.
  if (rows.length > maxLines) {
    const cut = rows.length - maxLines;
    rows = rows.slice(cut);
    selected = new Set([...selected].map((i) => i - cut).filter((i) => i >= 0));
    refilter();
  } else {
    const result = applyFilter(rows.slice(start), filter);
    for (const i of result.visible) visible.push(start + i);
    for (const level of LEVELS) levelCounts[level] += result.levelCounts[level];
    // Chips are redrawn once per frame, not once per batch: at thousands of lines a second the
    // badges would otherwise cost more than the rows.
    chipsDirty = true;
  }
  if (!follow) unseen += lines.length;
  render(false);
}


// ---- rendering ----
function appendText(parent: HTMLElement, text: string, from: number, highlights: Array<[number, number]>) {
  // Splits `text` (which starts at offset `from` of the plain line) at highlight boundaries.
  let pos = 0;
  for (const [s, e] of highlights) {
    const a = Math.max(s - from, pos);
    const b = Math.min(e - from, text.length);
    if (b <= a) continue;
    if (a > pos) parent.append(document.createTextNode(text.slice(pos, a)));
    parent.append(el('mark', '', text.slice(a, b)));
    pos = b;
  }
  if (pos < text.length) parent.append(document.createTextNode(text.slice(pos)));
}

function renderText(row: Row): HTMLElement {
  const span = el('span', 'text');
  const highlights = filter.highlights(row.plain);
  if (view.ansi === 'strip' || row.plain === row.text) {
    appendText(span, row.plain, 0, highlights);
    return span;
  }
  let offset = 0;
  for (const seg of parseAnsi(row.text)) {
    const part = el('span');
    const s = seg.style;
    if (typeof s.fg === 'number') part.classList.add(`ansi-fg-${s.fg}`);
    else if (s.fg) part.style.color = s.fg;
    if (typeof s.bg === 'number') part.classList.add(`ansi-bg-${s.bg}`);
    else if (s.bg) part.style.backgroundColor = s.bg;
    if (s.bold) part.classList.add('ansi-bold');
    if (s.italic) part.classList.add('ansi-italic');
    if (s.underline) part.classList.add('ansi-underline');
    if (s.dim) part.classList.add('ansi-dim');
    appendText(part, seg.text, offset, highlights);
    offset += seg.text.length;
    span.append(part);
  }
  return span;
}

function renderRow(index: number): HTMLElement {
  const row = rows[index];
  const div = el('div', `row level-${row.level}${row.kind === 'event' ? ' event' : ''}${selected.has(index) ? ' selected' : ''}`);
  div.dataset.index = String(index);
  const label = el('span', `pod pod-colour-${podColour(row.pod)}`, containers.length > 1 ? `${row.pod}/${row.container}` : row.pod);
  div.append(label);
  if (view.timestamps) div.append(el('span', 'time', row.timestamp.replace('T', ' ').replace(/\.(\d{3})\d*Z$/, '.$1')));
  div.append(el('span', `badge level-${row.level}`, row.level === 'other' ? '' : row.level.toUpperCase()));
  div.append(renderText(row));
  return div;
}

let scheduled = false;
function render(forceRedraw: boolean) {
  if (scheduled && !forceRedraw) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    if (chipsDirty) {
      chipsDirty = false;
      renderChips(levelCounts);
    }
    // Without wrapping every row is ROW px high and the window floats over a full-height spacer;
    // with wrapping rows vary, so the window sits in flow between padding that stands for the rest.
    spacer.style.height = view.wrap ? '0px' : `${visible.length * ROW}px`;
    if (follow) list.scrollTop = list.scrollHeight;
    const first = Math.max(0, Math.floor(list.scrollTop / ROW) - OVERSCAN);
    const count = Math.ceil(list.clientHeight / ROW) + 2 * OVERSCAN;
    const slice = visible.slice(first, first + count);
    windowEl.style.transform = view.wrap ? 'none' : `translateY(${first * ROW}px)`;
    windowEl.style.paddingTop = view.wrap ? `${first * ROW}px` : '0px';
    windowEl.style.paddingBottom = view.wrap ? `${Math.max(0, visible.length - first - slice.length) * ROW}px` : '0px';
    windowEl.replaceChildren(...slice.map(renderRow));
    live.classList.toggle('hidden', follow);
    live.textContent = unseen > 0 ? `${unseen} new lines — back to live` : 'Back to live';
    status.textContent = `${visible.length} of ${rows.length} lines${dropped ? ` · ${dropped} older lines dropped` : ''}${follow ? ' · following' : ' · paused'}`;
    if (expanded !== undefined && rows[expanded]) showDetail(expanded);
  });
}

function showDetail(index: number) {
  const row = rows[index];
  let pretty: string | undefined;
  try {
    const parsed = JSON.parse(row.plain);
    if (parsed && typeof parsed === 'object') pretty = JSON.stringify(parsed, null, 2);
  } catch {}
  detail.textContent = pretty ?? row.plain;
  detail.classList.toggle('hidden', false);
}

// ---- interaction ----
list.addEventListener('scroll', () => {
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - ROW;
  if (atBottom !== follow) {
    follow = atBottom;
    if (follow) unseen = 0;
  }
  render(true);
});
live.addEventListener('click', () => {
  follow = true;
  unseen = 0;
  render(true);
});
windowEl.addEventListener('click', (e) => {
  const rowEl = (e.target as HTMLElement).closest('.row') as HTMLElement | null;
  if (!rowEl) return;
  const index = Number(rowEl.dataset.index);
  if (e.shiftKey && anchor >= 0) {
    const [a, b] = [Math.min(anchor, index), Math.max(anchor, index)];
    selected = new Set(visible.filter((i) => i >= a && i <= b));
  } else if (e.ctrlKey || e.metaKey) {
    if (selected.has(index)) selected.delete(index);
    else selected.add(index);
    anchor = index;
  } else {
    selected = new Set([index]);
    anchor = index;
  }
  expanded = selected.size === 1 ? index : undefined;
  if (expanded === undefined) detail.classList.add('hidden');
  render(true);
});
filterField.addEventListener('input', () => {
  filterState.text = filterField.value ?? '';
  changed();
});
clearButton.addEventListener('click', () => vscode.postMessage({ type: 'clear' }));
exportButton.addEventListener('click', () => {
  const text = visible.map((i) => `${rows[i].timestamp} ${rows[i].pod}/${rows[i].container} ${rows[i].plain}`).join('\n') + '\n';
  vscode.postMessage({ type: 'export', text, suggestedName: `${(target?.deployment ?? target?.pod ?? 'logs').replace(/[^\w.-]/g, '_')}.log` });
});
document.addEventListener('keydown', (e) => {
  if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'f') {
    e.preventDefault();
    filterField.focus();
  } else if (e.key === 'Escape' && filterState.text) {
    filterField.value = '';
    filterState.text = '';
    changed();
  } else if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'c' && selected.size > 0 && !window.getSelection()?.toString()) {
    const text = [...selected].sort((a, b) => a - b).map((i) => rows[i].plain).join('\n');
    vscode.postMessage({ type: 'copy', text });
  }
});

window.addEventListener('message', (event: MessageEvent<HostMessage>) => {
  const message = event.data;
  switch (message?.type) {
    case 'init':
      target = message.target;
      maxLines = message.maxLines;
      rows = [];
      visible = [];
      pods = message.pods.map((p) => p.name);
      containers = [...new Set(message.pods.flatMap((p) => p.containers))];
      dropped = message.dropped;
      document.title = message.title;
      addLines(message.lines);
      refilter();
      persist();
      render(true);
      return;
    case 'lines':
      dropped = message.dropped;
      addLines(message.lines);
      return;
    case 'pods':
      for (const p of message.pods) {
        if (!pods.includes(p.name)) pods.push(p.name);
        for (const c of p.containers) if (!containers.includes(c)) containers.push(c);
      }
      refilter();
      render(true);
      return;
    case 'cleared':
      rows = [];
      visible = [];
      selected.clear();
      refilter();
      render(true);
      return;
    case 'notice':
      status.textContent = message.message;
      return;
  }
});

filterField.value = filterState.text;
document.body.classList.toggle('wrap', view.wrap);
vscode.postMessage({ type: 'ready' });
