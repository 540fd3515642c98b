// Turns a Pod from the API into what the runtime runs, doing the kubelet's part: env from
// ConfigMaps, Secrets and the downward API (envFrom first, then env, as the kubelet orders them),
// and the content of configMap, secret, downwardAPI and projected volumes (including the service
// account token, asked for through TokenRequest with the pod as bound object), written once when
// the pod starts. The node's own identity fetches them, so the Node authorizer decides, as for a
// kubelet: only objects referenced by pods bound to this node are readable.
import type { RuntimeContainerSpec, RuntimePod, RuntimeVolume } from '../../runtime/types';
import { ApiStatusError, type ApiClient } from '../apiClient';
import { quantityValue } from './quantity';

/** Why a container cannot be configured yet; the kubelet reports it and tries again. */
export class PodSetupError extends Error {
  constructor(
    /** CreateContainerConfigError for env, ContainerCreating for volumes (the kubelet waits on the mount). */
    readonly reason: 'CreateContainerConfigError' | 'ContainerCreating',
    message: string,
  ) {
    super(message);
  }
}

type Data = Record<string, Buffer>;

/** Fetches each ConfigMap and Secret once per pod start; base64 Secret data is decoded. */
class Sources {
  private readonly cache = new Map<string, Data | null>();

  constructor(
    private readonly api: ApiClient,
    private readonly namespace: string,
  ) {}

  async get(kind: 'configmaps' | 'secrets', name: string): Promise<Data | null> {
    const key = `${kind}/${name}`;
    if (this.cache.has(key)) return this.cache.get(key)!;
    let data: Data | null;
    try {
      const obj = await this.api.request('GET', `/api/v1/namespaces/${this.namespace}/${kind}/${name}`);
      const entries = (o: Record<string, string> | undefined, encoding: BufferEncoding) =>
        Object.entries(o ?? {}).map(([k, v]) => [k, Buffer.from(v, encoding)] as const);
      data = Object.fromEntries(
        kind === 'secrets'
          ? entries(obj.data, 'base64')
          : [...entries(obj.data, 'utf8'), ...entries(obj.binaryData, 'base64')],
      );
    } catch (err) {
      if (!(err instanceof ApiStatusError && err.code === 404)) throw err;
      data = null;
    }
    this.cache.set(key, data);
    return data;
  }
}

const singular = (kind: 'configmaps' | 'secrets') => (kind === 'configmaps' ? 'configmap' : 'secret');
const title = (kind: 'configmaps' | 'secrets') => (kind === 'configmaps' ? 'ConfigMap' : 'Secret');

export interface PodAddresses {
  podIP: string;
  hostIP: string;
}

/** The value of a downward-API fieldRef, as the kubelet resolves it. */
function fieldValue(pod: any, fieldPath: string, addr: PodAddresses): string {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (m) return pod.metadata[m[1]]?.[m[2]] ?? '';
  switch (fieldPath) {
    case 'metadata.name':
      return pod.metadata.name;
    case 'metadata.namespace':
      return pod.metadata.namespace;
    case 'metadata.uid':
      return pod.metadata.uid;
    case 'metadata.labels':
    case 'metadata.annotations':
      return Object.entries(pod.metadata[fieldPath.split('.')[1]] ?? {})
        .map(
          ([k, v]) =>
            `${k}="${String(v)
              .replace(/(["\\])/g, '\\$1')
              .replace(/\n/g, '\\n')}"`,
        )
        .sort()
        .join('\n');
    case 'spec.nodeName':
      return pod.spec.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName ?? '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return addr.hostIP;
    case 'status.podIP':
    case 'status.podIPs':
      return addr.podIP;
    default:
      throw new PodSetupError('CreateContainerConfigError', `unsupported downward API field "${fieldPath}"`);
  }
}

/** limits.* / requests.* of a container; a missing limit is the node's allocatable, as in the kubelet. */
function resourceValue(pod: any, containerName: string, ref: any, allocatable: Record<string, string>): string {
  const c = (pod.spec.containers ?? []).find((x: any) => x.name === (ref.containerName || containerName));
  const [section, resource] = String(ref.resource).split('.', 2) as [string, string];
  const limit = c?.resources?.limits?.[resource] ?? allocatable[resource];
  const raw = section === 'limits' ? limit : (c?.resources?.requests?.[resource] ?? c?.resources?.limits?.[resource]);
  const divisor = quantityValue(ref.divisor ?? '1') || 1;
  return String(Math.ceil(quantityValue(raw ?? '0') / divisor));
}

/** `$` doubled, so the runtime's $(VAR) expansion leaves a value from a source as it is (kubelet expands only `value`). */
const literal = (s: string) => s.replace(/\$/g, '$$$$');

async function resolveEnv(
  pod: any,
  c: any,
  sources: Sources,
  addr: PodAddresses,
  allocatable: Record<string, string>,
): Promise<{ name: string; value: string }[]> {
  const env = new Map<string, string>();
  /** The ConfigMap's or Secret's data; undefined for a missing optional one (a missing required one throws). */
  const source = async (kind: 'configmaps' | 'secrets', ref: { name: string; optional?: boolean }) => {
    const data = await sources.get(kind, ref.name);
    if (data || ref.optional) return data ?? undefined;
    throw new PodSetupError('CreateContainerConfigError', `${singular(kind)} "${ref.name}" not found`);
  };
  for (const from of c.envFrom ?? []) {
    const data = await source(from.configMapRef ? 'configmaps' : 'secrets', from.configMapRef ?? from.secretRef);
    if (!data) continue;
    for (const [k, v] of Object.entries(data)) env.set(`${from.prefix ?? ''}${k}`, literal(v.toString('utf8')));
  }
  for (const e of c.env ?? []) {
    if (e.value !== undefined && e.value !== '') {
      env.set(e.name, e.value);
      continue;
    }
    const from = e.valueFrom;
    if (!from) {
      env.set(e.name, '');
      continue;
    }
    if (from.fieldRef) env.set(e.name, literal(fieldValue(pod, from.fieldRef.fieldPath, addr)));
    else if (from.resourceFieldRef) env.set(e.name, resourceValue(pod, c.name, from.resourceFieldRef, allocatable));
    else {
      const ref = from.configMapKeyRef ?? from.secretKeyRef;
      const kind = from.configMapKeyRef ? 'configmaps' : 'secrets';
      const data = await source(kind, ref);
      if (!data) continue;
      if (!(ref.key in data)) {
        if (ref.optional) continue;
        throw new PodSetupError(
          'CreateContainerConfigError',
          `couldn't find key ${ref.key} in ${title(kind)} ${pod.metadata.namespace}/${ref.name}`,
        );
      }
      env.set(e.name, literal(data[ref.key].toString('utf8')));
    }
  }
  return [...env].map(([name, value]) => ({ name, value }));
}

type VolumeFile = NonNullable<RuntimeVolume['files']>[number];

/** The files of a configMap or secret source: every key, or the listed items (key -> path, mode). */
async function keyFiles(
  kind: 'configmaps' | 'secrets',
  src: any,
  sources: Sources,
  defaultMode: number,
): Promise<VolumeFile[]> {
  const data = await sources.get(kind, src.name);
  if (!data) {
    if (src.optional) return [];
    throw new PodSetupError('ContainerCreating', `MountVolume.SetUp failed: ${singular(kind)} "${src.name}" not found`);
  }
  const items: { key: string; path: string; mode?: number }[] =
    src.items ?? Object.keys(data).map((key) => ({ key, path: key }));
  const files: VolumeFile[] = [];
  for (const item of items) {
    if (!(item.key in data)) {
      if (src.optional) continue;
      throw new PodSetupError(
        'ContainerCreating',
        `MountVolume.SetUp failed: configuration of volume has no key "${item.key}" in ${title(kind)} ${src.name}`,
      );
    }
    files.push({ path: item.path, data: data[item.key], mode: item.mode ?? defaultMode });
  }
  return files;
}

function downwardFiles(pod: any, items: any[], addr: PodAddresses, allocatable: Record<string, string>, mode: number) {
  return (items ?? []).map((item: any) => ({
    path: item.path,
    data: item.fieldRef
      ? fieldValue(pod, item.fieldRef.fieldPath, addr)
      : resourceValue(pod, '', item.resourceFieldRef, allocatable),
    mode: item.mode ?? mode,
  }));
}

async function serviceAccountToken(api: ApiClient, pod: any, src: any): Promise<string> {
  const sa = pod.spec.serviceAccountName || 'default';
  const res = await api.request('POST', `/api/v1/namespaces/${pod.metadata.namespace}/serviceaccounts/${sa}/token`, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: {
      ...(src.audience ? { audiences: [src.audience] } : {}),
      expirationSeconds: src.expirationSeconds ?? 3607,
      boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid },
    },
  });
  return res.status.token;
}

/** Any failure to fill a volume leaves the pod waiting in ContainerCreating, as a failed mount does. */
async function volumeFilesOrWait(...args: Parameters<typeof volumeFiles>): Promise<VolumeFile[] | undefined> {
  try {
    return await volumeFiles(...args);
  } catch (err) {
    if (err instanceof PodSetupError) throw err;
    throw new PodSetupError(
      'ContainerCreating',
      `MountVolume.SetUp failed for volume "${args[2].name}" : ${(err as Error).message}`,
    );
  }
}

async function volumeFiles(
  api: ApiClient,
  pod: any,
  v: any,
  sources: Sources,
  addr: PodAddresses,
  allocatable: Record<string, string>,
): Promise<VolumeFile[] | undefined> {
  if (v.configMap) return keyFiles('configmaps', v.configMap, sources, v.configMap.defaultMode ?? 0o644);
  if (v.secret)
    return keyFiles('secrets', { ...v.secret, name: v.secret.secretName }, sources, v.secret.defaultMode ?? 0o644);
  if (v.downwardAPI)
    return downwardFiles(pod, v.downwardAPI.items, addr, allocatable, v.downwardAPI.defaultMode ?? 0o644);
  if (v.projected) {
    const mode = v.projected.defaultMode ?? 0o644;
    const files: VolumeFile[] = [];
    for (const s of v.projected.sources ?? []) {
      if (s.configMap) files.push(...(await keyFiles('configmaps', s.configMap, sources, mode)));
      else if (s.secret) files.push(...(await keyFiles('secrets', s.secret, sources, mode)));
      else if (s.downwardAPI) files.push(...downwardFiles(pod, s.downwardAPI.items, addr, allocatable, mode));
      else if (s.serviceAccountToken)
        files.push({
          path: s.serviceAccountToken.path,
          data: await serviceAccountToken(api, pod, s.serviceAccountToken),
          mode,
        });
    }
    return files;
  }
  return undefined;
}

/** Volume kinds whose content comes from the API: mounted read-only, as the kubelet mounts them. */
const CONTENT_VOLUMES = ['configMap', 'secret', 'downwardAPI', 'projected'];

export async function runtimePod(
  api: ApiClient,
  pod: any,
  addr: PodAddresses,
  allocatable: Record<string, string>,
): Promise<RuntimePod> {
  const sources = new Sources(api, pod.metadata.namespace);
  const volumes: RuntimeVolume[] = [];
  const readOnly = new Set<string>();
  for (const v of pod.spec.volumes ?? []) {
    const files = await volumeFilesOrWait(api, pod, v, sources, addr, allocatable);
    if (CONTENT_VOLUMES.some((k) => v[k])) readOnly.add(v.name);
    volumes.push(files ? { name: v.name, files } : { name: v.name, emptyDir: v.emptyDir ?? {} });
  }
  const containers: RuntimeContainerSpec[] = [];
  for (const c of pod.spec.containers ?? []) {
    containers.push({
      ...c,
      env: await resolveEnv(pod, c, sources, addr, allocatable),
      volumeMounts: (c.volumeMounts ?? []).map((m: any) => ({
        name: m.name,
        mountPath: m.mountPath,
        readOnly: m.readOnly === true || readOnly.has(m.name),
      })),
    });
  }
  return {
    metadata: {
      uid: pod.metadata.uid,
      name: pod.metadata.name,
      namespace: pod.metadata.namespace,
      labels: pod.metadata.labels,
    },
    spec: {
      containers,
      volumes,
      restartPolicy: pod.spec.restartPolicy,
      terminationGracePeriodSeconds: pod.spec.terminationGracePeriodSeconds,
      hostname: pod.spec.hostname,
      // runAsUser/runAsGroup/runAsNonRoot and fsGroup, which the runtime applies as a kubelet does.
      securityContext: pod.spec.securityContext,
    },
    status: { podIP: addr.podIP },
  };
}
