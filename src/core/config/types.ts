// Types shared by the config loader, the language server and the VS Code layer.
// Positions follow LSP: zero-based lines and UTF-16 character offsets.

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

/** Same numbers as LSP's DiagnosticSeverity so the server can pass diagnostics through untouched. */
export const Severity = { Error: 1, Warning: 2, Information: 3, Hint: 4 } as const;
export type Severity = (typeof Severity)[keyof typeof Severity];

export type DiagnosticCode =
  | 'yaml-syntax'
  | 'too-large'
  | 'too-deep'
  | 'alias-limit'
  | 'empty-file'
  | 'not-a-mapping'
  | 'unknown-key'
  | 'missing-key'
  | 'wrong-type'
  | 'out-of-range'
  | 'bad-value'
  | 'local-missing'
  | 'local-not-folder'
  | 'remote-not-absolute'
  | 'remote-system-dir'
  | 'exclude-never-matches'
  | 'restart-command-missing'
  | 'port-clash'
  | 'privileged-port'
  | 'inspector-unreachable'
  | 'invalid-setting'
  | 'context-not-found'
  | 'namespace-not-found'
  | 'deployment-not-found'
  | 'container-not-found';

/** Extra facts a quick fix needs; present only on the codes that have one. */
export interface DiagnosticData {
  /** unknown-key: the closest known key. */
  replacement?: string;
  /** local-missing: absolute path of the folder to create. */
  folder?: string;
  /** missing-key / empty-file: the keys to insert. */
  missingKeys?: string[];
  /** missing-key: YAML path of the mapping that lacks them. */
  path?: (string | number)[];
}

/** A diagnostic in LSP shape, produced once and used by both the loader and the language server. */
export interface ConfigDiagnostic {
  range: Range;
  message: string;
  severity: Severity;
  code: DiagnosticCode;
  source: 'truva';
  data?: DiagnosticData;
}

/** A blocking problem, as the loader reports it: 1-based line and column for people, the range for editors. */
export interface ConfigError {
  message: string;
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units. */
  column: number;
  range: Range;
  code: DiagnosticCode;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type RestartMode = 'process' | 'none' | 'command';
/** `first`: one local port to one pod; `all`: one local port per pod. */
export type PodChoice = 'first' | 'all';
export type DebugRuntime = 'node' | 'go' | 'python';

/** A `ports` entry as written: a port, or a mapping. */
export type PortEntry = number | { remote: number; local?: number; pods?: PodChoice };
/** `debug` as written. */
export type DebugEntry = boolean | 'all' | { runtime?: DebugRuntime; port?: number; local?: number; pods?: PodChoice };

/** truva.yaml as written (every key optional here; the schema says which are required). */
export interface TruvaYaml {
  context?: string;
  namespace?: string;
  deployment?: string;
  container?: string;
  sync?: { local: string; remote: string }[];
  exclude?: string[];
  run?: string | string[];
  restart?: RestartMode;
  restartCommand?: string;
  ports?: PortEntry[];
  debug?: DebugEntry;
  debounce?: number | string;
  batchSize?: number;
  batchBytes?: number;
  concurrency?: number;
  mirror?: boolean;
  allowSystemPath?: boolean;
  logs?: { tail?: number; buffer?: number };
  devMode?: { keepProbes?: boolean; replicas?: number; rolloutTimeout?: number; emptyDir?: boolean };
  kubeconfig?: string;
  logLevel?: LogLevel;
}

/**
 * Defaults that come from outside the file (the VS Code settings).
 * Same key names and value forms as truva.yaml; the file wins over these.
 */
export type ConfigSettings = Omit<
  TruvaYaml,
  'deployment' | 'sync' | 'container' | 'run' | 'restartCommand' | 'ports' | 'debug'
>;

export interface SyncPair {
  /** Absolute local folder (resolved against the folder holding truva.yaml). */
  local: string;
  /** As written in the file, for messages. */
  localAsWritten: string;
  /** Absolute POSIX path inside the container, without a trailing slash (except `/`). */
  remote: string;
}

/** One port-forward: a local port (or one per pod) on 127.0.0.1 to a port in the container. */
export interface PortForwardSpec {
  /** Port inside the container. */
  remote: number;
  /** Port on 127.0.0.1 (with `pods: all`, the first of one per pod); 0: any free port. */
  local: number;
  pods: PodChoice;
  /** Where it was written, for messages: `ports[1]`, or `debug` for the debugger's own forward. */
  source: string;
}

/** The debugger: what listens in the container, and its forward. */
export interface DebugSpec {
  runtime: DebugRuntime;
  /** Port the debugger listens on inside the container. */
  port: number;
  /** The debugger's forward (source `debug`). */
  forward: PortForwardSpec;
}

/** The command the supervisor runs: a shell string (`sh -c`) or an argv. */
export type RunCommand = { kind: 'shell'; command: string } | { kind: 'argv'; argv: string[] };

/** A truva.yaml fully resolved: every default filled, paths absolute, durations in ms. */
export interface TruvaConfig {
  /** Absolute path of truva.yaml. */
  filePath: string;
  /** Folder holding truva.yaml; relative paths are resolved against it. */
  rootDir: string;
  /** Undefined: the kubeconfig's current context. */
  context?: string;
  /** Undefined: the context's namespace, else `default` (only the cluster layer knows). */
  namespace?: string;
  deployment: string;
  /** Undefined: the pod's first container. */
  container?: string;
  sync: SyncPair[];
  exclude: string[];
  /** Undefined: the container's original command and args. */
  run?: RunCommand;
  restart: RestartMode;
  /** Set exactly when restart is `command`. */
  restartCommand?: string;
  /** The `ports` forwards, in the order written. */
  ports: PortForwardSpec[];
  /** Undefined: no debugger. */
  debug?: DebugSpec;
  debounceMs: number;
  batchSize: number;
  batchBytes: number;
  concurrency: number;
  mirror: boolean;
  allowSystemPath: boolean;
  logs: { tail: number; buffer: number };
  devMode: { keepProbes: boolean; replicas?: number; rolloutTimeoutSeconds: number; emptyDir: boolean };
  /** Absolute path; undefined: KUBECONFIG, then ~/.kube/config. */
  kubeconfig?: string;
  logLevel: LogLevel;
}

export type LoadResult =
  { ok: true; config: TruvaConfig; warnings: ConfigError[] } | { ok: false; errors: ConfigError[] };
