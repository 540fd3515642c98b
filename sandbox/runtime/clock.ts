// The sandbox's clock. Log timestamps: wall-clock nanoseconds, RFC 3339 with a fixed nine-digit
// fraction so that string order equals time order, strictly increasing per container. A clock
// may run skewed (ahead or behind the machine's), as a cluster's clock does against a laptop's.
const wallAtStartNs = BigInt(Date.now()) * 1_000_000n;
const hrAtStart = process.hrtime.bigint();

export class Clock {
  /** skewMs: how far this clock is ahead of the machine's (negative: behind). */
  constructor(readonly skewMs = 0) {}

  nowMs(): number {
    return Date.now() + this.skewMs;
  }

  nowNs(): bigint {
    return wallAtStartNs + (process.hrtime.bigint() - hrAtStart) + BigInt(this.skewMs) * 1_000_000n;
  }

  /** RFC 3339 to the second, as the API prints object timestamps. */
  iso(): string {
    return new Date(this.nowMs()).toISOString().replace(/\.\d+Z$/, 'Z');
  }
}

/** The machine's own clock. */
export const SYSTEM_CLOCK = new Clock(0);

export function formatRfc3339Nano(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const seconds = new Date(ms).toISOString().slice(0, 19);
  const fraction = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${seconds}.${fraction}Z`;
}

/** Hands out strictly increasing timestamps, so a consumer can resume after the last one it saw. */
export class MonotonicStamp {
  private last = 0n;
  constructor(readonly clock: Clock = SYSTEM_CLOCK) {}
  next(): bigint {
    let t = this.clock.nowNs();
    if (t <= this.last) t = this.last + 1n;
    this.last = t;
    return t;
  }
}
