// The log panel's DOM: the toolbar, the chips, and one virtualised list in which only the rows in
// sight are elements. It draws what the model (model.ts) holds, at most once per frame, and hands
// the user's input to main.ts. Log text only ever reaches the DOM through textContent.
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import { parseAnsi } from '../../src/core/logs/ansi';
import { LEVELS, type Level } from '../../src/core/logs/levels';
import type { LogModel, Row } from './model';
import type { ViewOptions } from './state';

const ROW = 20; // px; rows have a fixed height unless wrapping
const OVERSCAN = 10;
/** Characters of a line put in its row; the detail view, copy and export keep the whole line. */
const DISPLAY_MAX = 10_000;
/** Least time between two redraws while following a stream (see render()). */
const FOLLOW_DRAW_MS = 100;

/** What the user asks for that the view cannot do alone. */
export interface ViewActions {
  /** The filter or the view options changed (persist, filter again, redraw). */
  changed(): void;
  clear(): void;
  export(): void;
  copy(): void;
}

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

function setText(node: HTMLElement, text: string) {
  if (node.textContent !== text) node.textContent = text;
}

function setStyle(node: HTMLElement, property: 'height' | 'transform' | 'paddingTop' | 'paddingBottom', value: string) {
  if (node.style[property] !== value) node.style[property] = value;
}

function toggleIn(listOf: string[], value: string): string[] {
  return listOf.includes(value) ? listOf.filter((v) => v !== value) : [...listOf, value];
}

export class LogView {
  readonly filterField = document.createElement('vscode-textfield') as HTMLElement & { value: string };
  private readonly filterError = el('div', 'filter-error');
  private readonly levelChips = el('div', 'chips levels');
  private readonly podChips = el('div', 'chips pods');
  private readonly status = el('div', 'status');
  private readonly list = el('div', 'list');
  private readonly spacer = el('div', 'spacer');
  private readonly windowEl = el('div', 'window');
  private readonly live = el('button', 'live hidden', '');
  private readonly detail = el('pre', 'detail hidden');
  /** The line the detail view shows. */
  private detailOf: number | undefined;
  /** Chips are rebuilt when pods, containers or hidden sets change; otherwise only badges update. */
  private chipsDirty = true;
  private levelBadges = new Map<Level, HTMLElement>();
  /** Drop every row element at the next frame (filter, view, selection or labels changed). */
  private redrawAll = true;
  /** Line number -> its element, for the rows in the DOM; the rest of the list is never built. */
  private readonly rendered = new Map<number, HTMLElement>();
  private scheduled = false;
  private lastDraw = 0;
  private delayed: ReturnType<typeof setTimeout> | undefined;

  constructor(
    app: HTMLElement,
    private readonly model: LogModel,
    private readonly options: ViewOptions,
    private readonly actions: ViewActions,
  ) {
    const state = model.filterState;
    const toolbar = el('div', 'toolbar');
    this.filterField.setAttribute('placeholder', 'Filter (Ctrl+F)');
    this.filterField.setAttribute('aria-label', 'Filter log lines');
    this.filterField.className = 'filter';
    this.filterField.value = state.text;
    this.filterError.setAttribute('role', 'alert');
    const clearButton = el('button', 'action', 'Clear');
    const exportButton = el('button', 'action', 'Export');
    const toggles: [string, string, () => boolean, (on: boolean) => void][] = [
      ['.*', 'Use regular expression', () => state.regex, (on) => (state.regex = on)],
      ['Aa', 'Match case', () => state.caseSensitive, (on) => (state.caseSensitive = on)],
      ['Wrap', 'Wrap long lines', () => options.wrap, (on) => (options.wrap = on)],
      ['Time', 'Show timestamps', () => options.timestamps, (on) => (options.timestamps = on)],
      [
        'Colour',
        'Render ANSI colours (off: strip them)',
        () => options.ansi === 'color',
        (on) => (options.ansi = on ? 'color' : 'strip'),
      ],
    ];
    toolbar.append(this.filterField, ...toggles.map((t) => this.toggle(...t)), clearButton, exportButton);
    this.list.tabIndex = 0;
    this.list.setAttribute('role', 'log');
    this.list.setAttribute('aria-label', 'Log lines');
    this.list.append(this.spacer, this.windowEl);
    app.append(
      toolbar,
      this.filterError,
      this.levelChips,
      this.podChips,
      this.list,
      this.live,
      this.detail,
      this.status,
    );
    this.showFilterError();
    document.body.classList.toggle('wrap', options.wrap);

    this.list.addEventListener('scroll', () => {
      const atBottom = this.list.scrollTop + this.list.clientHeight >= this.list.scrollHeight - ROW;
      if (atBottom !== model.follow) model.setFollow(atBottom);
      // Our own scroll to the bottom lands here too: the window is redrawn only where it moved.
      this.render(false);
    });
    this.live.addEventListener('click', () => {
      model.setFollow(true);
      this.render(true);
    });
    this.windowEl.addEventListener('click', (e) => {
      const rowEl = (e.target as HTMLElement).closest('.row') as HTMLElement | null;
      if (!rowEl) return;
      model.select(Number(rowEl.dataset.index), e.shiftKey ? 'range' : e.ctrlKey || e.metaKey ? 'toggle' : 'only');
      this.render(true);
    });
    this.filterField.addEventListener('input', () => {
      state.text = this.filterField.value ?? '';
      actions.changed();
    });
    clearButton.addEventListener('click', () => actions.clear());
    exportButton.addEventListener('click', () => actions.export());
    document.addEventListener('keydown', (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'f') {
        e.preventDefault();
        this.filterField.focus();
      } else if (e.key === 'Escape' && state.text) {
        this.filterField.value = '';
        state.text = '';
        actions.changed();
      } else if (
        (e.ctrlKey || e.metaKey) &&
        e.key.toLowerCase() === 'c' &&
        model.selected.size > 0 &&
        !window.getSelection()?.toString()
      ) {
        actions.copy();
      }
    });
  }

  private toggle(label: string, title: string, get: () => boolean, set: (v: boolean) => void) {
    const b = el('button', 'toggle', label);
    b.title = title;
    b.setAttribute('aria-pressed', String(get()));
    b.addEventListener('click', () => {
      set(!get());
      b.setAttribute('aria-pressed', String(get()));
      this.actions.changed();
    });
    return b;
  }

  /** The filter or the view options changed: everything is drawn again. */
  filterChanged(): void {
    document.body.classList.toggle('wrap', this.options.wrap);
    this.showFilterError();
    this.chipsDirty = true;
    this.render(true);
  }

  private showFilterError() {
    this.filterError.textContent = this.model.filter.error ? `${this.model.filter.error} (showing every line)` : '';
  }

  /** New rows arrived; `chips`/`rows` as the model's add() said. */
  linesAdded(changes: { chips: boolean; rows: boolean }): void {
    if (changes.chips) this.chipsDirty = true;
    if (changes.rows) this.redrawAll = true;
    this.render(false);
  }

  /** The pods or the buffer changed wholesale (init, clear, pods message). */
  reset(): void {
    this.chipsDirty = true;
    this.detailOf = -1; // line numbers start again: the same number may be another line now
    this.render(true); // line numbers may start again at 0: no row element may be reused
  }

  private chip(label: string, count: number | undefined, hidden: boolean, onClick: () => void, extraClass = '') {
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

  private renderChips() {
    const { model } = this;
    const state = model.filterState;
    this.levelBadges = new Map();
    this.levelChips.replaceChildren(
      ...LEVELS.map((level) => {
        const b = this.chip(
          level,
          model.levelCounts[level],
          state.hiddenLevels.includes(level),
          () => {
            state.hiddenLevels = toggleIn(state.hiddenLevels, level) as Level[];
            this.actions.changed();
          },
          `level-${level}`,
        );
        this.levelBadges.set(level, b.querySelector('vscode-badge')!);
        return b;
      }),
    );
    this.podChips.replaceChildren(
      ...model.pods.map((pod) =>
        this.chip(
          pod,
          undefined,
          state.hiddenPods.includes(pod),
          () => {
            state.hiddenPods = toggleIn(state.hiddenPods, pod);
            this.actions.changed();
          },
          `pod-colour-${model.colourOf(pod)}`,
        ),
      ),
      ...(model.containers.length > 1
        ? model.containers.map((c) =>
            this.chip(`▸ ${c}`, undefined, state.hiddenContainers.includes(c), () => {
              state.hiddenContainers = toggleIn(state.hiddenContainers, c);
              this.actions.changed();
            }),
          )
        : []),
    );
  }

  /** Only the badge texts change while lines stream in: no new elements, no style recalculation. */
  private updateCounts() {
    for (const [level, badge] of this.levelBadges) setText(badge, String(this.model.levelCounts[level]));
  }

  private appendText(parent: HTMLElement, text: string, from: number, highlights: Array<[number, number]>) {
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

  private renderText(row: Row): HTMLElement {
    const span = el('span', 'text');
    // A megabyte-long line would cost the layout of a megabyte of text in every frame it is shown.
    const cut = row.plain.length > DISPLAY_MAX;
    const shown = cut ? row.plain.slice(0, DISPLAY_MAX) : row.plain;
    const highlights = this.model.filter.highlights(shown);
    if (this.options.ansi === 'strip' || row.plain === row.text) {
      this.appendText(span, shown, 0, highlights);
    } else {
      this.appendAnsi(span, row.text, highlights);
    }
    if (cut)
      span.append(
        el('span', 'more', ` … ${row.plain.length - DISPLAY_MAX} more characters (select the line to see it whole)`),
      );
    return span;
  }

  private appendAnsi(span: HTMLElement, text: string, highlights: Array<[number, number]>) {
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
      this.appendText(part, seg.text, offset, highlights);
      offset += seg.text.length;
      span.append(part);
    }
  }

  private renderRow(n: number): HTMLElement {
    const { model } = this;
    const row = model.rowAt(n);
    const div = el(
      'div',
      `row level-${row.level}${row.kind === 'event' ? ' event' : ''}${model.selected.has(n) ? ' selected' : ''}`,
    );
    div.dataset.index = String(n);
    const label = el(
      'span',
      `pod pod-colour-${model.colourOf(row.pod)}`,
      model.containers.length > 1 ? `${row.pod}/${row.container}` : row.pod,
    );
    div.append(label);
    if (this.options.timestamps)
      div.append(el('span', 'time', row.timestamp.replace('T', ' ').replace(/\.(\d{3})\d*Z$/, '.$1')));
    div.append(el('span', `badge level-${row.level}`, row.level === 'other' ? '' : row.level.toUpperCase()));
    div.append(this.renderText(row));
    return div;
  }

  /** Everything visible is drawn at most once per frame, however many batches arrived. */
  render(forceRedraw: boolean): void {
    if (forceRedraw) this.redrawAll = true;
    // While lines pour in and the view follows them, ten redraws a second show as much as twenty
    // (each one replaces the whole screenful) for half the work. Anything the user did is drawn at
    // the next frame, even when a delayed redraw is pending.
    const wait = this.model.follow && !this.redrawAll ? this.lastDraw + FOLLOW_DRAW_MS - performance.now() : 0;
    if (wait <= 0 && this.delayed !== undefined) {
      clearTimeout(this.delayed);
      this.delayed = undefined;
      this.scheduled = false;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    if (wait > 0) {
      this.delayed = setTimeout(() => {
        this.delayed = undefined;
        requestAnimationFrame((now) => this.draw(now));
      }, wait);
    } else {
      requestAnimationFrame((now) => this.draw(now));
    }
  }

  private draw(now: number) {
    const { model, list, windowEl } = this;
    this.scheduled = false;
    this.lastDraw = now;
    // Read before any write: the layout is still clean, so these cost nothing.
    const viewHeight = list.clientHeight;
    const total = model.visible.length;
    const top = model.follow ? Math.max(0, total * ROW - viewHeight) : list.scrollTop;
    if (this.chipsDirty) {
      this.chipsDirty = false;
      this.renderChips();
    } else {
      this.updateCounts();
    }
    if (this.redrawAll) {
      this.redrawAll = false;
      this.rendered.clear();
      windowEl.replaceChildren();
    }
    // Following, nothing lies below the last line and the rows above are scrolled past at once:
    // only the screenful is built, which is what every batch replaces at thousands of lines a second.
    const before = model.follow ? 1 : OVERSCAN;
    const first = Math.max(0, Math.min(Math.floor(top / ROW) - before, total - 1));
    const slice = model.visible.slice(
      first,
      first + Math.ceil(viewHeight / ROW) + before + (model.follow ? 0 : OVERSCAN),
    );
    // Keep the rows still in the window; build only the new ones. Both the DOM and the slice are in
    // line order, so one pass inserts each new row before the first kept row after it.
    const wanted = new Set(slice);
    for (const [n, node] of this.rendered) {
      if (!wanted.has(n)) {
        node.remove();
        this.rendered.delete(n);
      }
    }
    let next = windowEl.firstChild;
    for (const n of slice) {
      const kept = this.rendered.get(n);
      if (kept) {
        next = kept.nextSibling;
        continue;
      }
      const node = this.renderRow(n);
      this.rendered.set(n, node);
      windowEl.insertBefore(node, next);
    }
    // Without wrapping every row is ROW px high and the window floats over a full-height spacer;
    // with wrapping rows vary, so the window sits in flow between padding that stands for the rest.
    const wrap = this.options.wrap;
    setStyle(this.spacer, 'height', wrap ? '0px' : `${total * ROW}px`);
    setStyle(windowEl, 'transform', wrap ? 'none' : `translateY(${first * ROW}px)`);
    setStyle(windowEl, 'paddingTop', wrap ? `${first * ROW}px` : '0px');
    setStyle(windowEl, 'paddingBottom', wrap ? `${Math.max(0, total - first - slice.length) * ROW}px` : '0px');
    this.live.classList.toggle('hidden', model.follow);
    setText(this.live, model.unseen > 0 ? `${model.unseen} new lines — back to live` : 'Back to live');
    setText(
      this.status,
      `${total} of ${model.size} lines${model.dropped ? ` · ${model.dropped} older lines dropped` : ''}${model.follow ? ' · following' : ' · paused'}`,
    );
    this.drawDetail();
    // Last, after every write: one layout for the whole frame.
    if (model.follow) list.scrollTop = list.scrollHeight;
  }

  /** The selected line whole, JSON pretty-printed; hidden without a single selected line. */
  private drawDetail() {
    const n = this.model.expanded;
    if (n === this.detailOf) return;
    this.detailOf = n;
    this.detail.classList.toggle('hidden', n === undefined);
    if (n === undefined) return;
    const row = this.model.rowAt(n);
    let pretty: string | undefined;
    try {
      const parsed = JSON.parse(row.plain);
      if (parsed && typeof parsed === 'object') pretty = JSON.stringify(parsed, null, 2);
    } catch {}
    this.detail.textContent = pretty ?? row.plain;
  }
}
