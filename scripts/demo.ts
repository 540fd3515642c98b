// `npm run demo [-- --port N] [--control-plane sandbox|kubernetes]`: builds Truva, starts the
// seeded sandbox cluster (or, with --control-plane kubernetes, the real Kubernetes control plane,
// built first by cluster/build.sh) and code-server with the extension, opens a copy of the sample
// workspace, and prints
//   sandbox ready: KUBECONFIG=<path>
//   demo ready: http://127.0.0.1:PORT/?folder=<workspace>&payload=...
// Ctrl+C, or SIGTERM to npm, stops code-server, the sandbox and every pod process.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../sandbox';
import { controlPlaneFromArgs } from '../sandbox/controlPlaneOption';
import {
  installCodeServer,
  remoteUri,
  repoRoot,
  startCodeServer,
  type CodeServer,
} from '../test/vscode/harness/codeServer';
import { createSampleWorkspace } from '../test/vscode/harness/workspace';

function parsePort(argv: string[]): number | undefined {
  const i = argv.indexOf('--port');
  if (i < 0) return undefined;
  const port = Number(argv[i + 1]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port needs a number from 0 to 65535');
  return port === 0 ? undefined : port;
}

async function main() {
  const port = parsePort(process.argv.slice(2));
  // Kept as promises so a Ctrl+C while either is still starting waits for it and then stops it,
  // instead of leaving pod processes or code-server behind.
  let sandbox: Promise<Sandbox> | undefined;
  let server: Promise<CodeServer> | undefined;
  let workspace: string | undefined;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping the demo...');
    await server?.then((s) => s.stop()).catch(() => undefined);
    await sandbox?.then((s) => s.stop()).catch(() => undefined);
    if (workspace) rmSync(workspace, { recursive: true, force: true });
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  try {
    console.log('building Truva...');
    execFileSync(process.execPath, [join(repoRoot, 'scripts/build.mjs')], { stdio: 'inherit', cwd: repoRoot });
    installCodeServer();
    sandbox = controlPlaneFromArgs(process.argv.slice(2)).then((controlPlane) => startSandbox({ controlPlane }));
    const { kubeconfigPath } = await sandbox;
    console.log(`sandbox ready: KUBECONFIG=${kubeconfigPath}`);
    workspace = createSampleWorkspace('truva-demo-');
    server = startCodeServer({ workspace, port, env: { KUBECONFIG: kubeconfigPath } });
    const running = await server;
    // The extension is loaded from this checkout, as in the tests: what you try is what was built.
    const url = running.workbenchUrl(workspace, [['extensionDevelopmentPath', remoteUri(running, repoRoot)]]);
    console.log(`demo ready: ${url}`);
    console.log(
      'Open it in a browser, run "Truva: Start Dev Session" from the command palette (F1), edit server.js or version.txt and save. Ctrl+C stops everything.',
    );
  } catch (err) {
    console.error(`demo: ${(err as Error).message}`);
    await stop(1);
  }
}

void main();
