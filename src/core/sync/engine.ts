// The sync engine: every local change reaches every pod, then the process restarts.
// Change sources (a watch per folder of each root, ignores applied before watching, plus notify() from the
// editor's save) feed one coalescing change set; a save into a quiet engine is sent at once,
// everything else after the debounce (see notify). Batches of files go to the pods as tar
// streams, each packed once for all pods (fanOut.ts), deletions as NUL-separated paths, both
// through a long-lived shell in each pod (podShell.ts); pods run in parallel under a concurrency
// limit; each pod that received something restarts once. New or restarted pods get a full sync
// before their process starts.
import { EventEmitter } from 'node:events';
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pLimit from 'p-limit';
import type { ExecStream } from '../kube/exec';
import { backoffDelay, sleep } from '../kube/resilience';
import type { PodVersion, SyncSnapshot, SyncPart } from '../session/session';
import { batches, ChangeSet } from './changeSet';
import { Chunk, ChunkPool } from './chunks';
import { fileSignature, SaveEchoes } from './echoes';
import { fanOut } from './fanOut';
import { IgnoreRules } from './ignore';
import { insideRoot } from './paths';
import { oneShotSink, PodShell, type BatchOp, type BatchSink } from './podShell';
import { tarOf } from './tarStream';
import { watchTree, type TreeWatcher } from './treeWatcher';

export interface SyncRoot {
  /** Absolute local folder. */
  local: string;
  /** Absolute path in the container. */
  remote: string;
}

export interface PodRef {
  name: string;
  /** Changes when the pod is replaced or its container restarts (uid + restart count). */
  incarnation: string;
}

/** Runs a command in a pod's synced container, as exec does. */
export type PodRun = (command: string[]) => Promise<{ exitCode: number; stdout: Buffer; stderr: Buffer }>;

/** What the engine needs from the cluster: pods of the deployment and exec in the synced container. */
export interface SyncTarget {
  listPods(): Promise<PodRef[]>;
  /** Calls back whenever the set of running pods (or one's incarnation) may have changed. */
  watchPods(onChange: () => void): { stop(): void };
  exec(pod: string, command: string[]): Promise<{ exitCode: number; stdout: Buffer; stderr: Buffer }>;
  /** Starts a command fed over time through its stdin (the pod's sync shell). */
  open(pod: string, command: string[]): Promise<ExecStream>;
  /**
   * Restarts the app in a pod (supervisor, custom command, or nothing). `run` runs a command in
   * the synced container, a `sh -c` script through the pod's sync shell (no exec of its own).
   */
  restart(pod: string, run: PodRun): Promise<void>;
  /** True when the error means the pod is gone (it is then dropped quietly). */
  isGone(err: unknown): boolean;
}

export interface SyncOptions {
  roots: SyncRoot[];
  exclude: string[];
  debounceMs: number;
  batchSize: number;
  batchBytes: number;
  concurrency: number;
  /** Delete remote files that do not exist locally during the initial sync. */
  mirror: boolean;
  /**
   * Whether target.restart restarts the app (truva.yaml `restart` is not `none`); only said in
   * what the engine reports: a batch is live in a pod once target.restart is done either way.
   */
  restarts?: boolean;
  /** Attempts per pod and batch before the pod is reported as failing. */
  attempts?: number;
  retryDelayMs?: number;
  log?: (message: string) => void;
}

interface LocalFile {
  path: string;
  size: number;
  /** Whole seconds, as the remote manifest reports them. */
  mtime: number;
}

/** A walk of one sync root: the files (and symlinks) to sync. */
interface LocalTree {
  files: LocalFile[];
}

interface RemoteFile {
  size: number;
  mtime: number;
}

const sh = (script: string, ...args: string[]) => ['sh', '-c', script, 'truva-sync', ...args];

/** One exec that lists size and mtime of every remote file under the root, NUL-separated. */
const MANIFEST = 'cd "$1" 2>/dev/null || exit 0; find . -type f -printf "%s %T@ %P\\0" 2>/dev/null';

function parseManifest(out: Buffer): Map<string, RemoteFile> {
  const files = new Map<string, RemoteFile>();
  for (const record of out.toString('utf8').split('\0')) {
    const m = /^(\d+) (\d+)(?:\.\d+)? (.*)$/s.exec(record);
    if (m) files.set(m[3], { size: Number(m[1]), mtime: Number(m[2]) });
  }
  return files;
}

/** The signature of a local file now, or undefined when it cannot be read. */
function signatureOf(path: string): string | undefined {
  try {
    return fileSignature(lstatSync(path));
  } catch {
    return undefined;
  }
}

/** How soon pods whose full sync failed are looked at again. */
const RECHECK_AFTER_FAILURE_MS = 2_000;
/** How soon a pod that looked gone during a sync is looked at again. */
const RECHECK_AFTER_LOST_MS = 1_000;

async function* chunksOf(bytes: Buffer): AsyncGenerator<Chunk> {
  yield Chunk.of(bytes);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class SyncEngine implements SyncPart {
  private readonly events = new EventEmitter();
  private readonly changes: ChangeSet[];
  private readonly rules: IgnoreRules[];
  private readonly echoes: SaveEchoes[];
  private readonly limit: ReturnType<typeof pLimit>;
  /** The buffers batches are packed into, reused from one batch to the next (chunks.ts). */
  private readonly chunkPool = new ChunkPool();
  private watchers: TreeWatcher[] = [];
  private podWatch?: { stop(): void };
  private known = new Map<string, string>(); // pod -> incarnation that has a full sync
  /** Per pod and root: its sync shell, opening or open (undefined: the container cannot run one). */
  private shells = new Map<string, { opened: Promise<PodShell | undefined>; shell?: PodShell | null }>();
  private timer: NodeJS.Timeout | undefined;
  /** The next look at the pods, after a full sync that did not reach them all or a pod that looked gone. */
  private recheck: NodeJS.Timeout | undefined;
  /** When the last change was recorded (a save or a watcher event; echoes do not count). */
  private lastChangeAt = -Infinity;
  /** About the changes waiting now: lastChangeAt before the first of them, and whether a save is among them. */
  private waiting = { quietSince: -Infinity, saved: false };
  private flushing: Promise<void> = Promise.resolve();
  /** How long start() took to walk the tree and watch each of its folders. */
  watchReadyMs?: number;
  private disposed = false;
  private state: Omit<SyncSnapshot, 'pods'> = { state: 'idle', pending: 0, filesSent: 0, batch: 0 };
  /** Per pod: the newest batch live in it (see PodVersion). */
  private readonly podBatch = new Map<string, number>();
  /** Per pod whose full sync is done but whose restart is not yet: the batch that full sync counts as. */
  private readonly fullSyncBatch = new Map<string, number>();
  /** Whether an editor save is among the changes waiting. */
  private pendingSaved = false;
  /** Per pod: why its last batch failed after every retry (cleared once it takes one again). */
  readonly podErrors = new Map<string, string>();
  private paused = false;
  private starting = false;
  /**
   * While pods get a full sync after start (new or restarted ones): per root, what each flush
   * sent meanwhile. Those flushes went only to the pods synced before, and the full sync sends
   * the tree as it was walked when it began, so these changes are sent again once it is done.
   */
  private missedByFullSync: Map<string, 'change' | 'delete'>[] | undefined;
  private fullSyncsRunning = 0;

  constructor(
    private readonly target: SyncTarget,
    private readonly options: SyncOptions,
  ) {
    this.changes = options.roots.map(() => new ChangeSet());
    this.rules = options.roots.map((r) => new IgnoreRules(r.local, options.exclude));
    this.echoes = options.roots.map(() => new SaveEchoes());
    this.limit = pLimit(options.concurrency);
  }

  snapshot(): SyncSnapshot {
    const pods: PodVersion[] = [...this.podBatch]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([pod, batch]) => ({ pod, batch, ...(this.podErrors.has(pod) ? { error: this.podErrors.get(pod) } : {}) }));
    return { ...this.state, pending: this.changes.reduce((n, c) => n + c.size, 0), pods };
  }

  onDidChange(listener: () => void): () => void {
    this.events.on('change', listener);
    return () => this.events.off('change', listener);
  }

  private set(update: Partial<Omit<SyncSnapshot, 'pods'>>) {
    this.state = { ...this.state, ...update };
    this.events.emit('change');
  }

  private log(message: string) {
    this.options.log?.(message);
  }

  /**
   * Initial full sync into every pod, then watch pods. The files are watched from the walk the
   * sync starts with: each folder is watched before it is listed (see treeWatcher.ts), and the
   * files' sizes and times are read after the whole tree is listed and watched, so a change
   * made at any moment after that is seen, and recorded; it is sent once the sync is done, as
   * are notify() calls made meanwhile. Watching costs one fs.watch per folder: about 0.1 s for
   * the 5,800 folders of a 20,000-file tree, against the second walk of the whole tree an
   * earlier version needed after the sync to find what had changed in between (0.6 s, 4 s under
   * load).
   */
  async start(report: (message: string) => void = () => {}, signal?: AbortSignal): Promise<void> {
    const pods = await this.target.listPods();
    if (pods.length === 0)
      throw new Error("No running pod to sync into. Check the deployment's pods (Truva sidebar) and try again.");
    report(`Copying files into ${pods.length} pod${pods.length === 1 ? '' : 's'}`);
    this.starting = true;
    const t0 = performance.now();
    this.startWatching();
    const listed = this.options.roots.map((_, i) => this.listTree(i, (dir) => this.watchers[i]?.watch(dir)));
    this.watchReadyMs = performance.now() - t0;
    const walked = listed.map((paths, i) => this.statTree(i, paths));
    try {
      await this.syncPods(pods, signal, walked);
    } finally {
      this.starting = false;
    }
    this.podWatch = this.target.watchPods(() => void this.checkPods());
    if (this.changes.some((c) => c.size > 0)) this.schedule();
  }

  /** Resolves once the file watchers are ready: they are from the moment start() has walked the tree. */
  watchersReady(): Promise<void> {
    return Promise.resolve();
  }

  /** Full sync of each pod (skipping files it already has), remembering its incarnation. */
  private async syncPods(pods: PodRef[], signal?: AbortSignal, walked?: LocalTree[]): Promise<string[]> {
    this.set({ state: 'syncing' });
    // The local tree is walked once for all pods, not once per pod.
    const local = (walked ?? this.options.roots.map((_, i) => this.localTree(i))).map((tree) => tree.files);
    const incarnation = new Map(pods.map((p) => [p.name, p.incarnation]));
    // Every batch taken so far had its files written locally before this walk read them.
    const version = this.state.batch;
    const synced: string[] = [];
    await this.toPods(
      [...incarnation.keys()],
      (group) => (signal?.aborted ? Promise.resolve(new Map()) : this.sendMissing(group, local)),
      (pod) => {
        this.known.set(pod, incarnation.get(pod)!);
        this.fullSyncBatch.set(pod, Math.max(version, this.fullSyncBatch.get(pod) ?? 0));
        synced.push(pod);
      },
    );
    this.set({ state: this.paused ? 'paused' : 'idle', lastSyncAt: Date.now() });
    return synced;
  }

  /**
   * The paths of a sync root's files (and symlinks), not ignored, from a walk of its folders that
   * reads no file's metadata; `watch` is called for each folder before it is read.
   */
  private listTree(rootIndex: number, watch?: (dir: string) => void): string[] {
    const root = this.options.roots[rootIndex];
    const rules = this.rules[rootIndex];
    const paths: string[] = [];
    const walk = (dir: string) => {
      watch?.(dir);
      let entries;
      try {
        entries = readdirSync(join(root.local, dir), { withFileTypes: true });
      } catch (err) {
        if (dir === '') throw err;
        return; // removed since its parent was read
      }
      for (const entry of entries) {
        const rel = dir ? `${dir}/${entry.name}` : entry.name;
        if (entry.isDirectory()) {
          if (!rules.ignoresIn(dir, entry.name, true)) walk(rel);
        } else if (!rules.ignoresIn(dir, entry.name, false)) paths.push(rel);
      }
    };
    walk('');
    return paths;
  }

  /** Size and modification time of listed files (one that vanished meanwhile is left out). */
  private statTree(rootIndex: number, paths: string[]): LocalTree {
    const root = this.options.roots[rootIndex].local;
    const files: LocalFile[] = [];
    for (const rel of paths) {
      let st;
      try {
        st = lstatSync(join(root, rel));
      } catch {
        continue;
      }
      files.push({ path: rel, size: st.isFile() ? st.size : 0, mtime: Math.floor(st.mtimeMs / 1000) });
    }
    return { files };
  }

  private localTree(rootIndex: number): LocalTree {
    return this.statTree(rootIndex, this.listTree(rootIndex));
  }

  /**
   * Sends every local file each pod does not already have (same size and mtime). Pods missing
   * the same files (all of them, when they are new) share each batch. Resolves with the pods
   * that failed and why.
   */
  private async sendMissing(pods: string[], localByRoot: LocalFile[][]): Promise<Map<string, unknown>> {
    const failed = new Map<string, unknown>();
    for (let i = 0; i < this.options.roots.length; i++) {
      const root = this.options.roots[i];
      const live = pods.filter((p) => !failed.has(p));
      // The shells open while the manifests are read.
      for (const pod of live) void this.shellFor(pod, i).catch(() => undefined);
      const manifests = new Map<string, Map<string, RemoteFile>>();
      await Promise.all(
        live.map(async (pod) => {
          try {
            manifests.set(pod, parseManifest((await this.target.exec(pod, sh(MANIFEST, root.remote))).stdout));
          } catch (err) {
            failed.set(pod, err);
          }
        }),
      );
      const local = localByRoot[i];
      const sameMissing = new Map<string, { pods: string[]; files: LocalFile[] }>();
      for (const [pod, remote] of manifests) {
        const files = local.filter((f) => {
          const r = remote.get(f.path);
          return !r || r.size !== f.size || r.mtime !== f.mtime;
        });
        const key = files.map((f) => f.path).join('\0');
        const entry = sameMissing.get(key) ?? { pods: [], files };
        entry.pods.push(pod);
        sameMissing.set(key, entry);
      }
      await Promise.all(
        [...sameMissing.values()].map(async ({ pods: group, files }) => {
          for (const batch of batches(files, this.options.batchSize, this.options.batchBytes))
            await this.sendFiles(
              group,
              failed,
              i,
              batch.map((f) => f.path),
            );
          for (const pod of group) if (!failed.has(pod)) this.set({ filesSent: this.state.filesSent + files.length });
        }),
      );
      if (this.options.mirror) {
        const localSet = new Set(local.map((f) => f.path));
        await Promise.all(
          [...manifests]
            .filter(([pod]) => !failed.has(pod))
            .map(async ([pod, remote]) => {
              const extra = [...remote.keys()].filter((p) => !localSet.has(p) && !this.rules[i].ignores(p));
              if (extra.length) await this.sendDeletes([pod], failed, i, extra);
            }),
        );
      }
    }
    return failed;
  }

  /** The pod's sync shell for a root: opened on first use, and again after it ended. */
  private shellFor(pod: string, rootIndex: number): Promise<PodShell | undefined> {
    const key = `${pod}\0${rootIndex}`;
    const entry = this.shells.get(key);
    if (entry && (entry.shell === undefined || entry.shell === null || entry.shell.alive)) return entry.opened;
    const opened = PodShell.open(
      (command) => this.target.open(pod, command),
      pod,
      this.options.roots[rootIndex].remote,
    );
    const fresh: { opened: Promise<PodShell | undefined>; shell?: PodShell | null } = { opened };
    opened.then(
      (shell) => {
        fresh.shell = shell ?? null;
        if (!shell)
          this.log(
            `pod ${pod}: the container's head and dd cannot read exact frames (busybox?), so each batch is sent by an exec of its own (slower)`,
          );
      },
      () => this.shells.get(key) === fresh && this.shells.delete(key),
    );
    this.shells.set(key, fresh);
    return opened;
  }

  /** Closes the sync shells of one pod, or of every pod. */
  private dropShells(pod?: string) {
    for (const [key, entry] of this.shells) {
      if (pod !== undefined && !key.startsWith(`${pod}\0`)) continue;
      this.shells.delete(key);
      entry.opened.then(
        (shell) => shell?.close(),
        () => undefined,
      );
    }
  }

  /** Where a batch goes: the pod's shell, or an exec of its own when the container cannot run one. */
  private async sinkFor(pod: string, rootIndex: number, op: BatchOp, bytes: number): Promise<BatchSink> {
    const shell = await this.shellFor(pod, rootIndex);
    if (shell) return op === 'extract' ? shell.begin(op, bytes) : shell.begin(op);
    return oneShotSink((command) => this.target.open(pod, command), pod, this.options.roots[rootIndex].remote, op);
  }

  /** Sinks for a batch of `bytes` (an archive's length; deletions do not need it). */
  private sinks(pods: string[], rootIndex: number, op: BatchOp, bytes = 0) {
    return new Map(pods.map((pod) => [pod, this.sinkFor(pod, rootIndex, op, bytes)]));
  }

  /**
   * One batch of files, packed once, to those of the pods that have not failed yet; the pods
   * that fail now are added to `failed` with why.
   */
  private async sendFiles(
    pods: string[],
    failed: Map<string, unknown>,
    rootIndex: number,
    paths: string[],
  ): Promise<void> {
    const live = pods.filter((pod) => !failed.has(pod));
    if (live.length === 0) return;
    const tar = tarOf(this.options.roots[rootIndex].local, paths, this.chunkPool);
    for (const [pod, err] of await fanOut(this.sinks(live, rootIndex, 'extract', tar.bytes), tar.chunks))
      failed.set(pod, err);
    // Logged once a pod took the whole batch: when every pod failed, it is sent again, and logged then.
    if (tar.ended) for (const s of tar.skipped) this.log(`not synced: ${s.path} (${s.reason})`);
  }

  /** Deletions, like sendFiles. */
  private async sendDeletes(
    pods: string[],
    failed: Map<string, unknown>,
    rootIndex: number,
    paths: string[],
  ): Promise<void> {
    const live = pods.filter((pod) => !failed.has(pod));
    if (live.length === 0) return;
    const list = Buffer.from(paths.map((p) => `${p}\0`).join(''));
    for (const [pod, err] of await fanOut(this.sinks(live, rootIndex, 'delete'), chunksOf(list))) failed.set(pod, err);
  }

  /**
   * Runs `send` for the pods, at most `concurrency` of them at once and together (so a batch is
   * read and packed once for the group); a pod that failed is then retried on its own, with
   * back-off, and reported by name when it keeps failing. Pods that are gone are dropped quietly.
   * `done` is called for each pod as soon as it has everything.
   */
  private async toPods(
    pods: string[],
    send: (pods: string[]) => Promise<Map<string, unknown>>,
    done: (pod: string) => void,
  ): Promise<Map<string, string>> {
    const attempts = this.options.attempts ?? 4;
    const failures = new Map<string, string>();
    for (let start = 0; start < pods.length; start += this.options.concurrency) {
      const group = pods.slice(start, start + this.options.concurrency);
      const first = await send(group);
      await Promise.all(
        group.map(async (pod) => {
          let err = first.get(pod);
          for (let attempt = 1; err !== undefined; attempt++) {
            if (this.target.isGone(err)) return this.lostTrackOf(pod);
            if (attempt >= attempts) {
              failures.set(pod, errorText(err));
              this.podErrors.set(pod, errorText(err));
              return;
            }
            this.log(`pod ${pod}: ${errorText(err)}; retrying (${attempt}/${attempts - 1})`);
            await sleep(backoffDelay(attempt, { initialDelayMs: this.options.retryDelayMs ?? 250, maxDelayMs: 5_000 }));
            err = (await send([pod])).get(pod);
          }
          this.podErrors.delete(pod);
          done(pod);
        }),
      );
    }
    return failures;
  }
  /** A watcher per root, watching nothing yet: the walk in start() adds each folder (ignored ones are never walked). */
  private startWatching() {
    this.watchers = this.options.roots.map((root, i) => {
      const rules = this.rules[i];
      const onEvent = (rel: string, kind: 'change' | 'delete') => {
        const path = join(root.local, rel);
        if (this.echoes[i].isEcho(rel, () => (kind === 'delete' ? undefined : signatureOf(path)))) return;
        rules.invalidate(rel);
        this.record(i, rel, kind);
        this.schedule();
      };
      return watchTree(root.local, rules, onEvent, (err) => this.log(`watching ${root.local}: ${errorText(err)}`));
    });
  }

  /** Records a change, keeping track of how long the engine was quiet before (see notify). */
  private record(rootIndex: number, rel: string, kind: 'add' | 'change' | 'delete', byEditor = false) {
    const now = Date.now();
    if (this.changes.every((c) => c.size === 0)) this.waiting = { quietSince: this.lastChangeAt, saved: false };
    this.waiting.saved ||= byEditor;
    this.pendingSaved ||= byEditor;
    this.changes[rootIndex].record(rel, kind, now);
    this.lastChangeAt = now;
  }

  /**
   * The editor saved a file. A save is one complete change, so when the engine is quiet (nothing
   * recorded within the debounce) it goes at once: the leading edge. Saves and file events that
   * follow within the debounce join the trailing batch, sent once they stop, so a burst restarts
   * the app once more rather than once per save; bursts the watcher alone sees (git checkout, a
   * build) keep the debounce. The watcher may report this very write before the editor's save
   * event arrives; that report does not hold the save back. The watcher's echo of a save already
   * sent is dropped (see echoes.ts), so one save restarts the app once.
   */
  notify(path: string): void {
    const rels = this.options.roots.map((root, i) => {
      const rel = insideRoot(root.local, path);
      return rel !== undefined && !this.rules[i].ignores(rel) ? rel : undefined;
    });
    if (rels.every((rel) => rel === undefined)) return;
    const empty = this.changes.every((c) => c.size === 0);
    // Nothing waits but what the watcher reported of this path (no save, no other path).
    const onlyThisWrite =
      !this.waiting.saved && this.changes.every((c, i) => c.size === 0 || (c.size === 1 && c.has(rels[i] ?? '\0')));
    const quietSince = empty ? this.lastChangeAt : onlyThisWrite ? this.waiting.quietSince : Infinity;
    const leading = Date.now() - quietSince >= this.options.debounceMs;
    rels.forEach((rel, i) => {
      if (rel === undefined) return;
      const signature = signatureOf(path);
      if (signature !== undefined) this.echoes[i].remember(rel, signature);
      this.record(i, rel, 'change', true);
    });
    if (leading && !this.paused && !this.disposed && !this.starting) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.events.emit('change');
      void this.flush();
    } else this.schedule();
  }

  private schedule() {
    this.events.emit('change');
    // While the initial sync runs, changes wait: start() schedules them when it is done.
    if (this.paused || this.disposed || this.starting) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), this.options.debounceMs);
  }

  /** Sends what the change sets hold now; flushes run one after another. */
  flush(): Promise<void> {
    this.flushing = this.flushing
      .then(() => this.flushOnce())
      .catch((err) => this.set({ state: 'error', error: errorText(err) }));
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    if (this.paused || this.disposed) return;
    const taken = this.changes.map((c) => c.take());
    const total = taken.reduce((n, t) => n + t.upserts.length + t.deletes.length, 0);
    if (total === 0) return;
    const saved = this.pendingSaved;
    this.pendingSaved = false;
    const batch = this.state.batch + 1;
    taken.forEach((t, i) => {
      for (const p of t.upserts) this.missedByFullSync?.[i].set(p, 'change');
      for (const p of t.deletes) this.missedByFullSync?.[i].set(p, 'delete');
    });
    const firstAt = Math.min(...taken.map((t) => t.firstAt ?? Date.now()));
    this.set({ state: 'syncing', error: undefined, batch });
    // The pods that had their full sync. No list call here (a round trip per save): the pod
    // watch keeps this current, a pod that has just gone fails as "gone" and is dropped quietly,
    // and a new or restarted one gets its full sync from checkPods.
    const pods = [...this.known.keys()];
    // Sizes for batching, read once for all pods (a path that vanished is sent as nothing).
    const upserts = taken.map((t, i) =>
      t.upserts.flatMap((p) => {
        try {
          const st = lstatSync(join(this.options.roots[i].local, p));
          return [{ path: p, size: st.size }];
        } catch {
          return [];
        }
      }),
    );
    const send = async (group: string[]) => {
      const failed = new Map<string, unknown>();
      for (let i = 0; i < taken.length; i++) {
        for (const batch of batches(upserts[i], this.options.batchSize, this.options.batchBytes))
          await this.sendFiles(
            group,
            failed,
            i,
            batch.map((f) => f.path),
          );
        if (taken[i].deletes.length) await this.sendDeletes(group, failed, i, taken[i].deletes);
      }
      return failed;
    };
    const restartFailures: string[] = [];
    const restarts: Promise<void>[] = [];
    let livePods = 0;
    let lastLiveAt = firstAt;
    // Each pod restarts as soon as it has the whole change, not when the slowest pod has it.
    const failures = await this.toPods(pods, send, (pod) =>
      restarts.push(
        this.restartPod(pod, restartFailures, batch).then((live) => {
          if (!live) return;
          livePods++;
          lastLiveAt = Math.max(lastLiveAt, Date.now());
        }),
      ),
    );
    await Promise.all(restarts);
    this.set({
      filesSent: this.state.filesSent + total * pods.length,
      lastSyncAt: Date.now(),
      lastBatch: {
        batch,
        saved,
        liveMs: Math.max(0, lastLiveAt - firstAt),
        livePods,
        // A pod that went away meanwhile was dropped (it is no longer known); one that failed counts.
        pods: pods.filter((pod) => this.known.has(pod)).length,
        restarted: this.options.restarts ?? true,
      },
    });
    if (failures.size)
      return this.retryLater(
        taken,
        `Sync failed in ${[...failures].map(([pod, why]) => `${pod}: ${why}`).join('; ')}`,
        saved,
      );
    if (restartFailures.length) this.set({ state: 'error', error: `Restart failed in ${restartFailures.join('; ')}` });
    else this.set({ state: this.paused ? 'paused' : 'idle' });
  }
  /** A command in the pod: a `sh -c` script through its sync shell when it has one, else an exec. */
  private async runInPod(pod: string, command: string[]) {
    const script = command.length === 3 && command[0] === 'sh' && command[1] === '-c' ? command[2] : undefined;
    const shell = script === undefined ? undefined : await this.shellFor(pod, 0).catch(() => undefined);
    if (shell?.alive) {
      // A shell whose connection failed is replaced later; this command goes by an exec instead
      // (the pod may be gone, which the exec's error tells).
      const result = await shell.run(script!).catch(() => undefined);
      if (result)
        return { exitCode: result.exitCode, stdout: Buffer.from(result.output), stderr: Buffer.from(result.output) };
    }
    return this.target.exec(pod, command);
  }

  /**
   * Restarts the app in a pod; true once it runs the pod's newest code: then the pod's version is
   * `batch` (a batch just sent) or what its full sync counts as.
   */
  private async restartPod(pod: string, failures: string[], batch?: number): Promise<boolean> {
    try {
      await this.target.restart(pod, (command) => this.runInPod(pod, command));
    } catch (err) {
      if (!this.target.isGone(err)) failures.push(`${pod}: ${errorText(err)}`);
      return false;
    }
    const version = Math.max(batch ?? 0, this.fullSyncBatch.get(pod) ?? 0, this.podBatch.get(pod) ?? 0);
    this.fullSyncBatch.delete(pod);
    // A pod that went away meanwhile is not listed again.
    if (this.known.has(pod)) this.podBatch.set(pod, version);
    return true;
  }

  /**
   * Nothing is dropped: a batch that failed goes back into the change set and is tried again
   * later (pods that already have it just receive it again).
   */
  private retryLater(taken: ReturnType<ChangeSet['take']>[], error: string, saved: boolean) {
    taken.forEach((t, i) => this.changes[i].restore(t));
    this.pendingSaved ||= saved;
    this.waiting = { quietSince: Date.now(), saved: true }; // a save joins the retry rather than leading it
    this.set({ state: 'error', error });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), Math.max(this.options.debounceMs, 2_000));
  }

  private async restartPods(pods: string[]) {
    const failures: string[] = [];
    await Promise.all(pods.map((pod) => this.limit(() => this.restartPod(pod, failures))));
    if (failures.length) this.set({ state: 'error', error: `Restart failed in ${failures.join('; ')}` });
  }

  /**
   * A pod that looked gone (its container not running, or not yet known to the node) did not
   * get this change. It is forgotten, so that if it is still there, or back with the same
   * restart count, a check soon after gives it a full sync; the pod watch may have nothing
   * more to say about it.
   */
  private lostTrackOf(pod: string): void {
    this.known.delete(pod);
    this.checkAgainSoon(RECHECK_AFTER_LOST_MS);
  }

  /** A pod appeared or restarted: full sync before its process starts again. */
  private async checkPods(): Promise<void> {
    if (this.disposed) return;
    try {
      const pods = await this.target.listPods();
      for (const name of [...this.podBatch.keys()]) if (!pods.some((p) => p.name === name)) this.forget(name);
      for (const name of [...this.known.keys()]) {
        if (pods.some((p) => p.name === name)) continue;
        this.known.delete(name);
        this.dropShells(name);
      }
      const fresh = pods.filter((p) => this.known.get(p.name) !== p.incarnation);
      if (fresh.length === 0) return;
      for (const pod of fresh) this.dropShells(pod.name); // a restarted container took its shell with it
      this.log(
        `full sync for new or restarted pod${fresh.length > 1 ? 's' : ''}: ${fresh.map((p) => p.name).join(', ')}`,
      );
      const synced = await this.fullSyncAfterStart(fresh);
      await this.restartPods(synced);
      if (synced.length < fresh.length) this.checkAgainSoon(RECHECK_AFTER_FAILURE_MS);
    } catch (err) {
      this.set({ state: 'error', error: errorText(err) });
      this.checkAgainSoon(RECHECK_AFTER_FAILURE_MS);
    }
  }

  /**
   * A pod whose full sync failed (a slow node, a container restarting again, the API refusing
   * for a moment) gets no new pod event to bring it back, and no later save is sent to it until
   * it has one: look at the pods again soon. One look is pending at a time.
   */
  private checkAgainSoon(ms: number): void {
    if (this.disposed || this.recheck) return;
    this.recheck = setTimeout(() => {
      this.recheck = undefined;
      void this.checkPods();
    }, ms);
  }

  private async fullSyncAfterStart(pods: PodRef[]): Promise<string[]> {
    this.fullSyncsRunning++;
    this.missedByFullSync ??= this.options.roots.map(() => new Map());
    try {
      return await this.syncPods(pods);
    } finally {
      if (--this.fullSyncsRunning === 0) {
        const missed = this.missedByFullSync;
        this.missedByFullSync = undefined;
        missed.forEach((paths, i) => paths.forEach((kind, path) => this.changes[i].record(path, kind)));
        if (missed.some((paths) => paths.size > 0)) this.schedule();
      }
    }
  }

  /** A pod that is gone: no longer listed with its version. */
  private forget(pod: string) {
    this.podBatch.delete(pod);
    this.fullSyncBatch.delete(pod);
    this.podErrors.delete(pod);
    this.events.emit('change');
  }

  async restartAll(): Promise<void> {
    this.set({ state: 'restarting' });
    await this.restartPods([...this.known.keys()]);
    if (this.state.state === 'restarting') this.set({ state: this.paused ? 'paused' : 'idle' });
  }

  pause(): void {
    this.paused = true;
    clearTimeout(this.timer);
    this.set({ state: 'paused' });
  }

  /** Sends everything that accumulated while paused, as one batch. */
  resume(): void {
    this.paused = false;
    this.set({ state: 'idle' });
    void this.flush();
  }

  async fullSync(): Promise<void> {
    const pods = await this.target.listPods();
    const synced = await this.syncPods(pods);
    await this.restartPods(synced);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    clearTimeout(this.timer);
    clearTimeout(this.recheck);
    this.podWatch?.stop();
    for (const w of this.watchers) w.close();
    this.watchers = [];
    await this.flushing.catch(() => undefined);
    this.dropShells();
  }
}
