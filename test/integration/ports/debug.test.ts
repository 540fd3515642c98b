// `debug` on the sandbox: dev mode starts Node with its inspector, the debugger's forward reaches
// it, a Chrome DevTools Protocol client (what VS Code's debugger speaks) evaluates in the app, and
// after a restart the same local port reaches the new process. One forward per pod with pods: all.
import { strict as assert } from 'node:assert';
import WebSocket from 'ws';
import type { Sandbox } from '../../../sandbox';
import { resolveDebug } from '../../../src/core/config/ports';
import { attachConfigurations } from '../../../src/core/debug';
import type { DevMode } from '../../../src/core/devmode/devMode';
import type { Cluster } from '../../../src/core/kube/cluster';
import { clusterForwards, type ForwardManager } from '../../../src/core/ports';
import { forwardAppInDevMode } from '../../helpers/forwardApp';
import { freePorts } from '../../helpers/net';
import { podNames, sandboxCluster, sharedSandbox, uniqueName } from '../../helpers/sandbox';

/** The inspector's target behind a local port, as a debugger finds it (GET /json/list). */
async function inspectorTarget(port: number): Promise<{ id: string }> {
  const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { id: string }[];
  return list[0];
}

/** Evaluates `expression` in the app over the inspector's WebSocket, through the forward. */
async function evaluate(port: number, id: string, expression: string): Promise<unknown> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/${id}`);
  try {
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const answer = new Promise<any>((resolve) =>
      ws.on('message', (data) => {
        const msg = JSON.parse(String(data));
        if (msg.id === 1) resolve(msg);
      }),
    );
    ws.send(JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression, returnByValue: true } }));
    return (await answer).result.result.value;
  } finally {
    ws.close();
  }
}

describe('debug: the Node inspector in dev pods through the forward', function () {
  this.timeout(120_000);
  let sandbox: Sandbox;
  let cluster: Cluster;
  let app: string;
  let devMode: DevMode;
  let manager: ForwardManager | undefined;

  before(async () => {
    sandbox = await sharedSandbox();
    cluster = sandboxCluster(sandbox);
    app = uniqueName('dbg');
    devMode = await forwardAppInDevMode(sandbox, cluster, app, { replicas: 2, inspectPort: 9229 });
  });
  after(async () => {
    await manager?.dispose();
    cluster.dispose();
  });

  it("reaches each pod's inspector on its own local port, evaluates in the app, and reaches the new process after a restart", async () => {
    const base = await freePorts(2);
    const debug = resolveDebug({ pods: 'all', local: base })!;
    manager = clusterForwards(cluster, {
      namespace: 'demo',
      deployment: app,
      container: 'web',
      forwards: [debug.forward],
    });
    const statuses = await manager.start();
    const pods = (await podNames(sandbox, app)).sort();
    assert.deepEqual(statuses.map((s) => s.pod).sort(), pods);

    const configs = attachConfigurations(
      'node',
      statuses.map((s) => ({ pod: s.pod!, localPort: s.local })),
      { sync: [{ local: '/work/shop', remote: '/app' }] },
    );
    assert.deepEqual(
      configs.map((c) => [c.name, c.port]),
      statuses.map((s) => [`Truva: ${s.pod}`, s.local]),
    );

    for (const status of statuses) {
      const target = await inspectorTarget(status.local);
      assert.equal(await evaluate(status.local, target.id, 'require("os").hostname()'), status.pod);
    }

    const [first] = statuses;
    const before = await inspectorTarget(first.local);
    const pidBefore = await evaluate(first.local, before.id, 'process.pid');
    const newPid = await devMode.restartProcess(first.pod!);
    // Asked right after the restart: the forward waits for the new inspector rather than failing.
    const after = await inspectorTarget(first.local);
    assert.notEqual(after.id, before.id);
    assert.equal(await evaluate(first.local, after.id, 'process.pid'), newPid);
    assert.notEqual(pidBefore, newPid);
  });
});
