// What a save reports, through a whole DevSession on the sandbox (3 pods in dev mode, real
// restarts by the supervisor): once the save is live, the session's status says in how many
// pods and how long after the save, and each pod's version is the save's batch; a pod that did
// not take the save is flagged in the Sessions view's lines and the tooltip.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/core/config';
import type { SessionStatus } from '../../../src/core/session/session';
import { DevSession } from '../../../src/core/session/devSession';
import { sessionDetails, statusView } from '../../../src/vscode/statusModel';
import { createTestDeployment, sandboxCluster, sandboxSuite, uniqueName, waitFor } from '../../helpers/sandbox';

describe('a save reports its time to live and each pod version (sandbox)', function () {
  this.timeout(180_000);
  const suite = sandboxSuite();
  let session: DevSession | undefined;
  let local: string;

  afterEach(async () => {
    await session?.stop({ force: true }).catch(() => undefined);
    session?.dispose();
    session = undefined;
    rmSync(local, { recursive: true, force: true });
  });

  it('live in all 3 pods, every pod at the save batch; the views say so', async () => {
    const name = uniqueName('live');
    await createTestDeployment(suite.sandbox, { name, replicas: 3 });
    suite.created.push(name);
    local = mkdtempSync(join(tmpdir(), 'truva-live-'));
    writeFileSync(join(local, 'version.txt'), 'v0');
    const loaded = loadConfig(
      // A long debounce: the save below goes by the leading edge, the watcher's echo is dropped.
      `namespace: demo\ndeployment: ${name}\nsync:\n  - local: .\n    remote: /app/live\ndebounce: 60000\n`,
      { filePath: join(local, 'truva.yaml') },
    );
    assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.errors));
    session = new DevSession({ config: loaded.config, cluster: sandboxCluster(suite.sandbox) });
    await session.start();

    const started = session.status();
    assert.equal(started.batch, 0);
    assert.equal(started.lastBatch, undefined);
    assert.equal(started.podVersions.length, 3);
    assert.ok(started.podVersions.every((p) => p.batch === 0));

    const t0 = Date.now();
    writeFileSync(join(local, 'version.txt'), 'v1');
    session.sync!.notify(join(local, 'version.txt'));
    const status: SessionStatus = await waitFor(
      () => {
        const s = session!.status();
        return s.lastBatch && s.sync === 'idle' ? s : undefined;
      },
      60_000,
      'the save reported live',
    );
    const elapsed = Date.now() - t0;
    assert.deepEqual(
      { ...status.lastBatch, liveMs: undefined },
      { batch: 1, saved: true, livePods: 3, pods: 3, restarted: true, liveMs: undefined },
    );
    assert.ok(
      status.lastBatch!.liveMs <= elapsed,
      `${status.lastBatch!.liveMs} ms is within the ${elapsed} ms seen here`,
    );
    assert.deepEqual(
      status.podVersions.map((p) => p.batch),
      [1, 1, 1],
    );

    const ms = status.lastBatch!.liveMs;
    const details = sessionDetails(status);
    assert.equal(details.find((d) => d.icon === 'rocket')?.detail, `last save live in all 3 pods in ${ms} ms`);
    assert.deepEqual(
      details.filter((d) => d.icon === 'server-process').map((d) => d.detail),
      status.podVersions.map((p) => `${p.pod}: batch 1`),
    );
    const tooltip = statusView({ sessions: [status], breaker: 'closed', now: Date.now() }).tooltip;
    assert.ok(
      tooltip.includes(`last save live in all 3 pods in ${ms} ms (batch 1, from the save being recorded`),
      tooltip,
    );

    // A pod the next save cannot reach is flagged: behind, failing, not counted as live.
    const lagging = status.podVersions[1].pod;
    // Its execs are refused from now on, and the open sync shells close: each pod opens a new one.
    suite.sandbox.faults.failExec({ fraction: 1, pod: lagging });
    suite.sandbox.faults.closeStreams();
    writeFileSync(join(local, 'version.txt'), 'v2');
    session.sync!.notify(join(local, 'version.txt'));
    const behind = await waitFor(
      () => {
        const s = session!.status();
        return s.lastBatch?.batch === 2 ? s : undefined;
      },
      90_000,
      'the second save reported',
    );
    assert.deepEqual([behind.lastBatch!.livePods, behind.lastBatch!.pods], [2, 3]);
    const flagged = sessionDetails(behind).filter((d) => d.icon === 'warning');
    assert.equal(flagged.length, 1);
    assert.match(flagged[0].detail, new RegExp(`^${lagging}: batch 1 of 2 \\(behind\\); failing: `));
  });
});
