// Where cluster/build.sh puts the real control plane's binaries, and running it: the version
// comes from cluster/go.mod, so the code and the build always agree on which Kubernetes it is.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

const CLUSTER_DIR = resolve(__dirname, '../../cluster');
export const BINARIES = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
export type Binary = (typeof BINARIES)[number];

/** The k8s.io/kubernetes version cluster/go.mod pins, e.g. v1.36.3. */
export function kubernetesVersion(): string {
  const mod = readFileSync(join(CLUSTER_DIR, 'go.mod'), 'utf8');
  const m = /^\s*k8s\.io\/kubernetes\s+(v\S+)/m.exec(mod);
  if (!m) throw new Error(`cluster/go.mod names no k8s.io/kubernetes version`);
  return m[1];
}

export function binariesDir(): string {
  return process.env.TRUVA_KUBERNETES_DIR ?? join(homedir(), '.cache/truva', `kubernetes-${kubernetesVersion()}`);
}

export function binaryPath(name: Binary): string {
  return join(binariesDir(), name);
}

export function binariesPresent(): boolean {
  return BINARIES.every((b) => existsSync(binaryPath(b)));
}

/** What build.sh recorded about the cold build (seconds and peak memory), if it ran here. */
export function buildRecord(): { version: string; seconds: number; peak_rss_mb: number } | undefined {
  const file = join(binariesDir(), 'build.json');
  if (!existsSync(file)) return undefined;
  // A build.json from an earlier build.sh carried a newline inside the etcd version string.
  return JSON.parse(readFileSync(file, 'utf8').replace(/[\n\r]/g, ''));
}

/** Runs cluster/build.sh (a no-op when the binaries are current); its progress goes to stderr. */
export function ensureBuilt(): Promise<void> {
  return new Promise((resolveBuilt, reject) => {
    const child = spawn('bash', [join(CLUSTER_DIR, 'build.sh')], { stdio: ['ignore', process.stderr, process.stderr] });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolveBuilt() : reject(new Error(`cluster/build.sh failed (exit ${code}); its output says why`)),
    );
  });
}
