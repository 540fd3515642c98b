// The narrow slice of the Kubernetes client the aggregator needs, so it can be tested without a
// cluster. The kube layer's Cluster satisfies it through a small adapter (see clusterSource.ts).

/** Only the pod fields the aggregator reads; client-node's V1Pod is assignable to it. */
export interface PodLike {
  metadata?: { name?: string; uid?: string; deletionTimestamp?: Date | string; creationTimestamp?: Date | string };
  spec?: { containers: Array<{ name: string }>; restartPolicy?: string };
  status?: { phase?: string; startTime?: Date | string; containerStatuses?: ContainerStatusLike[] };
}

export interface ContainerStateLike {
  running?: { startedAt?: Date | string };
  waiting?: { reason?: string; message?: string };
  terminated?: { exitCode: number; reason?: string; signal?: number; message?: string; finishedAt?: Date | string };
}

export interface ContainerStatusLike {
  name: string;
  restartCount: number;
  containerID?: string;
  state?: ContainerStateLike;
  lastState?: ContainerStateLike;
}

export type PodEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface FollowOptions {
  /** RFC 3339; the API only honours whole seconds. */
  sinceTime?: string;
  tailLines?: number;
  timestamps: true;
}

export interface PodWatch {
  stop(): void;
}

export interface LogSource {
  /** Now by the clock that wrote the pods' timestamps (the API server's), in ms; default the local clock. */
  serverNow?(): number;
  /** Reports every matching pod as ADDED first, then changes. `onError` means the watch ended. */
  watchPods(
    namespace: string,
    labelSelector: string | undefined,
    onEvent: (type: PodEventType, pod: PodLike) => void,
    onError: (err: unknown) => void,
  ): PodWatch | Promise<PodWatch>;
  /** A follow stream of the container's log; it ends when the container instance ends. */
  followLogs(
    namespace: string,
    pod: string,
    container: string,
    options: FollowOptions,
    signal: AbortSignal,
  ): Promise<AsyncIterable<Uint8Array | string>>;
}
