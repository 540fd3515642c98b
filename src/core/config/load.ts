// Loads truva.yaml into a fully resolved TruvaConfig: validated by the shared validator, defaults
// from the schema, then from settings (the file wins), durations in ms and paths made absolute.
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { durationToMs } from './duration';
import { debugToYaml, portsToYaml, resolveDebug, resolvePorts } from './ports';
import { schemaDefault } from './schema';
import {
  Severity,
  type ConfigDiagnostic,
  type ConfigError,
  type ConfigSettings,
  type LoadResult,
  type RunCommand,
  type TruvaConfig,
  type TruvaYaml,
} from './types';
import { expandHome, normaliseRemote, resolveLocal } from './paths';
import { analyzeDocument, validateSettingsValue, type AnalyzeOptions } from './validate';

export interface LoadOptions extends AnalyzeOptions {
  /** Absolute path of truva.yaml; relative paths in it are resolved against its folder. */
  filePath: string;
  /** Defaults from outside the file (VS Code settings, the seed config); the file wins. */
  settings?: Partial<ConfigSettings>;
}

export function toConfigError(d: ConfigDiagnostic): ConfigError {
  return {
    message: d.message,
    line: d.range.start.line + 1,
    column: d.range.start.character + 1,
    range: d.range,
    code: d.code,
  };
}

const ORIGIN = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };

/** Parses, validates and resolves truva.yaml; never throws. */
export function loadConfig(text: string, options: LoadOptions): LoadResult {
  try {
    return load(text, options);
  } catch (err) {
    return {
      ok: false,
      errors: [
        {
          message: `truva.yaml could not be loaded: ${(err as Error)?.message ?? String(err)}`,
          line: 1,
          column: 1,
          range: ORIGIN,
          code: 'yaml-syntax',
        },
      ],
    };
  }
}

function load(text: string, options: LoadOptions): LoadResult {
  const filePath = options.filePath ? resolve(options.filePath) : '';
  const analysis = analyzeDocument(text, filePath, options);
  const errors = analysis.diagnostics.filter((d) => d.severity === Severity.Error).map(toConfigError);
  const warnings = analysis.diagnostics.filter((d) => d.severity !== Severity.Error).map(toConfigError);

  const settings = withoutUndefined(options.settings ?? {});
  for (const problem of validateSettingsValue(settings)) {
    errors.push({
      message: `The setting "truva.${problem.path}" ${problem.message}; fix it in your VS Code settings.`,
      line: 1,
      column: 1,
      range: ORIGIN,
      code: 'invalid-setting',
    });
  }
  if (errors.length > 0) return { ok: false, errors };

  const file = analysis.value as TruvaYaml;
  const merged: TruvaYaml = {
    ...settings,
    ...file,
    logs: { ...settings.logs, ...file.logs },
    devMode: { ...settings.devMode, ...file.devMode },
  };
  return { ok: true, config: resolveConfig(merged, filePath), warnings };
}

function withoutUndefined<T extends object>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function runCommand(run: TruvaYaml['run']): RunCommand | undefined {
  if (run === undefined) return undefined;
  return typeof run === 'string' ? { kind: 'shell', command: run } : { kind: 'argv', argv: [...run] };
}

/** Fills every default into an already validated truva.yaml value. */
export function resolveConfig(raw: TruvaYaml, filePath: string): TruvaConfig {
  const rootDir = filePath ? dirname(filePath) : process.cwd();
  const restart = raw.restart ?? schemaDefault<TruvaConfig['restart']>(['restart']);
  const kubeconfig = raw.kubeconfig ? resolve(rootDir, expandHome(raw.kubeconfig)) : undefined;
  return {
    filePath,
    rootDir,
    context: raw.context,
    namespace: raw.namespace,
    deployment: raw.deployment ?? '',
    container: raw.container,
    sync: (raw.sync ?? []).map((pair) => ({
      local: resolveLocal(rootDir, pair.local),
      localAsWritten: pair.local,
      remote: normaliseRemote(pair.remote),
    })),
    exclude: [...(raw.exclude ?? schemaDefault<string[]>(['exclude']))],
    run: runCommand(raw.run),
    restart,
    restartCommand: restart === 'command' ? raw.restartCommand : undefined,
    ports: resolvePorts(raw.ports),
    debug: resolveDebug(raw.debug),
    debounceMs: durationToMs(raw.debounce ?? schemaDefault(['debounce'])) ?? 500,
    batchSize: raw.batchSize ?? schemaDefault(['batchSize']),
    batchBytes: raw.batchBytes ?? schemaDefault(['batchBytes']),
    concurrency: raw.concurrency ?? schemaDefault(['concurrency']),
    mirror: raw.mirror ?? schemaDefault(['mirror']),
    allowSystemPath: raw.allowSystemPath ?? schemaDefault(['allowSystemPath']),
    logs: {
      tail: raw.logs?.tail ?? schemaDefault(['logs', 'tail']),
      buffer: raw.logs?.buffer ?? schemaDefault(['logs', 'buffer']),
    },
    devMode: {
      keepProbes: raw.devMode?.keepProbes ?? schemaDefault(['devMode', 'keepProbes']),
      replicas: raw.devMode?.replicas,
      rolloutTimeoutSeconds: raw.devMode?.rolloutTimeout ?? schemaDefault(['devMode', 'rolloutTimeout']),
      emptyDir: raw.devMode?.emptyDir ?? schemaDefault(['devMode', 'emptyDir']),
    },
    kubeconfig,
    logLevel: raw.logLevel ?? schemaDefault(['logLevel']),
  };
}

/** The truva.yaml form of a resolved config, leaving out what equals the defaults. */
export function toTruvaYaml(config: TruvaConfig): TruvaYaml {
  const out: TruvaYaml = {};
  const rel = (path: string) => {
    const r = relative(config.rootDir, path);
    return r === '' ? '.' : isAbsolute(r) || r.startsWith('..') ? path : `./${r}`;
  };
  if (config.context) out.context = config.context;
  if (config.namespace) out.namespace = config.namespace;
  out.deployment = config.deployment;
  if (config.container) out.container = config.container;
  out.sync = config.sync.map((pair) => ({ local: pair.localAsWritten || rel(pair.local), remote: pair.remote }));
  if (config.exclude.length > 0) out.exclude = [...config.exclude];
  if (config.run) out.run = config.run.kind === 'shell' ? config.run.command : [...config.run.argv];
  const keep = <K extends keyof TruvaYaml>(key: K, value: TruvaYaml[K], path: string[] = [key]) => {
    if (JSON.stringify(value) !== JSON.stringify(schemaDefault(path))) out[key] = value;
  };
  keep('restart', config.restart);
  if (config.restartCommand) out.restartCommand = config.restartCommand;
  if (config.ports.length > 0) out.ports = portsToYaml(config.ports);
  const debug = debugToYaml(config.debug);
  if (debug !== undefined) out.debug = debug;
  keep('debounce', config.debounceMs);
  keep('batchSize', config.batchSize);
  keep('batchBytes', config.batchBytes);
  keep('concurrency', config.concurrency);
  keep('mirror', config.mirror);
  keep('allowSystemPath', config.allowSystemPath);
  const logs: TruvaYaml['logs'] = {};
  if (config.logs.tail !== schemaDefault(['logs', 'tail'])) logs.tail = config.logs.tail;
  if (config.logs.buffer !== schemaDefault(['logs', 'buffer'])) logs.buffer = config.logs.buffer;
  if (Object.keys(logs).length > 0) out.logs = logs;
  const devMode: TruvaYaml['devMode'] = {};
  if (config.devMode.keepProbes) devMode.keepProbes = true;
  if (config.devMode.emptyDir) devMode.emptyDir = true;
  if (config.devMode.replicas !== undefined) devMode.replicas = config.devMode.replicas;
  if (config.devMode.rolloutTimeoutSeconds !== schemaDefault(['devMode', 'rolloutTimeout']))
    devMode.rolloutTimeout = config.devMode.rolloutTimeoutSeconds;
  if (Object.keys(devMode).length > 0) out.devMode = devMode;
  if (config.kubeconfig) out.kubeconfig = rel(config.kubeconfig);
  keep('logLevel', config.logLevel);
  return out;
}
