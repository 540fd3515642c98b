// A rollout into dev mode that cannot finish fails at once, quoting the cluster's own reason,
// instead of waiting out the timeout with an empty one. Each cause is reproduced in the sandbox
// as a real cluster shows it: admission refusing the ReplicaSet's pod creates (quota, pod
// security, a webhook), a paused deployment, a pod no node fits, an exceeded progress deadline,
// an image name that does not parse.
import { strict as assert } from 'node:assert';
import type { Sandbox } from '../../../sandbox';
import { webDeployment } from '../../../sandbox/seed';
import { DevMode, RolloutError } from '../../../src/core/devmode/devMode';
import type { Cluster } from '../../../src/core/kube/cluster';
import { createTestDeployment, kubectl, sandboxSuite, uniqueName } from '../../helpers/sandbox';

describe('rollout failures are reported at once with the real reason', function () {
  // Far below the rollout timeout given to dev mode: a test passes only when it fails fast.
  this.timeout(45_000);
  const suite = sandboxSuite();
  let sandbox: Sandbox;
  let cluster: Cluster;
  const created = suite.created;
  before(() => void ({ sandbox, cluster } = suite));

  const deployment = async (opts: { probes?: boolean } = {}) => {
    const name = uniqueName('rollout');
    created.push(name);
    await createTestDeployment(sandbox, { name, replicas: 1, probes: opts.probes ?? false });
    return name;
  };
  const enter = (name: string, extra: Partial<ConstructorParameters<typeof DevMode>[1]> = {}) =>
    new DevMode(cluster, { namespace: 'demo', deployment: name, rolloutTimeoutSeconds: 600, ...extra }).enter();

  for (const [cause, message] of [
    [
      'a ResourceQuota',
      'pods "{pod}" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=4, limited: pods=4',
    ],
    [
      'PodSecurity',
      'pods "{pod}" is forbidden: violates PodSecurity "restricted:latest": runAsNonRoot != true (pod or container "web" must set securityContext.runAsNonRoot=true)',
    ],
    [
      'a validating webhook',
      'admission webhook "validate.kyverno.svc-fail" denied the request: policy require-labels: label team is required',
    ],
  ]) {
    it(`${cause} refusing the pods: ReplicaFailure/FailedCreate, quoted`, async () => {
      const name = await deployment();
      sandbox.faults.podAdmission({ kind: 'refuseCreate', deployment: name, message });
      const quoted = message.split('{pod}').pop()!;
      await assert.rejects(enter(name), (err: Error) => {
        assert.ok(err instanceof RolloutError, String(err));
        assert.match(err.message, /cannot finish: FailedCreate: /);
        assert.ok(err.message.includes(quoted), err.message);
        return true;
      });
      // kubectl, a second client, shows the same condition.
      const conditions = JSON.parse((await kubectl(sandbox, ['get', 'deploy', name, '-o', 'json'])).stdout).status
        .conditions;
      assert.ok(conditions.some((c: any) => c.type === 'ReplicaFailure' && c.reason === 'FailedCreate'));
    });
  }

  it('a paused deployment', async () => {
    const name = await deployment();
    assert.equal((await kubectl(sandbox, ['rollout', 'pause', `deployment/${name}`])).code, 0);
    await assert.rejects(enter(name), /cannot finish: it is paused \(spec\.paused\).*kubectl rollout resume/);
  });

  it('pods no node fits: Unschedulable, quoted', async () => {
    const name = await deployment();
    sandbox.faults.podAdmission({
      kind: 'unschedulable',
      deployment: name,
      message:
        '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.',
    });
    await assert.rejects(
      enter(name),
      /cannot finish: pod .* is Unschedulable: 0\/1 nodes are available: 1 Insufficient cpu/,
    );
  });

  it('ProgressDeadlineExceeded, quoted', async () => {
    const name = uniqueName('deadline');
    created.push(name);
    const d = webDeployment(name, 1);
    d.spec.progressDeadlineSeconds = 2;
    const c = d.spec.template.spec.containers[0];
    delete c.livenessProbe;
    await cluster.createDeployment(d, { namespace: 'demo' });
    // Dev mode keeps the readiness probe and runs nothing that answers it: no progress.
    await assert.rejects(
      new DevMode(cluster, {
        namespace: 'demo',
        deployment: name,
        rolloutTimeoutSeconds: 600,
        keepProbes: true,
        run: ['sh', '-c', 'sleep 1000'],
      }).enter(),
      /cannot finish: ProgressDeadlineExceeded: ReplicaSet ".*" has timed out progressing/,
    );
  });

  it('an image name that does not parse: InvalidImageName, quoted', async () => {
    const name = uniqueName('badimage');
    created.push(name);
    const d = webDeployment(name, 1, 'demo', 'Web:Latest');
    await cluster.createDeployment(d, { namespace: 'demo' });
    await assert.rejects(
      enter(name),
      /cannot finish: pod .* container web: InvalidImageName \(.*invalid reference format/,
    );
  });
});
