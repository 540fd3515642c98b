// Hardened pods: the sandbox runtime honours securityContext (the processes really run as that
// user, the root filesystem is really read-only, volumes belong to fsGroup), preflight finds
// the folders dev mode cannot write as that user and says what to do, and the opt-in dev-mode
// emptyDir makes such a pod work.
import { strict as assert } from 'node:assert';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sandbox } from '../../../sandbox';
import { webDeployment } from '../../../sandbox/seed';
import { DevMode, PreflightError } from '../../../src/core/devmode/devMode';
import type { Cluster } from '../../../src/core/kube/cluster';
import {
  kubectl,
  podNames,
  sandboxSuite,
  testSyncEngine,
  uniqueName,
  waitFor,
  waitForRollout,
} from '../../helpers/sandbox';

function hardened(name: string, opts: { readOnlyRoot: boolean }): any {
  const d = webDeployment(name, 1);
  d.spec.template.spec.securityContext = { runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000, runAsNonRoot: true };
  d.spec.template.spec.volumes = [{ name: 'data', emptyDir: {} }];
  const c = d.spec.template.spec.containers[0];
  c.securityContext = { readOnlyRootFilesystem: opts.readOnlyRoot, allowPrivilegeEscalation: false };
  c.volumeMounts = [{ name: 'data', mountPath: '/data' }];
  return d;
}

describe('hardened pods', function () {
  this.timeout(120_000);
  const suite = sandboxSuite();
  let sandbox: Sandbox;
  let cluster: Cluster;
  const created = suite.created;
  before(() => void ({ sandbox, cluster } = suite));

  const create = async (d: any) => {
    created.push(d.metadata.name);
    await cluster.createDeployment(d, { namespace: 'demo' });
    await waitForRollout(sandbox, d.metadata.name);
    return (await podNames(sandbox, d.metadata.name))[0];
  };
  const sh = (pod: string, script: string) => kubectl(sandbox, ['exec', pod, '--', 'sh', '-c', script]);

  it('the runtime runs the processes as runAsUser/runAsGroup with fsGroup, and the root filesystem is read-only', async () => {
    const pod = await create(hardened(uniqueName('hard'), { readOnlyRoot: true }));
    assert.equal((await sh(pod, 'id -u; id -g')).stdout, '1000\n3000\n');
    assert.match((await sh(pod, 'id -G')).stdout, /\b2000\b/);
    assert.match((await sh(pod, 'grep ^Uid: /proc/1/status')).stdout, /^Uid:\s+1000\s/, 'PID 1 too');
    for (const path of ['/tmp/x', '/app/x', '/x'])
      assert.notEqual((await sh(pod, `: > ${path}`)).code, 0, `${path} is read-only`);
    assert.equal(
      (await sh(pod, ': > /data/x && stat -c %g /data/x')).stdout,
      '2000\n',
      'volumes are writable, owned by fsGroup',
    );
  });

  it('runAsNonRoot with a root user does not start (CreateContainerConfigError)', async () => {
    const name = uniqueName('root');
    created.push(name);
    const d = webDeployment(name, 1);
    d.spec.template.spec.securityContext = { runAsNonRoot: true };
    await cluster.createDeployment(d, { namespace: 'demo' });
    const reason = await waitFor(
      async () => {
        const waiting = (await cluster.listPods(`app=${name}`, 'demo'))[0]?.status?.containerStatuses?.[0]?.state
          ?.waiting;
        return waiting?.reason === 'CreateContainerConfigError' ? waiting : undefined;
      },
      20_000,
      'CreateContainerConfigError',
    );
    assert.match(String(reason?.message), /container has runAsNonRoot and image will run as root/);
  });

  it('preflight refuses a pod whose user cannot write the state folder or the remote path, saying what to do; nothing changes', async () => {
    const readOnly = uniqueName('rofs');
    await create(hardened(readOnly, { readOnlyRoot: true }));
    const nonRoot = uniqueName('nonroot');
    await create(hardened(nonRoot, { readOnlyRoot: false }));
    for (const [name, pattern] of [
      [
        readOnly,
        /running as user 1000, cannot write Truva's state folder \/tmp\/truva, where the supervisor keeps its PID files/,
      ],
      [
        nonRoot,
        /running as user 1000, cannot write the remote path \/app .*, or pick a remote path that user can write/,
      ],
    ] as const) {
      const before = await cluster.getDeployment(name);
      await assert.rejects(
        new DevMode(cluster, { namespace: 'demo', deployment: name, remotePaths: ['/app'] }).preflight(),
        (err: Error) =>
          err instanceof PreflightError &&
          pattern.test(err.message) &&
          /Set devMode\.emptyDir: true in truva\.yaml/.test(err.message),
      );
      assert.equal((await cluster.getDeployment(name)).metadata?.generation, before.metadata?.generation);
    }
  });

  it('with devMode.emptyDir the hardened pod takes the sync, runs the synced app, and is restored exactly', async () => {
    const name = uniqueName('emptydir');
    await create(hardened(name, { readOnlyRoot: true }));
    const original = await cluster.getDeployment(name);
    const devMode = new DevMode(cluster, {
      namespace: 'demo',
      deployment: name,
      remotePaths: ['/app'],
      emptyDir: true,
    });
    await devMode.preflight();
    await devMode.enter();
    const local = mkdtempSync(join(tmpdir(), 'truva-hardened-'));
    cpSync(join(__dirname, '../../../sandbox/images/web'), local, { recursive: true });
    rmSync(join(local, 'image.json'));
    const engine = testSyncEngine(cluster, name, local, {
      restart: (pod) => devMode.restartProcess(pod).then(() => undefined),
    });
    try {
      await engine.start();
      await engine.restartAll();
      assert.notEqual(engine.snapshot().state, 'error', engine.snapshot().error);
      const pod = (await podNames(sandbox, name))[0];
      await waitFor(
        async () =>
          (
            await sh(
              pod,
              `node -e "fetch('http://127.0.0.1:8080/').then(r=>r.text()).then(t=>process.stdout.write(t))"`,
            )
          ).stdout.includes('hello from'),
        20_000,
        'the synced app to answer',
      );
      assert.equal((await sh(pod, 'id -u')).stdout, '1000\n');
    } finally {
      await engine.dispose();
      rmSync(local, { recursive: true, force: true });
    }
    await devMode.restore();
    assert.deepEqual((await cluster.getDeployment(name)).spec!.template, original.spec!.template);
  });
});
