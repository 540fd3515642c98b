// The panel's filter, in a pure module so the webview and Node unit tests run the same code.
// Every criterion is combined with AND; hidden pods/containers/levels are listed (rather than
// shown ones) so that a pod appearing later is visible by default.
import { LEVELS, type Level } from '../../src/core/logs/levels';

export interface FilterState {
  text: string;
  regex: boolean;
  caseSensitive: boolean;
  hiddenLevels: Level[];
  hiddenPods: string[];
  hiddenContainers: string[];
}

export const EMPTY_FILTER: FilterState = {
  text: '',
  regex: false,
  caseSensitive: false,
  hiddenLevels: [],
  hiddenPods: [],
  hiddenContainers: [],
};

export interface FilterableLine {
  pod: string;
  container: string;
  level: Level;
  /** Text to search: the log text with escape codes removed. */
  plain: string;
}

export interface CompiledFilter {
  /** Why the pattern was not usable ("Invalid regular expression: ..."), in which case it matches everything. */
  error?: string;
  /** The text pattern, or undefined when there is no usable text criterion. */
  pattern?: RegExp;
  matches(line: FilterableLine): boolean;
  /** Text, pod and container criteria only: what level chip counts are based on. */
  matchesIgnoringLevel(line: FilterableLine): boolean;
  levelVisible(level: Level): boolean;
  /** [start, end) ranges of the text matches in `plain`, for highlighting. */
  highlights(plain: string): Array<[number, number]>;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function compileFilter(state: FilterState): CompiledFilter {
  let pattern: RegExp | undefined;
  let error: string | undefined;
  if (state.text.length > 0) {
    const flags = state.caseSensitive ? '' : 'i';
    try {
      pattern = new RegExp(state.regex ? state.text : escapeRegExp(state.text), flags);
    } catch (err) {
      error = `Invalid regular expression: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`;
    }
  }
  const hiddenLevels = new Set(state.hiddenLevels);
  const hiddenPods = new Set(state.hiddenPods);
  const hiddenContainers = new Set(state.hiddenContainers);
  const test = pattern;
  const global = pattern ? new RegExp(pattern.source, pattern.flags + 'g') : undefined;

  const matchesIgnoringLevel = (line: FilterableLine): boolean =>
    (hiddenPods.size === 0 || !hiddenPods.has(line.pod)) &&
    (hiddenContainers.size === 0 || !hiddenContainers.has(line.container)) &&
    (test === undefined || test.test(line.plain));

  return {
    error,
    pattern,
    matchesIgnoringLevel,
    levelVisible: (level) => !hiddenLevels.has(level),
    matches: (line) => !hiddenLevels.has(line.level) && matchesIgnoringLevel(line),
    highlights(plain) {
      if (!global) return [];
      const ranges: Array<[number, number]> = [];
      global.lastIndex = 0;
      for (let m = global.exec(plain); m; m = global.exec(plain)) {
        if (m[0].length === 0) {
          global.lastIndex++; // an empty match (e.g. /x*/) would loop forever
          continue;
        }
        ranges.push([m.index, m.index + m[0].length]);
        if (ranges.length >= 1000) break;
      }
      return ranges;
    },
  };
}

export interface FilterResult {
  /** Indexes into the input of the lines that pass. */
  visible: number[];
  /** Per level: lines passing every criterion except the level chips. */
  levelCounts: Record<Level, number>;
}

export function applyFilter(lines: readonly FilterableLine[], filter: CompiledFilter): FilterResult {
  const visible: number[] = [];
  const levelCounts = Object.fromEntries(LEVELS.map((l) => [l, 0])) as Record<Level, number>;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!filter.matchesIgnoringLevel(line)) continue;
    levelCounts[line.level]++;
    if (filter.levelVisible(line.level)) visible.push(i);
  }
  return { visible, levelCounts };
}

/** Validates filter state coming from storage or a message; anything malformed becomes the default. */
export function sanitizeFilterState(value: unknown): FilterState {
  const v = (value && typeof value === 'object' ? value : {}) as Record<string, unknown>;
  const strings = (x: unknown, max = 1000): string[] =>
    Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string').slice(0, max) : [];
  return {
    text: typeof v.text === 'string' ? v.text.slice(0, 10_000) : '',
    regex: v.regex === true,
    caseSensitive: v.caseSensitive === true,
    hiddenLevels: strings(v.hiddenLevels).filter((l): l is Level => (LEVELS as readonly string[]).includes(l)),
    hiddenPods: strings(v.hiddenPods),
    hiddenContainers: strings(v.hiddenContainers),
  };
}
