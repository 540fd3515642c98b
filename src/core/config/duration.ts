// Debounce values: a number of milliseconds, or a string such as "500ms" or "1s".

/** Milliseconds for a debounce value, or undefined when it is neither form. */
export function durationToMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m)?\s*$/.exec(value);
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = match[2] ?? 'ms';
  const ms = unit === 'm' ? amount * 60_000 : unit === 's' ? amount * 1000 : amount;
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}
