// The words a dev session is described in, shared by the session (devSession.ts), the sync
// engine that implements SyncPart, and the views that show a session (status bar, Sessions view).

export type SessionStep = 'preflight' | 'backup' | 'rollout' | 'initial-sync' | 'start' | 'ports';

export type SessionPhase = 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface SessionProgress {
  step: SessionStep;
  message: string;
}

/**
 * Where one pod's code stands: the newest batch of changes live in it. Batches are numbered from
 * 1 in the order they are sent; 0 is the full sync a pod gets when the session starts or the pod
 * is new (a pod's full sync counts as every batch sent before it began).
 */
export interface PodVersion {
  pod: string;
  batch: number;
  /** Why its last batch failed after every retry (cleared once it takes one again). */
  error?: string;
}

/** The last batch of changes, as measured by the engine. */
export interface LiveReport {
  batch: number;
  /** An editor save was among its changes (else only the file watcher saw them). */
  saved: boolean;
  /**
   * From the first of its changes being recorded (the save event, or the watcher's event) to the
   * last pod having it live: its files written and, when `restarted`, the restart done.
   */
  liveMs: number;
  /** Pods it went live in, of the pods it was sent to (pods that went away meanwhile left out). */
  livePods: number;
  pods: number;
  /** Live includes the app's restart (truva.yaml `restart` is not `none`). */
  restarted: boolean;
}

/** What the UI shows of the sync side. */
export interface SyncSnapshot {
  state: 'idle' | 'syncing' | 'restarting' | 'paused' | 'error';
  /** Changes waiting (debounce, pause or in flight). */
  pending: number;
  filesSent: number;
  /** When the last sync into the pods (the initial one included) finished. */
  lastSyncAt?: number;
  /** The newest batch sent or being sent (0: none yet, only the initial sync). */
  batch: number;
  /** Each pod the engine syncs, by name, with the newest batch live in it. */
  pods: PodVersion[];
  /** The last batch of changes (none after the initial sync alone). */
  lastBatch?: LiveReport;
  error?: string;
}

/** The files side of a session: what the sync engine offers (src/core/sync). */
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

/** One session as the status bar and the Sessions view show it. */
export interface SessionStatus {
  id: string;
  deployment: string;
  namespace: string;
  phase: SessionPhase;
  sync: SyncSnapshot['state'];
  pending: number;
  filesSent: number;
  lastSyncAt?: number;
  batch: number;
  podVersions: PodVersion[];
  lastBatch?: LiveReport;
  error?: string;
  podsReady: number;
  podsTotal: number;
  /** The session's port-forwards (truva.yaml `ports`, then `debug`'s), one per local port. */
  forwards: ForwardView[];
}

/** A forward as the views show it. */
export interface ForwardView {
  /** The truva.yaml entry: `ports[0]`, `debug`. */
  source: string;
  /** `127.0.0.1:18080`. */
  address: string;
  url: string;
  remote: number;
  /** The pod it reaches now. */
  pod?: string;
  state: 'ready' | 'waiting' | 'failed';
  error?: string;
}

export class SessionCancelledError extends Error {
  constructor() {
    super('The dev session was cancelled; the deployment was restored.');
  }
}
