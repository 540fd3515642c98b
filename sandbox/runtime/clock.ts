// Log timestamps: wall-clock nanoseconds, RFC 3339 with a fixed nine-digit fraction so
// that string order equals time order, strictly increasing per container.
const wallAtStartNs = BigInt(Date.now()) * 1_000_000n;
const hrAtStart = process.hrtime.bigint();

export function nowNs(): bigint {
  return wallAtStartNs + (process.hrtime.bigint() - hrAtStart);
}

export function formatRfc3339Nano(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const seconds = new Date(ms).toISOString().slice(0, 19);
  const fraction = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${seconds}.${fraction}Z`;
}

export function isoNow(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

/** Hands out strictly increasing timestamps, so a consumer can resume after the last one it saw. */
export class MonotonicStamp {
  private last = 0n;
  next(): bigint {
    let t = nowNs();
    if (t <= this.last) t = this.last + 1n;
    this.last = t;
    return t;
  }
}
