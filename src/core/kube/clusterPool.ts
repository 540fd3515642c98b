// Every user of the cluster in the extension (the sidebar, each session, each log panel, each
// question of the truva.yaml language server) leases its Cluster from one pool, which keeps one
// connection (transport and circuit breaker) per API server and user, counted by leases and
// closed with the last one. So two clients of one server never disagree on whether it is down,
// and the API's health follows every client (subscribe).
import { Cluster, type ClusterOptions } from './cluster';
import { ClusterConnection, connectionKey } from './connection';
import { loadKubeConfig, withContext } from './kubeconfig';
import type { ResilienceOptions } from './resilience';

export interface PoolListener {
  opened(connection: ClusterConnection): void;
  closed(connection: ClusterConnection): void;
}

export class ClusterPool {
  private readonly entries = new Map<string, { connection: ClusterConnection; leases: number }>();
  private readonly listeners = new Set<PoolListener>();

  constructor(
    /** The policy of every connection the pool opens. */
    private readonly resilience?: ResilienceOptions,
  ) {}

  /**
   * A Cluster for a context and namespace on the shared connection of its server and user;
   * dispose() it to give the lease back. Throws a KubeError (kind "config") like `new Cluster`.
   */
  acquire(opts: Omit<ClusterOptions, 'resilience'> = {}): Cluster {
    const kubeConfig = withContext(
      opts.kubeConfig ?? loadKubeConfig({ path: opts.kubeconfigPath }),
      opts.context,
      opts.namespace,
    );
    const key = connectionKey(kubeConfig);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = {
        connection: new ClusterConnection(kubeConfig, kubeConfig.getCurrentContext(), this.resilience),
        leases: 0,
      };
      this.entries.set(key, entry);
      for (const l of [...this.listeners]) l.opened(entry.connection);
    }
    entry.leases++;
    const leased = entry;
    return new Cluster(
      { kubeConfig, calls: opts.calls },
      { connection: leased.connection, release: () => this.release(key, leased) },
    );
  }

  private release(key: string, entry: { connection: ClusterConnection; leases: number }) {
    if (--entry.leases > 0 || this.entries.get(key) !== entry) return;
    this.entries.delete(key);
    entry.connection.dispose();
    for (const l of [...this.listeners]) l.closed(entry.connection);
  }

  /** The connections open now. */
  connections(): ClusterConnection[] {
    return [...this.entries.values()].map((e) => e.connection);
  }

  /** Told of every connection opened and closed from now on, after those already open. */
  subscribe(listener: PoolListener): { dispose(): void } {
    this.listeners.add(listener);
    for (const connection of this.connections()) listener.opened(connection);
    return { dispose: () => void this.listeners.delete(listener) };
  }

  /** Closes every connection, leased or not (the extension is deactivating). */
  dispose(): void {
    const open = this.connections();
    this.entries.clear();
    for (const connection of open) {
      connection.dispose();
      for (const l of [...this.listeners]) l.closed(connection);
    }
  }
}
