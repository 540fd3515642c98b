// A rollout into dev mode that cannot finish fails at once, quoting the cluster's own reason,
// instead of waiting out the timeout with an empty one. Each cause is made as a real cluster
// makes it (test/helpers/admission.ts: on the real control plane a real ResourceQuota,
// PodSecurity label, ValidatingAdmissionPolicy and cordoned node; on the sandbox's API server its
// fault in the same words): admission refusing the ReplicaSet's pod creates, a paused
// deployment, a pod no node fits, an exceeded progress deadline, an image name that does not
// parse, a container the runtime cannot start (no shell for the supervisor, as in a distroless
// image: RunContainerError) or cannot create (an image USER missing from its /etc/passwd:
// CreateContainerError). On both control planes: the sandbox's reproductions are its own code.
import { strict as assert } from 'node:assert';
import type { Sandbox } from '../../../sandbox';
import { webDeployment } from '../../../sandbox/seed';
import { DevMode, RolloutError, readBackup } from '../../../src/core/devmode/devMode';
import { isSupervisorCommand } from '../../../src/core/devmode/supervisor';
import type { Cluster } from '../../../src/core/kube/cluster';
import { refusePods } from '../../helpers/admission';
import {
  bothControlPlanes,
  createTestDeployment,
  kubectl,
  sandboxSuite,
  uniqueName,
  waitFor,
} from '../../helpers/sandbox';

for (const controlPlane of bothControlPlanes())
  describe(`rollout failures are reported at once with the real reason (${controlPlane} control plane)`, function () {
    // Far below the rollout timeout given to dev mode: a test passes only when it fails fast.
    this.timeout(45_000);
    const suite = sandboxSuite({
      controlPlane,
      why: "the sandbox reproduces each cause with its own controllers' conditions and admission faults; the real control plane with the real causes",
    });
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

    for (const cause of ['quota', 'pod security', 'admission policy'] as const) {
      it(`${cause} refusing the pods: ReplicaFailure/FailedCreate, quoted; once it is gone the restore works`, async () => {
        const name = await deployment();
        const original = (await cluster.getDeployment(name)).spec!.template;
        const refusal = await refusePods(sandbox, cluster, name, cause);
        let undone = false;
        const devMode = new DevMode(cluster, { namespace: 'demo', deployment: name, rolloutTimeoutSeconds: 600 });
        try {
          await assert.rejects(devMode.enter(), (err: Error) => {
            assert.ok(err instanceof RolloutError, String(err));
            assert.match(err.message, /cannot finish: FailedCreate: /);
            assert.match(err.message, refusal.expected);
            return true;
          });
          // kubectl, a second client, shows the same condition.
          const conditions = JSON.parse((await kubectl(sandbox, ['get', 'deploy', name, '-o', 'json'])).stdout).status
            .conditions;
          assert.ok(conditions.some((c: any) => c.type === 'ReplicaFailure' && c.reason === 'FailedCreate'));
          await refusal.undo();
          undone = true;
          // The refused dev ReplicaSet keeps its ReplicaFailure for a while, and the deployment
          // reports it; the restore's rollout (back to the original ReplicaSet) is not judged by it.
          await devMode.restore();
          assert.deepEqual((await cluster.getDeployment(name)).spec!.template, original);
        } finally {
          if (!undone) await refusal.undo();
        }
      });
    }

    it('a paused deployment', async () => {
      const name = await deployment();
      assert.equal((await kubectl(sandbox, ['rollout', 'pause', `deployment/${name}`])).code, 0);
      await assert.rejects(enter(name), /cannot finish: it is paused \(spec\.paused\).*kubectl rollout resume/);
    });

    it('pods no node fits: Unschedulable, quoted', async () => {
      const name = await deployment();
      const refusal = await refusePods(sandbox, cluster, name, 'unschedulable');
      try {
        await assert.rejects(enter(name), (err: Error) => {
          assert.ok(err instanceof RolloutError, String(err));
          assert.match(err.message, /cannot finish: /);
          assert.match(err.message, refusal.expected);
          return true;
        });
      } finally {
        await refusal.undo();
      }
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

    it('an image without the shell the supervisor runs in: RunContainerError with the runtime message, retried with back-off; the restore brings the app back', async () => {
      const name = uniqueName('nosh');
      created.push(name);
      // Like a distroless image: its own program (node) runs, but there is no sh.
      await createTestDeployment(sandbox, { name, replicas: 1, image: 'nosh', probes: false });
      const original = (await cluster.getDeployment(name)).spec!.template;
      const devMode = new DevMode(cluster, { namespace: 'demo', deployment: name, rolloutTimeoutSeconds: 600 });
      await assert.rejects(devMode.enter(), (err: Error) => {
        assert.ok(err instanceof RolloutError, String(err));
        // Seen right after an attempt, or in the back-off after it: the runtime's words either way.
        assert.match(
          err.message,
          /cannot finish: pod .* container web: (RunContainerError \(|CrashLoopBackOff \(.*\); it last ended with StartError, exit code 128: )failed to start container "web": exec: "sh": executable file not found in \$PATH/,
        );
        return true;
      });
      // As a kubelet reports it, to kubectl too: every attempt is a StartError, and it backs off.
      const status = await waitFor(
        async () => {
          const pods = JSON.parse((await kubectl(sandbox, ['get', 'pods', '-l', `app=${name}`, '-o', 'json'])).stdout);
          return pods.items
            .map((p: any) => p.status.containerStatuses?.[0])
            .find((c: any) => c?.restartCount >= 2 && c.lastState?.terminated?.reason === 'StartError');
        },
        20_000,
        'the dev pod retried with back-off',
      );
      assert.equal(status.lastState.terminated.exitCode, 128);
      assert.match(status.lastState.terminated.message, /exec: "sh": executable file not found in \$PATH/);
      assert.match(status.state.waiting.reason, /^(RunContainerError|CrashLoopBackOff)$/);
      await devMode.restore();
      assert.deepEqual((await cluster.getDeployment(name)).spec!.template, original);
    });

    it('an image USER that is not in its /etc/passwd: CreateContainerError with the runtime message; restored as it was', async () => {
      const name = uniqueName('nouser');
      created.push(name);
      await cluster.createDeployment(webDeployment(name, 1, 'demo', 'nouser'), { namespace: 'demo' });
      const original = (await cluster.getDeployment(name)).spec!.template;
      const expected =
        /cannot finish: pod .* container web: CreateContainerError \(failed to create container "web": unable to find user nodeapp: no users found\)/;
      const devMode = new DevMode(cluster, { namespace: 'demo', deployment: name, rolloutTimeoutSeconds: 600 });
      await assert.rejects(devMode.enter(), (err: Error) => err instanceof RolloutError && expected.test(err.message));
      // Never created, so never restarted (kubectl, a second client, shows the same).
      const pods = JSON.parse((await kubectl(sandbox, ['get', 'pods', '-l', `app=${name}`, '-o', 'json'])).stdout);
      const dev = pods.items.find((p: any) => isSupervisorCommand(p.spec.containers[0].command));
      assert.equal(dev.status.containerStatuses[0].state.waiting.reason, 'CreateContainerError');
      assert.equal(dev.status.containerStatuses[0].restartCount, 0);
      // The original template comes back; it cannot roll out either, and the restore says why.
      await assert.rejects(devMode.restore(), expected);
      const live = await cluster.getDeployment(name);
      assert.deepEqual(live.spec!.template, original);
      assert.equal(readBackup(live), undefined);
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
