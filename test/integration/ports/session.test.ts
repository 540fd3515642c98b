// A whole dev session with `ports` and `debug` on the sandbox: the session forwards once the
// process runs, each replica on its own local port; a local port another program holds is a
// failed forward with a message while the rest work; the debugger's forward reaches the
// inspector the supervisor started, and after a restart the same local port reaches the new
// process; a deleted pod's local port reaches its replacement; stop frees every local port.
import { strict as assert } from 'node:assert';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sandbox } from '../../../sandbox';
import { loadConfig } from '../../../src/core/config';
import type { Cluster } from '../../../src/core/kube/cluster';
import { DevSession } from '../../../src/core/session/devSession';
import { freePorts, httpGet } from '../../helpers/net';
import { until } from '../../helpers/poll';
import { createTestDeployment, podNames, sandboxCluster, sharedSandbox, uniqueName } from '../../helpers/sandbox';

/** The id of the inspector target behind a local port (a new process has a new one). */
async function inspectorId(port: number): Promise<string> {
  const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { id: string }[];
  return list[0].id;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

describe('a dev session with ports and debug on the sandbox', function () {
  this.timeout(180_000);
  let sandbox: Sandbox;
  let cluster: Cluster;
  let session: DevSession | undefined;
  let blocker: net.Server | undefined;
  let folder: string;
  const app = uniqueName('pfs');

  before(async () => {
    sandbox = await sharedSandbox();
    cluster = sandboxCluster(sandbox);
    await createTestDeployment(sandbox, { name: app, replicas: 2 });
    folder = mkdtempSync(join(tmpdir(), 'truva-ports-session-'));
    cpSync(join(__dirname, '../../../sandbox/images/web'), folder, { recursive: true });
  });

  after(async () => {
    await session?.stop().catch(() => undefined);
    session?.dispose();
    blocker?.close();
    await cluster.deleteDeployment(app, { namespace: 'demo' }).catch(() => undefined);
    rmSync(folder, { recursive: true, force: true });
  });

  it('forwards per replica, reports a port in use, follows a restart and a pod deletion, and frees the ports on stop', async () => {
    const base = await freePorts(5);
    const [http, held, debug] = [base, base + 2, base + 3];
    blocker = net.createServer().listen(held, '127.0.0.1');
    await new Promise((r) => blocker!.once('listening', r));
    const yaml = `namespace: demo\ndeployment: ${app}\nsync:\n  - local: .\n    remote: /app\nports:\n  - remote: 8080\n    local: ${http}\n    pods: all\n  - remote: 8080\n    local: ${held}\ndebug:\n  local: ${debug}\n`;
    writeFileSync(join(folder, 'truva.yaml'), yaml);
    const loaded = loadConfig(yaml, { filePath: join(folder, 'truva.yaml') });
    assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.errors));
    const logs: string[] = [];
    // The session takes its own lease and gives it back on dispose.
    session = new DevSession({ config: loaded.config, cluster: sandboxCluster(sandbox), log: (m) => logs.push(m) });
    await session.start();
    assert.equal(session.phase, 'running', 'a port in use does not fail the session');

    const pods = (await podNames(sandbox, app)).sort();
    const forwards = session.status().forwards;
    const httpForwards = forwards.filter((f) => f.source === 'ports[0]');
    assert.deepEqual(
      httpForwards.map((f) => f.address),
      [`127.0.0.1:${http}`, `127.0.0.1:${http + 1}`],
    );
    assert.deepEqual(httpForwards.map((f) => f.pod).sort(), pods);
    assert.deepEqual(
      httpForwards.map((f) => f.state),
      ['ready', 'ready'],
      JSON.stringify(httpForwards),
    );
    const failed = forwards.find((f) => f.source === 'ports[1]')!;
    assert.equal(failed.state, 'failed');
    assert.match(failed.error!, new RegExp(`${held}`));
    assert.ok(
      logs.some((l) => l === failed.error),
      'the port in use is in the session log',
    );
    for (const f of httpForwards)
      assert.match(await httpGet(Number(f.address.split(':')[1])), new RegExp(`^hello from ${f.pod} `));

    // The supervisor started Node's inspector; a restart gives a new process on the same local port.
    const debugForward = forwards.find((f) => f.source === 'debug')!;
    assert.equal(debugForward.address, `127.0.0.1:${debug}`);
    const before = await inspectorId(debug);
    await session.sync!.restartAll();
    const after = await until('the new inspector', async () => {
      const id = await inspectorId(debug);
      return id !== before && id;
    });
    assert.notEqual(after, before);

    // A deleted pod: its local port reaches the replacement.
    const victim = httpForwards[0].pod!;
    await cluster.deletePod(victim, { namespace: 'demo' });
    const replacement = await until(
      'the replacement behind the same local port',
      () => {
        const f = session!.status().forwards.find((x) => x.address === `127.0.0.1:${http}`);
        return f?.pod && f.pod !== victim && f.state === 'ready' ? f.pod : undefined;
      },
      120_000,
    );
    await until('the replacement answering', async () =>
      new RegExp(`^hello from ${replacement} `).test(await httpGet(http)),
    );

    await session.stop();
    assert.deepEqual(session.forwards(), []);
    for (const port of [http, http + 1, debug]) assert.ok(await canListen(port), `port ${port} is free after stop`);
  });
});
