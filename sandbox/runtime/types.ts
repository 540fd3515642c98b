// Contract between the sandbox's API server (sandbox/server) and its pod runtime
// (sandbox/runtime): the server owns API objects, the runtime owns processes.
import type { Duplex, Readable, Writable } from 'node:stream';

/** Pod as the API stores it (the Kubernetes JSON shape; only what the runtime reads is typed). */
export interface RuntimePod {
  metadata: { uid: string; name: string; namespace: string; labels?: Record<string, string> };
  spec: {
    containers: RuntimeContainerSpec[];
    volumes?: RuntimeVolume[];
    restartPolicy?: 'Always' | 'OnFailure' | 'Never';
    terminationGracePeriodSeconds?: number;
    hostname?: string;
    securityContext?: RuntimeSecurityContext & { fsGroup?: number; supplementalGroups?: number[] };
  };
  /** The address to report and to name in /etc/hosts; the runtime picks one when absent. */
  status?: { podIP?: string };
}

/** A folder shared by the pod's containers: empty (emptyDir), or holding `files` when the pod starts. */
export interface RuntimeVolume {
  name: string;
  emptyDir?: object;
  /** Paths relative to the volume (no `..`); `mode` as for chmod (default 0644). */
  files?: { path: string; data: string | Uint8Array; mode?: number }[];
}

/** The securityContext fields the runtime honours (a container's win over the pod's). */
export interface RuntimeSecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  readOnlyRootFilesystem?: boolean;
}

export interface RuntimeContainerSpec {
  name: string;
  /** `web`, `web:1` or `registry/web:1`: the last path segment without tag names the folder sandbox/images/<name>. */
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string }[];
  workingDir?: string;
  ports?: { containerPort: number; name?: string; protocol?: string }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  livenessProbe?: RuntimeProbe;
  readinessProbe?: RuntimeProbe;
  startupProbe?: RuntimeProbe;
  securityContext?: RuntimeSecurityContext;
}

export interface RuntimeProbe {
  exec?: { command: string[] };
  httpGet?: { path?: string; port: number | string; scheme?: string };
  tcpSocket?: { port: number | string };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
  successThreshold?: number;
}

export interface ContainerState {
  running?: { startedAt: string };
  waiting?: { reason: string; message?: string };
  terminated?: {
    exitCode: number;
    signal?: number;
    reason: string;
    message?: string;
    startedAt: string;
    finishedAt: string;
  };
}

/** Same field names as the Kubernetes V1ContainerStatus, so the server can copy it into pod.status. */
export interface RuntimeContainerStatus {
  name: string;
  image: string;
  imageID: string;
  containerID: string;
  ready: boolean;
  started: boolean;
  restartCount: number;
  state: ContainerState;
  lastState: ContainerState;
}

export interface RuntimePodStatus {
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  /** Pod Ready condition: every container ready. */
  ready: boolean;
  containerStatuses: RuntimeContainerStatus[];
  startTime?: string;
  podIP?: string;
}

export interface ExecProcess {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** Resolves with the exit code once the command ended (128+n for signal n). */
  exited: Promise<number>;
  kill(signal?: NodeJS.Signals): void;
  /** Sets the terminal size of a TTY exec (ignored without one). */
  resize?(columns: number, rows: number): void;
}

export interface RuntimeExecOptions {
  /** Run the command on a terminal of its own: stdout and stderr merge, resize applies. */
  tty?: boolean;
}

export interface LogOptions {
  follow?: boolean;
  previous?: boolean;
  /** RFC 3339; like the real API, only whole seconds count. */
  sinceTime?: string;
  sinceSeconds?: number;
  tailLines?: number;
  limitBytes?: number;
  timestamps?: boolean;
}

/** Errors the server maps to Status objects: 'NotFound' (404) or 'BadRequest' (400), e.g. container not running. */
export class RuntimeError extends Error {
  constructor(
    public readonly reason: 'NotFound' | 'BadRequest',
    message: string,
  ) {
    super(message);
  }
}

export interface PodRuntime {
  /** Starts the pod's containers (asynchronously); status changes are reported through onStatus. */
  startPod(pod: RuntimePod): void;
  /** SIGTERM, then SIGKILL after the grace period; resolves when every process of the pod is gone. */
  deletePod(uid: string, gracePeriodSeconds?: number): Promise<void>;
  /** Runs a command inside the container's namespaces. Throws RuntimeError if the container is not running. */
  exec(uid: string, container: string, command: string[], options?: RuntimeExecOptions): ExecProcess;
  /**
   * A TCP connection to 127.0.0.1:port inside the pod's network namespace (what the kubelet's
   * port-forward dials), paused until the caller resumes it, so no byte is lost before it listens.
   * Rejects with RuntimeError when the pod is gone or nothing listens there.
   */
  portForward(uid: string, port: number): Promise<Duplex>;
  /** The container log; with follow, the stream ends when that container instance ends. */
  logs(uid: string, container: string, options: LogOptions): Readable;
  /** Kills the container's main process (fault injection); restartPolicy decides what follows. */
  killContainer(uid: string, container: string, signal?: NodeJS.Signals): void;
  /** Stops every pod; resolves when no process the runtime started is left. */
  stopAll(): Promise<void>;
  /** PIDs of every process the runtime started that is still alive (for leak checks). */
  livePids(): number[];
}

export interface PodRuntimeOptions {
  stateDir: string;
  imagesDir: string;
  onStatus(uid: string, status: RuntimePodStatus): void;
}
