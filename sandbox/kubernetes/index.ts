// startSandbox({ controlPlane: 'kubernetes' }): the real Kubernetes control plane (etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler from cluster/build.sh) with the node
// agent as its one node, behind the front proxy that carries the faults. Same users, seed and
// kubeconfig as the sandbox's own API server. See sandbox/README.md.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SEED_NAMESPACES, seedDeployments } from '../seed';
import { ApiClient, ApiStatusError } from './apiClient';
import { binariesPresent, binariesDir, kubernetesVersion } from './binaries';
import { startControlPlane, type ControlPlane } from './controlPlane';
import { FrontProxy } from './frontProxy';
import { NodeAgent } from './node/nodeAgent';
import { generatePki } from './pki';
import { addKubernetesUser } from './users';
import type { PolicyRule } from '../server/rbac';
import type { Faults } from '../server/faults';
import type { PodRuntime } from '../runtime/types';

export const NODE_NAME = 'truva-node';

export interface KubernetesSandboxOptions {
  stateDir: string;
  port?: number;
  seed?: boolean;
  restartBackoffMs?: number;
  imagesDir: string;
  tokens: { admin: string; readonly: string; faults: string };
}

export interface KubernetesSandbox {
  url: string;
  caCertPem: string;
  faults: Faults;
  runtime: PodRuntime;
  /** kube-apiserver's start to /readyz, in seconds (the bench's cluster.apiserver_ready_s). */
  apiserverReadySeconds: number;
  /** kube-apiserver itself, without the front proxy (for checks that must not meet faults). */
  apiserverUrl: string;
  /** PIDs of etcd, kube-apiserver, kube-controller-manager and kube-scheduler (for memory figures). */
  controlPlanePids(): number[];
  /** A ServiceAccount bound to these rules in every namespace (real RBAC); resolves with its bearer token. */
  addUser(name: string, rules: PolicyRule[]): Promise<string>;
  stop(): Promise<void>;
}

/** The read-only user sees what the built-in `view` ClusterRole shows, as on a cluster set up by hand. */
const READONLY_BINDING = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRoleBinding',
  metadata: { name: 'truva-readonly-view' },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
  subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'readonly' }],
};

async function createIgnoringExisting(api: ApiClient, path: string, body: unknown) {
  try {
    await api.request('POST', path, body);
  } catch (err) {
    if (!(err instanceof ApiStatusError && err.code === 409)) throw err;
  }
}

/** Pods of a namespace are refused until its `default` ServiceAccount exists (kube-controller-manager makes it). */
async function waitForDefaultServiceAccount(api: ApiClient, namespace: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await api.request('GET', `/api/v1/namespaces/${namespace}/serviceaccounts/default`);
      return;
    } catch (err) {
      if (!(err instanceof ApiStatusError && err.code === 404) || Date.now() > deadline)
        throw new Error(
          `the default ServiceAccount of namespace ${namespace} never appeared: ${(err as Error).message}`,
        );
    }
    await sleep(50);
  }
}

export async function startKubernetesSandbox(options: KubernetesSandboxOptions): Promise<KubernetesSandbox> {
  if (!binariesPresent()) {
    throw new Error(
      `the Kubernetes control plane is not built in ${binariesDir()}: run \`bash cluster/build.sh\` (the first build takes 10-30 minutes)`,
    );
  }
  const pki = await generatePki(join(options.stateDir, 'pki'), NODE_NAME);
  const controlPlane: ControlPlane = await startControlPlane(
    join(options.stateDir, 'control-plane'),
    pki,
    options.tokens,
  );
  const late: { agent?: NodeAgent } = {};
  const proxy = new FrontProxy({
    cert: pki.serving.certPem,
    key: pki.serving.keyPem,
    upstream: { url: controlPlane.apiserverUrl, ca: pki.caCertPem },
    faultsToken: options.tokens.faults,
    killContainer: (namespace, pod, container) => {
      if (!late.agent) throw new Error('the node agent is not running');
      late.agent.killContainer(namespace, pod, container);
    },
  });
  const admin = new ApiClient(
    controlPlane.apiserverUrl,
    { ca: pki.caCertPem, token: options.tokens.admin },
    'truva-sandbox',
  );
  const stop = async () => {
    await late.agent?.stop();
    await proxy.close();
    admin.close();
    await controlPlane.stop();
  };
  try {
    const url = await proxy.listen(options.port ?? 0);
    for (const name of SEED_NAMESPACES.filter((n) => n !== 'default')) {
      await createIgnoringExisting(admin, '/api/v1/namespaces', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name },
      });
    }
    await createIgnoringExisting(admin, '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', READONLY_BINDING);
    late.agent = await NodeAgent.start({
      apiserverUrl: controlPlane.apiserverUrl,
      nodeName: NODE_NAME,
      kubeletVersion: kubernetesVersion(),
      ca: pki.caCertPem,
      client: { cert: pki.nodeClient.certPem, key: pki.nodeClient.keyPem },
      serving: { cert: pki.nodeServing.certPem, key: pki.nodeServing.keyPem },
      stateDir: join(options.stateDir, 'pods'),
      imagesDir: options.imagesDir,
      logFile: join(options.stateDir, 'control-plane', 'logs', 'node-agent.log'),
      restartBackoffMs: options.restartBackoffMs,
    });
    await waitForDefaultServiceAccount(admin, 'demo');
    if (options.seed !== false) await seedDeployments(controlPlane.apiserverUrl, options.tokens.admin, pki.caCertPem);
    return {
      url,
      caCertPem: pki.caCertPem,
      faults: proxy.faults,
      runtime: late.agent.runtime,
      apiserverReadySeconds: controlPlane.apiserverReadySeconds,
      apiserverUrl: controlPlane.apiserverUrl,
      controlPlanePids: () => controlPlane.processes.filter((p) => p.running && p.pid).map((p) => p.pid!),
      addUser: (name, rules) => addKubernetesUser(admin, controlPlane.apiserverUrl, pki.caCertPem, name, rules),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
