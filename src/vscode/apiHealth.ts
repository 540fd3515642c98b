// One voice for the health of the Kubernetes API across every connection of the cluster pool
// (the sidebar, sessions, log panels and language-server questions lease from it): an outage is
// announced once, when a circuit first opens,
// and its end once, when every circuit is closed again. A failed trial while still down
// (half-open -> open) says nothing new, so a long outage is one message, not one per retry.
import type { BreakerState } from '../core/kube/resilience';

export interface BreakerSource {
  readonly server: string;
  readonly contextName: string;
  readonly breakerState: BreakerState;
  onBreakerStateChange(listener: (state: BreakerState) => void): { dispose(): void };
}

export interface HealthLog {
  warn(message: string): void;
  info(message: string): void;
}

export class ApiHealth {
  private readonly tracked = new Map<BreakerSource, { state: BreakerState; subscription: { dispose(): void } }>();
  private announced: BreakerSource | undefined;

  constructor(
    private readonly log: HealthLog,
    /** Called on every change (the status bar redraws). */
    private readonly changed: () => void,
  ) {}

  track(source: BreakerSource): void {
    if (this.tracked.has(source)) return;
    const entry = {
      state: source.breakerState,
      subscription: source.onBreakerStateChange((state) => {
        entry.state = state;
        this.evaluate();
      }),
    };
    this.tracked.set(source, entry);
    this.evaluate();
  }

  untrack(source: BreakerSource): void {
    this.tracked.get(source)?.subscription.dispose();
    this.tracked.delete(source);
    this.evaluate();
  }

  /** The worst circuit: open if any is open, half-open if any is trying again, else closed. */
  get state(): BreakerState {
    const states = [...this.tracked.values()].map((e) => e.state);
    return states.includes('open') ? 'open' : states.includes('half-open') ? 'half-open' : 'closed';
  }

  private evaluate(): void {
    const state = this.state;
    if (state === 'open' && !this.announced) {
      const down = [...this.tracked].find(([, e]) => e.state === 'open')![0];
      this.announced = down;
      this.log.warn(
        `The Kubernetes API at ${down.server} (context "${down.contextName}") is down: it failed repeatedly, so Truva holds calls back and tries again every few seconds. Saved changes wait and are synced when it answers; the status bar shows when it is back.`,
      );
    } else if (state === 'closed' && this.announced) {
      this.log.info(
        `The Kubernetes API at ${this.announced.server} (context "${this.announced.contextName}") answers again; waiting changes are synced now.`,
      );
      this.announced = undefined;
    }
    this.changed();
  }
}
