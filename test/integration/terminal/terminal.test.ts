// Truva's terminal (a TTY exec through client-node's Exec and resize channel) and run-in-all-pods,
// against the sandbox's real pods.
import { strict as assert } from 'node:assert';
import type { Sandbox } from '../../../sandbox';
import type { Cluster } from '../../../src/core/kube/cluster';
import { clusterSyncTarget } from '../../../src/core/sync';
import { openTerminal, runInPods, type TerminalSession } from '../../../src/core/terminal';
import {
  createTestDeployment,
  podNames,
  sandboxCluster,
  sharedSandbox,
  uniqueName,
  waitFor,
} from '../../helpers/sandbox';

describe('terminal and run-in-all-pods on the sandbox', function () {
  this.timeout(90_000);
  let sandbox: Sandbox;
  let cluster: Cluster;
  let app: string;
  let pods: string[];
  let terminal: TerminalSession | undefined;

  before(async () => {
    sandbox = await sharedSandbox();
    cluster = sandboxCluster(sandbox);
    app = uniqueName('term');
    await createTestDeployment(sandbox, { name: app, replicas: 2 });
    pods = (await podNames(sandbox, app)).sort();
  });
  afterEach(() => terminal?.close());
  after(() => cluster.dispose());

  const open = (pod: string, cwd?: string) =>
    openTerminal(cluster, { namespace: 'demo', pod, container: 'web' }, { cwd, columns: 100, rows: 30 });

  /** Output so far, as text. */
  const collect = (t: TerminalSession) => {
    let out = '';
    t.onText((text) => (out += text));
    return () => out;
  };

  it('opens a shell on a real terminal in the remote path, sized, and follows a resize', async () => {
    terminal = await open(pods[0], '/app');
    const out = collect(terminal);
    // (The patterns match the command's output, not its echo: that shows `$(pwd)`, not a path.)
    terminal.write('echo "P=$(pwd) T=$(tty) E=$TERM"\r');
    const first = await waitFor(() => /P=(\/\S*) T=(\S+) E=([\w-]+)/.exec(out()), 20_000, `the answer (${out()})`);
    assert.deepEqual(first.slice(1), ['/app', first[2], 'xterm-256color']);
    assert.match(first[2], /^\/dev\/pts\/\d+$/);
    // A size travels on the resize channel, the opening one too, as with kubectl and a real
    // kubelet: it may land just after a command typed at once, so the size is asked until it shows.
    const size = (rows: number, columns: number) =>
      waitFor(
        async () => {
          terminal!.write('echo "R=$(stty size)"\r');
          await new Promise((r) => setTimeout(r, 200));
          return out().includes(`R=${rows} ${columns}`);
        },
        20_000,
        `the size ${rows} ${columns} (${out()})`,
      );
    await size(30, 100);
    terminal.resize(132, 43);
    await size(43, 132);
    terminal.write('exit 5\r');
    assert.deepEqual(await terminal.exited, {
      reason: 'exited',
      code: 5,
      message: `[truva] The shell in pod ${pods[0]} exited with code 5.`,
    });
  });

  it('says so when the remote path does not exist, and starts anyway', async () => {
    terminal = await open(pods[1], '/no/such/dir');
    const out = collect(terminal);
    await waitFor(() => out().includes('[truva] /no/such/dir does not exist in the container'), 20_000, out());
    terminal.write('echo "W=$(pwd)"\r');
    await waitFor(() => /W=\/app/.test(out()), 20_000, out());
  });

  it('ends with a message when the pod goes away', async () => {
    const name = uniqueName('gone');
    await createTestDeployment(sandbox, { name, replicas: 1 });
    const [pod] = await podNames(sandbox, name);
    terminal = await open(pod);
    const out = collect(terminal);
    terminal.write('echo ready\r');
    await waitFor(() => out().includes('ready'), 20_000, out());
    await cluster.deletePod(pod, { namespace: 'demo' });
    const exit = await terminal.exited;
    assert.equal(exit.reason, 'podGone');
    assert.equal(
      exit.message,
      `[truva] Pod ${pod} went away (deleted or replaced); this terminal is closed. Open a new one on a running pod.`,
    );
    await cluster.deleteDeployment(name, { namespace: 'demo' });
  });

  it('runs one command in every pod: each pod its output and exit code, in the remote path', async () => {
    const target = clusterSyncTarget(cluster, {
      namespace: 'demo',
      deployment: app,
      container: 'web',
      restart: async () => {},
    });
    const streamed: string[] = [];
    const results = await runInPods(
      target,
      `pwd; echo "on $HOSTNAME"; echo warn >&2; [ "$HOSTNAME" = ${pods[0]} ] && exit 3; true`,
      {
        cwd: '/app',
        onOutput: (pod, data) => streamed.push(`${pod}:${data}`),
      },
    );
    const byPod = Object.fromEntries(results.map((r) => [r.pod, r]));
    assert.deepEqual(Object.keys(byPod).sort(), pods);
    assert.deepEqual(
      [byPod[pods[0]].exitCode, byPod[pods[0]].stdout, byPod[pods[0]].stderr],
      [3, `/app\non ${pods[0]}\n`, 'warn\n'],
    );
    assert.deepEqual([byPod[pods[1]].exitCode, byPod[pods[1]].stdout], [0, `/app\non ${pods[1]}\n`]);
    assert.ok(streamed.some((s) => s.startsWith(`${pods[1]}:`)));
    const missing = await runInPods(target, 'true', { cwd: '/nope' });
    assert.ok(
      missing.every((r) => r.exitCode === 125 && /nope/.test(r.stderr)),
      JSON.stringify(missing),
    );
  });
});
