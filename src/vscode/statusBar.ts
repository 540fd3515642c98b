// The Truva status bar item: it shows what statusView (statusModel.ts) makes of the sessions,
// the API's health over the pool's connections and the sidebar's reachability. While a session
// exists it redraws every second, so "synced 12s ago" keeps counting; otherwise only on change.
import * as vscode from 'vscode';
import type { ClusterPool } from '../core/kube/clusterPool';
import type { SessionStatus } from '../core/session/session';
import { ApiHealth, type HealthLog } from './apiHealth';
import { statusView } from './statusModel';

/** The command links the tooltip may run. */
const TOOLTIP_COMMANDS = [
  'truva.startSession',
  'truva.toggleSync',
  'truva.syncNow',
  'truva.showLogs',
  'truva.stopSession',
  'truva.showOutput',
];

export interface StatusBarSources {
  sessions(): SessionStatus[];
  /** The sidebar's view of the API: undefined while not known. */
  apiReachable(): boolean | undefined;
  context(): string | undefined;
}

export class StatusBar implements vscode.Disposable {
  readonly item = vscode.window.createStatusBarItem('truva.status', vscode.StatusBarAlignment.Left, 10);
  /** The worst circuit of the pool's connections; it also says an outage once in the output. */
  readonly health: ApiHealth;
  private following: { dispose(): void } | undefined;
  private ticker: NodeJS.Timeout | undefined;

  constructor(
    private readonly sources: StatusBarSources,
    log: HealthLog,
  ) {
    this.item.name = 'Truva';
    this.health = new ApiHealth(log, () => this.update());
  }

  /** Follows the health of the pool's connections (the pool is made on first use, see TruvaContext.pool). */
  follow(pool: ClusterPool): void {
    this.following?.dispose();
    this.following = pool.subscribe({
      opened: (connection) => this.health.track(connection),
      closed: (connection) => this.health.untrack(connection),
    });
  }

  update(): void {
    const sessions = this.sources.sessions();
    this.tick(sessions.length > 0);
    const view = statusView({
      sessions,
      breaker: this.health.state,
      apiReachable: this.sources.apiReachable(),
      context: this.sources.context(),
      now: Date.now(),
    });
    this.item.text = view.text;
    const tooltip = new vscode.MarkdownString(view.tooltip, true);
    tooltip.isTrusted = { enabledCommands: TOOLTIP_COMMANDS };
    this.item.tooltip = tooltip;
    this.item.command = view.command;
    this.item.backgroundColor = view.background
      ? new vscode.ThemeColor(
          view.background === 'error' ? 'statusBarItem.errorBackground' : 'statusBarItem.warningBackground',
        )
      : undefined;
    this.item.show();
  }

  private tick(on: boolean) {
    if (on && !this.ticker) this.ticker = setInterval(() => this.update(), 1000);
    if (!on && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }

  dispose(): void {
    this.tick(false);
    this.following?.dispose();
    this.item.dispose();
  }
}
