// stop(), SIGTERM and even SIGKILL must leave nothing running: the sandbox starts real processes
// on the test machine (pods, and on the real control plane etcd, kube-apiserver, the controller
// manager and the scheduler).
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { startSandbox, type ControlPlaneKind } from '../../../sandbox';
import { alive, commandLine, descendants } from '../../helpers/processes';
import { waitFor } from '../../helpers/sandbox';

/** The processes of `pids` that still run, with their command lines. */
function stillRunning(pids: number[]): string[] {
  return pids.filter(alive).map((p) => `${p} ${commandLine(p)}`);
}

async function seededPodsRunning(kubeconfigPath: string) {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await waitFor(
    async () =>
      (await core.listNamespacedPod({ namespace: 'demo' })).items.filter((p) => p.status?.phase === 'Running')
        .length === 3,
    60_000,
    'seeded pods running',
  );
}

/** `npm run sandbox` as a child process; resolves with it once it printed its ready line. */
function sandboxCli(controlPlane: ControlPlaneKind) {
  const root = join(__dirname, '../../..');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'sandbox/cli.ts'), '--control-plane', controlPlane],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let out = '';
  let kubeconfig: string | undefined;
  /** The node agent's log (real control plane), which says how far a stop got. */
  const agentLog = () => {
    try {
      return readFileSync(join(dirname(kubeconfig!), 'control-plane/logs/node-agent.log'), 'utf8').slice(-3000);
    } catch {
      return '(none)';
    }
  };
  /** p, or a failure naming the step and quoting what the CLI printed, so a hang says where it was. */
  const within = async <T>(p: Promise<T>, ms: number, step: string): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `${step}: not within ${ms / 1000} s. The CLI printed:\n${out}\nThe node agent logged:\n${agentLog()}`,
            ),
          ),
        ms,
      );
    });
    try {
      return await Promise.race([p, late]);
    } finally {
      clearTimeout(timer);
    }
  };
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = /sandbox ready: KUBECONFIG=(\S+)/.exec(out);
      if (m) resolve((kubeconfig = m[1]));
    });
    child.stderr.on('data', (d) => (out += d));
    void exited.then((code) => reject(new Error(`the sandbox CLI exited (${code}) before it was ready: ${out}`)));
  });
  return { child, ready, exited, within };
}

for (const controlPlane of ['sandbox', 'kubernetes'] as const) {
  describe(`sandbox lifecycle (${controlPlane} control plane)`, function () {
    this.timeout(180_000);

    it('stop() leaves no process behind', async () => {
      const before = new Set(descendants(process.pid));
      const sandbox = await startSandbox({ controlPlane });
      await seededPodsRunning(sandbox.kubeconfigPath);
      assert.ok(sandbox.runtime.livePids().length >= 3);
      const started = descendants(process.pid).filter((p) => !before.has(p));
      if (controlPlane === 'kubernetes') {
        const names = started.map(commandLine).join('\n');
        for (const binary of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'])
          assert.match(names, new RegExp(`/${binary} `), `${binary} runs`);
      }
      await sandbox.stop();
      const left = descendants(process.pid).filter((p) => !before.has(p));
      assert.deepEqual(
        left.map(commandLine).filter((n) => !/esbuild|tsx/.test(n)),
        [],
      );
      assert.deepEqual(stillRunning(started), []);
      assert.deepEqual(sandbox.runtime.livePids(), []);
    });

    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      it(`${signal} to \`npm run sandbox\` leaves no process behind`, async () => {
        const cli = sandboxCli(controlPlane);
        try {
          const kubeconfig = await cli.within(cli.ready, 60_000, 'the ready line');
          await cli.within(seededPodsRunning(kubeconfig), 70_000, 'the seeded pods running');
          const started = descendants(cli.child.pid!);
          assert.ok(started.length >= 3, 'pods and their helpers run under the CLI');
          cli.child.kill(signal);
          await cli.within(cli.exited, 30_000, `the CLI's exit after ${signal}`);
          // After SIGKILL nothing stops the processes in order: the kernel (pdeathsig) and the
          // containers' lifeline pipes must end them by themselves.
          await waitFor(() => stillRunning(started).length === 0, 30_000, 'every process the CLI started to end').catch(
            () => assert.deepEqual(stillRunning(started), []),
          );
        } finally {
          if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
        }
      });
    }
  });
}
