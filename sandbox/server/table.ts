// Server-side printing: `kubectl get` asks for a meta.k8s.io/v1 Table (Accept: ...;as=Table) and
// prints its columns. The columns and cells are those of Kubernetes' own printers
// (pkg/printers/internalversion/printers.go), so `kubectl get pods` shows READY, STATUS, RESTARTS
// and AGE as on a cluster instead of only NAME and AGE.
import type { Kind } from './store';

interface Column {
  name: string;
  type: string;
  format?: string;
  priority?: number;
}

const NAME: Column = { name: 'Name', type: 'string', format: 'name' };
const AGE: Column = { name: 'Age', type: 'string' };
const wide = (name: string, type = 'string'): Column => ({ name, type, priority: 1 });

const COLUMNS: Record<Kind, Column[]> = {
  pods: [
    NAME,
    { name: 'Ready', type: 'string' },
    { name: 'Status', type: 'string' },
    { name: 'Restarts', type: 'string' },
    AGE,
    wide('IP'),
    wide('Node'),
    wide('Nominated Node'),
    wide('Readiness Gates'),
  ],
  deployments: [
    NAME,
    { name: 'Ready', type: 'string' },
    { name: 'Up-to-date', type: 'string' },
    { name: 'Available', type: 'string' },
    AGE,
    wide('Containers'),
    wide('Images'),
    wide('Selector'),
  ],
  replicasets: [
    NAME,
    { name: 'Desired', type: 'integer' },
    { name: 'Current', type: 'integer' },
    { name: 'Ready', type: 'integer' },
    AGE,
    wide('Containers'),
    wide('Images'),
    wide('Selector'),
  ],
  namespaces: [NAME, { name: 'Status', type: 'string' }, AGE],
};

/** duration.HumanDuration: the age as kubectl prints it (5s, 3m20s, 2h, 4d...). */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8)
    return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  return `${Math.floor(hours / 24 / 365)}y`;
}

const since = (time: string | undefined) => (time ? humanDuration(Date.now() - Date.parse(time)) : '<unknown>');

function selectorString(selector: any): string {
  const parts = Object.entries(selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector?.matchExpressions ?? []) {
    if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
    else parts.push(`${e.key} ${e.operator === 'In' ? 'in' : 'notin'} (${[...e.values].sort().join(',')})`);
  }
  return parts.sort().join(',') || '<none>';
}

const containerCells = (containers: any[] = []) => [
  containers.map((c) => c.name).join(','),
  containers.map((c) => c.image).join(','),
];

/** printPod: the STATUS column is the pod's phase, or the reason of its most telling container. */
function podCells(pod: any): unknown[] {
  const statuses: any[] = pod.status?.containerStatuses ?? [];
  let reason: string = pod.status?.reason || pod.status?.phase || '';
  let restarts = 0;
  let ready = 0;
  let lastRestart = 0;
  let hasRunning = false;
  let errorReason = '';
  for (let i = statuses.length - 1; i >= 0; i--) {
    const c = statuses[i];
    restarts += c.restartCount ?? 0;
    const finished = c.lastState?.terminated?.finishedAt;
    if (finished) lastRestart = Math.max(lastRestart, Date.parse(finished));
    const t = c.state?.terminated;
    if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
    else if (t) {
      reason = t.reason || (t.signal ? `Signal:${t.signal}` : `ExitCode:${t.exitCode}`);
      if (t.exitCode !== 0) errorReason = reason;
    } else if (c.ready && c.state?.running) {
      hasRunning = true;
      ready++;
    }
  }
  if (reason === 'Completed') {
    const podReady = (pod.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
    if (hasRunning && podReady) reason = 'Running';
    else if (errorReason) reason = errorReason;
    else if (hasRunning) reason = 'NotReady';
  }
  const terminal = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
  if (pod.metadata.deletionTimestamp && !terminal) reason = 'Terminating';
  const restartText =
    restarts !== 0 && lastRestart > 0
      ? `${restarts} (${humanDuration(Date.now() - lastRestart)} ago)`
      : String(restarts);
  const gates: any[] = pod.spec?.readinessGates ?? [];
  const gatesText = gates.length
    ? `${gates.filter((g) => (pod.status?.conditions ?? []).some((c: any) => c.type === g.conditionType && c.status === 'True')).length}/${gates.length}`
    : '<none>';
  return [
    pod.metadata.name,
    `${ready}/${(pod.spec?.containers ?? []).length}`,
    reason,
    restartText,
    since(pod.metadata.creationTimestamp),
    pod.status?.podIPs?.[0]?.ip || '<none>',
    pod.spec?.nodeName || '<none>',
    pod.status?.nominatedNodeName || '<none>',
    gatesText,
  ];
}

function cells(kind: Kind, obj: any): unknown[] {
  const age = since(obj.metadata.creationTimestamp);
  switch (kind) {
    case 'pods':
      return podCells(obj);
    case 'deployments':
      return [
        obj.metadata.name,
        `${obj.status?.readyReplicas ?? 0}/${obj.spec?.replicas ?? 0}`,
        obj.status?.updatedReplicas ?? 0,
        obj.status?.availableReplicas ?? 0,
        age,
        ...containerCells(obj.spec?.template?.spec?.containers),
        selectorString(obj.spec?.selector),
      ];
    case 'replicasets':
      return [
        obj.metadata.name,
        obj.spec?.replicas ?? 0,
        obj.status?.replicas ?? 0,
        obj.status?.readyReplicas ?? 0,
        age,
        ...containerCells(obj.spec?.template?.spec?.containers),
        selectorString(obj.spec?.selector),
      ];
    case 'namespaces':
      return [obj.metadata.name, obj.status?.phase ?? '', age];
  }
}

/** Whether the client asked for a Table (kubectl get does; client libraries do not). */
export function wantsTable(accept: string | undefined): boolean {
  return /as=Table/.test(accept ?? '') && /g=meta\.k8s\.io/.test(accept ?? '');
}

/** The Table for a list or a single object of `kind`, rows carrying each object's metadata. */
export function toTable(kind: Kind, body: any): unknown {
  const items: any[] = Array.isArray(body.items) ? body.items : [body];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion: body.metadata?.resourceVersion ?? '' },
    columnDefinitions: COLUMNS[kind].map((c) => ({ description: '', format: '', priority: 0, ...c })),
    rows: items.map((obj) => ({
      cells: cells(kind, obj),
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata },
    })),
  };
}

/** `body` as the client asked for it: a Table for kubectl get, else as it is. */
export function tableIfAsked(accept: string | undefined, kind: Kind, body: any): unknown {
  return wantsTable(accept) ? toTable(kind, body) : body;
}
