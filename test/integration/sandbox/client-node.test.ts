// The same flows as the kubectl suite through @kubernetes/client-node 1.x (the client Truva uses):
// typed APIs, Watch, Log and Exec over WebSocket, plus the error statuses clients must handle.
import { strict as assert } from 'node:assert';
import * as https from 'node:https';
import { PassThrough } from 'node:stream';
import { collect } from '../../helpers/streams';
import {
  AppsV1Api,
  CoreV1Api,
  Exec,
  KubeConfig,
  Log,
  PatchStrategy,
  Watch,
  setHeaderOptions,
  type V1Status,
} from '@kubernetes/client-node';
import { READONLY_CONTEXT, startSandbox, type Sandbox } from '../../../sandbox';
import {
  createTestDeployment,
  podNames,
  sharedSandbox,
  uniqueName,
  waitFor,
  waitForRollout,
} from '../../helpers/sandbox';

function kubeConfig(sandbox: Sandbox, context?: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(sandbox.kubeconfigPath);
  if (context) kc.setCurrentContext(context);
  return kc;
}

async function exec(kc: KubeConfig, pod: string, command: string[], stdin?: string) {
  const stdout = collect();
  const stderr = collect();
  const input = stdin === undefined ? null : new PassThrough();
  const status = await new Promise<V1Status>((resolve, reject) => {
    new Exec(kc).exec('demo', pod, 'web', command, stdout, stderr, input, false, resolve).catch(reject);
    input?.end(stdin);
  });
  return { status, stdout: stdout.text(), stderr: stderr.text() };
}

/** client-node's ApiException carries the HTTP code; the body is the Status as text. */
async function statusOf(call: Promise<unknown>): Promise<{ code: number; body: any }> {
  try {
    await call;
  } catch (err: any) {
    if (typeof err.code !== 'number') throw err;
    return { code: err.code, body: typeof err.body === 'string' ? JSON.parse(err.body) : err.body };
  }
  assert.fail('the call succeeded');
}

describe('sandbox through @kubernetes/client-node', function () {
  this.timeout(90_000);
  let sandbox: Sandbox;
  let kc: KubeConfig;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  let app: string;
  let pods: string[];

  before(async () => {
    sandbox = await sharedSandbox();
    kc = kubeConfig(sandbox);
    apps = kc.makeApiClient(AppsV1Api);
    core = kc.makeApiClient(CoreV1Api);
    app = uniqueName('cn');
    await createTestDeployment(sandbox, { name: app, replicas: 2 });
    pods = await podNames(sandbox, app);
  });

  it('lists deployments, replicasets and pods with selectors', async () => {
    const deployments = await apps.listNamespacedDeployment({ namespace: 'demo', labelSelector: `app=${app}` });
    assert.deepEqual(
      deployments.items.map((d) => d.metadata!.name),
      [app],
    );
    const all = await apps.listDeploymentForAllNamespaces();
    assert.ok(all.items.some((d) => d.metadata!.name === 'web'));
    const rs = await apps.listNamespacedReplicaSet({ namespace: 'demo', labelSelector: `app=${app}` });
    assert.equal(rs.items.length, 1);
    assert.equal(rs.items[0].metadata!.ownerReferences![0].name, app);
    const hash = rs.items[0].metadata!.labels!['pod-template-hash'];
    const podList = await core.listNamespacedPod({ namespace: 'demo', labelSelector: `app=${app}` });
    assert.equal(podList.items.length, 2);
    for (const p of podList.items) {
      assert.ok(p.metadata!.name!.startsWith(`${app}-${hash}-`), p.metadata!.name);
      assert.equal(p.status!.phase, 'Running');
      assert.equal(p.status!.conditions!.find((c) => c.type === 'Ready')!.status, 'True');
    }
    const byName = await core.listNamespacedPod({ namespace: 'demo', fieldSelector: `metadata.name=${pods[0]}` });
    assert.deepEqual(
      byName.items.map((p) => p.metadata!.name),
      [pods[0]],
    );
    const pending = await core.listNamespacedPod({
      namespace: 'demo',
      labelSelector: `app=${app}`,
      fieldSelector: 'status.phase=Pending',
    });
    assert.equal(pending.items.length, 0);
    const namespaces = await core.listNamespace();
    assert.ok(namespaces.items.some((n) => n.metadata!.name === 'demo'));
  });

  it('exec over WebSocket: stdout, stdin, and the exit status as the real API sends it', async () => {
    const ok = await exec(kc, pods[0], ['sh', '-c', 'echo $HOSTNAME; pwd']);
    assert.equal(ok.stdout, `${pods[0]}\n/app\n`);
    assert.equal(ok.status.status, 'Success');
    const echoed = await exec(kc, pods[0], ['cat'], 'from stdin\n');
    assert.equal(echoed.stdout, 'from stdin\n');
    const failed = await exec(kc, pods[0], ['sh', '-c', 'echo oops >&2; exit 3']);
    assert.equal(failed.stderr, 'oops\n');
    assert.deepEqual(JSON.parse(JSON.stringify(failed.status)), {
      metadata: {},
      status: 'Failure',
      message:
        'command terminated with non-zero exit code: error executing command [sh -c echo oops >&2; exit 3], exit code 3',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
  });

  it('Log follows a container and sees new lines', async () => {
    const out = collect();
    const abort = await new Log(kc).log('demo', pods[0], 'web', out, { follow: true, tailLines: 1 });
    try {
      const marker = `cn-marker-${Date.now()}`;
      await exec(kc, pods[0], ['node', '-e', `fetch('http://127.0.0.1:8080/${marker}').then(r=>r.text())`]);
      await waitFor(() => out.text().includes(marker), 10_000, 'the request line in the followed log');
    } finally {
      abort.abort();
    }
    const tail = collect();
    await new Promise<void>((resolve, reject) => {
      tail.on('finish', resolve);
      new Log(kc).log('demo', pods[0], 'web', tail, { tailLines: 2, timestamps: true }).catch(reject);
    });
    const lines = tail.text().trimEnd().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z /);
  });

  it('Watch sees ADDED, MODIFIED and DELETED for pods as a deployment scales', async () => {
    const events: string[] = [];
    const list = await core.listNamespacedPod({ namespace: 'demo', labelSelector: `app=${app}` });
    const abort = await new Watch(kc).watch(
      '/api/v1/namespaces/demo/pods',
      { labelSelector: `app=${app}`, resourceVersion: list.metadata!.resourceVersion, allowWatchBookmarks: true },
      (type, obj) => events.push(`${type} ${obj.metadata?.name}`),
      () => undefined,
    );
    try {
      await apps.patchNamespacedDeployment(
        { name: app, namespace: 'demo', body: { spec: { replicas: 3 } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      await waitFor(() => events.some((e) => e.startsWith('ADDED')), 15_000, 'an ADDED event');
      await waitFor(() => events.some((e) => e.startsWith('MODIFIED')), 15_000, 'a MODIFIED event');
      await apps.patchNamespacedDeployment(
        { name: app, namespace: 'demo', body: { spec: { replicas: 2 } } },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      );
      await waitFor(() => events.some((e) => e.startsWith('DELETED')), 20_000, 'a DELETED event');
    } finally {
      abort.abort();
    }
    await waitForRollout(sandbox, app);
  });

  it('patches with all three types, and a template change rolls every pod over', async () => {
    const before = await apps.readNamespacedDeployment({ name: app, namespace: 'demo' });
    await apps.patchNamespacedDeployment(
      { name: app, namespace: 'demo', body: [{ op: 'add', path: '/metadata/annotations', value: { viaJson: 'yes' } }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    const annotated = await apps.readNamespacedDeployment({ name: app, namespace: 'demo' });
    assert.equal(annotated.metadata!.annotations!.viaJson, 'yes');
    // The deployment registry counts annotation changes as changes of intent (PrepareForUpdate).
    assert.equal(
      annotated.metadata!.generation,
      before.metadata!.generation! + 1,
      'annotation changes bump generation too (they are copied to ReplicaSets)',
    );
    const body = {
      spec: { template: { spec: { containers: [{ name: 'web', env: [{ name: 'ROLLED', value: '1' }] }] } } },
    };
    const patched = await apps.patchNamespacedDeployment(
      { name: app, namespace: 'demo', body },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    assert.equal(patched.metadata!.generation, annotated.metadata!.generation! + 1);
    assert.deepEqual(patched.spec!.template.spec!.containers[0].env!.map((e) => e.name).sort(), ['PORT', 'ROLLED']);
    await waitForRollout(sandbox, app);
    const d = await apps.readNamespacedDeployment({ name: app, namespace: 'demo' });
    assert.deepEqual(d.status!.conditions!.map((c) => `${c.type}=${c.status}`).sort(), [
      'Available=True',
      'Progressing=True',
    ]);
    assert.equal(d.status!.conditions!.find((c) => c.type === 'Progressing')!.reason, 'NewReplicaSetAvailable');
    const now = await podNames(sandbox, app);
    assert.equal(now.filter((p) => pods.includes(p)).length, 0);
    const rs = await apps.listNamespacedReplicaSet({ namespace: 'demo', labelSelector: `app=${app}` });
    assert.equal(rs.items.length, 2, 'the old ReplicaSet stays, scaled to zero');
    assert.deepEqual(rs.items.map((r) => r.spec!.replicas).sort(), [0, 2]);
    pods = now;
  });

  it('deleting a pod gets it replaced', async () => {
    await core.deleteNamespacedPod({ name: pods[0], namespace: 'demo' });
    await waitFor(
      async () => {
        const p = await podNames(sandbox, app);
        return p.length === 2 && !p.includes(pods[0]);
      },
      30_000,
      'a replacement pod',
    );
    pods = await podNames(sandbox, app);
  });

  it('replace with a stale resourceVersion is 409 Conflict', async () => {
    const d = await apps.readNamespacedDeployment({ name: app, namespace: 'demo' });
    await apps.patchNamespacedDeployment(
      { name: app, namespace: 'demo', body: { metadata: { labels: { touched: 'yes' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const { code, body } = await statusOf(apps.replaceNamespacedDeployment({ name: app, namespace: 'demo', body: d }));
    assert.equal(code, 409);
    assert.equal(body.reason, 'Conflict');
    assert.match(body.message, new RegExp(`Operation cannot be fulfilled on deployments.apps "${app}"`));
  });

  it('a pod starts at generation 1, a spec change bumps it, and the node reports the new one as observed', async () => {
    const name = pods[1];
    const observed = async (generation: number) => {
      const s = (await core.readNamespacedPod({ name, namespace: 'demo' })).status!;
      return s.observedGeneration === generation && s.conditions!.every((c) => c.observedGeneration === generation);
    };
    const before = await core.readNamespacedPod({ name, namespace: 'demo' });
    assert.equal(before.metadata!.generation, 1);
    await waitFor(() => observed(1), 30_000, 'generation 1 observed');
    // Tolerations may only grow on a running pod: add one that matches no taint.
    const patched = await core.patchNamespacedPod(
      {
        name,
        namespace: 'demo',
        body: {
          spec: {
            tolerations: [
              ...before.spec!.tolerations!,
              { key: 'truva.test/none', operator: 'Exists', effect: 'NoSchedule' },
            ],
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    assert.equal(patched.metadata!.generation, 2);
    await waitFor(() => observed(2), 30_000, 'generation 2 observed by the node');
    const relabelled = await core.patchNamespacedPod(
      { name, namespace: 'demo', body: { metadata: { labels: { touched: 'yes' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    assert.equal(relabelled.metadata!.generation, 2, 'metadata changes leave the generation');
  });

  it("a wrong token is 401, no token the anonymous user's 403; the read-only user gets 403 on writes and exec", async () => {
    const wrongToken = kubeConfig(sandbox);
    wrongToken.users[0] = { ...wrongToken.users[0], token: 'wrong' } as never;
    const unauthorized = await statusOf(wrongToken.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'demo' }));
    assert.equal(unauthorized.code, 401);
    // client-node drops a 401's body, so read the Status raw.
    const raw = (path: string, headers: Record<string, string>) =>
      new Promise<{ code: number; body: any }>((resolve, reject) => {
        https
          .get(`${sandbox.url}${path}`, { ca: sandbox.caCertPem, headers }, (res) => {
            let text = '';
            res
              .on('data', (d) => (text += d))
              .on('end', () => resolve({ code: res.statusCode!, body: JSON.parse(text) }));
          })
          .on('error', reject);
      });
    const wrong = await raw('/api/v1/namespaces/demo/pods', { authorization: 'Bearer wrong' });
    assert.equal(wrong.code, 401);
    assert.deepEqual([wrong.body.kind, wrong.body.reason, wrong.body.code], ['Status', 'Unauthorized', 401]);
    // Without a token the request is system:anonymous's (kube-apiserver's default
    // --anonymous-auth=true), whom RBAC lets see health and version only.
    const anonymous = await raw('/api/v1/namespaces/demo/pods', {});
    assert.deepEqual([anonymous.code, anonymous.body.reason], [403, 'Forbidden']);
    assert.equal(
      anonymous.body.message,
      'pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" in the namespace "demo"',
    );
    const discovery = await raw('/apis', {});
    assert.deepEqual(
      [discovery.code, discovery.body.message],
      [403, 'forbidden: User "system:anonymous" cannot get path "/apis"'],
    );

    const ro = kubeConfig(sandbox, READONLY_CONTEXT);
    assert.ok((await ro.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'demo' })).items.length > 0);
    const forbidden = await statusOf(
      ro
        .makeApiClient(AppsV1Api)
        .patchNamespacedDeployment(
          { name: app, namespace: 'demo', body: { spec: { replicas: 5 } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        ),
    );
    assert.equal(forbidden.code, 403);
    assert.equal(
      forbidden.body.message,
      `deployments.apps "${app}" is forbidden: User "readonly" cannot patch resource "deployments" in API group "apps" in the namespace "demo"`,
    );
    // client-node rejects with the WebSocket's ErrorEvent, whose message carries the HTTP status.
    const execError = await exec(ro, pods[0], ['true']).then(
      () => undefined,
      (e) => e,
    );
    assert.match(String(execError?.message), /403/);
  });

  it('a watch from a resourceVersion older than the history is answered with 410 Gone', async () => {
    // A sandbox of its own with a short history, so a few writes push the window past `start`
    // (the sandbox's API server: the real one keeps history by time, in its watch cache).
    const small = await startSandbox({ controlPlane: 'sandbox', seed: false, watchHistory: 12 });
    try {
      const skc = kubeConfig(small);
      const sapps = skc.makeApiClient(AppsV1Api);
      const start = Number((await sapps.listNamespacedDeployment({ namespace: 'demo' })).metadata!.resourceVersion);
      const name = 'churn';
      await sapps.createNamespacedDeployment({
        namespace: 'demo',
        body: {
          metadata: { name },
          spec: {
            replicas: 0,
            selector: { matchLabels: { app: name } },
            template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'web' }] } },
          },
        },
      });
      for (let i = 0; i < 10; i++) {
        await sapps.patchNamespacedDeployment(
          { name, namespace: 'demo', body: { metadata: { annotations: { n: String(i) } } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
      }
      const watchFrom = (rv: number) => {
        const events: { type: string; obj: any }[] = [];
        let abort: AbortController | undefined;
        const ended = new Promise<void>((resolve) => {
          void new Watch(skc)
            .watch(
              '/apis/apps/v1/namespaces/demo/deployments',
              { resourceVersion: String(rv) },
              (type, obj) => events.push({ type, obj }),
              () => resolve(),
            )
            .then((a) => (abort = a));
        });
        return { events, ended, stop: () => abort?.abort() };
      };
      const old = watchFrom(start);
      await old.ended;
      assert.equal(old.events.length, 1);
      assert.equal(old.events[0].type, 'ERROR');
      assert.equal(old.events[0].obj.code, 410);
      assert.equal(old.events[0].obj.reason, 'Expired');
      // A recent resourceVersion inside the window replays what came after it, and stays open.
      // (The controller's own writes, copying annotations to the ReplicaSet, share the window.)
      const current = Number(
        (await sapps.readNamespacedDeployment({ name, namespace: 'demo' })).metadata!.resourceVersion,
      );
      for (const n of ['a', 'b'])
        await sapps.patchNamespacedDeployment(
          { name, namespace: 'demo', body: { metadata: { annotations: { n } } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
      const recent = watchFrom(current);
      // Each annotation change is a write of its own, then the controller's status write (generation bumps).
      await waitFor(
        () => recent.events.some((e) => e.obj.metadata?.annotations?.n === 'b'),
        5_000,
        'the events after the resourceVersion',
      );
      assert.ok(recent.events.every((e) => e.type === 'MODIFIED'));
      assert.equal(recent.events[0].obj.metadata.annotations.n, 'a');
      recent.stop();
    } finally {
      await small.stop();
    }
  });
});
