// One dev session: preflight -> back up and switch the deployment to dev mode -> wait for the
// rollout -> initial sync into every pod -> start the process; then sync and logs run until
// stop(), which restores the deployment. Cancelling at any step restores what was changed.
// The parts are injected, so this file holds only the order of things and the state machine.
import { EventEmitter } from 'node:events';

export type SessionStep = 'preflight' | 'backup' | 'rollout' | 'initial-sync' | 'start';
export const SESSION_STEPS: readonly SessionStep[] = ['preflight', 'backup', 'rollout', 'initial-sync', 'start'];

export type SessionPhase = 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface SessionProgress {
  step: SessionStep;
  message: string;
}

/** The deployment side: what dev mode offers (src/core/devmode). */
export interface DevModePart {
  preflight(): Promise<void>;
  /** Backs up (once) and modifies the deployment; resolves when the dev-mode rollout is complete. */
  enter(report: (message: string) => void, signal: AbortSignal): Promise<void>;
  /** Puts the original template back; `force` overwrites someone else's changes. */
  restore(options?: { force?: boolean }): Promise<void>;
}

/** What the UI shows of the sync side. */
export interface SyncSnapshot {
  state: 'idle' | 'syncing' | 'restarting' | 'paused' | 'error';
  /** Changes waiting (debounce, pause or in flight). */
  pending: number;
  filesSent: number;
  lastSyncAt?: number;
  /** Save-to-synced latency of the last batch. */
  lastLatencyMs?: number;
  error?: string;
}

/** The files side: what the sync engine offers (src/core/sync). */
export interface SyncPart {
  snapshot(): SyncSnapshot;
  /** Called whenever the snapshot changes; returns an unsubscribe function. */
  onDidChange(listener: () => void): () => void;
  /** The editor saved a file: sync it now rather than waiting for the file-system event. */
  notify(path: string): void;
  /** Initial full sync into every pod, then keep watching for changes and new pods. */
  start(report: (message: string) => void, signal: AbortSignal): Promise<void>;
  /** Restarts the process in every pod (after the initial sync, and on request). */
  restartAll(): Promise<void>;
  pause(): void;
  resume(): void;
  fullSync(): Promise<void>;
  dispose(): Promise<void>;
}

/** The logs side: an aggregator that follows every pod of the deployment. */
export interface LogsPart {
  start(): void;
  stop(): void;
}

export interface SessionParts {
  devMode: DevModePart;
  sync: SyncPart;
  logs?: LogsPart;
}

export class SessionCancelledError extends Error {
  constructor() {
    super('The dev session was cancelled; the deployment was restored.');
  }
}

export class Session extends EventEmitter {
  phase: SessionPhase = 'stopped';
  error?: Error;
  private abort = new AbortController();
  private entered = false;

  constructor(
    /** A stable key: context/namespace/deployment. */
    readonly id: string,
    readonly parts: SessionParts,
  ) {
    super();
  }

  private setPhase(phase: SessionPhase) {
    this.phase = phase;
    this.emit('phase', phase);
  }

  /**
   * Runs every step in order; on failure or cancel, undoes what was done (restore) and rethrows.
   * `onProgress` receives each step as it begins, for a progress notification.
   */
  async start(onProgress: (p: SessionProgress) => void = () => {}, cancel?: AbortSignal): Promise<void> {
    if (this.phase === 'starting' || this.phase === 'running')
      throw new Error(`Session ${this.id} is already ${this.phase}.`);
    this.abort = new AbortController();
    const signal = this.abort.signal;
    cancel?.addEventListener('abort', () => this.abort.abort(), { once: true });
    this.setPhase('starting');
    const step = (name: SessionStep, message: string) => {
      if (signal.aborted) throw new SessionCancelledError();
      onProgress({ step: name, message });
    };
    try {
      step('preflight', 'Checking the deployment, the container and your permissions');
      await this.parts.devMode.preflight();
      step('backup', 'Backing up the deployment and switching it to dev mode');
      this.entered = true;
      await this.parts.devMode.enter((message) => onProgress({ step: 'rollout', message }), signal);
      step('initial-sync', 'Copying your files into every pod');
      await this.parts.sync.start((message) => onProgress({ step: 'initial-sync', message }), signal);
      step('start', 'Starting the process');
      await this.parts.sync.restartAll();
      this.parts.logs?.start();
      if (signal.aborted) throw new SessionCancelledError();
      this.setPhase('running');
    } catch (err) {
      const cause = signal.aborted ? new SessionCancelledError() : (err as Error);
      await this.teardown().catch((restoreErr) => {
        cause.message += ` Restoring the deployment also failed: ${(restoreErr as Error).message}`;
      });
      this.error = cause;
      this.setPhase('failed');
      throw cause;
    }
  }

  /** Stops sync and logs and restores the deployment. A restore conflict is rethrown for the UI to ask about. */
  async stop(options: { force?: boolean } = {}): Promise<void> {
    this.abort.abort();
    this.setPhase('stopping');
    try {
      await this.teardown(options);
      this.setPhase('stopped');
    } catch (err) {
      this.error = err as Error;
      this.setPhase('failed');
      throw err;
    }
  }

  private async teardown(options: { force?: boolean } = {}) {
    this.parts.logs?.stop();
    await this.parts.sync.dispose();
    if (this.entered) {
      await this.parts.devMode.restore(options);
      this.entered = false;
    }
  }
}
