// The real kubectl against the sandbox: if kubectl cannot tell it from a cluster, neither can Truva.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';
import type { Sandbox } from '../../../sandbox';
import { READONLY_CONTEXT } from '../../../sandbox';
import { webDeployment } from '../../../sandbox/seed';
import {
  createTestDeployment,
  kubectl,
  kubectlPath,
  podNames,
  sharedSandbox,
  uniqueName,
  waitFor,
  waitForRollout,
} from '../../helpers/sandbox';

function treeDigest(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else out[relative(root, path)] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  walk(root);
  return out;
}

describe('sandbox through the real kubectl', function () {
  this.timeout(90_000);
  let sandbox: Sandbox;
  let app: string;
  let pods: string[];

  before(async () => {
    sandbox = await sharedSandbox();
    app = uniqueName('kubectl');
    await createTestDeployment(sandbox, { name: app, replicas: 2 });
    pods = await podNames(sandbox, app);
    assert.equal(pods.length, 2);
  });

  it('get deploy,pods -o json lists the seeded and created objects', async () => {
    const r = await kubectl(sandbox, ['get', 'deploy,pods', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const items = JSON.parse(r.stdout).items as any[];
    const names = items.map((i) => `${i.kind}/${i.metadata.name}`);
    assert.ok(
      names.includes('Deployment/web') && names.includes('Deployment/worker') && names.includes(`Deployment/${app}`),
      names.join(' '),
    );
    assert.equal(items.filter((i) => i.kind === 'Pod' && i.metadata.labels.app === app).length, 2);
  });

  it('exec runs in the pod: hostname is the pod name, cwd the workingDir', async () => {
    const r = await kubectl(sandbox, ['exec', pods[0], '--', 'sh', '-c', 'echo $HOSTNAME; pwd']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${pods[0]}\n/app\n`);
  });

  it('exec passes the exit code through', async () => {
    const r = await kubectl(sandbox, ['exec', pods[0], '--', 'sh', '-c', 'exit 3']);
    assert.equal(r.code, 3);
  });

  it('cp copies a directory tree into a pod and back, byte-identical', async () => {
    const src = mkdtempSync(join(tmpdir(), 'truva-cp-'));
    mkdirSync(join(src, 'a/b'), { recursive: true });
    writeFileSync(join(src, 'a/b/text.txt'), 'hello\n');
    writeFileSync(join(src, 'a/bin.dat'), Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 256)));
    writeFileSync(join(src, 'empty'), '');
    assert.equal((await kubectl(sandbox, ['cp', src, `${pods[0]}:/app/copied`])).code, 0);
    const back = mkdtempSync(join(tmpdir(), 'truva-cp-back-'));
    const r = await kubectl(sandbox, ['cp', `${pods[0]}:/app/copied`, join(back, 'copied')]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(treeDigest(join(back, 'copied')), treeDigest(src));
  });

  it("the two pods do not see each other's files", async () => {
    await kubectl(sandbox, ['exec', pods[0], '--', 'sh', '-c', 'echo mine > /app/only-here']);
    const other = await kubectl(sandbox, [
      'exec',
      pods[1],
      '--',
      'sh',
      '-c',
      'test -e /app/only-here && echo present || echo absent',
    ]);
    assert.equal(other.stdout.trim(), 'absent');
  });

  it('logs -f sees new lines as they are written', async () => {
    const child = spawn(kubectlPath()!, [`--kubeconfig=${sandbox.kubeconfigPath}`, 'logs', '-f', pods[0], '--tail=1']);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    try {
      const marker = `marker-${Date.now()}`;
      await waitFor(() => out.includes('heartbeat'), 10_000, 'first log line');
      await kubectl(sandbox, [
        'exec',
        pods[0],
        '--',
        'sh',
        '-c',
        `node -e "fetch('http://127.0.0.1:8080/${marker}').then(r=>r.text()).then(()=>{})"`,
      ]);
      await waitFor(() => out.includes(marker), 10_000, 'the request line in the followed log');
    } finally {
      child.kill();
    }
  });

  it('patch works with all three patch types and rollout status finishes', async () => {
    let r = await kubectl(sandbox, [
      'patch',
      'deploy',
      app,
      '--type=merge',
      '-p',
      '{"metadata":{"labels":{"merged":"yes"}}}',
    ]);
    assert.equal(r.code, 0, r.stderr);
    r = await kubectl(sandbox, [
      'patch',
      'deploy',
      app,
      '--type=json',
      '-p',
      '[{"op":"add","path":"/metadata/annotations","value":{"json":"yes"}}]',
    ]);
    assert.equal(r.code, 0, r.stderr);
    r = await kubectl(sandbox, [
      'patch',
      'deploy',
      app,
      '-p',
      JSON.stringify({
        spec: { template: { spec: { containers: [{ name: 'web', env: [{ name: 'STRATEGIC', value: 'yes' }] }] } } },
      }),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse((await kubectl(sandbox, ['get', 'deploy', app, '-o', 'json'])).stdout);
    assert.equal(d.metadata.labels.merged, 'yes');
    assert.equal(d.metadata.annotations.json, 'yes');
    const env = d.spec.template.spec.containers[0].env.map((e: any) => e.name);
    assert.deepEqual(env.sort(), ['PORT', 'STRATEGIC'], 'strategic merge keeps existing env entries');
    r = await kubectl(sandbox, ['rollout', 'status', `deploy/${app}`, '--timeout=60s']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /successfully rolled out/);
    const now = await podNames(sandbox, app);
    assert.equal(now.filter((p) => pods.includes(p)).length, 0, 'the template change replaced every pod');
    pods = now;
  });

  it('delete pod makes a replacement appear; scale changes the count', async () => {
    assert.equal((await kubectl(sandbox, ['delete', 'pod', pods[0]])).code, 0);
    await waitFor(
      async () => {
        const p = await podNames(sandbox, app);
        return p.length === 2 && !p.includes(pods[0]);
      },
      30_000,
      'a replacement pod',
    );
    assert.equal((await kubectl(sandbox, ['scale', `deploy/${app}`, '--replicas=3'])).code, 0);
    await waitForRollout(sandbox, app);
    assert.equal((await podNames(sandbox, app)).length, 3);
    pods = await podNames(sandbox, app);
  });

  it('logs --previous shows the instance before a restart', async () => {
    const before = await kubectl(sandbox, [
      'get',
      'pod',
      pods[0],
      '-o',
      'jsonpath={.status.containerStatuses[0].restartCount}',
    ]);
    sandbox.faults.killContainer('demo', pods[0], 'web');
    await waitFor(
      async () => {
        const r = await kubectl(sandbox, ['get', 'pod', pods[0], '-o', 'json']);
        const st = JSON.parse(r.stdout).status.containerStatuses?.[0];
        return st && st.restartCount > Number(before.stdout) && st.state.running;
      },
      30_000,
      'the container to restart',
    );
    const prev = await kubectl(sandbox, ['logs', pods[0], '--previous']);
    assert.equal(prev.code, 0, prev.stderr);
    assert.match(prev.stdout, /web listening on :8080/);
  });

  it("the read-only context gets kubectl's normal Forbidden error on writes and exec", async () => {
    const del = await kubectl(sandbox, ['delete', 'pod', pods[0]], { context: READONLY_CONTEXT });
    assert.notEqual(del.code, 0);
    assert.match(
      del.stderr,
      /Error from server \(Forbidden\): pods ".*" is forbidden: User "readonly" cannot delete resource "pods"/,
    );
    const exec = await kubectl(sandbox, ['exec', pods[0], '--', 'true'], { context: READONLY_CONTEXT });
    assert.notEqual(exec.code, 0);
    assert.match(exec.stderr, /forbidden/i);
    const get = await kubectl(sandbox, ['get', 'pods'], { context: READONLY_CONTEXT });
    assert.equal(get.code, 0, get.stderr);
  });

  it('apply creates and then updates from a manifest; validation refuses an unknown field', async () => {
    const name = uniqueName('applied');
    const manifest = (replicas: number, extra: object = {}) => {
      const d = webDeployment(name, replicas);
      Object.assign(d.spec.template.spec.containers[0], extra);
      return JSON.stringify(d);
    };
    let r = await kubectl(sandbox, ['apply', '-f', '-'], { input: manifest(1) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`deployment.apps/${name} created`));
    r = await kubectl(sandbox, ['apply', '-f', '-'], { input: manifest(2) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`deployment.apps/${name} configured`));
    await waitForRollout(sandbox, name);
    r = await kubectl(sandbox, ['apply', '--validate=strict', '-f', '-'], { input: manifest(2, { colour: 'blue' }) });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unknown field "spec.template.spec.containers\[0\].colour"/);
    assert.equal((await kubectl(sandbox, ['delete', 'deploy', name])).code, 0);
  });

  // Every kubectl the SDK ships (1.27 to 1.33): their discovery and rollout logic differ.
  for (const version of ['1.27', '1.28', '1.29', '1.30', '1.31', '1.32', '1.33']) {
    const binary = kubectlPath(version);
    (binary ? it : it.skip)(`kubectl ${version}: get, logs and rollout status work`, async () => {
      const get = await kubectl(sandbox, ['get', 'deploy', app, '-o', 'json'], { binary });
      assert.equal(get.code, 0, get.stderr);
      assert.equal(JSON.parse(get.stdout).metadata.name, app);
      const logs = await kubectl(sandbox, ['logs', pods[1], '--tail=2'], { binary });
      assert.equal(logs.code, 0, logs.stderr);
      assert.ok(logs.stdout.trim().split('\n').length >= 1);
      const rollout = await kubectl(sandbox, ['rollout', 'status', `deploy/${app}`, '--timeout=30s'], { binary });
      assert.equal(rollout.code, 0, rollout.stderr);
    });
  }
});
