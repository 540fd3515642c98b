// startSandbox(): a local Kubernetes API over HTTPS whose pods are real processes, for tests,
// benchmarks and the demo. See sandbox/README.md for what is faithful and what is not.
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
import { SEED_NAMESPACES, webDeployment, workerDeployment } from './seed';

export interface SandboxOptions {
  /** Port on 127.0.0.1; 0 or absent picks a free one. */
  port?: number;
  /** Where pods keep their files and the kubeconfig lands; default a new temp folder (removed on stop). */
  stateDir?: string;
  kubeconfigPath?: string;
  /** Create namespace `demo` with deployments `web` and `worker` (default true). */
  seed?: boolean;
  /** First container restart back-off (kubelet: 10 s); tests use less. */
  restartBackoffMs?: number;
  /** Watch events kept for resuming (default 2000); older resourceVersions get 410 Gone. */
  watchHistory?: number;
  /** How far the cluster's clock is ahead of this machine's (negative: behind), in ms: timestamps, log times and the Date header. */
  clockSkewMs?: number;
}

export interface Sandbox {
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
   * its own whose current context is that user's; resolves with the kubeconfig's path.
   */
  addUser(name: string, rules: PolicyRule[]): Promise<string>;
  /** Port-forward connections so far by protocol (`v4.channel.k8s.io`, `SPDY/3.1+portforward.k8s.io`, `SPDY/3.1`...). */
  portForwardProtocols: Readonly<Record<string, number>>;
  stop(): Promise<void>;
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
  const kubeconfigPath = resolve(options.kubeconfigPath ?? join(stateDir, 'kubeconfig'));
  mkdirSync(dirname(kubeconfigPath), { recursive: true });
  writeFileSync(kubeconfigPath, kubeconfigYaml(url, tls.caCertPem, tokens), { mode: 0o600 });

  if (options.seed !== false) {
    await seed(url, tokens.admin, tls.caCertPem);
  }

  let stopped = false;
  return {
    kubeconfigPath,
    url,
    stateDir,
    tokens,
    caCertPem: tls.caCertPem,
    faults: server.faults,
    runtime,
    async addUser(name, rules) {
      if (!/^[a-z0-9][a-z0-9-]*$/.test(name))
        throw new Error(`user name "${name}" must be lowercase letters, digits and -`);
      const userToken = `truva-user-${token()}`;
      server.authorizer.add(userToken, name, rules);
      const path = join(stateDir, `kubeconfig-${name}`);
      const yaml = kubeconfigYaml(url, tls.caCertPem, { admin: userToken, readonly: tokens.readonly });
      writeFileSync(path, yaml, { mode: 0o600 });
      return path;
    },
    portForwardProtocols: server.portForwardProtocols,
    async stop() {
      if (stopped) return;
      stopped = true;
      server.controllers.stop();
      await runtime.stopAll();
      await server.close();
      if (ownsStateDir) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** Seeds through the API itself, so seeded objects get exactly the defaults a user's would. */
async function seed(url: string, token: string, ca: string) {
  const https = await import('node:https');
  const post = (path: string, body: unknown) =>
    new Promise<void>((resolve, reject) => {
      const req = https.request(
        `${url}${path}`,
        { method: 'POST', ca, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 201 ? resolve() : reject(new Error(`seeding ${path} failed: HTTP ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  await post('/apis/apps/v1/namespaces/demo/deployments', webDeployment());
  await post('/apis/apps/v1/namespaces/demo/deployments', workerDeployment());
}
