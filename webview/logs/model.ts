// The log panel's state, without the DOM: the rows, which of them pass the filter, the level
// counts, the selection, follow mode and each pod's colour. main.ts feeds it the host's messages
// and the user's input, view.ts draws it. Plain data and arithmetic, so it is unit-tested in Node.
import { stripAnsi } from '../../src/core/logs/ansi';
import { LEVELS, type Level } from '../../src/core/logs/levels';
import type { LogLine } from '../../src/core/logs/types';
import { applyFilter, compileFilter, type CompiledFilter, type FilterState } from './filter';

export interface Row extends LogLine {
  plain: string;
}

/**
 * The pod colours (.pod-colour-0 … in logs.css). None is red or yellow: next to the level
 * badges those read as an error or a warning.
 */
export const POD_COLOURS = 8;

/** What changed beyond the new rows themselves. */
export interface Changes {
  /** The pod, container or level chips must be built again. */
  chips: boolean;
  /** Every row element must be built again (their labels changed). */
  rows: boolean;
}

export interface PodInfo {
  name: string;
  containers: string[];
}

function zeroCounts(): Record<Level, number> {
  return Object.fromEntries(LEVELS.map((l) => [l, 0])) as Record<Level, number>;
}

/** The copy of `value` kept in `known`, added if it is new. */
function intern(known: string[], value: string): string {
  const i = known.indexOf(value);
  if (i >= 0) return known[i];
  known.push(value);
  return value;
}

export class LogModel {
  /**
   * rows[i] is line number base + i. Line numbers never change, so dropping the oldest lines
   * (the buffer bound) moves `base` instead of renumbering visible lines, selection and rows.
   */
  private rows: Row[] = [];
  private base = 0;
  /** Numbers of the lines that pass the filter, ascending. */
  visible: number[] = [];
  filter: CompiledFilter;
  readonly pods: string[] = [];
  readonly containers: string[] = [];
  dropped = 0;
  /** The host's buffer bound, which the webview keeps too. */
  maxLines = 50_000;
  /** Per level, lines passing every criterion but the level chips; kept up to date line by line. */
  levelCounts = zeroCounts();
  selected = new Set<number>();
  private anchor = -1;
  /** The line shown whole in the detail view. */
  expanded: number | undefined;
  /** The list follows the newest line; lines arriving otherwise are counted as unseen. */
  follow = true;
  unseen = 0;
  /** Given in order of first appearance, so the first POD_COLOURS pods of a panel never share one. */
  private readonly colours = new Map<string, number>();

  constructor(readonly filterState: FilterState) {
    this.filter = compileFilter(filterState);
  }

  /** Lines held (passing the filter or not). */
  get size(): number {
    return this.rows.length;
  }

  rowAt(n: number): Row {
    return this.rows[n - this.base];
  }

  colourOf(pod: string): number {
    let colour = this.colours.get(pod);
    if (colour === undefined) {
      colour = this.colours.size % POD_COLOURS;
      this.colours.set(pod, colour);
    }
    return colour;
  }

  /** A fresh start (the webview loaded, or the host cleared the buffer): line numbers start again at 0. */
  reset(): void {
    this.rows = [];
    this.base = 0;
    this.visible = [];
    this.levelCounts = zeroCounts();
    this.selected.clear();
    this.anchor = -1;
    this.expanded = undefined;
    this.unseen = 0;
  }

  /** Pods and containers the host reports, before any of their lines arrive. */
  addPods(pods: PodInfo[]): void {
    for (const p of pods) {
      intern(this.pods, p.name);
      this.colourOf(p.name);
      for (const c of p.containers) intern(this.containers, c);
    }
  }

  /** New lines, oldest first. */
  add(lines: LogLine[]): Changes {
    const podCount = this.pods.length;
    const containerCount = this.containers.length;
    for (const l of lines) {
      // The message is ours (a structured clone): the line object itself becomes the row.
      const row = l as Row;
      row.plain = stripAnsi(row.text);
      // The clone gave every line its own copies of these strings; sharing one copy each lets the
      // copies die young instead of being carried through every garbage collection.
      row.level = LEVELS.find((level) => level === row.level) ?? 'other';
      row.kind = row.kind === 'event' ? 'event' : 'log';
      row.container = intern(this.containers, row.container);
      row.pod = intern(this.pods, row.pod);
      this.colourOf(row.pod);
      const n = this.base + this.rows.length;
      this.rows.push(row);
      if (this.filter.matchesIgnoringLevel(row)) {
        this.levelCounts[row.level]++;
        if (this.filter.levelVisible(row.level)) this.visible.push(n);
      }
    }
    this.trim();
    if (!this.follow) this.unseen += lines.length;
    return {
      chips: this.pods.length !== podCount || this.containers.length !== containerCount,
      // Labels become pod/container once there is more than one container.
      rows: containerCount <= 1 && this.containers.length > 1,
    };
  }

  /** The filter state changed: which lines pass, and the counts, are worked out again. */
  refilter(): void {
    this.filter = compileFilter(this.filterState);
    const result = applyFilter(this.rows, this.filter);
    this.visible = this.base > 0 ? result.visible.map((i) => i + this.base) : result.visible;
    this.levelCounts = result.levelCounts;
  }

  /** The oldest lines go beyond the bound, with their counts, selection and detail. */
  private trim() {
    const cut = this.rows.length - this.maxLines;
    if (cut <= 0) return;
    for (let i = 0; i < cut; i++)
      if (this.filter.matchesIgnoringLevel(this.rows[i])) this.levelCounts[this.rows[i].level]--;
    this.rows.splice(0, cut);
    this.base += cut;
    let k = 0;
    while (k < this.visible.length && this.visible[k] < this.base) k++;
    this.visible.splice(0, k);
    for (const n of this.selected) if (n < this.base) this.selected.delete(n);
    if (this.anchor < this.base) this.anchor = -1;
    if (this.expanded !== undefined && this.expanded < this.base) this.expanded = undefined;
  }

  /** A click on a line: alone, added to or removed from the selection, or the range from the last one. */
  select(n: number, how: 'only' | 'toggle' | 'range'): void {
    if (how === 'range' && this.anchor >= 0) {
      const [a, b] = [Math.min(this.anchor, n), Math.max(this.anchor, n)];
      this.selected = new Set(this.visible.filter((i) => i >= a && i <= b));
    } else if (how === 'toggle') {
      if (this.selected.has(n)) this.selected.delete(n);
      else this.selected.add(n);
      this.anchor = n;
    } else {
      this.selected = new Set([n]);
      this.anchor = n;
    }
    this.expanded = this.selected.size === 1 ? n : undefined;
  }

  setFollow(on: boolean): void {
    this.follow = on;
    if (on) this.unseen = 0;
  }

  /** The selected lines, as the pods wrote them (escape codes removed). */
  copyText(): string {
    return [...this.selected]
      .sort((a, b) => a - b)
      .map((n) => this.rowAt(n).plain)
      .join('\n');
  }

  /** The lines that pass the filter, with time, pod and container. */
  exportText(): string {
    return (
      this.visible
        .map((n) => this.rowAt(n))
        .map((r) => `${r.timestamp} ${r.pod}/${r.container} ${r.plain}`)
        .join('\n') + '\n'
    );
  }
}
