// The API server prefixes each line with an RFC 3339 timestamp when asked for `timestamps=true`.
// Go's RFC3339Nano trims trailing zeros of the fraction, so the strings are not all the same
// length: compare by (whole second, nanoseconds), never as plain strings.

export interface SplitTimestamp {
  /** The timestamp as the server sent it, or '' when the line had none. */
  timestamp: string;
  text: string;
}

const PREFIX = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2}) /;

export function splitTimestamp(line: string): SplitTimestamp {
  const m = PREFIX.exec(line);
  if (!m) return { timestamp: '', text: line };
  return { timestamp: m[0].slice(0, -1), text: line.slice(m[0].length) };
}

/** Orderable form of a timestamp: epoch seconds and nanoseconds; undefined when unparsable. */
export interface Instant {
  seconds: number;
  nanos: number;
}

const INSTANT = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;
/** The last whole second parsed: lines come in bursts within one second, and Date.parse is most of the cost. */
let cached = { second: '', seconds: NaN };

export function parseInstant(timestamp: string): Instant | undefined {
  const m = INSTANT.exec(timestamp);
  if (!m) return undefined;
  const second = m[1] + m[3];
  if (second !== cached.second) cached = { second, seconds: Math.floor(Date.parse(second) / 1000) };
  if (Number.isNaN(cached.seconds)) return undefined;
  return { seconds: cached.seconds, nanos: m[2] ? Number(m[2].padEnd(9, '0')) : 0 };
}

export function compareInstants(a: Instant, b: Instant): number {
  return a.seconds !== b.seconds ? a.seconds - b.seconds : a.nanos - b.nanos;
}

/** `sinceTime` for resuming: the API only honours whole seconds, so round down. */
export function sinceTimeFor(instant: Instant): string {
  return new Date(instant.seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
