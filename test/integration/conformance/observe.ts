// The flows the conformance suite runs on each control plane, each reduced to what must not
// differ between the sandbox's API server and the real one: status codes, error reasons and
// messages, the shapes of the objects Truva reads, kubectl's answers, and the watch events of a
// scale up and down. Names, uids, times and addresses are replaced by placeholders first.
import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import { PassThrough } from 'node:stream';
import { collect } from '../../helpers/streams';
import { AppsV1Api, CoreV1Api, Exec, KubeConfig, Watch } from '@kubernetes/client-node';
import WebSocket from 'ws';
import { READONLY_CONTEXT, type Sandbox } from '../../../sandbox';
import { webDeployment } from '../../../sandbox/seed';
import { kubectl, podNames, waitFor, waitForRollout } from '../../helpers/sandbox';

/** Placeholders for what legitimately differs between two clusters. */
export class Normalizer {
  private readonly names = new Map<string, string>();

  name(real: string, placeholder: string): void {
    if (real && !this.names.has(real)) this.names.set(real, placeholder);
  }

  text(s: string): string {
    let out = s;
    // Longest first, so a pod name is not half replaced by its deployment's name.
    for (const [real, placeholder] of [...this.names].sort((a, b) => b[0].length - a[0].length))
      out = out.split(real).join(placeholder);
    return out
      .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, '<uid>')
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>')
      .replace(/\b127\.\d+\.\d+\.\d+\b/g, '<ip>');
  }
}

/** The type of every leaf, keys sorted: what a reader of the object can rely on being there. */
export function shapeOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 0 ? [] : [shapeOf(value[0])];
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, shapeOf((value as any)[k])]),
    );
  return value === null ? 'null' : typeof value;
}

const plain = (o: unknown) => JSON.parse(JSON.stringify(o));

/** An HTTP answer: its status code and its body, as JSON where it is JSON. */
function answer(res: IncomingMessage): Promise<{ code: number; body: any }> {
  return new Promise((resolve) => {
    let text = '';
    res.on('data', (d) => (text += d));
    res.on('end', () => {
      let body: any = text;
      try {
        body = JSON.parse(text);
      } catch {}
      resolve({ code: res.statusCode ?? 0, body });
    });
  });
}

function request(sb: Sandbox, method: string, path: string, token: string | undefined, body?: unknown, type?: string) {
  return new Promise<{ code: number; body: any }>((resolve, reject) => {
    const req = https.request(
      `${sb.url}${path}`,
      {
        method,
        ca: sb.caCertPem,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'content-type': type ?? 'application/json' } : {}),
        },
      },
      (res) => void answer(res).then(resolve),
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** A refused WebSocket upgrade (exec): the HTTP status and the Status it carries. */
function upgrade(sb: Sandbox, path: string, token: string) {
  return new Promise<{ code: number; body: any }>((resolve) => {
    const ws = new WebSocket(`${sb.url.replace('https', 'wss')}${path}`, ['v5.channel.k8s.io', 'v4.channel.k8s.io'], {
      ca: sb.caCertPem,
      headers: { authorization: `Bearer ${token}` },
    });
    ws.on('unexpected-response', (_req, res) => void answer(res).then(resolve));
    ws.on('open', () => {
      ws.close();
      resolve({ code: 101, body: '' });
    });
    ws.on('error', () => undefined);
  });
}

export type Observation = Record<string, unknown>;

/** Runs every flow on one control plane; `app` is the flows' own deployment (the same name on both). */
export async function observe(sb: Sandbox, app: string): Promise<Observation> {
  const n = new Normalizer();
  n.name(app, '<app>');
  const kc = new KubeConfig();
  kc.loadFromFile(sb.kubeconfigPath);
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const status = (r: { code: number; body: any }) =>
    typeof r.body === 'object'
      ? { code: r.code, kind: r.body.kind, reason: r.body.reason, message: n.text(String(r.body.message)) }
      : { code: r.code, text: n.text(String(r.body).trim()) };
  const out: Observation = {};

  // Watch the app's pods from before it exists, to the end of the scale down.
  const podEvents: { type: string; pod: any }[] = [];
  const startRv = (await core.listNamespacedPod({ namespace: 'demo', labelSelector: `app=${app}` })).metadata!
    .resourceVersion!;
  const stopWatch = await new Watch(kc).watch(
    '/api/v1/namespaces/demo/pods',
    { labelSelector: `app=${app}`, resourceVersion: startRv },
    (type, pod) => podEvents.push({ type, pod: plain(pod) }),
    () => undefined,
  );

  await apps.createNamespacedDeployment({ namespace: 'demo', body: webDeployment(app, 1) });
  await waitForRollout(sb, app, 'demo', 60_000);
  const [pod] = await podNames(sb, app);
  n.name(pod, '<pod>');
  n.name(pod.split('-').slice(0, -1).join('-'), '<replicaset>');

  const admin = sb.tokens.admin;
  const base = '/apis/apps/v1/namespaces/demo/deployments';
  const current = (await request(sb, 'GET', `${base}/${app}`, admin)).body;
  await request(
    sb,
    'PATCH',
    `${base}/${app}`,
    admin,
    { metadata: { labels: { touched: 'yes' } } },
    'application/merge-patch+json',
  );
  const invalid = webDeployment(`${app}-invalid`, 1);
  invalid.spec.template.metadata.labels = { app: 'other' };
  n.name(`${app}-invalid`, '<app>-invalid');
  out.errors = {
    notFound: status(await request(sb, 'GET', `${base}/${app}-nope`, admin)),
    alreadyExists: status(await request(sb, 'POST', base, admin, webDeployment(app, 1))),
    conflict: status(await request(sb, 'PUT', `${base}/${app}`, admin, current)),
    invalid: status(await request(sb, 'POST', base, admin, invalid)),
    unauthorized: status(await request(sb, 'GET', '/api/v1/namespaces/demo/pods', 'wrong')),
    anonymous: status(await request(sb, 'GET', '/api/v1/namespaces/demo/pods', undefined)),
    forbidden: status(
      await request(
        sb,
        'PATCH',
        `${base}/${app}`,
        sb.tokens.readonly,
        { spec: { replicas: 3 } },
        'application/merge-patch+json',
      ),
    ),
    forbiddenExec: status(
      await upgrade(sb, `/api/v1/namespaces/demo/pods/${pod}/exec?command=true&stdout=true`, sb.tokens.readonly),
    ),
    execNoPod: status(
      await upgrade(sb, `/api/v1/namespaces/demo/pods/${app}-nope/exec?command=true&stdout=true`, admin),
    ),
    execBadContainer: status(
      await upgrade(sb, `/api/v1/namespaces/demo/pods/${pod}/exec?command=true&stdout=true&container=bogus`, admin),
    ),
    logsBadContainer: status(
      await request(sb, 'GET', `/api/v1/namespaces/demo/pods/${pod}/log?container=bogus`, admin),
    ),
    logsNoPrevious: status(await request(sb, 'GET', `/api/v1/namespaces/demo/pods/${pod}/log?previous=true`, admin)),
    scaleNegative: status(
      await request(
        sb,
        'PATCH',
        `${base}/${app}/scale`,
        admin,
        { spec: { replicas: -1 } },
        'application/merge-patch+json',
      ),
    ),
  };

  const run = async (args: string[], context?: string) => {
    const r = await kubectl(sb, args, { context });
    return { code: r.code, stdout: n.text(r.stdout.trim()), stderr: n.text(r.stderr.trim()) };
  };
  out.kubectl = {
    getMissing: await run(['get', 'deploy', `${app}-nope`]),
    deleteReadonly: await run(['delete', 'pod', pod], READONLY_CONTEXT),
    canIPatchReadonly: await run(['auth', 'can-i', 'patch', 'deployments'], READONLY_CONTEXT),
    canIGetReadonly: await run(['auth', 'can-i', 'get', 'pods'], READONLY_CONTEXT),
    canIPatchAdmin: await run(['auth', 'can-i', 'patch', 'deployments']),
    execMissingPod: await run(['exec', `${app}-nope`, '--', 'true']),
    execExit3: await run(['exec', pod, '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']),
    logsBadContainer: await run(['logs', pod, '-c', 'bogus']),
    rolloutStatus: await run(['rollout', 'status', `deploy/${app}`]),
    // Column widths follow the names' lengths (the hash in a pod's name varies in length).
    podsColumns: (await run(['get', 'pods', '-l', `app=${app}`])).stdout.split('\n')[0].replace(/\s+/g, ' '),
  };

  const exec = async (command: string[]) => {
    const stdout = collect();
    const result = await new Promise<any>((resolve, reject) => {
      new Exec(kc)
        .exec('demo', pod, 'web', command, stdout, null, new PassThrough().end(), false, resolve)
        .catch(reject);
    });
    return { status: n.text(JSON.stringify(result)), stdout: stdout.text() };
  };
  out.exec = { ok: await exec(['echo', 'hi']), fails: await exec(['sh', '-c', 'exit 3']) };

  // Scale up and down, so the watch sees pods added, becoming ready, terminating and removed.
  await kubectl(sb, ['scale', `deploy/${app}`, '--replicas=2']);
  await waitForRollout(sb, app, 'demo', 60_000);
  await kubectl(sb, ['scale', `deploy/${app}`, '--replicas=1']);
  await waitForRollout(sb, app, 'demo', 60_000);
  await waitFor(() => podEvents.filter((e) => e.type === 'DELETED').length >= 1, 60_000, 'the scaled-down pod removed');

  const deployment = plain(await apps.readNamespacedDeployment({ name: app, namespace: 'demo' }));
  const sets = plain(await apps.listNamespacedReplicaSet({ namespace: 'demo', labelSelector: `app=${app}` })).items;
  const pods = plain(await core.listNamespacedPod({ namespace: 'demo', labelSelector: `app=${app}` })).items;
  const p = pods[0];
  out.deployment = {
    metadataKeys: Object.keys(deployment.metadata).sort(),
    annotations: Object.keys(deployment.metadata.annotations ?? {}).sort(),
    spec: shapeOf({ ...deployment.spec, template: undefined }),
    template: shapeOf(deployment.spec.template),
    status: shapeOf({ ...deployment.status, conditions: undefined }),
    conditions: deployment.status.conditions.map((c: any) => `${c.type}=${c.status} ${c.reason}`).sort(),
    counts: ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas'].map((k) => deployment.status[k]),
  };
  out.replicaSets = {
    count: sets.length,
    namedAfterTheDeployment: sets.every((s: any) => new RegExp(`^${app}-[a-z0-9]+$`).test(s.metadata.name)),
    labels: Object.keys(sets[0].metadata.labels).sort(),
    annotations: Object.keys(sets[0].metadata.annotations ?? {}).sort(),
    ownerReferences: sets[0].metadata.ownerReferences.map((r: any) => shapeOf(r)),
    replicas: sets.map((s: any) => s.spec.replicas).sort(),
    status: shapeOf(sets.find((s: any) => s.spec.replicas > 0).status),
  };
  out.pod = {
    count: pods.length,
    namedAfterTheReplicaSet: pods.every((x: any) => new RegExp(`^${app}-[a-z0-9]+-[a-z0-9]{5}$`).test(x.metadata.name)),
    metadataKeys: Object.keys(p.metadata).sort(),
    labels: Object.keys(p.metadata.labels).sort(),
    ownerReference: shapeOf(p.metadata.ownerReferences),
    specKeys: Object.keys(p.spec).sort(),
    statusKeys: Object.keys(p.status).sort(),
    phase: p.status.phase,
    conditions: p.status.conditions.map((c: any) => `${c.type}=${c.status}`),
    containerStatus: shapeOf(p.status.containerStatuses[0]),
  };

  // Per pod, the milestones of its events: how it appears, that it becomes ready, how its deletion
  // starts, its last state and how it goes. (How many status writes lie between is timing.)
  stopWatch.abort();
  const byPod = new Map<string, string[]>();
  for (const e of podEvents) {
    const ready = (e.pod.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
    const deleting = e.pod.metadata.deletionTimestamp ? ' terminating' : '';
    byPod.set(e.pod.metadata.name, [
      ...(byPod.get(e.pod.metadata.name) ?? []),
      `${e.type} ${e.pod.status?.phase}${ready ? ' ready' : ''}${deleting}`,
    ]);
  }
  out.watch = [...byPod.values()]
    .map((steps) => {
      const deleted = steps.findIndex((x) => x.startsWith('DELETED'));
      return {
        first: steps[0],
        becomesReady: steps.some((x) => x.includes(' ready')),
        deletionStarts: steps.find((x) => x.endsWith('terminating')),
        lastBeforeDeleted: deleted > 0 ? steps[deleted - 1] : undefined,
        deleted: deleted >= 0 ? steps[deleted] : undefined,
      };
    })
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  await apps.deleteNamespacedDeployment({ name: app, namespace: 'demo' });
  return out;
}
