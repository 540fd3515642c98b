// Real-cluster behaviours under pod churn, one report row: exec failures from the node while a
// container restarts mid-sync (on the sandbox's API server also refused after the upgrade, as a
// 1.30-1.35 server does; on the real control plane the node's own refusal), a sync shell whose
// tar reads slowly (pings answered late, as under a real server's back-pressure), rollouts that
// cannot finish (each must fail fast, quoting the reason, and restore cleanly; the causes from
// test/helpers/admission.ts), and restores against what the server stored (a mutating admission
// step, GitOps putting the original back, a PUT whose answer is lost) while pods are deleted.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sandbox } from '../sandbox';
import { DevMode, RolloutError } from '../src/core/devmode/devMode';
import { isSupervisorCommand } from '../src/core/devmode/supervisor';
import type { Cluster } from '../src/core/kube/cluster';
import { ConflictError } from '../src/core/kube/errors';
import { mutateTemplates, refusePods, type AppliedRefusal, type Refusal } from '../test/helpers/admission';
import { createTestDeployment, podNames, sandboxCluster, uniqueName } from '../test/helpers/sandbox';
import { watchEventLoop } from './probes';
import { emptyRow, type ReliabilityRow } from './report';
import { syncSession } from './scenarios';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Deletes one of the deployment's pods every `everyMs` until stopped. */
function churn(sandbox: Sandbox, cluster: Cluster, name: string, everyMs: number): () => Promise<void> {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await sleep(everyMs);
      const pods = await podNames(sandbox, name).catch(() => []);
      if (!stopped && pods[0])
        await cluster.deletePod(pods[0], { namespace: 'demo', gracePeriodSeconds: 0 }).catch(() => {});
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}

/** Exec failures after the upgrade: containers killed mid-sync while execs into them fail as a 1.30+ server reports it. */
async function execAfterUpgrade(sandbox: Sandbox, cluster: Cluster, row: ReliabilityRow, trials: number) {
  const name = uniqueName('rc-exec');
  const session = await syncSession(sandbox, cluster, name);
  try {
    for (let t = 0; t < trials; t++) {
      row.trials++;
      const pods = await podNames(sandbox, name);
      const victim = pods[t % pods.length];
      // The real control plane's node refuses execs into the killed container by itself.
      if (sandbox.controlPlane === 'sandbox') sandbox.faults.failExec({ count: 3, afterUpgrade: true, pod: victim });
      for (let i = 0; i < 5; i++) session.edit(`edit-${t}-${i}.txt`, `exec trial ${t} edit ${i}`);
      await sleep(100);
      try {
        sandbox.faults.killContainer('demo', victim, 'web');
      } catch {
        // still restarting from the last trial
      }
      await sleep(500);
      sandbox.faults.clear();
      const lost = await session.lostEdits();
      row.edits_lost += lost;
      // Survived: nothing lost, and the gone container was never reported as a sync failure.
      if (lost === 0 && !session.engine.podErrors.size) row.survived++;
    }
  } finally {
    sandbox.faults.clear();
    await session.close();
    await cluster.deleteDeployment(name, { namespace: 'demo' }).catch(() => undefined);
  }
}

/** A batch into a tar that reads at 1 MB/s, with a pod of the deployment deleted meanwhile. */
async function slowReader(sandbox: Sandbox, cluster: Cluster, row: ReliabilityRow, megabytes: number) {
  const name = uniqueName('rc-slow');
  await createTestDeployment(sandbox, { name, replicas: 1, image: 'slowtar' });
  const { engine, local, close } = await syncSession(sandbox, cluster, name, { existing: true, batchBytes: 64 << 20 });
  try {
    row.trials++;
    for (let i = 0; i < megabytes; i++) writeFileSync(join(local, `big-${i}.bin`), randomBytes(1 << 20));
    for (let i = 0; i < megabytes; i++) engine.notify(join(local, `big-${i}.bin`));
    await engine.flush();
    const pod = (await podNames(sandbox, name))[0];
    const r = await cluster.exec(pod, 'web', ['sh', '-c', 'cat /app/big-*.bin | wc -c']);
    const arrived = Number(r.stdout.toString().trim()) === megabytes << 20;
    if (!arrived) row.edits_lost += megabytes;
    if (arrived && engine.snapshot().state !== 'error') row.survived++;
  } finally {
    await close();
    await cluster.deleteDeployment(name, { namespace: 'demo' }).catch(() => undefined);
  }
}

/** Rollouts that cannot finish: each fails fast quoting the cluster's reason, and the restore leaves the original. */
async function rolloutFailures(sandbox: Sandbox, cluster: Cluster, row: ReliabilityRow) {
  const causes: Refusal[] = ['quota', 'pod security', 'admission policy', 'unschedulable'];
  for (const cause of causes) {
    row.trials++;
    const name = uniqueName('rc-rollout');
    const original = (await createTestDeployment(sandbox, { name, replicas: 2, probes: false })).spec.template;
    const stop = churn(sandbox, cluster, name, 300);
    let refusal: AppliedRefusal | undefined;
    try {
      refusal = await refusePods(sandbox, cluster, name, cause);
      const devMode = new DevMode(cluster, { namespace: 'demo', deployment: name, rolloutTimeoutSeconds: 600 });
      const expected = refusal.expected;
      const quoted = await devMode.enter().then(
        () => false,
        (err) => err instanceof RolloutError && expected.test(err.message),
      );
      await refusal.undo();
      refusal = undefined;
      await devMode.restore({ force: true });
      const restored =
        JSON.stringify((await cluster.getDeployment(name, 'demo')).spec?.template) === JSON.stringify(original);
      if (!restored) row.unrecoverable++;
      if (quoted && restored) row.survived++;
    } finally {
      await refusal?.undo();
      await stop();
      await cluster.deleteDeployment(name, { namespace: 'demo' }).catch(() => undefined);
    }
  }
}

/** Restores against what the server stored, while pods are deleted: a mutating webhook, GitOps resetting the template, a lost PUT answer. */
async function restores(sandbox: Sandbox, cluster: Cluster, row: ReliabilityRow, trials: number) {
  for (let t = 0; t < trials; t++) {
    row.trials++;
    const name = uniqueName('rc-restore');
    const mode = t % 3;
    const mutation =
      mode === 0 ? await mutateTemplates(sandbox, cluster, { 'policy.example.com/checked': 'yes' }) : undefined;
    const original = (await createTestDeployment(sandbox, { name, replicas: 2, probes: false })).spec.template;
    const stop = churn(sandbox, cluster, name, 250);
    try {
      const devMode = new DevMode(cluster, { namespace: 'demo', deployment: name });
      await devMode.enter();
      if (mode === 1) {
        // As GitOps writes: again on a 409 (the controllers write status meanwhile, and pods churn).
        for (let attempt = 1; ; attempt++) {
          const live = await cluster.getDeployment(name, 'demo');
          try {
            await cluster.replaceDeployment({ ...live, spec: { ...live.spec!, template: original } });
            break;
          } catch (err) {
            if (!(err instanceof ConflictError) || attempt >= 5) throw err;
          }
        }
      }
      if (mode === 2) sandbox.faults.dropResponses({ path: `/deployments/${name}`, method: 'PUT', count: 1 });
      await devMode.restore(); // no force: a restore conflict here is a failed trial
      const live = await cluster.getDeployment(name, 'demo');
      const exact = JSON.stringify(live.spec?.template) === JSON.stringify(original);
      if (!exact || isSupervisorCommand(live.spec?.template?.spec?.containers[0].command)) row.unrecoverable++;
      else row.survived++;
    } catch {
      row.unrecoverable++;
    } finally {
      sandbox.faults.clear();
      await mutation?.undo();
      await stop();
      await cluster.deleteDeployment(name, { namespace: 'demo' }).catch(() => undefined);
    }
  }
}

export async function realClusterBehaviours(sandbox: Sandbox, trials: number): Promise<ReliabilityRow> {
  const row = emptyRow(
    'real-cluster behaviours under churn (exec after upgrade, slow reader, rollout failures, restore)',
  );
  const cluster = sandboxCluster(sandbox);
  const stall = watchEventLoop();
  try {
    await execAfterUpgrade(sandbox, cluster, row, trials);
    await slowReader(sandbox, cluster, row, 24);
    await rolloutFailures(sandbox, cluster, row);
    await restores(sandbox, cluster, row, trials);
  } finally {
    row.max_stall_ms = stall.stop();
    cluster.dispose();
  }
  return row;
}
