// Shared sandbox for integration tests: one cluster per mocha process, started on first use and
// stopped when the run ends; plus kubectl as a second client and a few small waiting helpers.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { startSandbox, type ControlPlaneKind, type Sandbox } from '../../sandbox';
import { webDeployment } from '../../sandbox/seed';
import { Cluster } from '../../src/core/kube/cluster';
import type { Deployment } from '../../src/core/kube/types';
import { ConflictError } from '../../src/core/kube/errors';
import { SyncEngine, clusterSyncTarget, type SyncOptions } from '../../src/core/sync';
import { testControlPlane } from './controlPlane';
import { until } from './poll';

export { testControlPlane } from './controlPlane';

let shared: Promise<Sandbox> | undefined;

/** What the helpers below need: the kubeconfig (so they also work on a sandbox in another process). */
export type SandboxAccess = Pick<Sandbox, 'kubeconfigPath'>;

/** The sandbox every integration test shares (seeded: demo/web with 2 pods, demo/worker). */
export function sharedSandbox(): Promise<Sandbox> {
  shared ??= startSandbox({ restartBackoffMs: 500, controlPlane: testControlPlane() });
  return shared;
}

const others = new Map<ControlPlaneKind, Promise<Sandbox>>();

/**
 * A sandbox on the given control plane, for suites about one of them or comparing both: the
 * shared one when the tests run there, else one of its own (also stopped after the run).
 */
export function sandboxOn(controlPlane: ControlPlaneKind): Promise<Sandbox> {
  if (testControlPlane() === controlPlane) return sharedSandbox();
  if (!others.has(controlPlane)) others.set(controlPlane, startSandbox({ restartBackoffMs: 500, controlPlane }));
  return others.get(controlPlane)!;
}

/** Mocha root hook: stops the shared sandbox (and any other) after the whole run. */
export const mochaHooks = {
  async afterAll() {
    for (const sandbox of [shared, ...others.values()]) if (sandbox) await (await sandbox).stop();
    shared = undefined;
    others.clear();
  },
};

/** The kubectl this machine has: the Google Cloud SDK copy first, else the one on PATH. */
export function kubectlPath(version?: string): string | undefined {
  const sdk = `/usr/lib/google-cloud-sdk/bin/kubectl${version ? '.' + version : ''}`;
  if (existsSync(sdk)) return sdk;
  return version ? undefined : 'kubectl';
}

export interface KubectlResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs kubectl against the sandbox; never throws on a non-zero exit (look at `code`). */
export function kubectl(
  sandbox: SandboxAccess,
  args: string[],
  opts: { context?: string; input?: string | Buffer; binary?: string; timeoutMs?: number } = {},
): Promise<KubectlResult> {
  const full = [
    `--kubeconfig=${sandbox.kubeconfigPath}`,
    ...(opts.context ? [`--context=${opts.context}`] : []),
    ...args,
  ];
  return new Promise((resolve) => {
    const child = execFile(
      opts.binary ?? kubectlPath()!,
      full,
      { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 << 20, encoding: 'buffer' },
      (err, stdout, stderr) => {
        resolve({
          stdout: stdout.toString(),
          stderr: stderr.toString(),
          code: err ? ((err as { code?: number }).code ?? 1) : 0,
        });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** A Cluster (Truva's client layer) on the sandbox's kubeconfig. */
export function sandboxCluster(sandbox: SandboxAccess, context?: string): Cluster {
  return new Cluster({ kubeconfigPath: sandbox.kubeconfigPath, context });
}

/** Polls until `predicate` returns a truthy value, or fails with `what` after the timeout. */
export function waitFor<T>(
  predicate: () => T | Promise<T>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<NonNullable<T>> {
  return until(what, predicate, timeoutMs, 100);
}

let counter = 0;

/** A unique, valid name for a test's own deployment. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid % 1000}-${++counter}`;
}

/**
 * Creates a fresh copy of the `web` deployment under a new name (so tests never fight over the
 * seeded one) and waits until all its pods are ready. `command` replaces the container command.
 */
export async function createTestDeployment(
  sandbox: SandboxAccess,
  opts: { name: string; replicas?: number; image?: string; namespace?: string; command?: string[]; probes?: boolean },
): Promise<any> {
  const namespace = opts.namespace ?? 'demo';
  const deployment = webDeployment(opts.name, opts.replicas ?? 2, namespace, opts.image ?? 'web');
  const container = deployment.spec.template.spec.containers[0];
  if (opts.command) container.command = opts.command;
  if (opts.command || opts.probes === false) {
    delete container.readinessProbe;
    delete container.livenessProbe;
  }
  const cluster = sandboxCluster(sandbox);
  try {
    await cluster.createDeployment(deployment, { namespace });
    await waitForRollout(sandbox, opts.name, namespace);
    return await cluster.getDeployment(opts.name, namespace);
  } finally {
    cluster.dispose();
  }
}

/**
 * What a client writes to a deployment (not the status the controllers keep writing, which moves
 * its resourceVersion): equal before and after means nothing changed it.
 */
export function clientWritten(d: Deployment): unknown {
  const { generation, labels, annotations } = d.metadata ?? {};
  return { generation, labels, annotations, spec: d.spec };
}

/**
 * Changes a deployment as another client (a person, a GitOps tool) does: read, replace, and read
 * again on a 409, since on a real server the controllers' status writes change its resourceVersion.
 */
export async function replaceAsAnotherClient(
  cluster: Cluster,
  name: string,
  change: (live: Deployment) => Deployment,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await cluster.replaceDeployment(change(await cluster.getDeployment(name)));
      return;
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= 5) throw err;
    }
  }
}

/** Waits until the deployment's rollout is complete (what `kubectl rollout status` checks). */
export async function waitForRollout(
  sandbox: SandboxAccess,
  name: string,
  namespace = 'demo',
  timeoutMs = 30_000,
): Promise<void> {
  const cluster = sandboxCluster(sandbox);
  try {
    await waitFor(
      async () => {
        const d = await cluster.getDeployment(name, namespace);
        const s = d.status ?? {};
        const want = d.spec?.replicas ?? 1;
        return (
          (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
          (s.updatedReplicas ?? 0) === want &&
          (s.replicas ?? 0) === want &&
          (s.availableReplicas ?? 0) === want
        );
      },
      timeoutMs,
      `rollout of deployment ${namespace}/${name}`,
    );
  } finally {
    cluster.dispose();
  }
}

/** Names of the running (not terminating) pods of a deployment created by these helpers. */
export async function podNames(sandbox: SandboxAccess, app: string, namespace = 'demo'): Promise<string[]> {
  const cluster = sandboxCluster(sandbox);
  try {
    const pods = await cluster.listPods(`app=${app}`, namespace);
    return pods
      .filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase === 'Running')
      .map((p) => p.metadata!.name!);
  } finally {
    cluster.dispose();
  }
}

/** What a suite on the shared sandbox works with; filled in by its `before` hook. */
export interface SandboxSuite {
  sandbox: Sandbox;
  /** Truva's client on the sandbox, disposed after the suite. */
  cluster: Cluster;
  /** Deployments a test made: deleted after each test (faults are cleared too). */
  created: string[];
}

/**
 * A suite that must run on one control plane whatever the tests run on, and why: a fault only
 * the sandbox's own API server can inject (see SandboxOnlyFault in sandbox/server/faults.ts).
 */
export interface ControlPlanePin {
  controlPlane: ControlPlaneKind;
  why: string;
}

/**
 * Both control planes, the tests' own first. For suites whose subject is one of the sandbox API
 * server's own fidelity features (its OpenAPI documents, server-side apply, defaults, RBAC table,
 * write hook, exec refusals, the controllers' conditions): on the real control plane alone the
 * test command would never exercise the sandbox's implementation of them, and on the sandbox's
 * alone nothing would show that the same tests hold against Kubernetes itself. Each runs as
 * `sandboxSuite({ controlPlane, why })`; the sandbox's API server starts in about a second.
 */
export function bothControlPlanes(): ControlPlaneKind[] {
  const first = testControlPlane();
  return [first, first === 'kubernetes' ? 'sandbox' : 'kubernetes'];
}

/**
 * Hooks for a describe block on the shared sandbox: one client, cleanup after every test. With
 * `pin`, on that control plane instead (its own sandbox when the run is on the other one).
 */
export function sandboxSuite(pin?: ControlPlanePin): SandboxSuite {
  const suite = { created: [] } as unknown as SandboxSuite;
  if (pin && !pin.why.trim()) throw new Error('a suite pinned to a control plane must say why');
  before(async () => {
    suite.sandbox = await (pin ? sandboxOn(pin.controlPlane) : sharedSandbox());
    suite.cluster = sandboxCluster(suite.sandbox);
  });
  afterEach(async () => {
    suite.sandbox.faults.clear();
    for (const name of suite.created.splice(0))
      await suite.cluster.deleteDeployment(name, { namespace: 'demo' }).catch(() => {});
  });
  after(() => suite.cluster.dispose());
  return suite;
}

/** A sync engine from `local` into `remote` of the deployment's container `web`, with small test batches. */
export function testSyncEngine(
  cluster: Cluster,
  deployment: string,
  local: string,
  opts: Partial<SyncOptions> & { remote?: string; restart?: (pod: string) => Promise<void> } = {},
): SyncEngine {
  const { remote = '/app', restart = async () => {}, ...rest } = opts;
  return new SyncEngine(clusterSyncTarget(cluster, { namespace: 'demo', deployment, container: 'web', restart }), {
    roots: [{ local, remote }],
    exclude: [],
    debounceMs: 50,
    batchSize: 100,
    batchBytes: 1 << 20,
    concurrency: 5,
    mirror: false,
    ...rest,
  });
}
