// The sandbox's pod runtime: every container is a real process in its own mount, PID and
// UTS namespace, every pod has its own network namespace (held by a tiny "pause" shell).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Readable, type Duplex, type Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Clock, MonotonicStamp } from './clock';
import { copyImageFiles, imageTools, ImageStore, type Image } from './images';
import { InstanceLog } from './logStore';
import { PortRelay } from './portRelay';
import { networkProbe, probeTiming } from './probes';
import { programProblem, resolveImageUser, type ImageUser } from './processChecks';
import { ptyArgv, resizeLine } from './ptyHelper';
import { mountOps, mountPathProblem } from './rootfs';
import {
  RuntimeError,
  type ContainerState,
  type ExecProcess,
  type LogOptions,
  type PodRuntime,
  type PodRuntimeOptions,
  type RuntimeContainerSpec,
  type RuntimeContainerStatus,
  type RuntimeExecOptions,
  type RuntimePod,
  type RuntimePodStatus,
  type RuntimeProbe,
  type RuntimeVolume,
} from './types';

export interface SandboxRuntimeOptions extends PodRuntimeOptions {
  /** First restart delay after the immediate one (kubelet: 10 s); doubles up to backoffCapMs. */
  backoffBaseMs?: number;
  /** Longest restart delay (kubelet: 5 min). */
  backoffCapMs?: number;
  /** Log bytes kept per container instance (default 10 MiB). */
  maxLogBytesPerInstance?: number;
  /** Grace period stopAll gives each pod at most (default 2 s), so shutdown stays quick. */
  stopAllGraceSeconds?: number;
  /** Put each pod in its own user namespace (default: only when not root, where it is required). */
  userNamespaces?: boolean;
  /** The node's clock (status and log timestamps); default the machine's. */
  clock?: Clock;
}

const INIT_SCRIPT = resolve(__dirname, 'container-init.sh');
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
let containerCounter = 0;
let podIpCounter = 0;

interface Instance {
  id: string;
  child: ChildProcess;
  hostPid?: number;
  running: boolean;
  exited: boolean;
  exit: Promise<{ code: number; signal?: number }>;
  log: InstanceLog;
  startedAt: string;
  startedMs: number;
  abort: AbortController;
  killedByProbe?: string;
}

interface Container {
  spec: RuntimeContainerSpec;
  image?: Image;
  /** Who the image's USER is (when the pod's securityContext does not say runAsUser). */
  imageUser?: ImageUser;
  env: Record<string, string>;
  workDir: string;
  status: RuntimeContainerStatus;
  instances: Instance[];
  current?: Instance;
  backoffCount: number;
  /** Never restarts again (restartPolicy said so, or a setup error). */
  finished: boolean;
  everStarted: boolean;
  stamp: MonotonicStamp;
}

interface Pod {
  spec: RuntimePod;
  uid: string;
  dir: string;
  containers: Container[];
  pause?: ChildProcess;
  pausePid?: number;
  deleting: boolean;
  deleted: Promise<void> | undefined;
  /** Settles when every container loop of the pod has ended. */
  loops?: Promise<void>;
  wake: AbortController;
  startTime: string;
  podIP: string;
  /** Started on the first port-forward to the pod. */
  relay?: PortRelay;
}

export class SandboxPodRuntime implements PodRuntime {
  private readonly pods = new Map<string, Pod>();
  private readonly pids = new Set<number>();
  private readonly images: ImageStore;
  private readonly backoffBaseMs: number;
  private readonly backoffCapMs: number;
  private readonly maxLogBytes: number;
  private readonly clock: Clock;

  /** Not root: every namespace hangs under a user namespace per pod where we are mapped to root. */
  private readonly userns: boolean;

  constructor(private readonly options: SandboxRuntimeOptions) {
    this.userns = checkNamespacesWork(options.userNamespaces ?? process.getuid?.() !== 0);
    this.images = new ImageStore(options.imagesDir);
    this.backoffBaseMs = options.backoffBaseMs ?? 10_000;
    this.backoffCapMs = options.backoffCapMs ?? 300_000;
    this.maxLogBytes = options.maxLogBytesPerInstance ?? 10 * 1024 * 1024;
    this.clock = options.clock ?? new Clock(0);
    mkdirSync(options.stateDir, { recursive: true });
  }

  startPod(spec: RuntimePod): void {
    const uid = spec.metadata.uid;
    if (this.pods.has(uid))
      throw new RuntimeError('BadRequest', `pod ${spec.metadata.name} (uid ${uid}) is already running`);
    const n = ++podIpCounter;
    const pod: Pod = {
      spec,
      uid,
      dir: join(this.options.stateDir, 'pods', uid.replace(/[^A-Za-z0-9_.-]/g, '_')),
      containers: [],
      deleting: false,
      deleted: undefined,
      wake: new AbortController(),
      startTime: this.clock.iso(),
      podIP: spec.status?.podIP ?? `127.1.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`,
    };
    for (const c of spec.spec.containers) {
      pod.containers.push({
        spec: c,
        env: {},
        workDir: '/',
        status: {
          name: c.name,
          image: c.image,
          imageID: '',
          containerID: '',
          ready: false,
          started: false,
          restartCount: 0,
          state: { waiting: { reason: 'ContainerCreating' } },
          lastState: {},
        },
        instances: [],
        backoffCount: 0,
        finished: false,
        everStarted: false,
        stamp: new MonotonicStamp(this.clock),
      });
    }
    this.pods.set(uid, pod);
    this.emit(pod);
    pod.loops = this.runPod(pod).catch(() => {});
  }

  private async runPod(pod: Pod): Promise<void> {
    try {
      const hostname = (pod.spec.spec.hostname ?? pod.spec.metadata.name).slice(0, 63);
      mkdirSync(join(pod.dir, 'volumes'), { recursive: true });
      writeFileSync(
        join(pod.dir, 'hosts'),
        `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${pod.podIP}\t${hostname}\n`,
      );
      writeFileSync(join(pod.dir, 'hostname'), `${hostname}\n`);
      const fsGroup = pod.spec.spec.securityContext?.fsGroup;
      for (const v of pod.spec.spec.volumes ?? []) writeVolume(join(pod.dir, 'volumes', v.name), v, fsGroup);
      pod.pausePid = await this.startPause(pod);
    } catch (err) {
      for (const c of pod.containers) {
        c.finished = true;
        c.status.state = {
          waiting: { reason: 'CreateContainerError', message: `pod sandbox: ${(err as Error).message}` },
        };
      }
      this.emit(pod);
      return;
    }
    await Promise.all(pod.containers.map((c) => this.runContainer(pod, c)));
  }

  /** A shell that only holds the pod's network namespace; it ends when its stdin closes. */
  private startPause(pod: Pod): Promise<number> {
    return new Promise((resolvePid, reject) => {
      if (pod.deleting) return reject(new Error('pod is being deleted'));
      const child = spawn(
        'unshare',
        [
          ...(this.userns ? ['--user', '--map-root-user'] : []),
          '--net',
          '--',
          '/usr/bin/sh',
          '-c',
          '/usr/sbin/ip link set lo up && echo up && read _ ; exit 0',
        ],
        {
          stdio: ['pipe', 'pipe', 'pipe'],
        },
      );
      pod.pause = child;
      this.track(child);
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      child.stdout!.once('data', () => resolvePid(child.pid!));
      child.on('error', (err) => reject(new Error(`cannot start the pod's network namespace: ${err.message}`)));
      child.on('exit', (code) =>
        reject(
          new Error(
            `cannot start the pod's network namespace (exit ${code}): ${stderr.trim() || 'no message'}; needs root and /usr/sbin/ip (iproute2)`,
          ),
        ),
      );
    });
  }

  private async runContainer(pod: Pod, c: Container): Promise<void> {
    const problem = this.prepareContainer(pod, c);
    if (problem) {
      // Not created: the kubelet tries again on each pod sync, with the same outcome.
      c.finished = true;
      c.status.state = { waiting: problem };
      this.emit(pod);
      return;
    }
    while (!pod.deleting) {
      const policy = pod.spec.spec.restartPolicy ?? 'Always';
      let attemptMs: number;
      const unstartable = this.startProblem(c);
      if (unstartable) {
        attemptMs = Date.now();
        if (this.failedStart(pod, c, unstartable, policy)) break;
      } else {
        let inst: Instance;
        try {
          inst = await this.startInstance(pod, c);
        } catch (err) {
          c.finished = true;
          c.status.state = { waiting: { reason: 'CreateContainerError', message: (err as Error).message } };
          this.emit(pod);
          return;
        }
        attemptMs = inst.startedMs;
        const { code, signal } = await inst.exit;
        const finishedAt = this.clock.iso();
        c.status.state = {
          terminated: {
            exitCode: code,
            ...(signal ? { signal } : {}),
            reason: code === 0 ? 'Completed' : 'Error',
            ...(inst.killedByProbe ? { message: inst.killedByProbe } : {}),
            startedAt: inst.startedAt,
            finishedAt,
          },
        };
        c.status.ready = false;
        c.status.started = false;
        if (pod.deleting) break;
        if (policy === 'Never' || (policy === 'OnFailure' && code === 0)) {
          c.finished = true;
          this.emit(pod);
          break;
        }
      }
      if (Date.now() - attemptMs > 2 * this.backoffCapMs) c.backoffCount = 0;
      const delay =
        c.backoffCount === 0 ? 0 : Math.min(this.backoffBaseMs * 2 ** (c.backoffCount - 1), this.backoffCapMs);
      c.backoffCount++;
      if (delay > 0) {
        // A failed start keeps its StartError as the last state; a process that ran, its end.
        if (c.status.state.terminated) c.status.lastState = c.status.state;
        const seconds = Math.round(delay / 100) / 10;
        c.status.state = {
          waiting: {
            reason: 'CrashLoopBackOff',
            message: `back-off ${seconds}s restarting failed container=${c.spec.name} pod=${pod.spec.metadata.name}_${pod.spec.metadata.namespace}(${pod.uid})`,
          },
        };
        this.emit(pod);
        try {
          await sleep(delay, undefined, { signal: pod.wake.signal });
        } catch {}
      } else {
        this.emit(pod);
      }
    }
  }

  /**
   * A start whose process could not run, as the kubelet reports one with containerd: the
   * container existed, so the attempt counts as a restart and ends as a StartError (exit code
   * 128, never started: 1970 as startedAt); until the next attempt the container waits with
   * RunContainerError and the runtime's message, and it backs off as after a crash. True when
   * the restart policy ends the container here.
   */
  private failedStart(pod: Pod, c: Container, message: string, policy: string): boolean {
    const terminated = {
      exitCode: 128,
      reason: 'StartError',
      message,
      startedAt: new Date(0).toISOString().replace('.000Z', 'Z'),
      finishedAt: this.clock.iso(),
    };
    c.status.restartCount = c.everStarted ? c.status.restartCount + 1 : 0;
    c.everStarted = true;
    c.status.ready = false;
    c.status.started = false;
    if (policy === 'Never') {
      c.finished = true;
      c.status.state = { terminated };
      this.emit(pod);
      return true;
    }
    c.status.lastState = { terminated };
    c.status.state = { waiting: { reason: 'RunContainerError', message } };
    this.emit(pod);
    return false;
  }

  /** Resolves image, command, env and folders; returns a waiting state when the container cannot be created. */
  private prepareContainer(pod: Pod, c: Container): ContainerState['waiting'] | undefined {
    const badReference = imageReferenceProblem(c.spec.image);
    if (badReference) return { reason: 'InvalidImageName', message: badReference };
    try {
      c.image = this.images.resolve(c.spec.image);
    } catch (err) {
      return { reason: 'ErrImagePull', message: (err as Error).message };
    }
    c.status.imageID = c.image.id;
    const who = identityOf(pod.spec, c.spec);
    // The image's USER counts only where the securityContext does not set runAsUser.
    const imageUser = who.runAsUser === undefined ? c.image.config.user : undefined;
    if (who.nonRootRequired) {
      // The kubelet's own check, before the runtime is asked: a name it cannot judge.
      const where = `(pod: "${pod.spec.metadata.name}_${pod.spec.metadata.namespace}(${pod.uid})", container: ${c.spec.name})`;
      const imageUid = imageUser?.split(':')[0];
      if (imageUid !== undefined && !/^\d+$/.test(imageUid)) {
        return {
          reason: 'CreateContainerConfigError',
          message: `container has runAsNonRoot and image has non-numeric user (${imageUid}), cannot verify user is non-root ${where}`,
        };
      }
      if ((who.runAsUser ?? Number(imageUid ?? 0)) === 0)
        return {
          reason: 'CreateContainerConfigError',
          message: `container has runAsNonRoot and image will run as root ${where}`,
        };
    }
    const env: Record<string, string> = {
      PATH: DEFAULT_PATH,
      ...(c.image.config.env ?? {}),
      HOSTNAME: (pod.spec.spec.hostname ?? pod.spec.metadata.name).slice(0, 63),
      HOME: '/root',
    };
    for (const e of c.spec.env ?? []) env[e.name] = expandVars(e.value ?? '', env);
    c.env = env;
    c.workDir = c.spec.workingDir || c.image.config.workingDir || '/';
    const paths = [c.workDir === '/' ? undefined : c.workDir, ...(c.spec.volumeMounts ?? []).map((m) => m.mountPath)];
    for (const p of paths) {
      const problem = p === undefined ? undefined : mountPathProblem(p);
      if (problem) return { reason: 'CreateContainerConfigError', message: `container "${c.spec.name}": ${problem}` };
    }
    for (const m of c.spec.volumeMounts ?? []) {
      if (!(pod.spec.spec.volumes ?? []).some((v) => v.name === m.name)) {
        return {
          reason: 'CreateContainerConfigError',
          message: `container "${c.spec.name}": volumeMount "${m.name}" names no volume of the pod`,
        };
      }
    }
    if (commandLine(c).length === 0) {
      return {
        reason: 'CreateContainerError',
        message: `container "${c.spec.name}": no command specified (neither the pod spec nor image ${c.spec.image} has one)`,
      };
    }
    if (imageUser) {
      // Creating the container looks the name up in the image's /etc/passwd, as containerd does:
      // no process exists yet, so the kubelet reports CreateContainerError and counts no restart.
      try {
        c.imageUser = resolveImageUser(imageUser);
      } catch (err) {
        return {
          reason: 'CreateContainerError',
          message: `failed to create container "${c.spec.name}": ${(err as Error).message}`,
        };
      }
    }
    if (this.userns && identityOf(pod.spec, c.spec, c.imageUser).user !== '-') {
      return {
        reason: 'CreateContainerConfigError',
        message: `container "${c.spec.name}": runAsUser, runAsGroup, fsGroup and an image's non-root USER need the sandbox runtime to run as root (it maps only root into its user namespaces)`,
      };
    }
    return undefined;
  }

  /** Why the container's process cannot start (its program is not on its PATH), in runc's words. */
  private startProblem(c: Container): string | undefined {
    const hidden = imageTools(c.image!)
      .filter(([file]) => file === '/dev/null')
      .map(([, path]) => path);
    const problem = programProblem(commandLine(c)[0], c.env.PATH ?? DEFAULT_PATH, hidden);
    return problem && `failed to start container "${c.spec.name}": ${problem}`;
  }

  private async startInstance(pod: Pod, c: Container): Promise<Instance> {
    const n = c.instances.length;
    const base = join(pod.dir, 'containers', c.spec.name);
    // A restarted container gets a fresh writable layer, as in Kubernetes; volumes persist.
    if (n > 0) rmSync(join(base, String(n - 1)), { recursive: true, force: true });
    const dir = join(base, String(n));
    for (const sub of ['root', 'work', 'tmp', 'vartmp', 'home']) mkdirSync(join(dir, sub), { recursive: true });
    // As in an image: /tmp and /var/tmp are writable by every user, HOME (/root) and the
    // image's files by root only.
    for (const sub of ['tmp', 'vartmp']) chmodSync(join(dir, sub), 0o1777);
    chmodSync(join(dir, 'home'), 0o700);
    const who = identityOf(pod.spec, c.spec, c.imageUser);
    // readOnlyRootFilesystem: all of the container's own layer is read-only; only volumes are writable.
    const layer = who.readOnlyRoot;
    const writable: [string, string, boolean][] = [
      [join(dir, 'tmp'), '/tmp', layer],
      [join(dir, 'vartmp'), '/var/tmp', layer],
      // HOME: tools write caches and history there; the host's /root is not shown.
      [join(dir, 'home'), '/root', layer],
    ];
    const mountPaths = new Set((c.spec.volumeMounts ?? []).map((m) => m.mountPath.replace(/\/+$/, '')));
    if (c.workDir !== '/' && !mountPaths.has(c.workDir.replace(/\/+$/, ''))) {
      writable.push([join(dir, 'work'), c.workDir, layer]);
      await copyImageFiles(c.image!, join(dir, 'work'));
      if (pod.deleting) throw new Error('pod is being deleted');
    }
    for (const m of c.spec.volumeMounts ?? [])
      writable.push([join(pod.dir, 'volumes', m.name), m.mountPath, m.readOnly === true]);
    // A mount point inside another mount (a volume at /tmp/truva) is made in that mount's source
    // beforehand: once the outer mount is bound read-only nothing can be created in it.
    for (const [, inner] of writable) {
      const outer = writable
        .filter(([, path]) => inner.startsWith(`${path.replace(/\/+$/, '')}/`))
        .sort((a, b) => b[1].length - a[1].length)[0];
      if (outer) mkdirSync(join(outer[0], inner.slice(outer[1].replace(/\/+$/, '').length)), { recursive: true });
    }
    const ops = mountOps({
      hostsFile: join(pod.dir, 'hosts'),
      hostnameFile: join(pod.dir, 'hostname'),
      writable,
      noTar: c.image!.config.tar === false,
      tools: imageTools(c.image!),
    });
    const hostname = (pod.spec.spec.hostname ?? pod.spec.metadata.name).slice(0, 63);
    const args = [
      ...this.podNamespaceArgs(pod),
      'unshare',
      '--mount',
      '--pid',
      '--uts',
      '--ipc',
      '--propagation',
      'private',
      '/usr/bin/sh',
      INIT_SCRIPT,
      join(dir, 'root'),
      hostname,
      c.workDir,
      who.user,
      ...ops.flat(),
      '--',
      ...commandLine(c),
    ];
    const child = spawn('nsenter', args, { env: c.env, stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'] });
    this.track(child);
    const id = `${(++containerCounter).toString(16).padStart(8, '0')}${Math.random().toString(16).slice(2, 10)}`;
    const log = new InstanceLog(c.stamp, this.maxLogBytes);
    const inst: Instance = {
      id,
      child,
      running: false,
      exited: false,
      exit: undefined as never,
      log,
      startedAt: this.clock.iso(),
      startedMs: Date.now(),
      abort: new AbortController(),
    };
    c.instances.push(inst);
    if (c.instances.length > 2) c.instances.shift();
    c.current = inst;
    // deletePod may have stopped the containers while this one was being set up.
    if (pod.deleting) void this.stopInstance(inst, 0);
    child.stdout!.on('data', (d: Buffer) => log.write('stdout', d));
    child.stderr!.on('data', (d: Buffer) => log.write('stderr', d));
    const control = child.stdio[3] as Readable;
    let controlText = '';
    const readyPromise = new Promise<void>((resolveReady) => {
      control.on('data', (d: Buffer) => {
        controlText += d.toString();
        const pid = /pid (\d+)/.exec(controlText);
        if (pid) inst.hostPid = Number(pid[1]);
        if (controlText.includes('ready')) resolveReady();
      });
      control.on('end', resolveReady);
    });
    inst.exit = new Promise((resolveExit) => {
      child.on('error', (err) => {
        log.write('stderr', Buffer.from(`cannot start container: ${err.message}\n`));
      });
      child.on('close', (code, signal) => {
        inst.exited = true;
        inst.running = false;
        inst.abort.abort();
        log.end();
        const signum = signal ? signalNumber(signal) : undefined;
        resolveExit({ code: code ?? 128 + (signum ?? 9), signal: signum });
      });
    });
    await Promise.race([readyPromise, inst.exit]);
    if (!inst.exited) {
      inst.running = true;
      inst.startedAt = this.clock.iso();
      c.status.restartCount = c.everStarted ? c.status.restartCount + 1 : 0;
      if (c.everStarted && c.status.state.terminated) c.status.lastState = c.status.state;
      if (c.status.state.waiting?.reason === 'CrashLoopBackOff')
        c.status.lastState = c.status.lastState.terminated ? c.status.lastState : {};
      c.everStarted = true;
      c.status.containerID = `sandbox://${id}`;
      c.status.state = { running: { startedAt: inst.startedAt } };
      c.status.started = !c.spec.startupProbe;
      c.status.ready = !c.spec.readinessProbe && c.status.started;
      this.emit(pod);
      this.startProbes(pod, c, inst);
    } else if (!c.everStarted) {
      c.everStarted = true;
    }
    return inst;
  }

  private startProbes(pod: Pod, c: Container, inst: Instance): void {
    const { livenessProbe, readinessProbe, startupProbe } = c.spec;
    const loop = async (probe: RuntimeProbe, onResult: (ok: boolean, t: ReturnType<typeof probeTiming>) => boolean) => {
      const t = probeTiming(probe);
      try {
        await sleep(t.initialDelayMs, undefined, { signal: inst.abort.signal });
        while (!inst.exited) {
          const ok = await this.runProbe(pod, c, probe, t.timeoutMs);
          if (inst.exited || !onResult(ok, t)) return;
          await sleep(t.periodMs, undefined, { signal: inst.abort.signal });
        }
      } catch {}
    };
    const counter = () => {
      let successes = 0;
      let failures = 0;
      return (ok: boolean) => {
        if (ok) {
          successes++;
          failures = 0;
        } else {
          failures++;
          successes = 0;
        }
        return { successes, failures };
      };
    };
    const afterStart = () => {
      if (livenessProbe) {
        const count = counter();
        void loop(livenessProbe, (ok, t) => {
          const { failures } = count(ok);
          if (failures < t.failureThreshold) return true;
          inst.killedByProbe = `Container ${c.spec.name} failed liveness probe, will be restarted`;
          void this.stopInstance(inst, this.graceMs(pod));
          return false;
        });
      }
      if (readinessProbe) {
        const count = counter();
        void loop(readinessProbe, (ok, t) => {
          const { successes, failures } = count(ok);
          const ready = c.status.ready ? failures < t.failureThreshold : successes >= t.successThreshold;
          if (ready !== c.status.ready) {
            c.status.ready = ready;
            this.emit(pod);
          }
          return true;
        });
      }
    };
    if (!startupProbe) return afterStart();
    const count = counter();
    void loop(startupProbe, (ok, t) => {
      const { failures } = count(ok);
      if (ok) {
        c.status.started = true;
        if (!readinessProbe) c.status.ready = true;
        this.emit(pod);
        afterStart();
        return false;
      }
      if (failures >= t.failureThreshold) {
        inst.killedByProbe = `Container ${c.spec.name} failed startup probe, will be restarted`;
        void this.stopInstance(inst, this.graceMs(pod));
        return false;
      }
      return true;
    });
  }

  private async runProbe(pod: Pod, c: Container, probe: RuntimeProbe, timeoutMs: number): Promise<boolean> {
    try {
      if (probe.exec) {
        const proc = this.exec(pod.uid, c.spec.name, probe.exec.command);
        proc.stdin.end();
        proc.stdout.resume();
        proc.stderr.resume();
        const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
        const code = await proc.exited;
        clearTimeout(timer);
        return code === 0;
      }
      return await networkProbe(this.podNamespaceArgs(pod), probe, c.spec, timeoutMs, (pid, alive) => {
        if (pid === undefined) return;
        if (alive) this.pids.add(pid);
        else this.pids.delete(pid);
      });
    } catch {
      return false;
    }
  }

  /** nsenter arguments that join the pod's network namespace (and its user namespace when not root). */
  private podNamespaceArgs(pod: Pod): string[] {
    const ns = `/proc/${pod.pausePid}/ns`;
    // --preserve-credentials: the user namespace maps our uid to root and denies setgroups.
    return this.userns ? [`--user=${ns}/user`, '--preserve-credentials', `--net=${ns}/net`] : [`--net=${ns}/net`];
  }

  private graceMs(pod: Pod, override?: number): number {
    return Math.max(0, override ?? pod.spec.spec.terminationGracePeriodSeconds ?? 30) * 1000;
  }

  /** SIGTERM to the container's PID 1 (ignored by a PID 1 without a handler, as in Kubernetes), SIGKILL after the grace period. */
  private async stopInstance(inst: Instance, graceMs: number): Promise<void> {
    if (inst.exited) return;
    if (inst.hostPid && graceMs > 0) {
      signal(inst.hostPid, 'SIGTERM');
      const cancel = new AbortController();
      const timer = sleep(graceMs, 'timeout' as const, { signal: cancel.signal }).catch(() => 'cancelled' as const);
      const outcome = await Promise.race([inst.exit.then(() => 'exited' as const), timer]);
      cancel.abort();
      if (outcome === 'exited') return;
    }
    // Killing PID 1 ends the whole PID namespace and lets the init shell reap it; killing the
    // shell first would orphan PID 1 to the host's init as a zombie.
    for (let i = 0; i < 20 && !inst.hostPid && !inst.exited; i++) await sleep(10);
    if (inst.hostPid) signal(inst.hostPid, 'SIGKILL');
    else if (inst.child.pid) signal(inst.child.pid, 'SIGKILL');
    await inst.exit;
  }

  async deletePod(uid: string, gracePeriodSeconds?: number): Promise<void> {
    const pod = this.pods.get(uid);
    // Nothing of an unknown (or already deleted) pod runs: that is what the caller waits for.
    if (!pod) return;
    if (pod.deleted) return pod.deleted;
    pod.deleting = true;
    pod.wake.abort();
    pod.deleted = (async () => {
      const grace = this.graceMs(pod, gracePeriodSeconds);
      await Promise.all(pod.containers.map((c) => (c.current ? this.stopInstance(c.current, grace) : undefined)));
      await pod.loops;
      for (const c of pod.containers) {
        c.status.ready = false;
        if (!c.status.state.terminated) c.status.state = { waiting: { reason: 'ContainerCreating' } };
      }
      this.emit(pod);
      pod.relay?.stop();
      if (pod.pause && pod.pause.exitCode === null && pod.pause.signalCode === null) {
        const gone = new Promise((r) => pod.pause!.once('close', r));
        pod.pause.stdin?.end();
        signal(pod.pause.pid!, 'SIGKILL');
        await gone;
      }
      this.pods.delete(uid);
      rmSync(pod.dir, { recursive: true, force: true });
    })();
    return pod.deleted;
  }

  exec(uid: string, container: string, command: string[], options: RuntimeExecOptions = {}): ExecProcess {
    const { pod, c } = this.find(uid, container);
    const inst = c.current;
    if (!inst || !inst.running || !inst.hostPid) {
      throw new RuntimeError(
        'BadRequest',
        `container "${container}" in pod "${pod.spec.metadata.name}" is not running`,
      );
    }
    if (command.length === 0)
      throw new RuntimeError('BadRequest', 'you must specify at least one command for the container');
    const child = spawn(
      'nsenter',
      [
        '-t',
        String(inst.hostPid),
        ...(this.userns ? ['--user', '--preserve-credentials'] : []),
        '--mount',
        '--uts',
        '--ipc',
        '--net',
        '--pid',
        '--root',
        `--wdns=${c.workDir}`,
        '--',
        ...asUser(identityOf(pod.spec, c.spec, c.imageUser).user, options.tty ? ptyArgv(command) : command),
      ],
      // A TTY exec's helper takes resize lines on file descriptor 3.
      { env: c.env, stdio: options.tty ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'] },
    );
    this.track(child);
    child.stdin!.on('error', () => {});
    (child.stdio[3] as Writable | null)?.on('error', () => {});
    const exited = new Promise<number>((resolveExit) => {
      child.on('error', () => resolveExit(126));
      child.on('close', (code, sig) => resolveExit(code ?? 128 + (sig ? signalNumber(sig) : 9)));
    });
    return {
      stdin: child.stdin!,
      stdout: child.stdout!,
      stderr: child.stderr!,
      exited,
      kill: (sig?: NodeJS.Signals) => {
        // nsenter forks the command into the container's PID namespace and does not forward
        // signals; it must stay alive to reap the command (an orphan there would be adopted by
        // the container's PID 1, which may never reap it) and then exits with its status.
        if (!child.pid || child.exitCode !== null || child.signalCode !== null) return;
        const commands = childrenOf(child.pid);
        if (commands.length === 0) signal(child.pid, sig ?? 'SIGKILL');
        for (const pid of commands) signal(pid, sig ?? 'SIGKILL');
      },
      ...(options.tty
        ? {
            resize: (columns: number, rows: number) => {
              const control = child.stdio[3] as Writable | null;
              if (control && !control.destroyed) control.write(resizeLine(columns, rows));
            },
          }
        : {}),
    };
  }

  portForward(uid: string, port: number): Promise<Duplex> {
    const pod = this.pods.get(uid);
    if (!pod || pod.deleting) return Promise.reject(new RuntimeError('NotFound', `pod with uid ${uid} is not running`));
    if (!pod.pausePid)
      return Promise.reject(
        new RuntimeError('BadRequest', `pod "${pod.spec.metadata.name}" has no network namespace yet (it is starting)`),
      );
    if (!pod.relay) {
      // A Unix socket path holds at most 107 bytes; a deep state folder gets one in the temp folder.
      const inPod = join(pod.dir, 'pf.sock');
      const path = inPod.length < 100 ? inPod : join(tmpdir(), `truva-pf-${pod.uid.slice(0, 8)}-${process.pid}.sock`);
      pod.relay = new PortRelay(
        () => this.podNamespaceArgs(pod),
        path,
        (child) => this.track(child),
      );
    }
    return pod.relay.connect(port);
  }

  logs(uid: string, container: string, options: LogOptions): Readable {
    const { pod, c } = this.find(uid, container);
    const instances = c.instances;
    if (options.previous) {
      const prev = instances.length >= 2 ? instances[instances.length - 2] : undefined;
      if (!prev)
        throw new RuntimeError(
          'BadRequest',
          `previous terminated container "${container}" in pod "${pod.spec.metadata.name}" not found`,
        );
      return prev.log.read(options);
    }
    const current = instances[instances.length - 1];
    if (!current) {
      const reason = c.status.state.waiting?.reason ?? 'ContainerCreating';
      throw new RuntimeError(
        'BadRequest',
        `container "${container}" in pod "${pod.spec.metadata.name}" is waiting to start: ${reason}`,
      );
    }
    return current.log.read(options);
  }

  killContainer(uid: string, container: string, sig: NodeJS.Signals = 'SIGKILL'): void {
    const { pod, c } = this.find(uid, container);
    const inst = c.current;
    if (!inst || !inst.running || !inst.hostPid) {
      throw new RuntimeError(
        'BadRequest',
        `container "${container}" in pod "${pod.spec.metadata.name}" is not running`,
      );
    }
    signal(inst.hostPid, sig);
  }

  async stopAll(): Promise<void> {
    const grace = this.options.stopAllGraceSeconds ?? 2;
    await Promise.all(
      [...this.pods.values()].map((p) =>
        this.deletePod(p.uid, Math.min(grace, p.spec.spec.terminationGracePeriodSeconds ?? 30)).catch(() => {}),
      ),
    );
    for (let i = 0; i < 100 && this.livePids().length > 0; i++) {
      if (i === 20) for (const pid of this.livePids()) signal(pid, 'SIGKILL');
      await sleep(50);
    }
  }

  livePids(): number[] {
    const alive: number[] = [];
    for (const pid of this.pids) {
      try {
        process.kill(pid, 0);
        alive.push(pid);
      } catch {
        this.pids.delete(pid);
      }
    }
    for (const pod of this.pods.values()) {
      for (const c of pod.containers) {
        const h = c.current?.hostPid;
        if (h && !c.current!.exited && !alive.includes(h)) alive.push(h);
      }
    }
    return alive;
  }

  private track(child: ChildProcess): void {
    const pid = child.pid;
    if (pid === undefined) return;
    this.pids.add(pid);
    child.once('close', () => this.pids.delete(pid));
  }

  private find(uid: string, container: string): { pod: Pod; c: Container } {
    const pod = this.pods.get(uid);
    if (!pod) throw new RuntimeError('NotFound', `pod with uid ${uid} is not running`);
    const c = pod.containers.find((x) => x.spec.name === container);
    if (!c) {
      const names = pod.containers.map((x) => x.spec.name).join(', ');
      throw new RuntimeError(
        'BadRequest',
        `container ${container} is not valid for pod ${pod.spec.metadata.name}; choose one of: [${names}]`,
      );
    }
    return { pod, c };
  }

  private emit(pod: Pod): void {
    if (!this.pods.has(pod.uid)) return;
    const statuses = pod.containers.map((c) => structuredClone(c.status));
    const allStarted = pod.containers.every((c) => c.everStarted);
    let phase: RuntimePodStatus['phase'] = allStarted ? 'Running' : 'Pending';
    if (allStarted && pod.containers.every((c) => c.finished && c.status.state.terminated)) {
      phase = pod.containers.every((c) => c.status.state.terminated!.exitCode === 0) ? 'Succeeded' : 'Failed';
    }
    const status: RuntimePodStatus = {
      phase,
      ready: phase === 'Running' && statuses.every((s) => s.ready),
      containerStatuses: statuses,
      startTime: pod.startTime,
      podIP: pod.podIP,
    };
    try {
      this.options.onStatus(pod.uid, status);
    } catch {}
  }
}

/**
 * Who a container's processes run as: its securityContext over the pod's, else the image's USER
 * (`image`, once the runtime resolved it), else root.
 */
function identityOf(
  pod: RuntimePod,
  c: RuntimeContainerSpec,
  image?: ImageUser,
): { uid: number; runAsUser?: number; user: string; nonRootRequired: boolean; readOnlyRoot: boolean } {
  const podContext = pod.spec.securityContext ?? {};
  const own = c.securityContext ?? {};
  const runAsUser = own.runAsUser ?? podContext.runAsUser;
  const uid = runAsUser ?? image?.uid ?? 0;
  const gid = own.runAsGroup ?? podContext.runAsGroup ?? (runAsUser === undefined ? image?.gid : undefined) ?? 0;
  const groups = [podContext.fsGroup, ...(podContext.supplementalGroups ?? [])].filter(
    (g): g is number => typeof g === 'number',
  );
  const user = uid === 0 && gid === 0 && groups.length === 0 ? '-' : `${uid}:${gid}:${groups.join(',') || '-'}`;
  return {
    uid,
    runAsUser,
    user,
    nonRootRequired: (own.runAsNonRoot ?? podContext.runAsNonRoot) === true,
    readOnlyRoot: own.readOnlyRootFilesystem === true,
  };
}

/** The command run as that user (an exec runs as the container's user, as in Kubernetes). */
function asUser(user: string, command: string[]): string[] {
  if (user === '-') return command;
  const [uid, gid, groups] = user.split(':');
  const supplementary = groups === '-' ? ['--clear-groups'] : [`--groups=${groups}`];
  return ['/usr/bin/setpriv', `--reuid=${uid}`, `--regid=${gid}`, ...supplementary, '--', ...command];
}

/** Why an image reference does not parse (as a container runtime says it), or undefined. */
function imageReferenceProblem(image: string): string | undefined {
  const name = image.split('@')[0].replace(/:[\w][\w.-]{0,127}$/, '');
  const repo = name
    .split('/')
    .slice(name.includes('.') || name.includes(':') ? 1 : 0)
    .join('/');
  if (/^[a-z0-9]+(?:[._-][a-z0-9]+|__)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/.test(repo || name)) return undefined;
  return `Failed to apply default image tag "${image}": couldn't parse image name "${image}": invalid reference format${/[A-Z]/.test(image) ? `: repository name (${repo || name}) must be lowercase` : ''}`;
}

/**
 * A folder shared by the pod's containers, as the kubelet makes it. An emptyDir is writable by
 * every user; with fsGroup, owned by that group with the setgid bit, so files created in it belong
 * to the group too. A volume with `files` (ConfigMap, Secret, downward API, token) gets them
 * written in, group-owned by fsGroup when there is one.
 */
function writeVolume(dir: string, volume: RuntimeVolume, fsGroup: number | undefined): void {
  mkdirSync(dir, { recursive: true });
  if (fsGroup !== undefined) chownSync(dir, 0, fsGroup);
  if (!volume.files) chmodSync(dir, fsGroup !== undefined ? 0o2777 : 0o777);
  for (const f of volume.files ?? []) {
    if (f.path.startsWith('/') || f.path.split('/').includes('..'))
      throw new Error(`volume "${volume.name}": file path "${f.path}" must be relative and without ".."`);
    const path = join(dir, f.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, f.data);
    if (fsGroup !== undefined) chownSync(path, 0, fsGroup);
    chmodSync(path, f.mode ?? 0o644);
  }
}

/** Kubernetes semantics: command replaces the image's entrypoint, args its cmd; $(VAR) expands from env. */
function commandLine(c: Container): string[] {
  const cfg = c.image?.config ?? {};
  const command = c.spec.command?.length ? c.spec.command : (cfg.entrypoint ?? []);
  const args = c.spec.args?.length ? c.spec.args : c.spec.command?.length ? [] : (cfg.cmd ?? []);
  return [...command, ...args].map((s) => expandVars(s, c.env));
}

function expandVars(s: string, env: Record<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) =>
    name === undefined ? '$' : name in env ? env[name] : m,
  );
}

const SIGNALS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGABRT: 6,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};
function signalNumber(sig: NodeJS.Signals): number {
  return SIGNALS[sig] ?? 9;
}

function childrenOf(parent: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name may contain spaces and parentheses: the PPID follows the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent) found.push(Number(entry));
    } catch {}
  }
  return found;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {}
}

const checked = new Set<boolean>();
/** Fails early, with what to do, where this machine cannot make the namespaces wanted. */
function checkNamespacesWork(userns: boolean): boolean {
  if (checked.has(userns)) return userns;
  if (process.platform !== 'linux') throw new Error('the sandbox pod runtime needs Linux namespaces; run it on Linux');
  const r = spawnSync(
    'unshare',
    [
      ...(userns ? ['--user', '--map-root-user'] : []),
      '--mount',
      '--pid',
      '--uts',
      '--ipc',
      '--net',
      '--fork',
      '/usr/bin/true',
    ],
    { encoding: 'utf8' },
  );
  if (r.error || r.status !== 0) {
    const why = r.error?.message ?? r.stderr.trim();
    throw new Error(
      userns
        ? `the sandbox pod runtime cannot create namespaces: not root, and unprivileged user namespaces do not work here (unshare: ${why}). Run as root, or enable them (sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0)`
        : `the sandbox pod runtime cannot create namespaces here (unshare: ${why}); it needs CAP_SYS_ADMIN and util-linux unshare/nsenter`,
    );
  }
  checked.add(userns);
  return userns;
}
