// The one gate every API call passes: per-call timeout, retries with exponential back-off and
// jitter (only for calls that are safe to repeat), and a circuit breaker shared by all calls to
// one cluster, so a dead API server is not hammered and the UI can show that it is down.
import {
  CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  DelegateBackoff,
  TaskCancelledError,
  TimeoutStrategy,
  circuitBreaker,
  handleWhen,
  retry,
  timeout,
} from 'cockatiel';
import { setTimeout as delay } from 'node:timers/promises';
import { CallTarget, isServerFailure, isTransient, toKubeError } from './errors';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BackoffOptions {
  /** First delay, before jitter. */
  initialDelayMs: number;
  /** No delay is longer than this. */
  maxDelayMs: number;
}

export interface ResilienceOptions {
  /** Per-call timeout for request/response calls (streams are not limited). Default 15 s. */
  timeoutMs?: number;
  /** Attempts in total for idempotent calls, the first included. Default 4. */
  maxAttempts?: number;
  backoff?: BackoffOptions;
  /** Consecutive server failures that open the circuit. Default 5. */
  breakerThreshold?: number;
  /** How long the circuit stays open before one trial call is let through. Default 5 s. */
  breakerCooldownMs?: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialDelayMs: 200, maxDelayMs: 5_000 };

/**
 * Delay before retry number `attempt` (1-based): exponential growth capped at maxDelayMs, with
 * "equal jitter" (half fixed, half random) so parallel clients spread out but never retry at once.
 * A server's Retry-After wins when it asks for longer, still capped.
 */
export function backoffDelay(
  attempt: number,
  opts: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
  retryAfterMs?: number,
): number {
  const exp = Math.min(opts.maxDelayMs, opts.initialDelayMs * 2 ** Math.max(0, attempt - 1));
  const jittered = exp / 2 + random() * (exp / 2);
  const wanted = retryAfterMs !== undefined ? Math.max(jittered, retryAfterMs) : jittered;
  return Math.round(Math.min(opts.maxDelayMs, wanted));
}

/** The one pause between attempts: resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, undefined, { signal }).catch(() => undefined);
}

function mapState(s: CircuitState): BreakerState {
  if (s === CircuitState.Open || s === CircuitState.Isolated) return 'open';
  if (s === CircuitState.HalfOpen) return 'half-open';
  return 'closed';
}

export interface CallOptions {
  /** Retry on transient failures. Only for calls that change nothing (GET/LIST/WATCH setup) or are marked safe. */
  idempotent: boolean;
  /** Overrides the default per-call timeout; 0 disables it (streams). */
  timeoutMs?: number;
  /** Overrides the attempts of an idempotent call (1: no retry). */
  maxAttempts?: number;
  /** Cancels the call (and its retries) from outside. */
  signal?: AbortSignal;
}

export class Resilience {
  readonly breaker: CircuitBreakerPolicy;
  private readonly listeners = new Set<(state: BreakerState) => void>();
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoff: BackoffOptions;

  constructor(opts: ResilienceOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    this.maxAttempts = Math.max(1, opts.maxAttempts ?? 4);
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.breaker = circuitBreaker(handleWhen(isServerFailure), {
      halfOpenAfter: opts.breakerCooldownMs ?? 5_000,
      breaker: new ConsecutiveBreaker(opts.breakerThreshold ?? 5),
    });
    this.breaker.onStateChange((s) => {
      const state = mapState(s);
      for (const l of [...this.listeners]) l(state);
    });
  }

  /** Current circuit state, for the status bar. */
  get state(): BreakerState {
    return mapState(this.breaker.state);
  }

  /** Calls listener on every circuit state change; dispose() stops it. */
  onStateChange(listener: (state: BreakerState) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  }

  /**
   * Runs fn through timeout -> breaker -> (retry if idempotent). fn receives an AbortSignal that
   * fires on timeout or outside cancellation; every error comes out as a KubeError.
   */
  async call<T>(target: CallTarget, opts: CallOptions, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const perCall = opts.timeoutMs ?? this.timeoutMs;
    const once = async (outer: AbortSignal): Promise<T> => {
      try {
        return await this.breaker.execute(async ({ signal: breakerSignal }) => {
          try {
            if (perCall > 0) {
              const t = timeout(perCall, TimeoutStrategy.Aggressive);
              return await t.execute(
                ({ signal }) =>
                  fn(signal).catch((err) => {
                    // The call saw our timeout's abort before cockatiel reported it: say "timed out", not "aborted".
                    if (signal.aborted && !breakerSignal.aborted)
                      throw new TaskCancelledError(`timed out after ${perCall} ms`);
                    throw err;
                  }),
                breakerSignal,
              );
            }
            return await fn(breakerSignal);
          } catch (err) {
            // Mapped inside the breaker so it can tell server failures from user errors.
            throw toKubeError(err, target);
          }
        }, outer);
      } catch (err) {
        throw toKubeError(err, target);
      }
    };
    const outerSignal = opts.signal ?? new AbortController().signal;
    const attempts = Math.max(1, opts.maxAttempts ?? this.maxAttempts);
    if (!opts.idempotent || attempts === 1) return once(outerSignal);
    const policy = retry(handleWhen(isTransient), {
      maxAttempts: attempts - 1,
      backoff: new DelegateBackoff((ctx: any) => {
        const err = ctx.result && 'error' in ctx.result ? ctx.result.error : undefined;
        const retryAfterMs = err?.retryAfterSeconds ? err.retryAfterSeconds * 1000 : undefined;
        return backoffDelay(ctx.attempt, this.backoff, Math.random, retryAfterMs);
      }),
    });
    return policy.execute(({ signal }) => once(signal), outerSignal);
  }
}
