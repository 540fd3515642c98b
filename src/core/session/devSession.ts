// One dev session and everything it knows: its resolved truva.yaml, its lease on a cluster
// connection, the namespace, the deployment as preflight read it, the container and pod
// selector, its pods, dev mode, the sync engine and the port-forwards (truva.yaml `ports` and the
// debugger's). start() is a typed pipeline in which each step returns what the next one needs
// (preflight -> enter dev mode -> initial sync -> restart -> forwards); a failure or a cancel at
// any step restores what was changed. stop() closes the forwards and restores the deployment.
// No vscode here: the VS Code layer builds a session from a config and a lease and shows it.
import { EventEmitter } from 'node:events';
import type { TruvaConfig } from '../config';
import { allForwards } from '../config/ports';
import { DevMode, type Backup } from '../devmode/devMode';
import type { Cluster } from '../kube/cluster';
import type { Deployment, Pod, Watcher } from '../kube/types';
import { SyncEngine, clusterSyncTarget, type PodRun } from '../sync';
import { DeploymentPods } from '../kube/deploymentPods';
import { clusterForwards } from '../ports/clusterForwards';
import type { ForwardStatus } from '../ports/forwardManager';
import type { RunTarget } from '../terminal/runInPods';
import {
  SessionCancelledError,
  type SessionPhase,
  type SessionProgress,
  type SessionStatus,
  type SessionStep,
  type SyncPart,
  type SyncSnapshot,
} from './session';

/** What preflight found, which entering dev mode and syncing need. */
export interface Preflighted {
  deployment: Deployment;
  container: string;
  /** The deployment's pod selector. */
  selector: string;
}

/** Dev mode is on: the backup made (or reused from an earlier session). */
export interface Entered extends Preflighted {
  backup: Backup;
}

/** The initial sync is done: the engine that keeps syncing. */
export interface Synced extends Entered {
  engine: SyncPart;
}

/** The session's forwards (src/core/ports/forwardManager.ts). */
export interface ForwardsPart {
  start(): Promise<ForwardStatus[]>;
  snapshot(): ForwardStatus[];
  onDidChange(listener: () => void): () => void;
  dispose(): Promise<void>;
}

/** What the session needs of dev mode (src/core/devmode/devMode.ts). */
export type DevModePort = Pick<DevMode, 'preflight' | 'enter' | 'restore' | 'restartProcess'>;

/** Where a copy of the backup is kept besides the deployment's annotation (VS Code's globalState). */
export interface BackupStore {
  save(key: string, backup: Backup | undefined): PromiseLike<void>;
}

export interface DevSessionOptions {
  config: TruvaConfig;
  /** A lease: the session gives it back on dispose(). */
  cluster: Cluster;
  log?: (message: string) => void;
  backups?: BackupStore;
  /** The parts, replaceable for the unit tests; by default dev mode and the sync engine on `cluster`. */
  parts?: {
    devMode?: DevModePort;
    engine?: (target: Preflighted, restart: (pod: string, run: PodRun) => Promise<void>) => SyncPart;
    forwards?: (target: Preflighted) => ForwardsPart;
  };
}

const IDLE: SyncSnapshot = { state: 'idle', pending: 0, filesSent: 0, batch: 0, pods: [] };

/** context/namespace/deployment: one session per deployment. */
export function sessionId(context: string, namespace: string, deployment: string): string {
  return `${context}/${namespace}/${deployment}`;
}

export class DevSession {
  readonly id: string;
  readonly config: TruvaConfig;
  readonly namespace: string;
  phase: SessionPhase = 'stopped';
  error?: Error;
  private readonly cluster: Cluster;
  private readonly devMode: DevModePort;
  private readonly events = new EventEmitter();
  private readonly log: (message: string) => void;
  private abort = new AbortController();
  private entered = false;
  private engineOf?: SyncPart;
  private unsubscribeEngine?: () => void;
  private readonly pods = new Map<string, Pod>();
  private podWatch?: Watcher;
  private forwardsOf?: ForwardsPart;
  private unsubscribeForwards?: () => void;
  private preflighted?: Preflighted;

  constructor(private readonly options: DevSessionOptions) {
    const { config } = options;
    this.config = config;
    this.cluster = options.cluster;
    this.namespace = config.namespace ?? this.cluster.namespace;
    this.id = sessionId(this.cluster.contextName, this.namespace, config.deployment);
    this.log = options.log ?? (() => {});
    this.devMode =
      options.parts?.devMode ??
      new DevMode(this.cluster, {
        namespace: this.namespace,
        deployment: config.deployment,
        container: config.container,
        run: config.run
          ? config.run.kind === 'shell'
            ? ['sh', '-c', config.run.command]
            : config.run.argv
          : undefined,
        keepProbes: config.devMode.keepProbes,
        replicas: config.devMode.replicas,
        rolloutTimeoutSeconds: config.devMode.rolloutTimeoutSeconds,
        remotePaths: config.sync.map((s) => s.remote),
        allowSystemPath: config.allowSystemPath,
        emptyDir: config.devMode.emptyDir,
        // Only Node's inspector is started by the supervisor; Delve and debugpy come from `run`.
        inspectPort: config.debug?.runtime === 'node' ? config.debug.port : undefined,
        portForward: allForwards(config).length > 0,
      });
  }

  get deployment(): string {
    return this.config.deployment;
  }

  get contextName(): string {
    return this.cluster.contextName;
  }

  /** The sync engine, from the initial sync on (undefined before). */
  get sync(): SyncPart | undefined {
    return this.engineOf;
  }

  /** The forwards now: each local address, its pod and state (empty before they start). */
  forwards(): ForwardStatus[] {
    return this.forwardsOf?.snapshot() ?? [];
  }

  /** The dev container and the deployment's pods, once preflight has read them. */
  get target(): Preflighted | undefined {
    return this.preflighted;
  }

  /** The running pods of the session and exec in its dev container (for Run in All Pods). */
  runTarget(): RunTarget {
    const target = this.preflighted;
    if (!target || this.phase !== 'running')
      throw new Error(`The dev session for "${this.deployment}" is not running.`);
    return clusterSyncTarget(this.cluster, {
      namespace: this.namespace,
      deployment: target.deployment,
      container: target.container,
      restart: async () => {},
    });
  }

  /** The cluster lease of the session (terminals open on it). */
  get clusterLease(): Cluster {
    return this.cluster;
  }

  snapshot(): SyncSnapshot {
    return this.engineOf?.snapshot() ?? IDLE;
  }

  /** The deployment's pods now: ready (running, every container ready) and in total, terminating ones left out. */
  podCounts(): { ready: number; total: number } {
    const live = [...this.pods.values()].filter((p) => !p.metadata?.deletionTimestamp);
    const ready = live.filter(
      (p) => p.status?.phase === 'Running' && (p.status.containerStatuses ?? []).every((c) => c.ready),
    );
    return { ready: ready.length, total: live.length };
  }

  status(): SessionStatus {
    const snap = this.snapshot();
    const pods = this.podCounts();
    return {
      id: this.id,
      deployment: this.deployment,
      namespace: this.namespace,
      phase: this.phase,
      sync: snap.state,
      pending: snap.pending,
      filesSent: snap.filesSent,
      lastSyncAt: snap.lastSyncAt,
      batch: snap.batch,
      podVersions: snap.pods,
      lastBatch: snap.lastBatch,
      error: snap.error ?? this.error?.message,
      podsReady: pods.ready,
      podsTotal: pods.total,
      forwards: this.forwards().map((f) => ({
        source: f.source,
        address: f.address,
        url: f.url,
        remote: f.remote,
        pod: f.pod,
        state: f.state,
        error: f.error,
      })),
    };
  }

  /** Called on every change of phase, sync state or pods. */
  onDidChange(listener: () => void): () => void {
    this.events.on('change', listener);
    return () => this.events.off('change', listener);
  }

  private changed() {
    this.events.emit('change');
  }

  private setPhase(phase: SessionPhase) {
    this.phase = phase;
    this.changed();
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
    this.error = undefined;
    this.setPhase('starting');
    const step = (name: SessionStep, message: string) => {
      if (signal.aborted) throw new SessionCancelledError();
      onProgress({ step: name, message });
    };
    const report = (name: SessionStep) => (message: string) => onProgress({ step: name, message });
    try {
      step('preflight', 'Checking the deployment, the container and your permissions');
      const preflighted = await this.preflight();
      step('backup', 'Backing up the deployment and switching it to dev mode');
      const entered = await this.enter(preflighted, report('rollout'), signal);
      step('initial-sync', 'Copying your files into every pod');
      const synced = await this.initialSync(entered, report('initial-sync'), signal);
      step('start', 'Starting the process');
      await this.restart(synced);
      if (allForwards(this.config).length > 0) {
        step('ports', 'Forwarding ports');
        await this.forward(synced);
      }
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

  /** Reads the deployment and checks everything the session needs; changes nothing. */
  private async preflight(): Promise<Preflighted> {
    const { deployment, container } = await this.devMode.preflight();
    const pods = new DeploymentPods(this.cluster, deployment);
    this.watchPods(pods);
    this.preflighted = { deployment, container, selector: pods.selector };
    return this.preflighted;
  }

  /** Backs up (once) and switches the deployment to dev mode; resolves when its rollout is done. */
  private async enter(preflighted: Preflighted, report: (m: string) => void, signal: AbortSignal): Promise<Entered> {
    this.entered = true;
    const backup = await this.devMode.enter(report, signal);
    // A copy of the backup outside the cluster, in case the annotation is ever lost.
    await this.options.backups?.save(this.backupKey, backup);
    return { ...preflighted, backup };
  }

  /** Copies the files into every pod of the preflighted selector and container, then keeps syncing. */
  private async initialSync(entered: Entered, report: (m: string) => void, signal: AbortSignal): Promise<Synced> {
    const engine = (this.options.parts?.engine ?? ((p, restart) => this.syncEngine(p, restart)))(entered, (pod, run) =>
      this.restartPod(pod, run),
    );
    this.engineOf = engine;
    this.unsubscribeEngine = engine.onDidChange(() => this.changed());
    await engine.start(report, signal);
    return { ...entered, engine };
  }

  private async restart(synced: Synced): Promise<Synced> {
    await synced.engine.restartAll();
    return synced;
  }

  /**
   * Takes the local ports of `ports` and `debug` for the session. A port that cannot be taken
   * (in use) is reported in the forward's status and the log, and does not stop the session.
   */
  private async forward(synced: Synced): Promise<Synced> {
    const forwards =
      this.options.parts?.forwards?.(synced) ??
      clusterForwards(this.cluster, {
        namespace: this.namespace,
        deployment: synced.deployment,
        container: synced.container,
        forwards: allForwards(this.config),
        log: this.log,
      });
    this.forwardsOf = forwards;
    this.unsubscribeForwards = forwards.onDidChange(() => this.changed());
    for (const f of await forwards.start()) {
      if (f.error) this.log(f.error);
      else this.log(`Forwarding ${f.address} to port ${f.remote} of ${f.pod ?? 'the next running pod'} (${f.source}).`);
    }
    this.changed();
    return synced;
  }

  private syncEngine(target: Preflighted, restart: (pod: string, run: PodRun) => Promise<void>): SyncPart {
    const c = this.config;
    return new SyncEngine(
      clusterSyncTarget(this.cluster, {
        namespace: this.namespace,
        deployment: target.deployment,
        container: target.container,
        restart,
      }),
      {
        roots: c.sync.map((s) => ({ local: s.local, remote: s.remote })),
        exclude: c.exclude,
        debounceMs: c.debounceMs,
        batchSize: c.batchSize,
        batchBytes: c.batchBytes,
        concurrency: c.concurrency,
        mirror: c.mirror,
        restarts: c.restart !== 'none',
        log: this.log,
      },
    );
  }

  /**
   * After a sync, the app restarts as truva.yaml's `restart` says. `run` goes through the pod's
   * sync shell: no exec (and process start) per restart.
   */
  private async restartPod(pod: string, run: PodRun): Promise<void> {
    if (this.config.restart === 'process') await this.devMode.restartProcess(pod, run);
    else if (this.config.restart === 'command') {
      const r = await run(['sh', '-c', this.config.restartCommand!]);
      if (r.exitCode !== 0) throw new Error(`restartCommand exited with ${r.exitCode}: ${r.stderr.toString().trim()}`);
    }
  }

  private watchPods(pods: DeploymentPods) {
    this.podWatch?.stop();
    this.pods.clear();
    this.podWatch = pods.watch(
      (e) => {
        const name = e.object.metadata!.name!;
        if (e.type === 'DELETED') this.pods.delete(name);
        else this.pods.set(name, e.object);
        this.changed();
      },
      // The sync engine's own pod watch reports what matters to the sync; these counts just wait.
      () => {},
    );
  }

  /** Stops sync and restores the deployment. A restore conflict is rethrown for the UI to ask about. */
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

  private get backupKey() {
    return `backup/${this.cluster.contextName}/${this.namespace}/${this.deployment}`;
  }

  private async teardown(options: { force?: boolean } = {}) {
    this.unsubscribeForwards?.();
    await this.forwardsOf?.dispose();
    this.forwardsOf = undefined;
    this.unsubscribeEngine?.();
    await this.engineOf?.dispose();
    if (this.entered) {
      await this.devMode.restore(options, this.log);
      this.entered = false;
      await this.options.backups?.save(this.backupKey, undefined);
    }
  }

  /** Gives the cluster lease back and stops watching the pods (the session is done with). */
  dispose(): void {
    this.podWatch?.stop();
    this.events.removeAllListeners();
    this.cluster.dispose();
  }
}
