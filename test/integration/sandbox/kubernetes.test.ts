// The real control plane and its node agent: kubectl sees the real server, the Node and its Lease
// are kept as a kubelet keeps them, exec goes to the node over WebSocket without SPDY, and pods
// get what a kubelet gives them (env and volumes from ConfigMaps, Secrets, the downward API and a
// bound service-account token; status; liveness restarts; graceful deletion; logs, attach and
// port-forward).
import { strict as assert } from 'node:assert';
import https from 'node:https';
import { PassThrough } from 'node:stream';
import { collect } from '../../helpers/streams';
import { Attach, CoreV1Api, Exec, KubeConfig, Log, PortForward, Watch, type V1Pod } from '@kubernetes/client-node';
import type { Sandbox } from '../../../sandbox';
import { kubernetesVersion } from '../../../sandbox/kubernetes/binaries';
import { createTestDeployment, kubectl, podNames, sandboxOn, uniqueName, waitFor } from '../../helpers/sandbox';

describe('the real control plane and its node agent', function () {
  this.timeout(120_000);
  let sandbox: Sandbox;
  let kc: KubeConfig;
  let core: CoreV1Api;

  const exec = async (pod: string, container: string, command: string[]) => {
    const stdout = collect();
    const stderr = collect();
    const status = await new Promise<any>((resolve, reject) => {
      new Exec(kc).exec('demo', pod, container, command, stdout, stderr, null, false, resolve).catch(reject);
    });
    return { status, stdout: stdout.text(), stderr: stderr.text() };
  };
  const sh = async (pod: string, script: string, container = 'main') =>
    (await exec(pod, container, ['sh', '-c', script])).stdout;

  /** Creates a bare pod and waits until its phase is one of `phases`. */
  const runPod = async (pod: any, phases = ['Running']): Promise<V1Pod> => {
    await core.createNamespacedPod({ namespace: 'demo', body: pod });
    return waitFor(
      async () => {
        const p = await core.readNamespacedPod({ name: pod.metadata.name, namespace: 'demo' });
        return phases.includes(p.status?.phase ?? '') &&
          (p.status?.phase !== 'Running' || p.status.containerStatuses?.every((c) => c.ready))
          ? p
          : undefined;
      },
      60_000,
      `pod ${pod.metadata.name} ${phases.join('/')}`,
    );
  };

  before(async () => {
    sandbox = await sandboxOn('kubernetes');
    kc = new KubeConfig();
    kc.loadFromFile(sandbox.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
  });

  it('kubectl version reports the real server, api-resources lists the real set', async () => {
    const version = await kubectl(sandbox, ['version', '-o', 'json']);
    assert.equal(version.code, 0, version.stderr);
    assert.equal(JSON.parse(version.stdout).serverVersion.gitVersion, kubernetesVersion());
    const resources = await kubectl(sandbox, ['api-resources', '-o', 'name']);
    assert.equal(resources.code, 0, resources.stderr);
    const names = resources.stdout.trim().split('\n');
    for (const r of [
      'pods',
      'configmaps',
      'secrets',
      'services',
      'leases.coordination.k8s.io',
      'customresourcedefinitions.apiextensions.k8s.io',
    ])
      assert.ok(names.includes(r), `${r} in ${names.length} resources`);
    assert.ok(names.length > 50, `${names.length} resources`);
  });

  it('the node is Ready as a kubelet reports it, declares WebSocket streaming, and renews its Lease', async () => {
    const node = JSON.parse((await kubectl(sandbox, ['get', 'node', 'truva-node', '-o', 'json'])).stdout);
    const ready = node.status.conditions.find((c: any) => c.type === 'Ready');
    assert.deepEqual([ready.status, ready.reason], ['True', 'KubeletReady']);
    assert.deepEqual(node.status.addresses.find((a: any) => a.type === 'InternalIP').address, '127.0.0.1');
    assert.ok(node.status.daemonEndpoints.kubeletEndpoint.Port > 0);
    assert.deepEqual(node.status.declaredFeatures, ['ExtendWebSocketsToKubelet']);
    assert.equal(node.status.nodeInfo.kubeletVersion, kubernetesVersion());
    assert.equal(node.spec.taints, undefined, 'no not-ready or unreachable taint');
    const lease = async () =>
      JSON.parse((await kubectl(sandbox, ['get', 'lease', '-n', 'kube-node-lease', 'truva-node', '-o', 'json'])).stdout)
        .spec;
    const first = await lease();
    assert.equal(first.holderIdentity, 'truva-node');
    await waitFor(async () => (await lease()).renewTime !== first.renewTime, 30_000, 'the Lease renewed');
  });

  it('exec and attach go from kube-apiserver straight to the node over WebSocket', async () => {
    const metric = async (sub: string) => {
      const text = (await kubectl(sandbox, ['get', '--raw', '/metrics'])).stdout;
      const m = new RegExp(
        `apiserver_websocket_streaming_requests_total\\{proxy_type="(\\w+)",subresource="${sub}"\\} (\\d+)`,
        'g',
      );
      return Object.fromEntries([...text.matchAll(m)].map((x) => [x[1], Number(x[2])]));
    };
    const [pod] = await podNames(sandbox, 'web');
    const before = await metric('exec');
    const r = await kubectl(sandbox, ['exec', pod, '--', 'echo', 'via kubectl']);
    assert.equal(r.stdout, 'via kubectl\n', r.stderr);
    const viaClient = await exec(pod, 'web', ['echo', 'via client-node']);
    assert.equal(viaClient.stdout, 'via client-node\n');
    const after = await metric('exec');
    assert.equal((after.proxied_to_kubelet ?? 0) - (before.proxied_to_kubelet ?? 0), 2);
    assert.equal(after.translated_at_apiserver ?? 0, before.translated_at_apiserver ?? 0, 'nothing went through SPDY');

    const out = collect();
    const ws = await new Attach(kc).attach('demo', pod, 'web', out, null, null, false);
    try {
      await waitFor(() => /heartbeat uptime=\d+s/.test(out.text()), 10_000, 'the container output through attach');
    } finally {
      ws.close();
    }
    assert.ok(((await metric('attach')).proxied_to_kubelet ?? 0) >= 1);
  });

  it('env and volumes come from ConfigMaps, Secrets, the downward API and a bound service-account token', async () => {
    const name = uniqueName('kubelet-env');
    await core.createNamespacedConfigMap({
      namespace: 'demo',
      body: { metadata: { name }, data: { greeting: 'hello $(NOT_EXPANDED)', 'app.conf': 'mode=dev\n' } },
    });
    await core.createNamespacedSecret({
      namespace: 'demo',
      body: { metadata: { name }, stringData: { password: 's3cret', token: 'abc' } },
    });
    await runPod({
      metadata: { name, labels: { app: name, tier: 'test' }, annotations: { note: 'x' } },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'main',
            image: 'web',
            command: ['sh', '-c', 'echo started > /shared/from-main; exec sleep 1000000'],
            resources: { limits: { memory: '64Mi' } },
            env: [
              { name: 'PLAIN', value: 'plain' },
              { name: 'EXPANDED', value: 'x-$(PLAIN)' },
              { name: 'GREETING', valueFrom: { configMapKeyRef: { name, key: 'greeting' } } },
              { name: 'PASSWORD', valueFrom: { secretKeyRef: { name, key: 'password' } } },
              { name: 'MISSING_OK', valueFrom: { configMapKeyRef: { name, key: 'absent', optional: true } } },
              { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
              { name: 'POD_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
              { name: 'TIER', valueFrom: { fieldRef: { fieldPath: "metadata.labels['tier']" } } },
              { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
              { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
              { name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
              {
                name: 'MEMORY_MI',
                valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } },
              },
            ],
            envFrom: [{ prefix: 'S_', secretRef: { name } }],
            volumeMounts: [
              { name: 'config', mountPath: '/config' },
              { name: 'secret', mountPath: '/secret' },
              { name: 'shared', mountPath: '/shared' },
              { name: 'info', mountPath: '/info' },
            ],
          },
          {
            name: 'side',
            image: 'web',
            command: ['sh', '-c', 'exec sleep 1000000'],
            volumeMounts: [{ name: 'shared', mountPath: '/data' }],
          },
        ],
        volumes: [
          { name: 'config', configMap: { name, items: [{ key: 'app.conf', path: 'conf/app.conf', mode: 0o600 }] } },
          { name: 'secret', secret: { secretName: name, defaultMode: 0o400 } },
          { name: 'shared', emptyDir: {} },
          {
            name: 'info',
            downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] },
          },
        ],
      },
    });
    const pod = await core.readNamespacedPod({ name, namespace: 'demo' });
    const env = Object.fromEntries(
      (await sh(name, 'env'))
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    assert.equal(env.PLAIN, 'plain');
    assert.equal(env.EXPANDED, 'x-plain', '$(VAR) expands in value');
    assert.equal(env.GREETING, 'hello $(NOT_EXPANDED)', 'a value from a ConfigMap is taken literally');
    assert.equal(env.PASSWORD, 's3cret');
    assert.equal(env.MISSING_OK, undefined);
    assert.deepEqual([env.S_password, env.S_token], ['s3cret', 'abc']);
    assert.deepEqual(
      [env.POD_NAME, env.POD_NAMESPACE, env.POD_UID, env.TIER, env.NODE],
      [name, 'demo', pod.metadata!.uid, 'test', 'truva-node'],
    );
    assert.equal(env.POD_IP, pod.status!.podIP);
    assert.equal(env.HOST_IP, '127.0.0.1');
    assert.equal(env.MEMORY_MI, '64');

    assert.equal(await sh(name, 'cat /config/conf/app.conf; stat -c %a /config/conf/app.conf'), 'mode=dev\n600\n');
    assert.equal(await sh(name, 'cat /secret/password; echo; stat -c %a /secret/password'), 's3cret\n400\n');
    assert.match(await sh(name, 'touch /config/x 2>&1 || echo refused'), /refused/, 'configMap volumes are read-only');
    assert.equal(await sh(name, 'cat /data/from-main', 'side'), 'started\n', 'emptyDir is shared by the containers');
    assert.equal(await sh(name, 'cat /info/labels'), `app="${name}"\ntier="test"`);

    // The projected service-account volume the ServiceAccount admission plugin added.
    const sa = '/var/run/secrets/kubernetes.io/serviceaccount';
    assert.equal(await sh(name, `cat ${sa}/namespace`), 'demo');
    assert.equal(await sh(name, `cat ${sa}/ca.crt`), sandbox.caCertPem);
    const token = await sh(name, `cat ${sa}/token`);
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    assert.equal(claims['kubernetes.io'].pod.name, name, 'the token is bound to the pod');
    const whoami = await new Promise<any>((resolve, reject) => {
      const body = JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
      https
        .request(
          `${sandbox.url}/apis/authentication.k8s.io/v1/selfsubjectreviews`,
          {
            method: 'POST',
            ca: sandbox.caCertPem,
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          },
          (res) => {
            let text = '';
            res.on('data', (d) => (text += d)).on('end', () => resolve(JSON.parse(text)));
          },
        )
        .on('error', reject)
        .end(body);
    });
    assert.equal(whoami.status.userInfo.username, 'system:serviceaccount:demo:default');
    await core.deleteNamespacedPod({ name, namespace: 'demo' });
  });

  it('a missing ConfigMap keeps the container in CreateContainerConfigError until it exists', async () => {
    const name = uniqueName('kubelet-wait');
    await core.createNamespacedPod({
      namespace: 'demo',
      body: {
        metadata: { name },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'main',
              image: 'web',
              command: ['sh', '-c', 'exec sleep 1000000'],
              env: [{ name: 'V', valueFrom: { configMapKeyRef: { name, key: 'v' } } }],
            },
          ],
        },
      },
    });
    const waiting = await waitFor(
      async () =>
        (await core.readNamespacedPod({ name, namespace: 'demo' })).status?.containerStatuses?.[0]?.state?.waiting,
      30_000,
      'a waiting reason',
    );
    assert.deepEqual(
      [waiting.reason, waiting.message],
      ['CreateContainerConfigError', `configmap "${name}" not found`],
    );
    await core.createNamespacedConfigMap({ namespace: 'demo', body: { metadata: { name }, data: { v: 'now' } } });
    await waitFor(
      async () => (await core.readNamespacedPod({ name, namespace: 'demo' })).status?.phase === 'Running',
      30_000,
      'the pod to start once the ConfigMap exists',
    );
    assert.equal(await sh(name, 'echo $V'), 'now\n');
    await core.deleteNamespacedPod({ name, namespace: 'demo' });
  });

  let restartedPod: string;

  it('status is what a kubelet writes: conditions in order, IPs, container statuses, restarts with lastState', async () => {
    const app = uniqueName('kubelet-status');
    await createTestDeployment(sandbox, { name: app, replicas: 1 });
    const [pod] = await podNames(sandbox, app);
    restartedPod = pod;
    const p = await core.readNamespacedPod({ name: pod, namespace: 'demo' });
    const s = JSON.parse(JSON.stringify(p.status)) as NonNullable<V1Pod['status']>;
    assert.deepEqual(
      s.conditions!.map((c) => `${c.type}=${c.status}`),
      ['PodReadyToStartContainers=True', 'Initialized=True', 'Ready=True', 'ContainersReady=True', 'PodScheduled=True'],
    );
    assert.ok(s.conditions!.every((c) => c.observedGeneration === p.metadata!.generation));
    assert.deepEqual([s.hostIP, s.hostIPs], ['127.0.0.1', [{ ip: '127.0.0.1' }]]);
    assert.deepEqual(s.podIPs, [{ ip: s.podIP }]);
    assert.ok(s.startTime);
    assert.equal(s.qosClass, 'BestEffort');
    const c = s.containerStatuses![0];
    assert.ok(c.containerID && c.imageID && c.started && c.ready && c.state?.running);

    sandbox.faults.killContainer('demo', pod, 'web');
    const restarted = await waitFor(
      async () => {
        const st = (await core.readNamespacedPod({ name: pod, namespace: 'demo' })).status!.containerStatuses![0];
        return st.restartCount === c.restartCount + 1 && st.ready ? st : undefined;
      },
      60_000,
      'the restarted container ready',
    );
    assert.equal(restarted.lastState!.terminated!.exitCode, 137);
    assert.equal(restarted.lastState!.terminated!.reason, 'Error');
    assert.notEqual(restarted.containerID, c.containerID);
  });

  it('a pod that ends is Succeeded with its Ready condition PodCompleted', async () => {
    const name = uniqueName('kubelet-done');
    const p = await runPod(
      {
        metadata: { name },
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'main', image: 'web', command: ['sh', '-c', 'echo done'] }],
        },
      },
      ['Succeeded'],
    );
    const ready = p.status!.conditions!.find((c) => c.type === 'Ready')!;
    assert.deepEqual([ready.status, ready.reason], ['False', 'PodCompleted']);
    assert.equal(p.status!.containerStatuses![0].state!.terminated!.reason, 'Completed');
    const logs = await kubectl(sandbox, ['logs', name]);
    assert.equal(logs.stdout, 'done\n');
    await core.deleteNamespacedPod({ name, namespace: 'demo' });
  });

  it('deletion waits for the grace period, writes the final status, then removes the pod', async () => {
    const name = uniqueName('kubelet-grace');
    // PID 1 of the container ignores SIGTERM: only the SIGKILL after the grace period ends it.
    await runPod({
      metadata: { name },
      spec: {
        terminationGracePeriodSeconds: 30,
        containers: [
          { name: 'main', image: 'web', command: ['sh', '-c', "trap '' TERM; while :; do sleep 0.2; done"] },
        ],
      },
    });
    const events: { type: string; pod: V1Pod }[] = [];
    const list = await core.listNamespacedPod({ namespace: 'demo', fieldSelector: `metadata.name=${name}` });
    const abort = await new Watch(kc).watch(
      '/api/v1/namespaces/demo/pods',
      { fieldSelector: `metadata.name=${name}`, resourceVersion: list.metadata!.resourceVersion },
      (type, pod) => events.push({ type, pod }),
      () => undefined,
    );
    try {
      await core.deleteNamespacedPod({ name, namespace: 'demo', gracePeriodSeconds: 2 });
      const terminating = await core.readNamespacedPod({ name, namespace: 'demo' });
      assert.ok(terminating.metadata!.deletionTimestamp);
      assert.equal(
        (await exec(name, 'main', ['echo', 'still here'])).stdout,
        'still here\n',
        'it runs during the grace period',
      );
      await waitFor(() => events.some((e) => e.type === 'DELETED'), 30_000, 'the pod removed');
    } finally {
      abort.abort();
    }
    const lastModified = events.filter((e) => e.type === 'MODIFIED').pop()!.pod;
    const terminated = lastModified.status!.containerStatuses![0].state!.terminated!;
    assert.equal(terminated.exitCode, 137, 'SIGKILLed after the grace period');
    assert.equal(lastModified.status!.phase, 'Failed');
  });

  it('container logs honour tailLines, limitBytes, timestamps, sinceSeconds and previous through the kubelet API', async () => {
    const read = async (options: object) => {
      const out = collect();
      await new Promise<void>((resolve, reject) => {
        out.on('finish', resolve);
        new Log(kc).log('demo', restartedPod, 'web', out, options).catch(reject);
      });
      return out.text();
    };
    assert.equal((await read({ tailLines: 3 })).trimEnd().split('\n').length, 3);
    assert.equal((await read({ limitBytes: 7 })).length, 7);
    assert.match(await read({ tailLines: 1, timestamps: true }), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /);
    // Once the instance has logged for a few seconds, the last second holds fewer lines than the whole.
    await waitFor(async () => /heartbeat uptime=3s/.test(await read({})), 20_000, 'three seconds of log');
    assert.ok((await read({ sinceSeconds: 1 })).split('\n').length < (await read({})).split('\n').length);
    const none = await kubectl(sandbox, ['logs', restartedPod, '--previous']);
    assert.equal(none.code, 0, 'the instance before the restart');
    assert.match(none.stdout, /web listening on :8080/);
  });

  it('logs sinceTime leaves out the lines written before it (kubectl logs --since-time)', async () => {
    const name = uniqueName('kubelet-since');
    // Two seconds between the lines: sinceTime counts in whole seconds, so the second of "two"
    // starts after "one" was written.
    await runPod({
      metadata: { name },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'main',
            image: 'web',
            command: ['sh', '-c', 'echo one; sleep 2; echo two; sleep 2; echo three; exec sleep 1000000'],
          },
        ],
      },
    });
    const stamped = await waitFor(
      async () => {
        const r = await kubectl(sandbox, ['logs', name, '--timestamps']);
        return /three$/m.test(r.stdout) ? r.stdout : undefined;
      },
      30_000,
      'all three lines logged',
    );
    const at = (line: string) => new RegExp(`^(\\S+) ${line}$`, 'm').exec(stamped)![1];
    const since = await kubectl(sandbox, ['logs', name, `--since-time=${at('two')}`]);
    assert.equal(since.code, 0, since.stderr);
    assert.equal(since.stdout, 'two\nthree\n');
    const sinceLast = await kubectl(sandbox, ['logs', name, `--since-time=${at('three')}`]);
    assert.equal(sinceLast.stdout, 'three\n');
    await core.deleteNamespacedPod({ name, namespace: 'demo' });
  });

  it('a failing liveness probe restarts the container: restartCount rises and lastState holds the killed instance', async () => {
    const name = uniqueName('kubelet-liveness');
    // PID 1 ignores SIGTERM, so the probe's kill ends it with SIGKILL after the grace period.
    await core.createNamespacedPod({
      namespace: 'demo',
      body: {
        metadata: { name },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'main',
              image: 'web',
              command: ['sh', '-c', 'echo started; exec sleep 1000000'],
              livenessProbe: { exec: { command: ['false'] }, periodSeconds: 1, failureThreshold: 2 },
            },
          ],
        },
      },
    });
    const restarted = await waitFor(
      async () => {
        const st = (await core.readNamespacedPod({ name, namespace: 'demo' })).status?.containerStatuses?.[0];
        return st && st.restartCount >= 1 && st.lastState?.terminated ? st : undefined;
      },
      60_000,
      'the container restarted after its liveness probe failed',
    );
    assert.equal(restarted.lastState!.terminated!.exitCode, 137);
    assert.equal(restarted.lastState!.terminated!.reason, 'Error');
    const columns = await kubectl(sandbox, [
      'get',
      'pod',
      name,
      '--no-headers',
      '-o',
      'custom-columns=R:.status.containerStatuses[0].restartCount',
    ]);
    assert.ok(Number(columns.stdout.trim()) >= 1, columns.stdout);
    const previous = await kubectl(sandbox, ['logs', name, '--previous']);
    assert.equal(previous.stdout, 'started\n', 'the killed instance ran the command');
    await core.deleteNamespacedPod({ name, namespace: 'demo' });
  });

  it('port-forward carries bytes both ways into the pod (client-node WebSocket protocol)', async () => {
    const [pod] = await podNames(sandbox, 'web');
    const output = collect();
    const errors = collect();
    const input = new PassThrough();
    const ws = await new PortForward(kc).portForward('demo', pod, [8080], output, errors, input);
    try {
      input.write('GET /forwarded HTTP/1.0\r\nHost: x\r\n\r\n');
      await waitFor(() => output.text().includes(`hello from ${pod}`), 15_000, 'the app answering through the forward');
      assert.equal(errors.text(), '');
    } finally {
      (ws as any).close?.();
    }
    const logs = await kubectl(sandbox, ['logs', pod, '--tail=50']);
    assert.match(logs.stdout, /GET \/forwarded/);
  });

  it('the kubelet API refuses a caller without a client certificate from the cluster CA', async () => {
    const node = JSON.parse((await kubectl(sandbox, ['get', 'node', 'truva-node', '-o', 'json'])).stdout);
    const port = node.status.daemonEndpoints.kubeletEndpoint.Port;
    const outcome = await new Promise<string>((resolve) => {
      https
        .get(`https://127.0.0.1:${port}/healthz`, { ca: sandbox.caCertPem }, (res) => resolve(`HTTP ${res.statusCode}`))
        .on('error', (err) => resolve(`refused: ${err.message}`));
    });
    assert.match(outcome, /^refused/);
  });
});
