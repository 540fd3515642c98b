// One connection to an API server as one user: the HTTP transport (its kept-alive sockets and
// TLS sessions, which exec shares through the same kubeconfig object) and the circuit breaker
// that every call to that server passes. A Cluster is a view on one connection (a context name
// and a default namespace); ClusterPool lets every view of the same server and user share it,
// so they agree on whether the API is down.
import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { closeIdleExecConnections } from './exec';
import { HttpTransport } from './http';
import { Resilience, type BreakerState, type ResilienceOptions } from './resilience';

export class ClusterConnection {
  readonly transport: HttpTransport;
  readonly resilience: Resilience;

  constructor(
    /** Switched to a context of this server and user (the first one asked for). */
    readonly kubeConfig: KubeConfig,
    /** The context it was opened for, for messages about the server. */
    readonly contextName: string,
    resilience?: ResilienceOptions,
  ) {
    this.transport = new HttpTransport(kubeConfig);
    this.resilience = new Resilience(resilience);
  }

  /** The API server URL. */
  get server(): string {
    return this.transport.server;
  }

  /** Circuit breaker state: closed (healthy), open (calls fail fast), half-open (trying again). */
  get breakerState(): BreakerState {
    return this.resilience.state;
  }

  onBreakerStateChange(listener: (state: BreakerState) => void): { dispose(): void } {
    return this.resilience.onStateChange(listener);
  }

  /** Closes the kept-alive sockets, its own and those its execs keep open for later ones. */
  dispose(): void {
    this.transport.dispose();
    closeIdleExecConnections(this.kubeConfig);
  }
}

/**
 * What makes two contexts one connection: the same server entry (URL, CA, TLS and proxy
 * settings) and the same user entry (token, certificate, exec plugin), whatever they are named.
 * Hashed, so the key never holds a credential.
 */
export function connectionKey(kc: KubeConfig): string {
  const nameless = (entry: object | null) => {
    if (!entry) return null;
    const rest: Record<string, unknown> = { ...entry };
    delete rest.name;
    return rest;
  };
  return createHash('sha256')
    .update(JSON.stringify([nameless(kc.getCurrentCluster()), nameless(kc.getCurrentUser())]))
    .digest('hex');
}
