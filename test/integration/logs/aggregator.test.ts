// The log aggregator against the sandbox: every pod and container, new pods attach, restarts are
// announced, and 20 forced stream drops lose and repeat nothing.
import { strict as assert } from 'node:assert';
import type { Sandbox } from '../../../sandbox';
import { LogAggregator } from '../../../src/core/logs/aggregator';
import { clusterLogSource } from '../../../src/core/logs/clusterSource';
import type { Cluster } from '../../../src/core/kube/cluster';
import {
  createTestDeployment,
  kubectl,
  podNames,
  sandboxCluster,
  sharedSandbox,
  uniqueName,
  waitFor,
} from '../../helpers/sandbox';

describe('log aggregator on the sandbox', function () {
  this.timeout(120_000);
  let sandbox: Sandbox;
  let cluster: Cluster;
  const aggregators: LogAggregator[] = [];

  const follow = (labelSelector: string, tailLines = 200) => {
    const aggregator = new LogAggregator({
      source: clusterLogSource(cluster),
      namespace: 'demo',
      labelSelector,
      tailLines,
      backoffInitialMs: 50,
      backoffMaxMs: 500,
    });
    aggregators.push(aggregator);
    aggregator.start();
    return aggregator;
  };

  before(async () => {
    sandbox = await sharedSandbox();
    cluster = sandboxCluster(sandbox);
  });
  after(() => {
    for (const a of aggregators) a.stop();
    sandbox.faults.clear();
    cluster.dispose();
  });

  it('heartbeats from both pods arrive; scaling to 3 attaches the new pod; a restart is announced and followed', async () => {
    const name = uniqueName('logs');
    await createTestDeployment(sandbox, { name, replicas: 2 });
    const aggregator = follow(`app=${name}`);
    const podsWithHeartbeats = () =>
      new Set(
        aggregator
          .lines()
          .filter((l) => l.text.includes('heartbeat'))
          .map((l) => l.pod),
      );
    await waitFor(() => podsWithHeartbeats().size === 2, 20_000, 'heartbeats from both pods');

    assert.equal((await kubectl(sandbox, ['scale', `deploy/${name}`, '--replicas=3'])).code, 0);
    await waitFor(() => podsWithHeartbeats().size === 3, 30_000, 'heartbeats from the new pod');

    const [pod] = await podNames(sandbox, name);
    sandbox.faults.killContainer('demo', pod, 'web');
    await waitFor(
      () =>
        aggregator
          .lines()
          .some((l) => l.kind === 'event' && l.pod === pod && /restarted \(restart count 1/.test(l.text)),
      30_000,
      'the restart line',
    );
    const afterRestart = aggregator.lines().length;
    await waitFor(
      () =>
        aggregator
          .lines()
          .slice(afterRestart)
          .some((l) => l.pod === pod && l.text.includes('heartbeat')),
      20_000,
      'lines after the restart',
    );
  });

  it('the two-container worker shows both containers', async () => {
    const aggregator = follow('app=worker');
    await waitFor(
      () =>
        new Set(
          aggregator
            .lines()
            .filter((l) => l.kind === 'log')
            .map((l) => l.container),
        ).size === 2,
      20_000,
      'main and sidecar',
    );
    const levels = new Set(
      aggregator
        .lines()
        .filter((l) => l.kind === 'log')
        .map((l) => l.level),
    );
    assert.ok(levels.has('info'), 'JSON level fields are detected');
  });

  it('20 forced stream drops during 5,000 lines per pod: each line exactly once, in order', async () => {
    const name = uniqueName('drops');
    const script =
      "let i=0;const t=setInterval(()=>{for(let k=0;k<5&&i<5000;k++)console.log('line '+(i++));if(i>=5000){clearInterval(t);setInterval(()=>{},1e6)}},5)";
    await createTestDeployment(sandbox, { name, replicas: 2, command: ['node', '-e', script] });
    // The whole log, not the last 200 lines: the app prints 1,000 lines a second from its start,
    // and on a busy machine the aggregator attaches after more than a tail's worth.
    const aggregator = follow(`app=${name}`, 10_000);
    let closed = 0;
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 250));
      // Each drop waits for the reconnected streams: a reconnect through a real API server and
      // its node takes longer than 250 ms when the machine is busy.
      closed += await waitFor(() => sandbox.faults.closeStreams(), 20_000, 'an open stream to drop');
    }
    assert.ok(closed >= 20, `streams were really closed (${closed})`);
    const pods = await podNames(sandbox, name);
    const numbers = (pod: string) =>
      aggregator
        .lines()
        .filter((l) => l.pod === pod && l.kind === 'log' && /^line \d+$/.test(l.text))
        .map((l) => Number(l.text.slice(5)));
    await waitFor(() => pods.every((p) => numbers(p).includes(4999)), 60_000, 'the last line from both pods');
    for (const pod of pods) {
      const seen = numbers(pod);
      assert.equal(seen.length, 5000, `${pod}: ${seen.length} lines (lost or repeated lines)`);
      assert.deepEqual(
        seen,
        Array.from({ length: 5000 }, (_, i) => i),
        `${pod}: in order, each once`,
      );
    }
  });
});
