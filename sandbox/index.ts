// startSandbox(): a local Kubernetes API over HTTPS whose pods are real processes, for tests,
// benchmarks and the demo: the sandbox's own API server (starts in a second, nothing to build),
// or the real Kubernetes control plane with the same pods, users and seed. See sandbox/README.md.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createPodRuntime } from './runtime';
import { Clock } from './runtime/clock';
import type { PodRuntime } from './runtime/types';
import { ApiServer } from './server/api';
import type { Faults } from './server/faults';
import type { PolicyRule } from './server/rbac';
import { generateTls } from './server/tls';
import { startKubernetesSandbox } from './kubernetes';
import { SEED_NAMESPACES, seedDeployments } from './seed';

export type ControlPlaneKind = 'sandbox' | 'kubernetes';

export interface SandboxOptions {
  /** `sandbox` (default): the sandbox's own API server. `kubernetes`: the real control plane (bash cluster/build.sh first). */
  controlPlane?: ControlPlaneKind;
  /** Port on 127.0.0.1; 0 or absent picks a free one. */
  port?: number;
  /** Where pods keep their files and the kubeconfig lands; default a new temp folder (removed on stop). */
  stateDir?: string;
  kubeconfigPath?: string;
  /** Create namespace `demo` with deployments `web` and `worker` (default true). */
  seed?: boolean;
  /** First container restart back-off (kubelet: 10 s); tests use less. */
  restartBackoffMs?: number;
  /** Watch events kept for resuming (default 2000); older resourceVersions get 410 Gone. The sandbox's API server only. */
  watchHistory?: number;
  /** How far the cluster's clock is ahead of this machine's (negative: behind), in ms: timestamps, log times and the Date header. */
  clockSkewMs?: number;
}

export interface Sandbox {
  controlPlane: ControlPlaneKind;
  kubeconfigPath: string;
  url: string;
  stateDir: string;
  /** Bearer tokens: the full user, the read-only user, and the fault endpoint's own. */
  tokens: { admin: string; readonly: string; faults: string };
  caCertPem: string;
  faults: Faults;
  /** The runtime, for leak checks (livePids) in tests. */
  runtime: PodRuntime;
  /**
   * A new user bound to these rules (a Role's rules, in every namespace), and a kubeconfig of
   * its own whose current context is that user's; resolves with the kubeconfig's path. On the
   * real control plane the user is a ServiceAccount with a TokenRequest token, bound by a
   * ClusterRole and ClusterRoleBinding (sandbox/kubernetes/users.ts).
   */
  addUser(name: string, rules: PolicyRule[]): Promise<string>;
  /** The real control plane's own figures (absent on the sandbox's API server). */
  kubernetes?: { apiserverReadySeconds: number; controlPlanePids(): number[] };
  /**
   * Port-forward connections so far by protocol (`v4.channel.k8s.io`, `SPDY/3.1+portforward.k8s.io`,
   * `SPDY/3.1`...), as the sandbox's API server negotiated them (absent on the real control plane,
   * whose kube-apiserver negotiates them itself).
   */
  portForwardProtocols?: Readonly<Record<string, number>>;
  stop(): Promise<void>;
}

function writeKubeconfig(path: string, url: string, caCertPem: string, tokens: { admin: string; readonly: string }) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, kubeconfigYaml(url, caCertPem, tokens), { mode: 0o600 });
}

/** A user name both control planes take (the real one makes it a ServiceAccount's). */
function checkUserName(name: string): void {
  if (!/^[a-z0-9][a-z0-9-]{0,50}$/.test(name))
    throw new Error(`user name "${name}" must be lowercase letters, digits and -, at most 51 characters`);
}

export const CONTEXT = 'truva-sandbox';
export const READONLY_CONTEXT = 'truva-sandbox-readonly';

export function kubeconfigYaml(
  url: string,
  caCertPem: string,
  tokens: { admin: string; readonly: string },
  namespace = 'demo',
): string {
  const ca = Buffer.from(caCertPem).toString('base64');
  return `apiVersion: v1
kind: Config
clusters:
- name: ${CONTEXT}
  cluster:
    server: ${url}
    certificate-authority-data: ${ca}
users:
- name: ${CONTEXT}
  user:
    token: ${tokens.admin}
- name: ${READONLY_CONTEXT}
  user:
    token: ${tokens.readonly}
contexts:
- name: ${CONTEXT}
  context:
    cluster: ${CONTEXT}
    user: ${CONTEXT}
    namespace: ${namespace}
- name: ${READONLY_CONTEXT}
  context:
    cluster: ${CONTEXT}
    user: ${READONLY_CONTEXT}
    namespace: ${namespace}
current-context: ${CONTEXT}
preferences: {}
`;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const ownsStateDir = !options.stateDir;
  const stateDir = resolve(options.stateDir ?? mkdtempSync(join(tmpdir(), 'truva-sandbox-')));
  mkdirSync(stateDir, { recursive: true });
  const token = () => randomBytes(24).toString('hex');
  const tokens = {
    admin: `truva-admin-${token()}`,
    readonly: `truva-readonly-${token()}`,
    faults: `truva-faults-${token()}`,
  };
  const kubeconfigPath = resolve(options.kubeconfigPath ?? join(stateDir, 'kubeconfig'));
  const removeStateDir = () => ownsStateDir && rmSync(stateDir, { recursive: true, force: true });
  /** A kubeconfig whose current context is the user's: its path. */
  const writeUserKubeconfig = (name: string, userToken: string, url: string, caCertPem: string) => {
    const path = join(stateDir, `kubeconfig-${name}`);
    writeFileSync(path, kubeconfigYaml(url, caCertPem, { admin: userToken, readonly: tokens.readonly }), {
      mode: 0o600,
    });
    return path;
  };
  if (options.controlPlane === 'kubernetes') {
    // The real API server keeps watch history by time and runs on this machine's clock.
    for (const only of ['watchHistory', 'clockSkewMs'] as const)
      if (options[only] !== undefined)
        throw new Error(`${only} exists on the sandbox control plane only (startSandbox({ controlPlane: 'sandbox' }))`);
    let cluster;
    try {
      cluster = await startKubernetesSandbox({
        stateDir,
        port: options.port,
        seed: options.seed,
        restartBackoffMs: options.restartBackoffMs,
        imagesDir: resolve(__dirname, 'images'),
        tokens,
      });
    } catch (err) {
      removeStateDir();
      throw err;
    }
    writeKubeconfig(kubeconfigPath, cluster.url, cluster.caCertPem, tokens);
    let stopping: Promise<void> | undefined;
    return {
      controlPlane: 'kubernetes',
      kubeconfigPath,
      url: cluster.url,
      stateDir,
      tokens,
      caCertPem: cluster.caCertPem,
      faults: cluster.faults,
      runtime: cluster.runtime,
      kubernetes: { apiserverReadySeconds: cluster.apiserverReadySeconds, controlPlanePids: cluster.controlPlanePids },
      async addUser(name, rules) {
        checkUserName(name);
        return writeUserKubeconfig(name, await cluster.addUser(name, rules), cluster.url, cluster.caCertPem);
      },
      stop: () => (stopping ??= cluster.stop().finally(removeStateDir)),
    };
  }
  const tls = generateTls();
  // The runtime reports pod status to the API server, which needs the runtime: break the cycle late.
  const api: { server?: ApiServer } = {};
  const clock = new Clock(options.clockSkewMs ?? 0);
  const runtime = createPodRuntime({
    clock,
    stateDir: join(stateDir, 'pods'),
    imagesDir: resolve(__dirname, 'images'),
    onStatus: (uid, status) => api.server?.controllers.onPodStatus(uid, status),
    ...(options.restartBackoffMs !== undefined ? { backoffBaseMs: options.restartBackoffMs } : {}),
  });
  const server = (api.server = new ApiServer(tls, tokens, runtime));
  if (options.watchHistory !== undefined) server.store.historySize = options.watchHistory;
  server.store.clock = clock;
  const url = await server.listen(options.port ?? 0);

  for (const name of SEED_NAMESPACES) {
    server.store.create('namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
  }
  writeKubeconfig(kubeconfigPath, url, tls.caCertPem, tokens);

  if (options.seed !== false) {
    await seedDeployments(url, tokens.admin, tls.caCertPem);
  }

  let stopped = false;
  return {
    controlPlane: 'sandbox',
    kubeconfigPath,
    url,
    stateDir,
    tokens,
    caCertPem: tls.caCertPem,
    faults: server.faults,
    runtime,
    async addUser(name, rules) {
      checkUserName(name);
      const userToken = `truva-user-${token()}`;
      server.authorizer.add(userToken, name, rules);
      return writeUserKubeconfig(name, userToken, url, tls.caCertPem);
    },
    portForwardProtocols: server.portForwardProtocols,
    async stop() {
      if (stopped) return;
      stopped = true;
      server.controllers.stop();
      await runtime.stopAll();
      await server.close();
      removeStateDir();
    },
  };
}
