// Restore against what the server stored, and long-session hazards of real clusters: a
// mutating admission step on Deployments (a MutatingAdmissionPolicy on the real control
// plane), GitOps putting the original back, a PUT whose answer is lost (the front proxy resets
// the connection after kube-apiserver answered), the 256 KiB annotation limit, `kubectl rollout
// undo` to the dev revision, and finding dev-mode deployments by label, page by page. On both
// control planes: the sandbox's write hook and bookkeeping are its own code, kube-apiserver the reference.
import { strict as assert } from 'node:assert';
import type { Sandbox } from '../../../sandbox';
import {
  BACKUP_ANNOTATION,
  DEV_MODE_LABEL,
  DevMode,
  PreflightError,
  findDevModeDeployments,
} from '../../../src/core/devmode/devMode';
import { isSupervisorCommand } from '../../../src/core/devmode/supervisor';
import type { Cluster } from '../../../src/core/kube/cluster';
import { mutateTemplates } from '../../helpers/admission';
import {
  bothControlPlanes,
  createTestDeployment,
  kubectl,
  replaceAsAnotherClient,
  sandboxSuite,
  uniqueName,
  waitForRollout,
} from '../../helpers/sandbox';

for (const controlPlane of bothControlPlanes())
  describe(`restore against what the server stored (${controlPlane} control plane)`, function () {
    this.timeout(120_000);
    const suite = sandboxSuite({
      controlPlane,
      why: 'the sandbox API server has its own write hook (mutateTemplates), lost answers and label selection; a MutatingAdmissionPolicy and the front proxy do it on kube-apiserver',
    });
    let sandbox: Sandbox;
    let cluster: Cluster;
    const created = suite.created;
    before(() => void ({ sandbox, cluster } = suite));

    const deployment = async () => {
      const name = uniqueName('restore');
      created.push(name);
      return { name, original: await createTestDeployment(sandbox, { name, replicas: 1 }) };
    };

    it('a mutating admission step that annotates every template does not turn the restore into a conflict', async () => {
      const mutation = await mutateTemplates(sandbox, cluster, { 'policies.kyverno.io/patches': 'add-team-label' });
      try {
        const { name } = await deployment();
        const devMode = new DevMode(cluster, { namespace: 'demo', deployment: name });
        await devMode.enter();
        await devMode.restore();
        const restored = await cluster.getDeployment(name);
        assert.equal(restored.spec!.template!.metadata?.annotations?.['policies.kyverno.io/patches'], 'add-team-label');
        assert.equal(restored.metadata?.annotations?.[BACKUP_ANNOTATION], undefined);
        assert.equal(isSupervisorCommand(restored.spec!.template!.spec!.containers[0].command), false);
      } finally {
        await mutation.undo();
      }
    });

    it('a live template that GitOps reset to the original is already restored: no conflict, the backup goes', async () => {
      const { name, original } = await deployment();
      const devMode = new DevMode(cluster, { namespace: 'demo', deployment: name });
      await devMode.enter();
      await replaceAsAnotherClient(cluster, name, (live) => ({
        ...live,
        spec: { ...live.spec!, template: original.spec.template },
      }));
      await devMode.restore();
      const restored = await cluster.getDeployment(name);
      assert.deepEqual(restored.spec!.template, original.spec.template);
      assert.equal(restored.metadata?.annotations?.[BACKUP_ANNOTATION], undefined);
      assert.equal(restored.metadata?.labels?.[DEV_MODE_LABEL], undefined);
    });

    it('a PUT whose answer is lost (connection reset after the write) is repeated; the duplicate meets 409 and is handled', async () => {
      const { name, original } = await deployment();
      const devMode = new DevMode(cluster, { namespace: 'demo', deployment: name });
      sandbox.faults.dropResponses({ path: `/deployments/${name}`, method: 'PUT', count: 1 });
      await devMode.enter();
      assert.ok((await cluster.getDeployment(name)).metadata?.annotations?.[BACKUP_ANNOTATION]);
      sandbox.faults.dropResponses({ path: `/deployments/${name}`, method: 'PUT', count: 1 });
      await devMode.restore();
      const restored = await cluster.getDeployment(name);
      assert.deepEqual(restored.spec!.template, original.spec.template);
      assert.equal(restored.metadata?.annotations?.[BACKUP_ANNOTATION], undefined);
    });

    it('a backup that would pass the 256 KiB annotation limit is refused readably before anything changes', async () => {
      const name = uniqueName('huge');
      created.push(name);
      const { webDeployment } = await import('../../../sandbox/seed');
      const d = webDeployment(name, 1);
      // Two values, each below Linux's 128 KiB limit for one environment string.
      for (const blob of ['BLOB_A', 'BLOB_B'])
        d.spec.template.spec.containers[0].env.push({ name: blob, value: 'x'.repeat(90 * 1024) });
      d.metadata.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(d) };
      await cluster.createDeployment(d, { namespace: 'demo' });
      await waitForRollout(sandbox, name);
      const before = await cluster.getDeployment(name);
      const devMode = new DevMode(cluster, { namespace: 'demo', deployment: name });
      for (const attempt of [() => devMode.preflight(), () => devMode.enter()])
        await assert.rejects(
          attempt(),
          (err: Error) =>
            err instanceof PreflightError &&
            /annotations would total \d+ KiB \(the backup of the pod template \d+ KiB, then kubectl\.kubernetes\.io\/last-applied-configuration \d+ KiB\), over Kubernetes' limit of 256 KiB/.test(
              err.message,
            ),
        );
      assert.equal((await cluster.getDeployment(name)).metadata?.generation, before.metadata?.generation);
    });

    it('`kubectl rollout undo` after a session cannot bring dev mode back', async () => {
      const { name } = await deployment();
      const devMode = new DevMode(cluster, { namespace: 'demo', deployment: name });
      await devMode.enter();
      await devMode.restore();
      await kubectl(sandbox, ['rollout', 'undo', `deployment/${name}`]);
      await waitForRollout(sandbox, name);
      const after = await cluster.getDeployment(name);
      assert.equal(isSupervisorCommand(after.spec!.template!.spec!.containers[0].command), false);
      assert.equal(after.metadata?.annotations?.[BACKUP_ANNOTATION], undefined);
    });

    it('dev-mode deployments are found by label, page by page', async () => {
      const { name } = await deployment();
      const devMode = new DevMode(cluster, { namespace: 'demo', deployment: name });
      await devMode.enter();
      try {
        const all = await cluster.listDeployments({ namespace: 'demo' });
        const paged = await cluster.listDeployments({ namespace: 'demo', pageSize: 1 });
        assert.deepEqual(
          paged.map((d) => d.metadata?.name),
          all.map((d) => d.metadata?.name),
        );
        assert.ok((await cluster.getDeployment(name)).metadata?.labels?.[DEV_MODE_LABEL]);
        assert.ok((await findDevModeDeployments(cluster)).some((b) => b.deployment === name));
        const labelled = JSON.parse(
          (await kubectl(sandbox, ['get', 'deploy', '-l', DEV_MODE_LABEL, '--chunk-size=1', '-o', 'json'])).stdout,
        ).items.map((d: any) => d.metadata.name);
        assert.ok(labelled.includes(name));
      } finally {
        await devMode.restore();
      }
    });
  });
