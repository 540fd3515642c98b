// Dev mode against the sandbox: enter on a 2-pod deployment, restart the app, restore exactly;
// recover after a crash; refuse images without tar and read-only users without touching anything.
import { strict as assert } from 'node:assert';
import type { Sandbox } from '../../../sandbox';
import { READONLY_CONTEXT } from '../../../sandbox';
import {
  BACKUP_ANNOTATION,
  DEV_TEMPLATE_ANNOTATION,
  DevMode,
  PreflightError,
  RestoreConflictError,
  findDevModeDeployments,
} from '../../../src/core/devmode/devMode';
import { isSupervisorCommand } from '../../../src/core/devmode/supervisor';
import type { Cluster } from '../../../src/core/kube/cluster';
import {
  clientWritten,
  createTestDeployment,
  kubectl,
  podNames,
  sandboxCluster,
  sharedSandbox,
  uniqueName,
  waitFor,
} from '../../helpers/sandbox';

/** Asks the app inside the pod for its answer (pods are reachable only from inside). */
async function appAnswer(cluster: Cluster, pod: string, container = 'web'): Promise<string> {
  const r = await cluster.exec(
    pod,
    container,
    ['node', '-e', "fetch('http://127.0.0.1:8080/').then(r=>r.text()).then(t=>process.stdout.write(t))"],
    { timeoutMs: 15_000 },
  );
  return r.exitCode === 0 ? r.stdout.toString() : '';
}

describe('dev mode on the sandbox', function () {
  this.timeout(120_000);
  let sandbox: Sandbox;
  let cluster: Cluster;

  before(async () => {
    sandbox = await sharedSandbox();
    cluster = sandboxCluster(sandbox);
  });
  after(() => cluster.dispose());

  it('enter -> supervisor in both pods, app answers -> restart -> new PID -> restore exactly', async () => {
    const name = uniqueName('devmode');
    const original = await createTestDeployment(sandbox, { name, replicas: 2 });
    const devMode = new DevMode(cluster, { namespace: 'demo', deployment: name, remotePaths: ['/app'] });
    await devMode.preflight();
    const progress: string[] = [];
    const backup = await devMode.enter((m) => progress.push(m));
    assert.deepEqual(backup.template, original.spec.template);
    assert.ok(progress.length > 0);

    const dev = await cluster.getDeployment(name);
    assert.ok(dev.metadata?.annotations?.[BACKUP_ANNOTATION]);
    const container = dev.spec!.template!.spec!.containers[0];
    assert.ok(isSupervisorCommand(container.command));
    assert.equal(container.readinessProbe, undefined, 'probes are removed by default');
    assert.deepEqual(container.command!.slice(4), ['node', 'server.js']);

    const pods = await waitFor(
      async () => {
        const p = await podNames(sandbox, name);
        return p.length === 2 ? p : undefined;
      },
      30_000,
      'two dev-mode pods',
    );
    for (const pod of pods) {
      await waitFor(() => appAnswer(cluster, pod).then((t) => t.includes('hello from')), 15_000, `the app in ${pod}`);
      const logs = await kubectl(sandbox, ['logs', pod]);
      assert.match(logs.stdout, /\[truva\] started pid \d+: node server.js/);
    }

    const before = await waitFor(() => devMode.processId(pods[0]), 10_000, 'a PID');
    const after = await devMode.restartProcess(pods[0]);
    assert.notEqual(after, before);
    await waitFor(() => appAnswer(cluster, pods[0]).then((t) => t.includes('hello from')), 15_000, 'the restarted app');

    await devMode.restore();
    const restored = await cluster.getDeployment(name);
    assert.deepEqual(restored.spec!.template, original.spec.template, 'the template is exactly the original');
    assert.equal(restored.spec!.replicas, 2);
    assert.equal(restored.metadata?.annotations?.[BACKUP_ANNOTATION], undefined);
    assert.equal(restored.metadata?.annotations?.[DEV_TEMPLATE_ANNOTATION], undefined);
    const rolledBack = await podNames(sandbox, name);
    assert.equal(rolledBack.filter((p) => pods.includes(p)).length, 0, 'dev-mode pods were replaced');
    const pod = await cluster.getPod(rolledBack[0]);
    assert.deepEqual(pod.spec!.containers[0].command, ['node', 'server.js']);
  });

  it('entering twice keeps the first backup; after a crash, recovery finds and restores it', async () => {
    const name = uniqueName('recover');
    const original = await createTestDeployment(sandbox, { name, replicas: 1 });
    await new DevMode(cluster, { namespace: 'demo', deployment: name }).enter();
    // A second start (e.g. after a crash) must not back up the dev-mode template.
    await new DevMode(cluster, { namespace: 'demo', deployment: name, run: ['sh', '-c', 'node server.js'] }).enter();
    // "Crash": forget every object, build a new cluster client, find the deployment.
    const fresh = sandboxCluster(sandbox);
    try {
      const found = (await findDevModeDeployments(fresh)).find((b) => b.deployment === name);
      assert.ok(found, 'recovery lists the deployment');
      assert.deepEqual(found.template, original.spec.template);
      await new DevMode(fresh, {
        namespace: found.namespace,
        deployment: found.deployment,
        run: ['sh', '-c', 'node server.js'],
      }).restore();
      const restored = await fresh.getDeployment(name);
      assert.deepEqual(restored.spec!.template, original.spec.template);
      assert.equal(
        (await findDevModeDeployments(fresh)).some((b) => b.deployment === name),
        false,
      );
    } finally {
      fresh.dispose();
    }
  });

  it('an image without tar is refused in preflight, naming container and image; nothing changes', async () => {
    const name = uniqueName('notar');
    const original = await createTestDeployment(sandbox, { name, replicas: 1, image: 'notar' });
    const devMode = new DevMode(cluster, { namespace: 'demo', deployment: name });
    await assert.rejects(
      devMode.preflight(),
      (err: Error) => err instanceof PreflightError && /Container "web" \(image "notar"\) has no tar/.test(err.message),
    );
    assert.deepEqual(clientWritten(await cluster.getDeployment(name)), clientWritten(original));
  });

  it('the read-only context is refused with a message naming the verb; nothing changes', async () => {
    const readonly = sandboxCluster(sandbox, READONLY_CONTEXT);
    try {
      const before = await cluster.getDeployment('web');
      const devMode = new DevMode(readonly, { namespace: 'demo', deployment: 'web' });
      await assert.rejects(devMode.preflight(), /may not update deployments .*in namespace "demo"/);
      await assert.rejects(devMode.enter(), (err: any) => err.kind === 'forbidden' && /patch|update/.test(err.message));
      assert.deepEqual(clientWritten(await cluster.getDeployment('web')), clientWritten(before));
    } finally {
      readonly.dispose();
    }
  });

  it('a missing deployment or container is named in the error', async () => {
    await assert.rejects(
      new DevMode(cluster, { namespace: 'demo', deployment: 'no-such-app' }).preflight(),
      (err: any) => err.kind === 'notFound' && /no-such-app/.test(err.message),
    );
    await assert.rejects(
      new DevMode(cluster, { namespace: 'demo', deployment: 'worker', container: 'nope' }).preflight(),
      /Container "nope" is not in deployment "worker".*"main", "sidecar"/,
    );
  });

  it('a 409 while switching to dev mode is handled by reading again and re-applying', async () => {
    const name = uniqueName('conflict');
    await createTestDeployment(sandbox, { name, replicas: 1 });
    sandbox.faults.fail({ path: `/deployments/${name}`, method: 'PUT', status: 409, count: 2 });
    try {
      await new DevMode(cluster, { namespace: 'demo', deployment: name }).enter();
    } finally {
      sandbox.faults.clear();
    }
    assert.ok((await cluster.getDeployment(name)).metadata?.annotations?.[BACKUP_ANNOTATION]);
    await new DevMode(cluster, { namespace: 'demo', deployment: name }).restore();
  });

  it('someone else changing the deployment during the session makes restore ask instead of overwrite', async () => {
    const name = uniqueName('edited');
    const original = await createTestDeployment(sandbox, { name, replicas: 1 });
    const devMode = new DevMode(cluster, { namespace: 'demo', deployment: name });
    await devMode.enter();
    const patch = await kubectl(sandbox, [
      'patch',
      'deploy',
      name,
      '-p',
      JSON.stringify({
        spec: { template: { spec: { containers: [{ name: 'web', env: [{ name: 'EDITED', value: 'by-someone' }] }] } } },
      }),
    ]);
    assert.equal(patch.code, 0, patch.stderr);
    await assert.rejects(
      devMode.restore(),
      (err: Error) => err instanceof RestoreConflictError && /containers\[web\]\.env/.test(err.message),
    );
    assert.ok(
      (await cluster.getDeployment(name)).metadata?.annotations?.[BACKUP_ANNOTATION],
      'nothing was overwritten',
    );
    await devMode.restore({ force: true });
    assert.deepEqual((await cluster.getDeployment(name)).spec!.template, original.spec.template);
  });
});
