// A small app for port-forward tests and benchmarks: HTTP on 8080 (GET / answers
// "<hostname> <pid>"; POST /upload answers "<bytes> <sha256>") and a raw TCP echo on 9000 that
// passes a half-close back, so bytes can be checked both ways (test/helpers/net.ts talks to it).
import { DevMode } from '../../src/core/devmode/devMode';
import type { Cluster } from '../../src/core/kube/cluster';
import type { SandboxAccess } from './sandbox';
import { createTestDeployment, waitForRollout } from './sandbox';

export const FORWARD_APP = [
  "const net = require('net'), http = require('http'), os = require('os'), crypto = require('crypto');",
  'http.createServer((req, res) => {',
  "  if (req.url !== '/upload') return res.end(os.hostname() + ' ' + process.pid + '\\n');",
  "  let n = 0; const h = crypto.createHash('sha256');",
  "  req.on('data', (d) => { n += d.length; h.update(d); });",
  "  req.on('end', () => res.end(n + ' ' + h.digest('hex')));",
  '}).listen(8080);',
  'net.createServer((c) => c.pipe(c)).listen(9000);',
  "process.on('SIGTERM', () => process.exit(0));",
].join('\n');

/** A deployment running FORWARD_APP (no probes), rolled out. */
export function createForwardDeployment(sandbox: SandboxAccess, name: string, replicas = 1): Promise<unknown> {
  return createTestDeployment(sandbox, { name, replicas, command: ['node', '-e', FORWARD_APP] });
}

/** A FORWARD_APP deployment in dev mode (the real supervisor restarts it as a save does), rolled out. */
export async function forwardAppInDevMode(
  sandbox: SandboxAccess,
  cluster: Cluster,
  name: string,
  opts: { replicas?: number; inspectPort?: number } = {},
): Promise<DevMode> {
  await createForwardDeployment(sandbox, name, opts.replicas ?? 1);
  const devMode = new DevMode(cluster, { namespace: 'demo', deployment: name, inspectPort: opts.inspectPort });
  await devMode.enter();
  await waitForRollout(sandbox, name);
  return devMode;
}
