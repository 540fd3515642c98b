// Bad cluster input: each case fails with a message that names the thing (file, server, user,
// namespace, deployment) and says what to do, never quotes a credential, and changes nothing
// in the cluster. Real client-node and the sandbox over HTTPS; the broken kubeconfigs are
// copies of the sandbox's own.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sandbox } from '../../../sandbox';
import { DevMode } from '../../../src/core/devmode/devMode';
import { Cluster } from '../../../src/core/kube/cluster';
import { freePorts } from '../../helpers/net';
import { sandboxCluster, sharedSandbox } from '../../helpers/sandbox';

describe('bad cluster input', function () {
  this.timeout(60_000);
  let sandbox: Sandbox;
  let admin: Cluster;
  let dir: string;
  let kubeconfig: string;

  /** Every deployment's spec, labels and annotations (status moves on by itself: pods report in). */
  const versions = async () =>
    (await admin.listDeployments({ allNamespaces: true }))
      .map((d) =>
        JSON.stringify([
          d.metadata!.namespace,
          d.metadata!.name,
          d.metadata!.generation,
          d.metadata!.labels,
          d.metadata!.annotations,
          d.spec,
        ]),
      )
      .sort();
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const noSecrets = (message: string) => {
    for (const token of [sandbox.tokens.admin, sandbox.tokens.readonly])
      assert.ok(!message.includes(token), `the message quotes a token: ${message}`);
  };
  // Few quick retries: the cases fail the same way every time.
  const resilience = { maxAttempts: 2, backoff: { initialDelayMs: 10, maxDelayMs: 20 } };

  before(async () => {
    sandbox = await sharedSandbox();
    admin = sandboxCluster(sandbox);
    dir = mkdtempSync(join(tmpdir(), 'truva-bad-kubeconfig-'));
    kubeconfig = readFileSync(sandbox.kubeconfigPath, 'utf8');
  });
  after(() => {
    admin.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a kubeconfig that does not parse: names the file and line, says to fix it, quotes none of it', () => {
    // A YAML mistake right after the token: YAML errors quote the lines around the mistake.
    const path = write(
      'broken.yaml',
      kubeconfig.replace(`token: ${sandbox.tokens.admin}`, `token: ${sandbox.tokens.admin}\n    extra: [unclosed`),
    );
    assert.throws(
      () => new Cluster({ kubeconfigPath: path }),
      (err: any) => {
        assert.equal(err.kind, 'config');
        assert.match(
          err.message,
          new RegExp(
            `kubeconfig file "${path}".*not valid YAML.*line \\d+, column \\d+.*Fix the file, or point the truva.kubeconfig setting`,
          ),
        );
        noSecrets(err.message);
        noSecrets(String(err.stack));
        assert.equal(err.cause, undefined, 'the YAML error (with its snippet) is not kept');
        return true;
      },
    );
    const notKubeconfig = write('notes.yaml', 'just some notes\n');
    assert.throws(
      () => new Cluster({ kubeconfigPath: notKubeconfig }),
      /defines no contexts.*Point the truva.kubeconfig setting or KUBECONFIG at one that has a context/,
    );
  });

  it('a context whose server refuses connections: names server and context, says to check the cluster; nothing changes', async () => {
    const port = await freePorts(); // nothing listens there
    const path = write('refused.yaml', kubeconfig.replace(sandbox.url, `https://127.0.0.1:${port}`));
    const before = await versions();
    const cluster = new Cluster({ kubeconfigPath: path, resilience });
    try {
      const devMode = new DevMode(cluster, { namespace: 'demo', deployment: 'web' });
      for (const step of [() => devMode.preflight(), () => devMode.enter()]) {
        await assert.rejects(step(), (err: any) => {
          assert.equal(err.kind, 'unreachable');
          assert.match(
            err.message,
            new RegExp(
              `Cannot reach the Kubernetes API at https://127\\.0\\.0\\.1:${port} \\(context "truva-sandbox"\\): ECONNREFUSED\\. Check that the cluster is running and the kubeconfig points at it\\.`,
            ),
          );
          noSecrets(err.message);
          return true;
        });
      }
    } finally {
      cluster.dispose();
    }
    assert.deepEqual(await versions(), before);
  });

  it('an expired or wrong token (401): names user and context, says to log in again; nothing changes', async () => {
    const path = write(
      'expired.yaml',
      kubeconfig.replace(`token: ${sandbox.tokens.admin}`, 'token: expired-0000000000'),
    );
    const before = await versions();
    const cluster = new Cluster({ kubeconfigPath: path, resilience });
    try {
      const devMode = new DevMode(cluster, { namespace: 'demo', deployment: 'web' });
      for (const step of [() => devMode.preflight(), () => devMode.enter(), () => devMode.restore()]) {
        await assert.rejects(step(), (err: any) => {
          assert.equal(err.kind, 'unauthorized');
          assert.match(
            err.message,
            /rejected the credentials of user "truva-sandbox" \(context "truva-sandbox"\) \(401 Unauthorized\): they are expired or wrong\. Log in again or refresh the kubeconfig\./,
          );
          assert.ok(!err.message.includes('expired-0000000000'), 'the wrong token is not quoted either');
          return true;
        });
      }
    } finally {
      cluster.dispose();
    }
    assert.deepEqual(await versions(), before);
  });

  it('a missing namespace or deployment: says which, lists what exists, says what to set; nothing changes', async () => {
    const before = await versions();
    await assert.rejects(new DevMode(admin, { namespace: 'no-such-ns', deployment: 'web' }).preflight(), (err: any) => {
      assert.equal(err.kind, 'notFound');
      assert.match(
        err.message,
        /^Namespace "no-such-ns" does not exist in context "truva-sandbox" \(it has .*"demo".*\)\. Set "namespace" in truva\.yaml \(or the truva\.namespace setting\)/,
      );
      return true;
    });
    await assert.rejects(
      new DevMode(admin, { namespace: 'demo', deployment: 'no-such-app' }).preflight(),
      (err: any) => {
        assert.equal(err.kind, 'notFound');
        assert.match(
          err.message,
          /^Deployment "no-such-app" was not found in namespace "demo" of context "truva-sandbox" \(it has .*"web".*"worker".*\)\. Set "deployment" in truva\.yaml/,
        );
        return true;
      },
    );
    assert.deepEqual(await versions(), before);
  });
});
