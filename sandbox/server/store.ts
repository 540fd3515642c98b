// The sandbox's etcd: objects by kind/namespace/name, one global resourceVersion counter, a
// bounded event history for watches that resume, and watchers fed synchronously on every change.
import { randomUUID } from 'node:crypto';
import { SYSTEM_CLOCK, type Clock } from '../runtime/clock';
import { alreadyExists, conflict, notFound } from './status';

export type Kind = 'namespaces' | 'deployments' | 'replicasets' | 'pods';
export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  rv: number;
  kind: Kind;
  type: EventType;
  object: any;
}

interface Watcher {
  kind: Kind;
  send(event: StoreEvent): void;
}

/** Resource names and API groups, for messages that read like the real API's. */
export const RESOURCE: Record<Kind, { group: string }> = {
  namespaces: { group: '' },
  deployments: { group: 'apps' },
  replicasets: { group: 'apps' },
  pods: { group: '' },
};

const clone = <T>(o: T): T => structuredClone(o);

export class Store {
  /** The cluster's clock, for creationTimestamp. */
  clock: Clock = SYSTEM_CLOCK;
  private rv = 1;
  /** Events kept for watches that resume from a resourceVersion (etcd keeps ~5 minutes' worth). */
  historySize = 2000;
  private objects = new Map<string, any>();
  private history: StoreEvent[] = [];
  private watchers = new Set<Watcher>();

  get resourceVersion(): number {
    return this.rv;
  }

  /** Oldest resourceVersion a watch can still resume from. */
  get oldestResumable(): number {
    return this.history.length >= this.historySize ? this.history[0].rv - 1 : 0;
  }

  private key(kind: Kind, namespace: string | undefined, name: string) {
    return `${kind}/${namespace ?? ''}/${name}`;
  }

  get(kind: Kind, namespace: string | undefined, name: string): any {
    const obj = this.objects.get(this.key(kind, namespace, name));
    if (!obj) throw notFound(kind, name, RESOURCE[kind].group);
    return clone(obj);
  }

  find(kind: Kind, namespace: string | undefined, name: string): any | undefined {
    const obj = this.objects.get(this.key(kind, namespace, name));
    return obj && clone(obj);
  }

  list(kind: Kind, namespace?: string): any[] {
    const out: any[] = [];
    for (const [key, obj] of this.objects) {
      if (key.startsWith(kind + '/') && (namespace === undefined || obj.metadata.namespace === namespace))
        out.push(clone(obj));
    }
    return out.sort(
      (a, b) =>
        (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') ||
        a.metadata.name.localeCompare(b.metadata.name),
    );
  }

  create(kind: Kind, obj: any): any {
    const { namespace, name } = obj.metadata;
    const key = this.key(kind, namespace, name);
    if (this.objects.has(key)) throw alreadyExists(kind, name, RESOURCE[kind].group);
    obj.metadata.uid ??= randomUUID();
    obj.metadata.creationTimestamp ??= this.clock.iso();
    return this.commit(kind, key, 'ADDED', obj);
  }

  /** Replaces an object; with expectRv set, a different stored resourceVersion is a 409 Conflict. */
  update(kind: Kind, obj: any, expectRv?: string): any {
    const { namespace, name } = obj.metadata;
    const key = this.key(kind, namespace, name);
    const current = this.objects.get(key);
    if (!current) throw notFound(kind, name, RESOURCE[kind].group);
    if (expectRv && expectRv !== current.metadata.resourceVersion) throw conflict(kind, name, RESOURCE[kind].group);
    obj.metadata.uid = current.metadata.uid;
    obj.metadata.creationTimestamp = current.metadata.creationTimestamp;
    if (
      JSON.stringify({ ...obj, metadata: { ...obj.metadata, resourceVersion: undefined } }) ===
      JSON.stringify({ ...current, metadata: { ...current.metadata, resourceVersion: undefined } })
    ) {
      return clone(current); // no-op writes do not bump the resourceVersion, as in the real API
    }
    return this.commit(kind, key, 'MODIFIED', obj);
  }

  delete(kind: Kind, namespace: string | undefined, name: string): any {
    const key = this.key(kind, namespace, name);
    const current = this.objects.get(key);
    if (!current) throw notFound(kind, name, RESOURCE[kind].group);
    this.objects.delete(key);
    const rv = ++this.rv;
    const obj = { ...current, metadata: { ...current.metadata, resourceVersion: String(rv) } };
    this.emit({ rv, kind, type: 'DELETED', object: obj });
    return clone(obj);
  }

  private commit(kind: Kind, key: string, type: EventType, obj: any) {
    const rv = ++this.rv;
    obj.metadata.resourceVersion = String(rv);
    const stored = clone(obj);
    this.objects.set(key, stored);
    this.emit({ rv, kind, type, object: stored });
    return clone(stored);
  }

  private emit(event: StoreEvent) {
    this.history.push(event);
    while (this.history.length > this.historySize) this.history.shift();
    for (const w of this.watchers) if (w.kind === event.kind) w.send({ ...event, object: clone(event.object) });
  }

  /** Events after `rv` still in the history, or undefined when they are gone (410). */
  eventsSince(kind: Kind, rv: number): StoreEvent[] | undefined {
    if (rv < this.oldestResumable) return undefined;
    return this.history.filter((e) => e.kind === kind && e.rv > rv).map((e) => ({ ...e, object: clone(e.object) }));
  }

  watch(kind: Kind, send: (event: StoreEvent) => void): () => void {
    const w = { kind, send };
    this.watchers.add(w);
    return () => this.watchers.delete(w);
  }
}
