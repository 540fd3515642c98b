// Truva's port-forwards against the sandbox: real HTTPS and WebSockets to the API, real pods
// behind them, a deployment in dev mode under the real supervisor.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type { Sandbox } from '../../../sandbox';
import type { PortForwardSpec } from '../../../src/core/config';
import type { DevMode } from '../../../src/core/devmode/devMode';
import type { Cluster } from '../../../src/core/kube/cluster';
import { clusterForwards, type ForwardManager } from '../../../src/core/ports';
import { forwardAppInDevMode } from '../../helpers/forwardApp';
import { echoRoundTrip, freePorts, httpGet, sha256 } from '../../helpers/net';
import { podNames, sandboxCluster, sharedSandbox, uniqueName, waitFor, waitForRollout } from '../../helpers/sandbox';

const spec = (source: string, remote: number, local: number, pods: 'first' | 'all' = 'first'): PortForwardSpec => ({
  source,
  remote,
  local,
  pods,
});

/** "<pod> <pid>" from the app behind a local port. */
async function whoAnswers(port: number): Promise<{ pod: string; pid: string }> {
  const [pod, pid] = (await httpGet(port)).trim().split(' ');
  return { pod, pid };
}

describe('port-forwards (Truva) on the sandbox', function () {
  this.timeout(120_000);
  let sandbox: Sandbox;
  let cluster: Cluster;
  let app: string;
  let devMode: DevMode;
  let manager: ForwardManager | undefined;
  const logs: string[] = [];

  const start = async (forwards: PortForwardSpec[], connectTimeoutMs?: number) => {
    manager = clusterForwards(cluster, {
      namespace: 'demo',
      deployment: app,
      container: 'web',
      forwards,
      log: (m) => logs.push(m),
      connectTimeoutMs,
    });
    return manager.start();
  };

  before(async () => {
    sandbox = await sharedSandbox();
    cluster = sandboxCluster(sandbox);
    app = uniqueName('fwd');
    devMode = await forwardAppInDevMode(sandbox, cluster, app, { replicas: 2 });
  });

  afterEach(async () => {
    await manager?.dispose();
    manager = undefined;
    logs.length = 0;
  });

  after(() => cluster.dispose());

  it('carries bytes both ways: 4 MiB through the echo, and 50 HTTP connections at once', async () => {
    const base = await freePorts(2);
    const statuses = await start([spec('ports[0]', 9000, base), spec('ports[1]', 8080, base + 1)]);
    assert.deepEqual(
      statuses.map((s) => [s.source, s.address, s.state]),
      [
        ['ports[0]', `127.0.0.1:${base}`, 'ready'],
        ['ports[1]', `127.0.0.1:${base + 1}`, 'ready'],
      ],
    );
    const payload = randomBytes(4 << 20);
    assert.equal(sha256(await echoRoundTrip(base, payload)), sha256(payload));
    const answers = await Promise.all(Array.from({ length: 50 }, () => whoAnswers(base + 1)));
    const pods = await podNames(sandbox, app);
    assert.ok(
      answers.every((a) => a.pod === statuses[1].pod && pods.includes(a.pod)),
      JSON.stringify(answers.slice(0, 3)),
    );
    // An upload streams through too (the app hashes what it received).
    const upload = randomBytes(3 << 20);
    const res = await fetch(`http://127.0.0.1:${base + 1}/upload`, { method: 'POST', body: upload });
    assert.equal(await res.text(), `${upload.length} ${sha256(upload)}`);
  });

  it('pods: all gives each pod its own local port, local and local+1', async () => {
    const base = await freePorts(2);
    const statuses = await start([spec('ports[0]', 8080, base, 'all')]);
    assert.deepEqual(
      statuses.map((s) => [s.local, s.slot, s.state]),
      [
        [base, 0, 'ready'],
        [base + 1, 1, 'ready'],
      ],
    );
    const [a, b] = [await whoAnswers(base), await whoAnswers(base + 1)];
    assert.notEqual(a.pod, b.pod);
    assert.deepEqual([a.pod, b.pod], [statuses[0].pod, statuses[1].pod]);
    assert.equal(manager!.localPortFor('ports[0]', b.pod), base + 1);
  });

  it('keeps the local port through a process restart: a request made during the restart is answered by the new process', async () => {
    const [port] = [await freePorts()];
    const [status] = await start([spec('ports[0]', 8080, port)]);
    const before = await whoAnswers(port);
    assert.equal(before.pod, status.pod);
    const newPid = await devMode.restartProcess(before.pod);
    // The supervisor has started the new process; it may not listen yet. The forward waits for it.
    const after = await whoAnswers(port);
    assert.equal(after.pod, before.pod);
    assert.equal(after.pid, String(newPid));
    assert.notEqual(after.pid, before.pid);
  });

  it('follows a pod deletion on the same local port: pods: first moves to a running pod, pods: all to the replacement', async () => {
    const first = await freePorts();
    const all = await freePorts(2);
    const statuses = await start([spec('ports[0]', 8080, first), spec('ports[1]', 8080, all, 'all')]);
    const victim = statuses[0].pod!;
    const slotOfVictim = statuses.find((s) => s.source === 'ports[1]' && s.pod === victim)!;
    await cluster.deletePod(victim, { namespace: 'demo' });
    // The forwards hear of the deletion from their pod watch; a request made before that can still
    // reach the pod while it stops (as kubectl port-forward's would), so the test asks after it.
    await waitFor(
      () => manager!.snapshot().every((s) => s.pod !== victim),
      10_000,
      'the forwards to leave the deleted pod',
    );
    // Asked at once: the answer comes from a pod that is not the deleted one, on the same port.
    const moved = await whoAnswers(first);
    assert.notEqual(moved.pod, victim);
    const replaced = await whoAnswers(slotOfVictim.local);
    assert.notEqual(replaced.pod, victim);
    await waitForRollout(sandbox, app);
    const now = manager!.snapshot();
    assert.deepEqual(
      now.map((s) => [s.source, s.local]),
      statuses.map((s) => [s.source, s.local]),
      'every forward kept its local port',
    );
    assert.ok(now.every((s) => s.pod !== victim));
    assert.ok(
      logs.some((l) => l.includes(`(${victim} is gone)`)),
      logs.join('\n'),
    );
  });

  it('a local port in use is reported, naming the port and what to do; the other forwards still work', async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const taken = (busy.address() as net.AddressInfo).port;
    const free = await freePorts();
    try {
      const statuses = await start([spec('ports[0]', 8080, taken), spec('ports[1]', 8080, free)]);
      assert.equal(statuses[0].state, 'failed');
      assert.equal(
        statuses[0].error,
        `Local port ${taken} is already in use on 127.0.0.1, so ports[0] (local ${taken} to port 8080 in the pod) cannot listen there. Stop the program that uses it (\`lsof -i :${taken}\` names it), or forward from another local port in truva.yaml: \`local: ${taken + 10000 <= 65535 ? taken + 10000 : 0}\` (or \`local: 0\` for any free port).`,
      );
      assert.equal(statuses[1].state, 'ready');
      assert.ok((await whoAnswers(free)).pod);
    } finally {
      busy.close();
    }
  });

  it('a connection to a port nothing listens on is closed after the wait, with a message saying so', async () => {
    const port = await freePorts();
    await start([spec('ports[0]', 9999, port)], 1500);
    await assert.rejects(httpGet(port));
    await waitFor(() => logs.some((l) => l.includes('found no pod answering on port 9999')), 10_000, 'the message');
    assert.match(
      logs.find((l) => l.includes('port 9999'))!,
      /^ports\[0\]: a connection to local port \d+ found no pod answering on port 9999 within 2 s \(error forwarding port 9999 to pod .*connection refused.*\); it was closed\. Is the app listening on port 9999 in the container\?$/,
    );
  });
});
