// Dev mode changes only the chosen container: the whole deployment object is diffed, field by
// field, before, during and after a session on the second container of a two-container pod.
import { strict as assert } from 'node:assert';
import type { Sandbox } from '../../../sandbox';
import { workerDeployment } from '../../../sandbox/seed';
import { BACKUP_ANNOTATION, DEV_MODE_LABEL, DEV_TEMPLATE_ANNOTATION, DevMode } from '../../../src/core/devmode/devMode';
import type { Cluster } from '../../../src/core/kube/cluster';
import { sandboxCluster, sharedSandbox, uniqueName, waitForRollout } from '../../helpers/sandbox';

/** Paths of every leaf that differs between a and b, e.g. spec.template.spec.containers.1.command. */
function diff(a: unknown, b: unknown, path = ''): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => diff((a as any)[k], (b as any)[k], path ? `${path}.${k}` : k));
  }
  return [path];
}

/** What the cluster itself moves on (bookkeeping, the controller's revision, status), not what Truva changes. */
const bookkeeping = (p: string) =>
  p.startsWith('status.') ||
  p === 'status' ||
  [
    'metadata.resourceVersion',
    'metadata.generation',
    'metadata.annotations.deployment.kubernetes.io/revision',
  ].includes(p) ||
  p.startsWith('metadata.managedFields');

describe('dev mode changes only the chosen container', function () {
  this.timeout(120_000);
  let sandbox: Sandbox;
  let cluster: Cluster;

  before(async () => {
    sandbox = await sharedSandbox();
    cluster = sandboxCluster(sandbox);
  });
  after(() => cluster.dispose());

  it("the whole deployment differs only in the sidecar's command/args, Truva's two annotations and its label, and restore undoes exactly that", async () => {
    const name = uniqueName('two');
    const manifest = workerDeployment();
    manifest.metadata = { name, namespace: 'demo', labels: { app: name }, annotations: { owner: 'team-a' } };
    manifest.spec.selector.matchLabels = { app: name };
    manifest.spec.template.metadata.labels = { app: name };
    manifest.spec.replicas = 2;
    manifest.spec.template.spec.containers[1].livenessProbe = { exec: { command: ['true'] }, periodSeconds: 5 };
    await cluster.createDeployment(manifest, { namespace: 'demo' });
    await waitForRollout(sandbox, name);
    const original = await cluster.getDeployment(name, 'demo');
    try {
      const devMode = new DevMode(cluster, { namespace: 'demo', deployment: name, container: 'sidecar' });
      await devMode.preflight();
      assert.deepEqual(
        diff(original, await cluster.getDeployment(name, 'demo')).filter((p) => !bookkeeping(p)),
        [],
        'preflight changes nothing',
      );

      await devMode.enter();
      const dev = await cluster.getDeployment(name, 'demo');
      const changed = diff(original, dev)
        .filter((p) => !bookkeeping(p))
        .sort();
      assert.deepEqual(
        changed,
        [
          `metadata.annotations.${DEV_TEMPLATE_ANNOTATION}`,
          `metadata.annotations.${BACKUP_ANNOTATION}`,
          `metadata.labels.${DEV_MODE_LABEL}`,
          // command and args are one list each: every element that moved is listed.
          ...diff(
            original.spec!.template!.spec!.containers[1].command,
            dev.spec!.template!.spec!.containers[1].command,
          ).map((p) => `spec.template.spec.containers.1.command${p ? `.${p}` : ''}`),
          ...diff(original.spec!.template!.spec!.containers[1].args, dev.spec!.template!.spec!.containers[1].args).map(
            (p) => `spec.template.spec.containers.1.args${p ? `.${p}` : ''}`,
          ),
          'spec.template.spec.containers.1.livenessProbe',
        ].sort(),
      );
      assert.deepEqual(
        dev.spec!.template!.spec!.containers[0],
        original.spec!.template!.spec!.containers[0],
        'the main container is byte for byte the same',
      );
      assert.equal(dev.metadata!.annotations!.owner, 'team-a');

      await devMode.restore();
      assert.deepEqual(
        diff(original, await cluster.getDeployment(name, 'demo')).filter((p) => !bookkeeping(p)),
        [],
        'after restore, only bookkeeping differs',
      );
    } finally {
      await cluster.deleteDeployment(name, { namespace: 'demo' }).catch(() => undefined);
    }
  });
});
