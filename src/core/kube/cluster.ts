// The facade the rest of Truva uses for one kubeconfig context: every call goes through the
// timeout / retry / circuit-breaker gate of its connection (connection.ts) and fails with a
// typed, readable KubeError. Made on its own, a Cluster opens a connection of its own; from a
// ClusterPool, it shares one with every other Cluster of the same server and user.
import { KubeConfig } from '@kubernetes/client-node';
import type { Readable } from 'node:stream';
import { ClusterConnection } from './connection';
import { TimeoutError, type CallTarget, type KubeError } from './errors';
import {
  execInContainer,
  openExec,
  type ExecOptions,
  type ExecPlace,
  type ExecResult,
  type ExecStream,
  type ExecTerminal,
} from './exec';
import { errorFromResponse } from './http';
import { loadKubeConfig, withContext } from './kubeconfig';
import { openPodPort, type PodPortStream } from '../ports/podPort';
import type { CallOptions, ResilienceOptions } from './resilience';
import {
  PATCH_CONTENT_TYPES,
  type Deployment,
  type Namespace,
  type ObjectList,
  type PatchType,
  type Pod,
  type ReplicaSet,
  type WatchEvent,
  type Watcher,
} from './types';
import { startWatch } from './watch';

export interface ClusterOptions {
  /** A loaded kubeconfig; else it is loaded from kubeconfigPath / KUBECONFIG / ~/.kube/config. */
  kubeConfig?: KubeConfig;
  /** Explicit kubeconfig path(s) (the truva.kubeconfig setting or truva.yaml `kubeconfig`). */
  kubeconfigPath?: string;
  /** Context to use instead of the kubeconfig's current-context. */
  context?: string;
  /** Namespace to use instead of the context's. */
  namespace?: string;
  /** The policy of a connection of its own (a Cluster from a pool shares the pool's). */
  resilience?: ResilienceOptions;
  /** Per-call timeout and attempts for this Cluster's request/response calls (the language server asks briefly). */
  calls?: Pick<CallOptions, 'timeoutMs' | 'maxAttempts'>;
}

/** The connection a ClusterPool lends a Cluster, and how the Cluster gives it back. */
export interface Lease {
  connection: ClusterConnection;
  release(): void;
}

export interface WriteOptions {
  namespace?: string;
  /** Validate on the server without persisting (dryRun=All). */
  dryRun?: boolean;
  /** Allow retries: only for writes that give the same result when repeated (e.g. carry a resourceVersion). */
  safeToRetry?: boolean;
}

export interface AccessReview {
  /** true/false when the server decided; undefined when it cannot tell (no SSAR support). */
  allowed: boolean | undefined;
  reason?: string;
}

export interface LogStreamOptions {
  sinceTime?: string;
  tailLines?: number;
  timestamps?: boolean;
  /** Follow the log (default true). */
  follow?: boolean;
  /** The previous (terminated) instance of the container. */
  previous?: boolean;
}

/** The field manager of every write Truva makes (managedFields name it). */
export const FIELD_MANAGER = 'truva';

type WatchErrorHandler = (error: KubeError, info: { retrying: boolean }) => void;
type WatchOptions = { namespace?: string; fieldSelector?: string };

export class Cluster {
  readonly kubeConfig: KubeConfig;
  /** The kubeconfig context this object talks to. */
  readonly contextName: string;
  /** The namespace used when a call names none. */
  readonly namespace: string;
  /** The kubeconfig user of the context (for messages). */
  readonly userName: string;
  /** Its transport and circuit breaker, shared with every Cluster of the same server and user when pooled. */
  readonly connection: ClusterConnection;
  private readonly calls: ClusterOptions['calls'];
  private release: (() => void) | undefined;

  constructor(opts: ClusterOptions = {}, lease?: Lease) {
    const base = opts.kubeConfig ?? loadKubeConfig({ path: opts.kubeconfigPath });
    this.kubeConfig = withContext(base, opts.context, opts.namespace);
    const ctx = this.kubeConfig.getContextObject(this.kubeConfig.getCurrentContext())!;
    this.contextName = ctx.name;
    this.namespace = ctx.namespace || 'default';
    this.userName = ctx.user;
    this.calls = opts.calls;
    const own = lease ? undefined : new ClusterConnection(this.kubeConfig, this.contextName, opts.resilience);
    this.connection = lease?.connection ?? own!;
    this.release = lease?.release ?? (() => own!.dispose());
  }

  private get transport() {
    return this.connection.transport;
  }

  private get resilience() {
    return this.connection.resilience;
  }

  /** The API server URL. */
  get server(): string {
    return this.connection.server;
  }

  /**
   * Now by the API server's clock (ms), learned from its answers' Date headers: timestamps the
   * server wrote (creationTimestamp) are compared with this, not with the local clock, which may
   * be seconds or minutes off.
   */
  serverNow(): number {
    return this.transport.serverNow();
  }

  private target(verb: string, resource: string, name?: string, namespace?: string): CallTarget {
    return { verb, resource, name, namespace, context: this.contextName, user: this.userName, server: this.server };
  }

  /** GET/LIST-style JSON call with retries. */
  private read<T>(
    target: CallTarget,
    path: string,
    query?: Record<string, string | number | boolean | undefined>,
  ): Promise<T> {
    return this.resilience.call(target, { ...this.calls, idempotent: true }, (signal) =>
      this.transport.json<T>({ method: 'GET', path, query, signal }, target),
    );
  }

  private write<T>(
    target: CallTarget,
    method: 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    body: unknown,
    opts: {
      contentType?: string;
      dryRun?: boolean;
      safeToRetry?: boolean;
      query?: Record<string, string | number | undefined>;
    } = {},
  ): Promise<T> {
    const query = {
      ...(opts.query ?? {}),
      dryRun: opts.dryRun ? 'All' : undefined,
      fieldManager: method === 'DELETE' ? undefined : FIELD_MANAGER,
    };
    return this.resilience.call(target, { ...this.calls, idempotent: opts.safeToRetry ?? false }, (signal) =>
      this.transport.json<T>({ method, path, query, body, contentType: opts.contentType, signal }, target),
    );
  }

  /** Sends any API request through the same gate (for endpoints without a method of their own). */
  request<T>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    target: { verb: string; resource: string; name?: string; namespace?: string },
    body?: unknown,
    opts: {
      contentType?: string;
      idempotent?: boolean;
      query?: Record<string, string | number | boolean | undefined>;
    } = {},
  ): Promise<T> {
    const t = this.target(target.verb, target.resource, target.name, target.namespace);
    return this.resilience.call(t, { ...this.calls, idempotent: opts.idempotent ?? method === 'GET' }, (signal) =>
      this.transport.json<T>({ method, path, query: opts.query, body, contentType: opts.contentType, signal }, t),
    );
  }

  // ---- namespaces ----

  /** Lists namespaces (needs cluster-wide list permission). */
  async listNamespaces(): Promise<Namespace[]> {
    return (await this.read<ObjectList<Namespace>>(this.target('list', 'namespaces'), '/api/v1/namespaces')).items;
  }

  // ---- deployments ----

  private deploymentsPath(namespace: string, name?: string): string {
    return `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/deployments${name ? `/${encodeURIComponent(name)}` : ''}`;
  }

  getDeployment(name: string, namespace = this.namespace): Promise<Deployment> {
    return this.read(this.target('get', 'deployments', name, namespace), this.deploymentsPath(namespace, name));
  }

  /**
   * Lists deployments in a namespace, or in all namespaces with allNamespaces, in pages of
   * `pageSize` (each page a request of its own, so no single answer grows with the cluster).
   */
  async listDeployments(
    opts: { namespace?: string; allNamespaces?: boolean; labelSelector?: string; pageSize?: number } = {},
  ): Promise<Deployment[]> {
    const ns = opts.allNamespaces ? undefined : (opts.namespace ?? this.namespace);
    const path = ns ? this.deploymentsPath(ns) : '/apis/apps/v1/deployments';
    const items: Deployment[] = [];
    let next: string | undefined;
    do {
      const list: ObjectList<Deployment> = await this.read(this.target('list', 'deployments', undefined, ns), path, {
        labelSelector: opts.labelSelector,
        limit: opts.pageSize ?? 500,
        continue: next,
      });
      items.push(...list.items);
      next = list.metadata?.continue || undefined;
    } while (next);
    return items;
  }

  /** Creates a deployment (never retried: a repeated create would fail with AlreadyExists). */
  createDeployment(deployment: Deployment, opts: WriteOptions = {}): Promise<Deployment> {
    const ns = opts.namespace ?? deployment.metadata?.namespace ?? this.namespace;
    return this.write(
      this.target('create', 'deployments', deployment.metadata?.name, ns),
      'POST',
      this.deploymentsPath(ns),
      deployment,
      { dryRun: opts.dryRun },
    );
  }

  /** Deletes a deployment; its ReplicaSets and pods go with it. */
  deleteDeployment(name: string, opts: { namespace?: string } = {}): Promise<unknown> {
    const ns = opts.namespace ?? this.namespace;
    return this.write(
      this.target('delete', 'deployments', name, ns),
      'DELETE',
      this.deploymentsPath(ns, name),
      undefined,
      {},
    );
  }

  /** Patches a deployment (merge, strategic merge or JSON patch). */
  patchDeployment(name: string, patch: unknown, type: PatchType, opts: WriteOptions = {}): Promise<Deployment> {
    const ns = opts.namespace ?? this.namespace;
    return this.write(this.target('patch', 'deployments', name, ns), 'PATCH', this.deploymentsPath(ns, name), patch, {
      contentType: PATCH_CONTENT_TYPES[type],
      dryRun: opts.dryRun,
      safeToRetry: opts.safeToRetry,
    });
  }

  /** Replaces a deployment (PUT); a resourceVersion in it makes a concurrent change fail with ConflictError. */
  replaceDeployment(deployment: Deployment, opts: WriteOptions = {}): Promise<Deployment> {
    const ns = opts.namespace ?? deployment.metadata?.namespace ?? this.namespace;
    const name = deployment.metadata?.name ?? '';
    return this.write(
      this.target('update', 'deployments', name, ns),
      'PUT',
      this.deploymentsPath(ns, name),
      deployment,
      {
        dryRun: opts.dryRun,
        safeToRetry: opts.safeToRetry,
      },
    );
  }

  /** Watches deployments (ADDED for each existing one first); resumes after drops, relists on 410. */
  watchDeployments(
    labelSelector: string | undefined,
    onEvent: (event: WatchEvent<Deployment>) => void,
    onError: WatchErrorHandler,
    opts: WatchOptions = {},
  ): Watcher {
    const ns = opts.namespace ?? this.namespace;
    return this.watchCollection('deployments', this.deploymentsPath(ns), ns, labelSelector, onEvent, onError, opts);
  }

  private watchCollection<T extends Deployment | Pod>(
    resource: string,
    path: string,
    namespace: string,
    labelSelector: string | undefined,
    onEvent: (event: WatchEvent<T>) => void,
    onError: WatchErrorHandler,
    opts: WatchOptions,
  ): Watcher {
    return startWatch<T>(this.transport, this.resilience, {
      path,
      labelSelector,
      fieldSelector: opts.fieldSelector,
      target: this.target('watch', resource, undefined, namespace),
      onEvent,
      onError,
    });
  }

  // ---- replicasets (to tell a deployment's pods from others its selector also matches) ----

  private replicaSetsPath(namespace: string): string {
    return `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/replicasets`;
  }

  /** Lists ReplicaSets matching a label selector. */
  async listReplicaSets(labelSelector: string | undefined, namespace = this.namespace): Promise<ReplicaSet[]> {
    const list = await this.read<ObjectList<ReplicaSet>>(
      this.target('list', 'replicasets', undefined, namespace),
      this.replicaSetsPath(namespace),
      { labelSelector },
    );
    return list.items;
  }

  /** Deletes a ReplicaSet (Truva removes only its own, scaled-down dev-mode revisions). */
  deleteReplicaSet(name: string, namespace = this.namespace): Promise<unknown> {
    return this.write(
      this.target('delete', 'replicasets', name, namespace),
      'DELETE',
      `${this.replicaSetsPath(namespace)}/${encodeURIComponent(name)}`,
      undefined,
    );
  }

  /** Watches ReplicaSets (ADDED for each existing one first); resumes after drops, relists on 410. */
  watchReplicaSets(
    labelSelector: string | undefined,
    onEvent: (event: WatchEvent<ReplicaSet>) => void,
    onError: (error: KubeError, info: { retrying: boolean }) => void,
    opts: { namespace?: string } = {},
  ): Watcher {
    const ns = opts.namespace ?? this.namespace;
    return startWatch<ReplicaSet>(this.transport, this.resilience, {
      path: this.replicaSetsPath(ns),
      labelSelector,
      target: this.target('watch', 'replicasets', undefined, ns),
      onEvent,
      onError,
    });
  }

  // ---- pods ----

  private podsPath(namespace: string, name?: string, sub?: string): string {
    return `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods${name ? `/${encodeURIComponent(name)}` : ''}${sub ? `/${sub}` : ''}`;
  }

  /** Lists pods matching a label selector (all pods of the namespace without one). */
  async listPods(labelSelector?: string, namespace = this.namespace): Promise<Pod[]> {
    const list = await this.read<ObjectList<Pod>>(
      this.target('list', 'pods', undefined, namespace),
      this.podsPath(namespace),
      { labelSelector },
    );
    return list.items;
  }

  getPod(name: string, namespace = this.namespace): Promise<Pod> {
    return this.read(this.target('get', 'pods', name, namespace), this.podsPath(namespace, name));
  }

  /** Deletes a pod (its controller makes a new one). */
  deletePod(name: string, opts: { namespace?: string; gracePeriodSeconds?: number } = {}): Promise<Pod> {
    const ns = opts.namespace ?? this.namespace;
    return this.write(this.target('delete', 'pods', name, ns), 'DELETE', this.podsPath(ns, name), undefined, {
      query: { gracePeriodSeconds: opts.gracePeriodSeconds },
    });
  }

  /** Watches pods (ADDED for each existing pod first); resumes after drops, relists on 410. */
  watchPods(
    labelSelector: string | undefined,
    onEvent: (event: WatchEvent<Pod>) => void,
    onError: WatchErrorHandler,
    opts: WatchOptions = {},
  ): Watcher {
    const ns = opts.namespace ?? this.namespace;
    return this.watchCollection('pods', this.podsPath(ns), ns, labelSelector, onEvent, onError, opts);
  }

  /** Runs a command in a container; stdin is streamed; resolves with exit code and output (non-zero exits resolve too). */
  exec(
    pod: string,
    container: string,
    command: string[],
    opts: ExecOptions & { namespace?: string } = {},
  ): Promise<ExecResult> {
    return execInContainer(this.execPlace(pod, container, opts.namespace ?? this.namespace), command, opts);
  }

  /** Starts a command that keeps running, fed over time through its stdin; with `tty`, on a terminal of that size. */
  openExec(
    pod: string,
    container: string,
    command: string[],
    namespace = this.namespace,
    tty?: ExecTerminal,
  ): Promise<ExecStream> {
    return openExec(this.execPlace(pod, container, namespace), command, { stdin: true, tty });
  }

  /**
   * Opens one TCP connection to `port` in a pod through pods/portforward. The stream fails with a
   * PodPortError when the kubelet cannot reach the port (nothing listens: failure 'refused').
   */
  openPortForward(pod: string, port: number, namespace = this.namespace): Promise<PodPortStream> {
    const target = this.target('create', 'pods/portforward', pod, namespace);
    // Safe to retry: nothing reaches the app before the connection is up.
    return this.resilience.call(target, { idempotent: true }, async (signal) => {
      const stream = await openPodPort(this.connection.kubeConfig, { namespace, pod, port });
      if (signal.aborted) {
        stream.destroy();
        throw new TimeoutError(`Opening port ${port} of pod "${pod}" timed out.`, { target });
      }
      return stream;
    });
  }

  private execPlace(pod: string, container: string, namespace: string): ExecPlace {
    return {
      kc: this.connection.kubeConfig,
      resilience: this.resilience,
      target: this.target('create', 'pods/exec', pod, namespace),
      namespace,
      pod,
      container,
    };
  }

  /** Opens a container's log as a raw byte stream (follows by default); abort the signal to close it. */
  async followLogs(
    pod: string,
    container: string,
    opts: LogStreamOptions,
    signal: AbortSignal,
    namespace = this.namespace,
  ): Promise<Readable> {
    const target = this.target('get', 'pods/log', pod, namespace);
    return this.resilience.call(target, { idempotent: true, signal }, async (policySignal) => {
      const req = new AbortController();
      const onUserAbort = () => req.abort();
      signal.addEventListener('abort', onUserAbort, { once: true });
      const onPolicyAbort = () => req.abort();
      policySignal.addEventListener('abort', onPolicyAbort, { once: true });
      try {
        const res = await this.transport.open({
          method: 'GET',
          path: this.podsPath(namespace, pod, 'log'),
          query: {
            container,
            follow: opts.follow === false ? undefined : 'true',
            timestamps: opts.timestamps ? 'true' : undefined,
            sinceTime: opts.sinceTime,
            tailLines: opts.tailLines,
            previous: opts.previous ? 'true' : undefined,
          },
          signal: req.signal,
          stream: opts.follow !== false,
        });
        policySignal.removeEventListener('abort', onPolicyAbort);
        if (res.statusCode !== 200) throw await errorFromResponse(res, target);
        res.once('close', () => signal.removeEventListener('abort', onUserAbort));
        return res;
      } catch (err) {
        signal.removeEventListener('abort', onUserAbort);
        policySignal.removeEventListener('abort', onPolicyAbort);
        throw err;
      }
    });
  }

  // ---- access ----

  /**
   * Asks the API whether the current user may do verb on resource (SelfSubjectAccessReview).
   * allowed is undefined when the server does not implement the review.
   */
  async selfSubjectAccessReview(
    verb: string,
    resource: string,
    group: string,
    namespace?: string,
    subresource?: string,
  ): Promise<AccessReview> {
    const target = this.target('create', 'selfsubjectaccessreviews');
    const body = {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { verb, resource, group, namespace, subresource } },
    };
    try {
      // A review changes nothing, so it may be retried.
      const res = await this.resilience.call(target, { ...this.calls, idempotent: true }, (signal) =>
        this.transport.json<{ status?: { allowed?: boolean; denied?: boolean; reason?: string } }>(
          { method: 'POST', path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', body, signal },
          target,
        ),
      );
      return { allowed: res.status?.allowed === true, reason: res.status?.reason };
    } catch (err) {
      const e = err as KubeError;
      // No review endpoint (or no right to use it): the caller falls back to a dry run.
      if (e.kind === 'notFound' || e.kind === 'forbidden' || (e.kind === 'invalid' && e.status === 400))
        return { allowed: undefined };
      throw err;
    }
  }

  /** Gives the connection back: a Cluster of its own closes it, a pooled one leaves it to the pool. */
  dispose(): void {
    this.release?.();
    this.release = undefined;
  }
}
