// The log panel: every pod's lines in one virtualised list (only visible rows are in the DOM),
// with text/regex/case filtering, level, pod and container chips, follow mode, JSON expansion,
// ANSI colours, copy and export. Log text only ever reaches the DOM through textContent.
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import { parseAnsi, stripAnsi } from '../../src/core/logs/ansi';
import {
  applyFilter,
  compileFilter,
  EMPTY_FILTER,
  type CompiledFilter,
  type FilterState,
} from '../../src/core/logs/filter';
import { LEVELS, type Level } from '../../src/core/logs/levels';
import {
  DEFAULT_VIEW,
  isHostMessage,
  sanitizePanelState,
  type LogPanelTarget,
  type PanelState,
  type ViewOptions,
} from '../../src/core/logs/protocol';
import type { LogLine } from '../../src/core/logs/types';

declare function acquireVsCodeApi(): { postMessage(m: unknown): void; getState(): unknown; setState(s: unknown): void };
const vscode = acquireVsCodeApi();

const ROW = 20; // px; rows have a fixed height unless wrapping
const OVERSCAN = 10;
/** Characters of a line put in its row; the detail view, copy and export keep the whole line. */
const DISPLAY_MAX = 10_000;
/** Least time between two redraws while following a stream (see render()). */
const FOLLOW_DRAW_MS = 100;

interface Row extends LogLine {
  plain: string;
}

const saved = sanitizePanelState(vscode.getState());
let target: LogPanelTarget | undefined = saved?.target;
const filterState: FilterState = saved?.filter ?? { ...EMPTY_FILTER };
const view: ViewOptions = saved?.view ?? { ...DEFAULT_VIEW };
/** rows[i] is line number base + i. Line numbers never change, so dropping the oldest lines
 * (the buffer bound) moves `base` instead of renumbering visible lines, selection and rows. */
let rows: Row[] = [];
let base = 0;
/** Numbers of the lines that pass the filter, ascending. */
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
/** Per level, lines passing every criterion but the level chips; kept up to date line by line. */
let levelCounts = zeroCounts();
/** Chips are rebuilt when pods, containers or hidden sets change; otherwise only badges update. */
let chipsDirty = true;
let levelBadges = new Map<Level, HTMLElement>();

function zeroCounts(): Record<Level, number> {
  return Object.fromEntries(LEVELS.map((l) => [l, 0])) as Record<Level, number>;
}

const rowAt = (n: number): Row => rows[n - base];

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
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
const regexToggle = toggle(
  '.*',
  'Use regular expression',
  () => filterState.regex,
  (v) => (filterState.regex = v),
);
const caseToggle = toggle(
  'Aa',
  'Match case',
  () => filterState.caseSensitive,
  (v) => (filterState.caseSensitive = v),
);
const wrapToggle = toggle(
  'Wrap',
  'Wrap long lines',
  () => view.wrap,
  (v) => (view.wrap = v),
);
const timeToggle = toggle(
  'Time',
  'Show timestamps',
  () => view.timestamps,
  (v) => (view.timestamps = v),
);
const ansiToggle = toggle(
  'Colour',
  'Render ANSI colours (off: strip them)',
  () => view.ansi === 'color',
  (v) => (view.ansi = v ? 'color' : 'strip'),
);
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
  if (base > 0) for (let k = 0; k < visible.length; k++) visible[k] += base;
  levelCounts = result.levelCounts;
  chipsDirty = true;
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

function renderChips() {
  levelBadges = new Map();
  levelChips.replaceChildren(
    ...LEVELS.map((level) => {
      const b = chip(
        level,
        levelCounts[level],
        filterState.hiddenLevels.includes(level),
        () => {
          filterState.hiddenLevels = toggleIn(filterState.hiddenLevels, level) as Level[];
          changed();
        },
        `level-${level}`,
      );
      levelBadges.set(level, b.querySelector('vscode-badge')!);
      return b;
    }),
  );
  podChips.replaceChildren(
    ...pods.map((pod) =>
      chip(
        pod,
        undefined,
        filterState.hiddenPods.includes(pod),
        () => {
          filterState.hiddenPods = toggleIn(filterState.hiddenPods, pod);
          changed();
        },
        `pod-colour-${podColour(pod)}`,
      ),
    ),
    ...(containers.length > 1
      ? containers.map((c) =>
          chip(`▸ ${c}`, undefined, filterState.hiddenContainers.includes(c), () => {
            filterState.hiddenContainers = toggleIn(filterState.hiddenContainers, c);
            changed();
          }),
        )
      : []),
  );
}

/** Only the badge texts change while lines stream in: no new elements, no style recalculation. */
function updateCounts() {
  for (const [level, badge] of levelBadges) setText(badge, String(levelCounts[level]));
}

function setText(node: HTMLElement, text: string) {
  if (node.textContent !== text) node.textContent = text;
}

function addLines(lines: LogLine[]) {
  const hadContainers = containers.length;
  for (const l of lines) {
    // The message is ours (a structured clone): the line object itself becomes the row.
    const row = l as Row;
    row.plain = stripAnsi(row.text);
    // The clone gave every line its own copies of these strings; sharing one copy each lets the
    // copies die young instead of being carried through every garbage collection.
    row.level = LEVELS.find((level) => level === row.level) ?? 'other';
    row.kind = row.kind === 'event' ? 'event' : 'log';
    row.container = intern(containers, row.container);
    const podCount = pods.length;
    row.pod = intern(pods, row.pod);
    if (pods.length !== podCount) chipsDirty = true;
    const n = base + rows.length;
    rows.push(row);
    if (filter.matchesIgnoringLevel(row)) {
      levelCounts[row.level]++;
      if (filter.levelVisible(row.level)) visible.push(n);
    }
  }
  if (containers.length !== hadContainers) {
    chipsDirty = true;
    // Labels become pod/container once there is more than one container.
    if (hadContainers <= 1 && containers.length > 1) redrawAll = true;
  }
  trim();
  if (!follow) unseen += lines.length;
  render(false);
}

/** The copy of `value` kept in `known`, added if it is new. */
function intern(known: string[], value: string): string {
  const i = known.indexOf(value);
  if (i >= 0) return known[i];
  known.push(value);
  return value;
}

/** The host's buffer is bounded; the webview keeps the same bound, dropping the oldest lines. */
function trim() {
  const cut = rows.length - maxLines;
  if (cut <= 0) return;
  for (let i = 0; i < cut; i++) if (filter.matchesIgnoringLevel(rows[i])) levelCounts[rows[i].level]--;
  rows.splice(0, cut);
  base += cut;
  let k = 0;
  while (k < visible.length && visible[k] < base) k++;
  visible.splice(0, k);
  for (const n of selected) if (n < base) selected.delete(n);
  if (anchor < base) anchor = -1;
  if (expanded !== undefined && expanded < base) {
    expanded = undefined;
    detail.classList.add('hidden');
  }
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
  // A megabyte-long line would cost the layout of a megabyte of text in every frame it is shown.
  const cut = row.plain.length > DISPLAY_MAX;
  const shown = cut ? row.plain.slice(0, DISPLAY_MAX) : row.plain;
  const highlights = filter.highlights(shown);
  if (view.ansi === 'strip' || row.plain === row.text) {
    appendText(span, shown, 0, highlights);
  } else {
    appendAnsi(span, row.text, highlights);
  }
  if (cut)
    span.append(
      el('span', 'more', ` … ${row.plain.length - DISPLAY_MAX} more characters (select the line to see it whole)`),
    );
  return span;
}

function appendAnsi(span: HTMLElement, text: string, highlights: Array<[number, number]>) {
  let offset = 0;
  for (const seg of parseAnsi(text)) {
    if (offset >= DISPLAY_MAX) break;
    if (offset + seg.text.length > DISPLAY_MAX) seg.text = seg.text.slice(0, DISPLAY_MAX - offset);
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
}

function renderRow(n: number): HTMLElement {
  const row = rowAt(n);
  const div = el(
    'div',
    `row level-${row.level}${row.kind === 'event' ? ' event' : ''}${selected.has(n) ? ' selected' : ''}`,
  );
  div.dataset.index = String(n);
  const label = el(
    'span',
    `pod pod-colour-${podColour(row.pod)}`,
    containers.length > 1 ? `${row.pod}/${row.container}` : row.pod,
  );
  div.append(label);
  if (view.timestamps) div.append(el('span', 'time', row.timestamp.replace('T', ' ').replace(/\.(\d{3})\d*Z$/, '.$1')));
  div.append(el('span', `badge level-${row.level}`, row.level === 'other' ? '' : row.level.toUpperCase()));
  div.append(renderText(row));
  return div;
}

let scheduled = false;
/** Drop every row element at the next frame (filter, view, selection or labels changed). */
let redrawAll = true;
/** Line number -> its element, for the rows in the DOM; the rest of the list is never built. */
const rendered = new Map<number, HTMLElement>();

let lastDraw = 0;
let delayed: ReturnType<typeof setTimeout> | undefined;

/** Everything visible is drawn at most once per frame, however many batches arrived. */
function render(forceRedraw: boolean) {
  if (forceRedraw) redrawAll = true;
  // While lines pour in and the view follows them, ten redraws a second show as much as twenty
  // (each one replaces the whole screenful) for half the work. Anything the user did is drawn at
  // the next frame, even when a delayed redraw is pending.
  const wait = follow && !redrawAll ? lastDraw + FOLLOW_DRAW_MS - performance.now() : 0;
  if (wait <= 0 && delayed !== undefined) {
    clearTimeout(delayed);
    delayed = undefined;
    scheduled = false;
  }
  if (scheduled) return;
  scheduled = true;
  if (wait > 0) {
    delayed = setTimeout(() => {
      delayed = undefined;
      requestAnimationFrame(draw);
    }, wait);
  } else {
    requestAnimationFrame(draw);
  }
}

function draw(now: number) {
  scheduled = false;
  lastDraw = now;
  // Read before any write: the layout is still clean, so these cost nothing.
  const viewHeight = list.clientHeight;
  const total = visible.length;
  const top = follow ? Math.max(0, total * ROW - viewHeight) : list.scrollTop;
  if (chipsDirty) {
    chipsDirty = false;
    renderChips();
  } else {
    updateCounts();
  }
  if (redrawAll) {
    redrawAll = false;
    rendered.clear();
    windowEl.replaceChildren();
  }
  // Following, nothing lies below the last line and the rows above are scrolled past at once:
  // only the screenful is built, which is what every batch replaces at thousands of lines a second.
  const before = follow ? 1 : OVERSCAN;
  const first = Math.max(0, Math.min(Math.floor(top / ROW) - before, total - 1));
  const slice = visible.slice(first, first + Math.ceil(viewHeight / ROW) + before + (follow ? 0 : OVERSCAN));
  // Keep the rows still in the window; build only the new ones. Both the DOM and the slice are in
  // line order, so one pass inserts each new row before the first kept row after it.
  const wanted = new Set(slice);
  for (const [n, node] of rendered) {
    if (!wanted.has(n)) {
      node.remove();
      rendered.delete(n);
    }
  }
  let next = windowEl.firstChild;
  for (const n of slice) {
    const kept = rendered.get(n);
    if (kept) {
      next = kept.nextSibling;
      continue;
    }
    const node = renderRow(n);
    rendered.set(n, node);
    windowEl.insertBefore(node, next);
  }
  // Without wrapping every row is ROW px high and the window floats over a full-height spacer;
  // with wrapping rows vary, so the window sits in flow between padding that stands for the rest.
  setStyle(spacer, 'height', view.wrap ? '0px' : `${total * ROW}px`);
  setStyle(windowEl, 'transform', view.wrap ? 'none' : `translateY(${first * ROW}px)`);
  setStyle(windowEl, 'paddingTop', view.wrap ? `${first * ROW}px` : '0px');
  setStyle(windowEl, 'paddingBottom', view.wrap ? `${Math.max(0, total - first - slice.length) * ROW}px` : '0px');
  live.classList.toggle('hidden', follow);
  setText(live, unseen > 0 ? `${unseen} new lines — back to live` : 'Back to live');
  setText(
    status,
    `${total} of ${rows.length} lines${dropped ? ` · ${dropped} older lines dropped` : ''}${follow ? ' · following' : ' · paused'}`,
  );
  // Last, after every write: one layout for the whole frame.
  if (follow) list.scrollTop = list.scrollHeight;
}

function setStyle(node: HTMLElement, property: 'height' | 'transform' | 'paddingTop' | 'paddingBottom', value: string) {
  if (node.style[property] !== value) node.style[property] = value;
}

function showDetail(n: number) {
  const row = rowAt(n);
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
  // Our own scroll to the bottom lands here too: the window is redrawn only where it moved.
  render(false);
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
  else showDetail(expanded);
  render(true);
});
filterField.addEventListener('input', () => {
  filterState.text = filterField.value ?? '';
  changed();
});
clearButton.addEventListener('click', () => vscode.postMessage({ type: 'clear' }));
exportButton.addEventListener('click', () => {
  const text =
    visible
      .map((n) => rowAt(n))
      .map((r) => `${r.timestamp} ${r.pod}/${r.container} ${r.plain}`)
      .join('\n') + '\n';
  vscode.postMessage({
    type: 'export',
    text,
    suggestedName: `${(target?.deployment ?? target?.pod ?? 'logs').replace(/[^\w.-]/g, '_')}.log`,
  });
});
document.addEventListener('keydown', (e) => {
  if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'f') {
    e.preventDefault();
    filterField.focus();
  } else if (e.key === 'Escape' && filterState.text) {
    filterField.value = '';
    filterState.text = '';
    changed();
  } else if (
    (e.ctrlKey || e.metaKey) &&
    e.key.toLowerCase() === 'c' &&
    selected.size > 0 &&
    !window.getSelection()?.toString()
  ) {
    const text = [...selected]
      .sort((a, b) => a - b)
      .map((n) => rowAt(n).plain)
      .join('\n');
    vscode.postMessage({ type: 'copy', text });
  }
});

function reset() {
  rows = [];
  base = 0;
  visible = [];
  levelCounts = zeroCounts();
  selected.clear();
  anchor = -1;
  expanded = undefined;
  detail.classList.add('hidden');
  unseen = 0;
  chipsDirty = true;
  redrawAll = true; // line numbers start again at 0: no row element may be reused
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const message = event.data;
  if (!isHostMessage(message)) return;
  switch (message.type) {
    case 'init':
      target = message.target;
      maxLines = message.maxLines;
      reset();
      pods = message.pods.map((p) => p.name);
      containers = [...new Set(message.pods.flatMap((p) => p.containers))];
      dropped = message.dropped;
      document.title = message.title;
      addLines(message.lines);
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
      chipsDirty = true;
      render(true);
      return;
    case 'cleared':
      reset();
      render(true);
      return;
    case 'notice':
      status.textContent = message.message;
      return;
  }
});

filterField.value = filterState.text;
filterError.textContent = filter.error ? `${filter.error} (showing every line)` : '';
document.body.classList.toggle('wrap', view.wrap);
vscode.postMessage({ type: 'ready' });
