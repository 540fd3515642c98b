// The sandbox where users touch it, with the real kubectl: `apply -f` with validation on (the
// server's OpenAPI says it validates fields, and it does, strictly), `apply --server-side` with
// field ownership and conflicts, the defaults a real server adds, generation and revision
// bookkeeping; and dev mode handing the fields it changed back to their earlier manager. On both
// control planes: the sandbox's own implementation of each, and kube-apiserver's as the reference.
import { strict as assert } from 'node:assert';
import type { Sandbox } from '../../../sandbox';
import { DevMode } from '../../../src/core/devmode/devMode';
import type { Cluster } from '../../../src/core/kube/cluster';
import { bothControlPlanes, kubectl, sandboxSuite, uniqueName, waitForRollout } from '../../helpers/sandbox';

function manifest(name: string, opts: { probe?: boolean; command?: string[]; image?: string } = {}): string {
  const probe =
    opts.probe === false ? '' : '\n          readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1}';
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: demo}
spec:
  replicas: 1
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
        - name: web
          image: ${opts.image ?? 'web'}
          command: ${JSON.stringify(opts.command ?? ['node', 'server.js'])}
          ports: [{containerPort: 8080}]${probe}
`;
}

for (const controlPlane of bothControlPlanes())
  describe(`sandbox: kubectl apply, server-side apply, defaults and bookkeeping (${controlPlane} control plane)`, function () {
    this.timeout(120_000);
    const suite = sandboxSuite({
      controlPlane,
      why: 'the sandbox API server serves its own OpenAPI documents, server-side apply, managedFields, defaults and revisions; kube-apiserver is the reference they must match',
    });
    let sandbox: Sandbox;
    let cluster: Cluster;
    const created = suite.created;
    before(() => void ({ sandbox, cluster } = suite));

    const apply = (text: string, ...flags: string[]) =>
      kubectl(sandbox, ['apply', ...flags, '-f', '-'], { input: text });

    it('kubectl apply -f works with validation on, and a misspelt field is refused by the server', async () => {
      const name = uniqueName('apply');
      created.push(name);
      let r = await apply(manifest(name));
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /created/);
      r = await apply(manifest(name));
      assert.match(r.stdout, /unchanged/);
      r = await apply(manifest(name).replace('command:', 'commnd:'));
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /strict decoding error: unknown field "spec\.template\.spec\.containers\[0\]\.commnd"/);
      r = await apply(manifest(name, { command: ['node', 'server.js', '--v2'] }));
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /configured/);
    });

    it('kubectl apply --server-side: field ownership, conflicts, --force-conflicts', async () => {
      const name = uniqueName('ssa');
      created.push(name);
      let r = await apply(manifest(name), '--server-side', '--field-manager=gitops');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /serverside-applied/);
      const d = JSON.parse(
        (await kubectl(sandbox, ['get', 'deploy', name, '-o', 'json', '--show-managed-fields'])).stdout,
      );
      const gitops = d.metadata.managedFields.find((m: any) => m.manager === 'gitops');
      assert.equal(gitops.operation, 'Apply');
      assert.ok(gitops.fieldsV1['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"web"}']['f:command']);
      r = await apply(manifest(name, { command: ['node', 'other.js'] }), '--server-side', '--field-manager=someone');
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /conflict with "gitops": \.spec\.template\.spec\.containers\[name="web"\]\.command/);
      r = await apply(
        manifest(name, { command: ['node', 'other.js'] }),
        '--server-side',
        '--field-manager=someone',
        '--force-conflicts',
      );
      assert.equal(r.code, 0, r.stderr);
      // A field the applier drops from its manifest is removed.
      r = await apply(
        manifest(name, { probe: false, command: ['node', 'other.js'] }),
        '--server-side',
        '--field-manager=someone',
      );
      assert.equal(r.code, 0, r.stderr);
      r = await apply(manifest(name, { probe: false }), '--server-side', '--field-manager=gitops', '--force-conflicts');
      assert.equal(r.code, 0, r.stderr);
      const after = (await cluster.getDeployment(name)).spec!.template!.spec!.containers[0];
      assert.equal(after.readinessProbe, undefined);
      assert.deepEqual(after.command, ['node', 'server.js']);
    });

    it('the defaults a real server adds', async () => {
      const name = uniqueName('defaults');
      created.push(name);
      assert.equal((await apply(manifest(name, { image: 'web:latest' }))).code, 0);
      const spec = (await cluster.getDeployment(name)).spec!.template!.spec!;
      // A Pod default (SetDefaults_Pod), which a template does not get; its pods do.
      assert.equal(spec.enableServiceLinks, undefined);
      await waitForRollout(sandbox, name);
      const pods = await cluster.listPods(`app=${name}`, 'demo');
      assert.ok(pods.length > 0 && pods.every((p) => p.spec!.enableServiceLinks === true));
      assert.equal(spec.containers[0].ports![0].protocol, 'TCP');
      assert.equal(spec.containers[0].imagePullPolicy, 'Always', ':latest is pulled always');
      assert.equal(spec.containers[0].readinessProbe!.httpGet!.scheme, 'HTTP');
    });

    it('generation bumps on annotation changes too; returning to an old ReplicaSet gives it the next revision', async () => {
      const name = uniqueName('revision');
      created.push(name);
      assert.equal((await apply(manifest(name, { probe: false }))).code, 0);
      await waitForRollout(sandbox, name);
      const g1 = (await cluster.getDeployment(name)).metadata!.generation!;
      assert.equal((await kubectl(sandbox, ['annotate', 'deploy', name, 'note=x'])).code, 0);
      assert.equal((await cluster.getDeployment(name)).metadata!.generation, g1 + 1);
      const revision = async () =>
        (await cluster.getDeployment(name)).metadata?.annotations?.['deployment.kubernetes.io/revision'];
      assert.equal(await revision(), '1');
      assert.equal((await kubectl(sandbox, ['set', 'env', `deploy/${name}`, 'V=2'])).code, 0);
      await waitForRollout(sandbox, name);
      assert.equal(await revision(), '2');
      assert.equal((await kubectl(sandbox, ['rollout', 'undo', `deploy/${name}`])).code, 0);
      await waitForRollout(sandbox, name);
      assert.equal(await revision(), '3');
    });

    it('after a dev session the fields Truva changed belong to their earlier manager again: a later apply neither conflicts nor keeps dropped fields', async () => {
      const name = uniqueName('handback');
      created.push(name);
      assert.equal((await apply(manifest(name), '--server-side', '--field-manager=gitops')).code, 0);
      await waitForRollout(sandbox, name);
      const devMode = new DevMode(cluster, { namespace: 'demo', deployment: name });
      await devMode.enter();
      await devMode.restore();
      const fields = JSON.stringify((await cluster.getDeployment(name)).metadata?.managedFields ?? []);
      assert.doesNotMatch(fields, /"manager":"truva"/);
      // GitOps drops the probe and changes the command: no conflict, and the probe is gone.
      const r = await apply(
        manifest(name, { probe: false, command: ['node', 'server.js', '--v2'] }),
        '--server-side',
        '--field-manager=gitops',
      );
      assert.equal(r.code, 0, r.stderr);
      const c = (await cluster.getDeployment(name)).spec!.template!.spec!.containers[0];
      assert.equal(c.readinessProbe, undefined);
      assert.deepEqual(c.command, ['node', 'server.js', '--v2']);
    });
  });
