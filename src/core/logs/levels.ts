// Log level detection. Structured forms (JSON, logfmt, klog) are trusted first; plain text falls
// back to well-known markers. Lower-case words only count in bracket or prefix form ("[error]",
// "error:"), because "no error found" in a sentence is not an error line.
import { stripAnsi } from './ansi';

export const LEVELS = ['error', 'warn', 'info', 'debug', 'other'] as const;
export type Level = (typeof LEVELS)[number];

const NAMES: Record<string, Level> = {
  fatal: 'error',
  panic: 'error',
  critical: 'error',
  crit: 'error',
  emerg: 'error',
  emergency: 'error',
  alert: 'error',
  error: 'error',
  err: 'error',
  severe: 'error',
  e: 'error',
  f: 'error',
  c: 'error',
  warning: 'warn',
  warn: 'warn',
  w: 'warn',
  info: 'info',
  information: 'info',
  informational: 'info',
  notice: 'info',
  i: 'info',
  n: 'info',
  debug: 'debug',
  trace: 'debug',
  verbose: 'debug',
  fine: 'debug',
  finer: 'debug',
  finest: 'debug',
  d: 'debug',
  t: 'debug',
  v: 'debug',
  dbg: 'debug',
  trc: 'debug',
  inf: 'info',
  wrn: 'warn',
  eror: 'error',
  ftl: 'error',
  crt: 'error',
};

function levelFromName(value: unknown): Level | undefined {
  if (typeof value === 'number') return levelFromNumber(value);
  if (typeof value !== 'string') return undefined;
  const v = value.trim().toLowerCase();
  if (/^\d+$/.test(v)) return levelFromNumber(Number(v));
  return NAMES[v];
}

/** pino/bunyan numbers (10 trace .. 60 fatal); syslog severities 0..7 are too ambiguous to map. */
function levelFromNumber(n: number): Level | undefined {
  if (n >= 50) return 'error';
  if (n >= 40) return 'warn';
  if (n >= 30) return 'info';
  if (n >= 10) return 'debug';
  return undefined;
}

const JSON_KEYS = ['level', 'severity', 'lvl', 'loglevel', 'log_level', 'levelname', 'log.level', '@l', 'level_name'];

function levelFromJson(text: string): Level | undefined {
  if (text.length > 65536) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const obj = value as Record<string, unknown>;
  for (const key of JSON_KEYS) {
    const found = key in obj ? levelFromName(obj[key]) : undefined;
    if (found) return found;
  }
  const log = obj.log;
  if (log && typeof log === 'object' && 'level' in log) return levelFromName((log as Record<string, unknown>).level);
  return undefined;
}

const LOGFMT = /(?:^|\s)(?:level|lvl|severity|loglevel|at)=("?)([A-Za-z]+)\1(?=\s|$)/i;
const KLOG = /^([IWEF])\d{4} \d{2}:\d{2}:\d{2}/;
const BRACKETED =
  /[[<(](?:[\w.-]+:)?(fatal|panic|critical|crit|error|err|warning|warn|info|notice|debug|trace|verbose)[\]>)]/i;
const PREFIXED = /^(?:\S+\s+){0,3}?(fatal|panic|critical|error|warning|warn|info|notice|debug|trace)\s*:/i;
const UPPER = /\b(FATAL|PANIC|CRITICAL|CRIT|ERROR|ERR|SEVERE|WARNING|WARN|INFO|NOTICE|DEBUG|TRACE|VERBOSE)\b/;
const RAILS = /^([DIWEF]), \[\d{4}-/;

export function detectLevel(raw: string): Level {
  const text = stripAnsi(raw).trimStart();
  if (text.length === 0) return 'other';
  if (text.charCodeAt(0) === 123 /* { */) {
    const fromJson = levelFromJson(text);
    if (fromJson) return fromJson;
  }
  const head = text.length > 300 ? text.slice(0, 300) : text;
  // Each form is tried only when the character it cannot match without is there: most lines
  // are plain text, and running six expressions on each was a large part of the cost per line.
  const logfmt = head.includes('=') ? LOGFMT.exec(head) : null;
  if (logfmt) {
    const found = levelFromName(logfmt[2]);
    if (found) return found;
  }
  const klog = KLOG.exec(head) ?? (head.charCodeAt(1) === 44 /* , */ ? RAILS.exec(head) : null);
  if (klog) return NAMES[klog[1].toLowerCase()] ?? 'other';
  const bracketed = /[[<(]/.test(head) ? BRACKETED.exec(head) : null;
  if (bracketed) return NAMES[bracketed[1].toLowerCase()] ?? 'other';
  const upper = UPPER.exec(head.length > 160 ? head.slice(0, 160) : head);
  if (upper) return NAMES[upper[1].toLowerCase()] ?? 'other';
  const prefixed = head.includes(':') ? PREFIXED.exec(head) : null;
  if (prefixed) return NAMES[prefixed[1].toLowerCase()] ?? 'other';
  return 'other';
}
