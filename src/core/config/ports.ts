// `ports` and `debug` of truva.yaml: from the written forms (a port, a mapping; `true`, `all`, a
// mapping) to resolved forwards, the checks a schema cannot express (two forwards on one local
// port), and back to the shortest written form.
import type { DebugEntry, DebugRuntime, DebugSpec, PortEntry, PortForwardSpec } from './types';

/** The port each debugger listens on unless `debug.port` says otherwise. */
export const DEFAULT_DEBUG_PORTS: Record<DebugRuntime, number> = { node: 9229, go: 2345, python: 5678 };

export function resolvePorts(entries: PortEntry[] | undefined): PortForwardSpec[] {
  return (entries ?? []).map((entry, i) =>
    typeof entry === 'number'
      ? { remote: entry, local: entry, pods: 'first', source: `ports[${i}]` }
      : {
          remote: entry.remote,
          local: entry.local ?? entry.remote,
          pods: entry.pods ?? 'first',
          source: `ports[${i}]`,
        },
  );
}

export function resolveDebug(entry: DebugEntry | undefined): DebugSpec | undefined {
  if (entry === undefined || entry === false) return undefined;
  const written = typeof entry === 'object' ? entry : { pods: entry === 'all' ? ('all' as const) : ('first' as const) };
  const runtime = written.runtime ?? 'node';
  const port = written.port ?? DEFAULT_DEBUG_PORTS[runtime];
  return {
    runtime,
    port,
    forward: { remote: port, local: written.local ?? port, pods: written.pods ?? 'first', source: 'debug' },
  };
}

/** Every forward of a config: `ports`, then the debugger's. */
export function allForwards(config: { ports: PortForwardSpec[]; debug?: DebugSpec }): PortForwardSpec[] {
  return config.debug ? [...config.ports, config.debug.forward] : [...config.ports];
}

export interface PortProblem {
  /** YAML path of the value to underline. */
  path: (string | number)[];
  message: string;
  severity: 'error' | 'warning';
  code: 'port-clash' | 'privileged-port';
}

/** Checks on a schema-valid `ports` / `debug` pair: local ports used twice, ports that need root. */
export function portProblems(ports: PortEntry[] | undefined, debug: DebugEntry | undefined): PortProblem[] {
  const forwards = allForwards({ ports: resolvePorts(ports), debug: resolveDebug(debug) });
  const pathOf = (f: PortForwardSpec): (string | number)[] =>
    f.source === 'debug' ? ['debug'] : ['ports', Number(/\d+/.exec(f.source)![0])];
  const problems: PortProblem[] = [];
  const firstUse = new Map<number, PortForwardSpec>();
  for (const forward of forwards) {
    if (forward.local === 0) continue;
    const earlier = firstUse.get(forward.local);
    if (earlier) {
      problems.push({
        path: pathOf(forward),
        message: `Local port ${forward.local} is already forwarded by ${earlier.source}: give ${forward.source} another \`local\` port.`,
        severity: 'error',
        code: 'port-clash',
      });
      continue;
    }
    firstUse.set(forward.local, forward);
    if (forward.local < 1024) {
      problems.push({
        path: pathOf(forward),
        message: `Local port ${forward.local} is below 1024: on Linux and macOS only root may listen there, so the forward may fail. Set \`local\` to a port such as ${forward.local + 8000}.`,
        severity: 'warning',
        code: 'privileged-port',
      });
    }
  }
  return problems;
}

/** The shortest truva.yaml form of resolved forwards. */
export function portsToYaml(ports: PortForwardSpec[]): PortEntry[] {
  return ports.map((p) => {
    if (p.local === p.remote && p.pods === 'first') return p.remote;
    return {
      remote: p.remote,
      ...(p.local !== p.remote ? { local: p.local } : {}),
      ...(p.pods !== 'first' ? { pods: p.pods } : {}),
    };
  });
}

/** The shortest truva.yaml form of a resolved `debug`. */
export function debugToYaml(debug: DebugSpec | undefined): DebugEntry | undefined {
  if (!debug) return undefined;
  const { runtime, port, forward } = debug;
  const plain = runtime === 'node' && port === DEFAULT_DEBUG_PORTS.node && forward.local === port;
  if (plain) return forward.pods === 'all' ? 'all' : true;
  return {
    ...(runtime !== 'node' ? { runtime } : {}),
    ...(port !== DEFAULT_DEBUG_PORTS[runtime] ? { port } : {}),
    ...(forward.local !== port ? { local: forward.local } : {}),
    ...(forward.pods !== 'first' ? { pods: forward.pods } : {}),
  };
}
