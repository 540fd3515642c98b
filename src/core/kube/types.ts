// Kubernetes objects as the API sends them (plain JSON). client-node's model types describe the
// fields; Raw<> turns their Date fields back into the RFC 3339 strings that are really there.
import type {
  V1Deployment,
  V1Pod,
  V1PodTemplateSpec,
  V1Container,
  V1ContainerStatus,
  V1Namespace,
  V1ReplicaSet,
} from '@kubernetes/client-node';

export type Raw<T> = T extends Date
  ? string
  : T extends (infer U)[]
    ? Raw<U>[]
    : T extends object
      ? { [K in keyof T]: Raw<T[K]> }
      : T;

export type Deployment = Raw<V1Deployment>;
export type Pod = Raw<V1Pod>;
export type PodTemplate = Raw<V1PodTemplateSpec>;
export type Container = Raw<V1Container>;
export type ContainerStatus = Raw<V1ContainerStatus>;
export type Namespace = Raw<V1Namespace>;
export type ReplicaSet = Raw<V1ReplicaSet>;

export interface ObjectList<T> {
  metadata?: { resourceVersion?: string; continue?: string };
  items: T[];
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent<T> {
  type: WatchEventType;
  object: T;
}

/** A running watch; stop() ends it and no event follows. */
export interface Watcher {
  stop(): void;
}

export type PatchType = 'merge' | 'strategic' | 'json';

export const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
};
