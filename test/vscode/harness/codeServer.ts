// Starts code-server (real VS Code 1.100 with a Node extension host, served to a browser) for the
// extension-host suites, the UI walkthrough, the .vsix test and `npm run demo`.
// scripts/install-code-server.sh installs it; test/vscode/README.md says how the suites run in it.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { request } from 'node:http';
import { freePorts } from '../../helpers/net';

export const repoRoot = resolve(__dirname, '../../..');

/** Installs code-server into the cache the first time (about 2 minutes), then only returns its entry script. */
export function installCodeServer(): string {
  const out = execFileSync('bash', [join(repoRoot, 'scripts/install-code-server.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = out.trim().split('\n');
  return lines[lines.length - 1];
}

export interface CodeServerOptions {
  /** Folder opened by default (the workbench URL can name another). */
  workspace: string;
  /** Extra environment for code-server and its extension host, e.g. KUBECONFIG. */
  env?: Record<string, string>;
  port?: number;
  /** Extra entries for the user settings.json. */
  settings?: Record<string, unknown>;
  /** Where to keep user data and installed extensions; a fresh temporary folder by default. */
  stateDir?: string;
  /** Echo code-server's own output (the demo does; tests keep it for failure reports). */
  echo?: boolean;
  /** Keep VS Code's workspace trust on, so a folder opens untrusted (Restricted Mode). Default off. */
  workspaceTrust?: boolean;
}

export interface CodeServer {
  url: string;
  port: number;
  userDataDir: string;
  extensionsDir: string;
  /** code-server's stdout and stderr so far, for failure reports. */
  output(): string;
  /** Runs `code-server <args>` with the same user data and extensions folders (e.g. --install-extension). */
  cli(args: string[]): string;
  workbenchUrl(folder: string, payload?: [string, string][]): string;
  stop(): Promise<void>;
}

export const testSettings = {
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'git.enabled': false,
  'chat.commandCenter.enabled': false,
  'window.commandCenter': false,
};

export async function startCodeServer(options: CodeServerOptions): Promise<CodeServer> {
  const entry = installCodeServer();
  const port = options.port ?? (await freePorts());
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'truva-code-server-'));
  const ownsStateDir = options.stateDir === undefined;
  const userDataDir = join(stateDir, 'user-data');
  const extensionsDir = join(stateDir, 'extensions');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  // With trust on, nothing asks: the folder simply opens in Restricted Mode.
  const trust = options.workspaceTrust
    ? {
        'security.workspace.trust.enabled': true,
        'security.workspace.trust.startupPrompt': 'never',
        'security.workspace.trust.banner': 'never',
      }
    : {};
  writeFileSync(
    join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({ ...testSettings, ...trust, ...options.settings }, null, 2),
  );

  const common = [
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    extensionsDir,
    '--disable-telemetry',
    '--disable-update-check',
  ];
  const env = { ...process.env, ...options.env };
  // code-server refuses to start inside another code-server's terminal session otherwise.
  delete env.VSCODE_IPC_HOOK_CLI;
  const child = spawn(
    process.execPath,
    [
      entry,
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--auth',
      'none',
      ...common,
      ...(options.workspaceTrust ? [] : ['--disable-workspace-trust']),
      '--disable-getting-started-override',
      options.workspace,
    ],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so stop() ends the extension host and every helper with it.
      detached: true,
    },
  );
  let output = '';
  const collect = (chunk: Buffer) => {
    const text = chunk.toString();
    output = (output + text).slice(-200_000);
    if (options.echo) process.stderr.write(text);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);

  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/healthz`, child, 60_000);
  } catch (err) {
    await stopProcessGroup(child);
    throw new Error(`code-server did not start: ${(err as Error).message}\n${output.slice(-4000)}`);
  }

  return {
    url,
    port,
    userDataDir,
    extensionsDir,
    output: () => output,
    cli: (args) =>
      execFileSync(process.execPath, [entry, ...common, ...args], { encoding: 'utf8', env, timeout: 120_000 }),
    workbenchUrl(folder, payload) {
      const query = new URLSearchParams({ folder });
      if (payload) query.set('payload', JSON.stringify(payload));
      return `${url}/?${query}`;
    },
    async stop() {
      await stopProcessGroup(child);
      if (ownsStateDir) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** A `vscode-remote://` URI for a path on this machine, as the workbench payload expects. */
export function remoteUri(server: CodeServer, path: string): string {
  return `vscode-remote://127.0.0.1:${server.port}${path}`;
}

async function waitForHttp(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`it exited (${child.exitCode ?? child.signalCode})`);
    const ok = await new Promise<boolean>((done) => {
      const req = request(url, { timeout: 2000 }, (res) => {
        res.resume();
        done((res.statusCode ?? 500) < 500);
      });
      req.on('error', () => done(false));
      req.on('timeout', () => {
        req.destroy();
        done(false);
      });
      req.end();
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no answer from ${url} within ${timeoutMs / 1000} s`);
}

/** SIGTERM to the whole group, SIGKILL after 5 s: nothing code-server started is left running. */
export async function stopProcessGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined) return;
  const pid = child.pid;
  const alive = () => {
    try {
      process.kill(-pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {}
  const deadline = Date.now() + 5000;
  while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive()) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {}
  }
  while (alive() && Date.now() < deadline + 2000) await new Promise((r) => setTimeout(r, 100));
}
