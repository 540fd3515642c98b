// VS Code debug configurations that attach to the debugger in a dev pod through its port-forward.
// Pure: the VS Code layer passes them to vscode.debug.startDebugging, one per pod (a child session
// per pod with `debug: all`). Paths map through the sync pairs, so breakpoints set in the local
// files bind in the copies the pod runs.
// - node: VS Code's own JavaScript debugger attaches to the inspector. `restart` makes it attach
//   again whenever the connection drops, which is what a Truva restart does; the forward holds
//   its connection attempts until the new process listens, so the re-attach lands at once.
// - go: the Go extension attaches to a headless Delve (`mode: remote`), `substitutePath` maps.
// - python: the Python Debugger extension attaches to debugpy, `pathMappings` map.
// Go and Python sessions end when their process does; attaching them again after a restart is not
// done yet (Truva: Debug again attaches to the new process).
import { isAbsolute, relative, sep } from 'node:path';
import type { DebugRuntime } from '../config/types';

export interface AttachTarget {
  runtime: DebugRuntime;
  /** The pod the debugger runs in (names the session). */
  pod: string;
  /** The local port of that pod's debugger forward. */
  localPort: number;
  /** Default 127.0.0.1, where forwards listen. */
  host?: string;
  /** The sync pairs: absolute local folder and absolute path in the container. */
  sync: { local: string; remote: string }[];
  /** The workspace folder, so local paths read `${workspaceFolder}/...` in a launch.json snippet. */
  workspaceFolder?: string;
}

/** A VS Code DebugConfiguration (type, request, name and the adapter's own fields). */
export interface AttachConfiguration {
  type: string;
  request: 'attach';
  name: string;
  [field: string]: unknown;
}

/** How the node configuration re-attaches after a restart: every 250 ms for a minute. */
export const NODE_REATTACH = { delay: 250, maxAttempts: 240 };

function localPath(path: string, workspaceFolder?: string): string {
  if (!workspaceFolder) return path;
  const rel = relative(workspaceFolder, path);
  if (rel === '') return '${workspaceFolder}';
  if (rel.startsWith('..') || isAbsolute(rel)) return path;
  return `\${workspaceFolder}/${rel.split(sep).join('/')}`;
}

export function attachConfiguration(target: AttachTarget): AttachConfiguration {
  const host = target.host ?? '127.0.0.1';
  const name = `Truva: ${target.pod}`;
  const pairs = target.sync.map((p) => ({
    local: localPath(p.local, target.workspaceFolder),
    remote: p.remote,
  }));
  switch (target.runtime) {
    case 'node': {
      const [main, ...others] = pairs;
      return {
        type: 'node',
        request: 'attach',
        name,
        address: host,
        port: target.localPort,
        // js-debug maps one folder pair for scripts; further pairs still map through source maps.
        ...(main ? { localRoot: main.local, remoteRoot: main.remote } : {}),
        ...(others.length > 0
          ? { sourceMapPathOverrides: Object.fromEntries(others.map((p) => [`${p.remote}/*`, `${p.local}/*`])) }
          : {}),
        restart: NODE_REATTACH,
        skipFiles: ['<node_internals>/**'],
      };
    }
    case 'go':
      return {
        type: 'go',
        request: 'attach',
        name,
        mode: 'remote',
        host,
        port: target.localPort,
        substitutePath: pairs.map((p) => ({ from: p.local, to: p.remote })),
      };
    case 'python':
      return {
        type: 'debugpy',
        request: 'attach',
        name,
        connect: { host, port: target.localPort },
        pathMappings: pairs.map((p) => ({ localRoot: p.local, remoteRoot: p.remote })),
        justMyCode: true,
      };
  }
}

/** One configuration per pod, for `debug: all`; sessions are named after their pods. */
export function attachConfigurations(
  runtime: DebugRuntime,
  pods: { pod: string; localPort: number }[],
  common: Pick<AttachTarget, 'sync' | 'host' | 'workspaceFolder'>,
): AttachConfiguration[] {
  return pods.map((p) => attachConfiguration({ runtime, ...p, ...common }));
}

/** How the process must be started for each runtime, for messages and the README. */
export function debuggerCommandHint(runtime: DebugRuntime, port: number): string {
  switch (runtime) {
    case 'node':
      return `Truva starts Node with --inspect=127.0.0.1:${port} (run: [node, server.js]).`;
    case 'go':
      return `run: dlv debug --headless --listen=127.0.0.1:${port} --api-version=2 --accept-multiclient --continue ./cmd/app`;
    case 'python':
      return `run: python -m debugpy --listen 127.0.0.1:${port} app.py`;
  }
}

/** A launch.json to attach by hand (another runtime, or outside Truva), as text to copy. */
export function launchJsonSnippet(target: AttachTarget): string {
  return JSON.stringify({ version: '0.2.0', configurations: [attachConfiguration(target)] }, null, 2);
}
