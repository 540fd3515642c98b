// The API server prefixes each line with an RFC 3339 timestamp when asked for `timestamps=true`.
// Go's RFC3339Nano trims trailing zeros of the fraction, so the strings are not all the same
// length: compare by (whole second, nanoseconds), never as plain strings.

export interface SplitTimestamp {
  /** The timestamp as the server sent it, or '' when the line had none. */
  timestamp: string;
  text: string;
}

// The timestamps are read by hand rather than by a regular expression: the aggregator reads
// every line's, and the regular expressions, their match arrays and Date.parse were most of its
// cost per line (measured reading 200,000 lines).

/** Where the zone starts in an RFC 3339 timestamp at the start of `s`, and where it ends; or undefined. */
function scan(s: string): { zone: number; end: number } | undefined {
  if (s.length < 20) return undefined;
  for (let i = 0; i < 19; i++) {
    const c = s.charCodeAt(i);
    const sep = i === 4 || i === 7 ? 45 /* - */ : i === 10 ? 84 /* T */ : i === 13 || i === 16 ? 58 /* : */ : 0;
    if (sep ? c !== sep : c < 48 || c > 57) return undefined;
  }
  let i = 19;
  if (s.charCodeAt(i) === 46 /* . */) {
    let j = i + 1;
    while (j < s.length && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
    if (j === i + 1 || j - i - 1 > 9) return undefined;
    i = j;
  }
  const z = s.charCodeAt(i);
  if (z === 90 /* Z */) return { zone: i, end: i + 1 };
  if (z !== 43 && z !== 45) return undefined; // + or -
  for (let k = 1; k <= 5; k++) {
    const c = s.charCodeAt(i + k);
    if (k === 3 ? c !== 58 : !(c >= 48 && c <= 57)) return undefined;
  }
  return { zone: i, end: i + 6 };
}

export function splitTimestamp(line: string): SplitTimestamp {
  const at = scan(line);
  if (!at || line.charCodeAt(at.end) !== 32 /* space */) return { timestamp: '', text: line };
  return { timestamp: line.slice(0, at.end), text: line.slice(at.end + 1) };
}

/** Orderable form of a timestamp: epoch seconds and nanoseconds; undefined when unparsable. */
export interface Instant {
  seconds: number;
  nanos: number;
}

/** The last whole second parsed: lines come in bursts within one second. */
let cached = { prefix: '', zone: '', seconds: NaN };

export function parseInstant(timestamp: string): Instant | undefined {
  const at = scan(timestamp);
  if (!at || at.end !== timestamp.length) return undefined;
  const zone = timestamp.slice(at.zone);
  if (!timestamp.startsWith(cached.prefix) || cached.prefix === '' || zone !== cached.zone) {
    const prefix = timestamp.slice(0, 19);
    cached = { prefix, zone, seconds: Math.floor(Date.parse(prefix + zone) / 1000) };
  }
  if (Number.isNaN(cached.seconds)) return undefined;
  let nanos = 0;
  for (let i = 20, scale = 100_000_000; i < at.zone; i++, scale /= 10) nanos += (timestamp.charCodeAt(i) - 48) * scale;
  return { seconds: cached.seconds, nanos };
}

export function compareInstants(a: Instant, b: Instant): number {
  return a.seconds !== b.seconds ? a.seconds - b.seconds : a.nanos - b.nanos;
}

/** `sinceTime` for resuming: the API only honours whole seconds, so round down. */
export function sinceTimeFor(instant: Instant): string {
  return new Date(instant.seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
