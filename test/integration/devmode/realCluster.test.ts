// What a stock cluster asks of dev mode that the two seed workloads never did: a selector made
// of matchExpressions next to a deployment whose labels overlap, the default-container
// annotation, an args-only container, and RBAC roles that grant exactly what Truva uses (on both
// control planes, below).
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { Sandbox } from '../../../sandbox';
import type { PolicyRule } from '../../../sandbox/server/rbac';
import { webDeployment } from '../../../sandbox/seed';
import { DevMode, PreflightError, PORT_FORWARD_ACCESS, REQUIRED_ACCESS } from '../../../src/core/devmode/devMode';
import { isSupervisorCommand } from '../../../src/core/devmode/supervisor';
import { Cluster } from '../../../src/core/kube/cluster';
import { LogAggregator } from '../../../src/core/logs/aggregator';
import { clusterLogSource } from '../../../src/core/logs/clusterSource';
import {
  bothControlPlanes,
  clientWritten,
  kubectl,
  replaceAsAnotherClient,
  sandboxSuite,
  testSyncEngine,
  uniqueName,
  waitFor,
  waitForRollout,
} from '../../helpers/sandbox';

/** A web deployment whose pods carry `labels`, selected by `selector`. */
function deploymentWith(name: string, labels: Record<string, string>, selector: unknown, replicas = 2): any {
  const d = webDeployment(name, replicas);
  d.metadata.labels = labels;
  d.spec.selector = selector;
  d.spec.template.metadata.labels = labels;
  const c = d.spec.template.spec.containers[0];
  delete c.readinessProbe;
  delete c.livenessProbe;
  return d;
}

async function create(sandbox: Sandbox, cluster: Cluster, d: any): Promise<void> {
  await cluster.createDeployment(d, { namespace: 'demo' });
  await waitForRollout(sandbox, d.metadata.name);
}

async function runningPods(cluster: Cluster, labelSelector: string): Promise<string[]> {
  return (await cluster.listPods(labelSelector, 'demo'))
    .filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp)
    .map((p) => p.metadata!.name!);
}

describe('dev mode on real-cluster shapes', function () {
  this.timeout(180_000);
  const suite = sandboxSuite();
  let sandbox: Sandbox;
  let cluster: Cluster;
  before(() => void ({ sandbox, cluster } = suite));

  it('a matchExpressions selector: only the deployment’s own pods are synced, restarted and followed, never an overlapping deployment’s', async () => {
    const app = uniqueName('expr');
    const mine = deploymentWith(
      app,
      { app, tier: 'web' },
      {
        matchExpressions: [
          { key: 'app', operator: 'In', values: [app] },
          { key: 'tier', operator: 'Exists' },
        ],
      },
    );
    // Its pods match the first deployment's selector too (app=<app>, tier exists).
    const other = deploymentWith(
      `${app}-other`,
      { app, tier: 'batch', variant: 'other' },
      {
        matchLabels: { variant: 'other', app },
      },
    );
    await create(sandbox, cluster, mine);
    await create(sandbox, cluster, other);
    const otherPods = await runningPods(cluster, `variant=other,app=${app}`);
    assert.equal(otherPods.length, 2);
    const devMode = new DevMode(cluster, { namespace: 'demo', deployment: app, remotePaths: ['/app'] });
    await devMode.preflight();
    await devMode.enter();
    const local = mkdtempSync(join(tmpdir(), 'truva-expr-'));
    const restarted: string[] = [];
    const engine = testSyncEngine(cluster, app, local, {
      restart: async (pod) => {
        restarted.push(pod);
        await devMode.restartProcess(pod);
      },
    });
    const aggregator = new LogAggregator({
      source: clusterLogSource(cluster, await cluster.getDeployment(app)),
      namespace: 'demo',
      labelSelector: 'unused',
    });
    try {
      writeFileSync(join(local, 'marker.txt'), 'mine only');
      await engine.start();
      await engine.restartAll();
      const minePods = await runningPods(cluster, `app=${app},tier=web`);
      assert.equal(minePods.length, 2);
      for (const pod of minePods) {
        const r = await kubectl(sandbox, ['exec', pod, '--', 'cat', '/app/marker.txt']);
        assert.equal(r.stdout, 'mine only', `${pod}: ${r.stderr}`);
      }
      for (const pod of otherPods) {
        const r = await kubectl(sandbox, ['exec', pod, '--', 'sh', '-c', 'test -e /app/marker.txt && echo FOUND']);
        assert.equal(r.stdout.trim(), '', `${pod} of the other deployment received files`);
      }
      assert.deepEqual([...new Set(restarted)].sort(), [...minePods].sort(), 'only its own pods restarted');
      aggregator.start();
      await waitFor(() => aggregator.podSummaries().length === 2, 15_000, 'the two pods followed');
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(
        aggregator
          .podSummaries()
          .map((p) => p.name)
          .sort(),
        [...minePods].sort(),
      );
      assert.deepEqual(await runningPods(cluster, `variant=other,app=${app}`), otherPods, 'the other pods untouched');
    } finally {
      aggregator.stop();
      await engine.dispose();
      await devMode.restore({ force: true });
      rmSync(local, { recursive: true, force: true });
      await cluster.deleteDeployment(app, { namespace: 'demo' });
      await cluster.deleteDeployment(`${app}-other`, { namespace: 'demo' });
    }
  });

  it('a container with args but no command is refused before anything changes, and runs with `run`', async () => {
    const app = uniqueName('args');
    const d = deploymentWith(app, { app }, { matchLabels: { app } }, 1);
    const c = d.spec.template.spec.containers[0];
    c.image = 'entrypoint'; // ENTRYPOINT ["node"]: the API never shows it
    delete c.command;
    c.args = ['server.js'];
    await create(sandbox, cluster, d);
    try {
      const before = await cluster.getDeployment(app);
      await assert.rejects(
        new DevMode(cluster, { namespace: 'demo', deployment: app }).preflight(),
        (err: Error) =>
          err instanceof PreflightError &&
          /has args \(\["server\.js"\]\) but no command.*Set "run" in truva\.yaml/.test(err.message),
      );
      await assert.rejects(new DevMode(cluster, { namespace: 'demo', deployment: app }).enter(), PreflightError);
      assert.deepEqual(clientWritten(await cluster.getDeployment(app)), clientWritten(before));
      const withRun = new DevMode(cluster, { namespace: 'demo', deployment: app, run: ['node', 'server.js'] });
      await withRun.preflight();
      await withRun.enter();
      const dev = (await cluster.getDeployment(app)).spec!.template!.spec!.containers[0];
      assert.deepEqual(dev.command!.slice(4), ['node', 'server.js']);
      await withRun.restore();
      assert.deepEqual((await cluster.getDeployment(app)).spec!.template, before.spec!.template);
    } finally {
      await cluster.deleteDeployment(app, { namespace: 'demo' });
    }
  });

  it('the default-container annotation picks the container, as in kubectl; a wrong one is refused', async () => {
    const app = uniqueName('defc');
    const d = deploymentWith(app, { app }, { matchLabels: { app } }, 1);
    const web = d.spec.template.spec.containers[0];
    d.spec.template.spec.containers = [
      { name: 'proxy', image: 'web', command: ['node', '-e', 'setInterval(() => {}, 1e6)'], workingDir: '/app' },
      web,
    ];
    d.spec.template.metadata.annotations = { 'kubectl.kubernetes.io/default-container': 'web' };
    await create(sandbox, cluster, d);
    try {
      const devMode = new DevMode(cluster, { namespace: 'demo', deployment: app });
      assert.equal((await devMode.preflight()).container, 'web');
      // kubectl agrees: exec without -c lands in the annotated container.
      const pod = (await runningPods(cluster, `app=${app}`))[0];
      const r = await kubectl(sandbox, [
        'exec',
        pod,
        '--',
        'sh',
        '-c',
        'ps -o args= -p 1 2>/dev/null || cat /proc/1/cmdline',
      ]);
      assert.match(r.stdout, /server\.js/);
      await devMode.enter();
      const containers = (await cluster.getDeployment(app)).spec!.template!.spec!.containers;
      assert.ok(isSupervisorCommand(containers.find((x) => x.name === 'web')!.command));
      assert.equal(isSupervisorCommand(containers.find((x) => x.name === 'proxy')!.command), false);
      await devMode.restore();
      await replaceAsAnotherClient(cluster, app, (live) => ({
        ...live,
        spec: {
          ...live.spec!,
          template: {
            ...d.spec.template,
            metadata: {
              ...d.spec.template.metadata,
              annotations: { 'kubectl.kubernetes.io/default-container': 'gone' },
            },
          },
        },
      }));
      await assert.rejects(
        new DevMode(cluster, { namespace: 'demo', deployment: app }).preflight(),
        /default-container annotation .* names container "gone", which is not in its pod template/,
      );
    } finally {
      await cluster.deleteDeployment(app, { namespace: 'demo' });
    }
  });

  it('an empty selector is refused with a clear message', () => {
    const devMode = new DevMode(cluster, { namespace: 'demo', deployment: 'x' });
    assert.throws(
      () => devMode.podsOf({ metadata: { name: 'x', namespace: 'demo' }, spec: { selector: {} } } as never),
      (err: Error) => err instanceof PreflightError && /empty pod selector.*every pod/.test(err.message),
    );
  });
});

// RBAC on both control planes: the sandbox API server authorises with its own table of rules
// (sandbox/server/rbac.ts, and exec as a 1.35+ server: get, then create); kube-apiserver's RBAC
// with a ClusterRole is the reference it must match.
for (const controlPlane of bothControlPlanes())
  describe(`dev mode and RBAC roles (${controlPlane} control plane)`, function () {
    this.timeout(180_000);
    const suite = sandboxSuite({
      controlPlane,
      why: 'the sandbox API server authorises with its own table-driven roles; kube-apiserver is the reference',
    });
    let sandbox: Sandbox;
    let cluster: Cluster;
    before(async () => {
      ({ sandbox, cluster } = suite);
      await waitForRollout(sandbox, 'web'); // the seeded deployment whose pods the exec tests use
    });

    /** The README's Role, as a cluster admin would apply it. */
    const readmeRules = (): PolicyRule[] => {
      const readme = readFileSync(join(__dirname, '../../../README.md'), 'utf8');
      const block = /```yaml\n(apiVersion: rbac\.authorization\.k8s\.io\/v1\nkind: Role\n[\s\S]*?)```/.exec(readme);
      assert.ok(block, 'the README has a Role manifest');
      return parse(block[1]).rules;
    };
    const without = (rules: PolicyRule[], verb: string, group: string, resource: string): PolicyRule[] =>
      rules.map((r) =>
        r.apiGroups.includes(group) && r.resources.includes(resource)
          ? { ...r, verbs: r.verbs.filter((v) => v !== verb) }
          : r,
      );
    let user = 0;
    const clusterFor = async (rules: PolicyRule[]) =>
      new Cluster({ kubeconfigPath: await sandbox.addUser(`dev-${process.pid % 1000}-${++user}`, rules) });

    it('the README Role is exactly enough: preflight, enter, exec, logs and restore all work', async () => {
      const app = uniqueName('rbac');
      await create(sandbox, cluster, deploymentWith(app, { app }, { matchLabels: { app } }, 1));
      const dev = await clusterFor(readmeRules());
      try {
        const devMode = new DevMode(dev, { namespace: 'demo', deployment: app, remotePaths: ['/app'] });
        await devMode.preflight();
        await devMode.enter();
        const pod = (await runningPods(cluster, `app=${app}`))[0];
        assert.equal((await dev.exec(pod, 'web', ['true'])).exitCode, 0);
        await devMode.restore();
      } finally {
        dev.dispose();
        await cluster.deleteDeployment(app, { namespace: 'demo' });
      }
    });

    for (const need of [...REQUIRED_ACCESS, ...PORT_FORWARD_ACCESS]) {
      const resource = need.subresource ? `${need.resource}/${need.subresource}` : need.resource;
      const forwarding = PORT_FORWARD_ACCESS.includes(need);
      it(`a role without ${need.verb} ${resource} is refused in preflight${forwarding ? ' when the session forwards ports' : ''}, naming it; nothing changes`, async () => {
        const dev = await clusterFor(without(readmeRules(), need.verb, need.group, resource));
        try {
          const before = await cluster.getDeployment('web');
          if (forwarding) await new DevMode(dev, { namespace: 'demo', deployment: 'web' }).preflight(); // no forwards: not asked
          // Without get, reading the deployment itself is refused (403), before any review.
          await assert.rejects(
            new DevMode(dev, { namespace: 'demo', deployment: 'web', portForward: forwarding }).preflight(),
            (err: Error) =>
              need.verb === 'get' && resource === 'deployments'
                ? (err as { kind?: string }).kind === 'forbidden' && /may not get deployments/.test(err.message)
                : err instanceof PreflightError && err.message.includes(`may not ${need.verb} ${resource} (`),
          );
          assert.deepEqual(clientWritten(await cluster.getDeployment('web')), clientWritten(before));
        } finally {
          dev.dispose();
        }
      });
    }

    it('patch without update, and create without get on pods/exec, are refused (the verbs kubectl-era roles grant)', async () => {
      const kubectlEra: PolicyRule[] = [
        // As a role written for `kubectl exec` (SPDY, a POST) grants it.
        { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch', 'patch'] },
        { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] },
        { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
      ];
      const path = await sandbox.addUser(`era-${process.pid % 1000}-${++user}`, kubectlEra);
      const dev = new Cluster({ kubeconfigPath: path });
      try {
        await assert.rejects(new DevMode(dev, { namespace: 'demo', deployment: 'web' }).preflight(), (err: Error) =>
          /may not update deployments .*; get pods\/exec \(exec over WebSocket\) in namespace "demo"/.test(err.message),
        );
        // The server authorises a WebSocket exec as get, so the real exec is refused too.
        const pod = (await runningPods(cluster, 'app=web'))[0];
        await assert.rejects(dev.exec(pod, 'web', ['true']), (err: any) => err.kind === 'forbidden');
        // kubectl, a second client, gets the same answers from the server's authorizer. (Not
        // `kubectl exec`: refused over WebSocket, it falls back to SPDY, a POST that create
        // allows, which a real kubelet would serve and neither node here speaks.)
        const canI = async (verb: string) =>
          (
            await kubectl({ kubeconfigPath: path }, ['auth', 'can-i', verb, 'pods', '--subresource=exec'])
          ).stdout.trim();
        assert.equal(await canI('get'), 'no');
        assert.equal(await canI('create'), 'yes');
      } finally {
        dev.dispose();
      }
    });

    it('the server also requires create for a WebSocket exec (1.35+)', async () => {
      // kubectl reads the pod first (get pods), which Truva does not need.
      const rules = [
        ...without(readmeRules(), 'create', '', 'pods/exec'),
        { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
      ];
      const path = await sandbox.addUser(`nocreate-${process.pid % 1000}-${++user}`, rules);
      const pod = (await runningPods(cluster, 'app=web'))[0];
      const r = await kubectl({ kubeconfigPath: path }, ['exec', pod, '--', 'true']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /cannot create resource "pods\/exec"/);
    });
  });
