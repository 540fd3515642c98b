// `npm run sandbox` stopped the way a process manager stops it: SIGTERM (or SIGINT) to the npm
// process itself, not to its process group. npm passes the signal to its script's process only,
// so the script must be that process (package.json: `exec node --import tsx ...`): with `sh -c`
// and the tsx wrapper in between, the signal ended npm and left the sandbox and every pod running.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Cluster } from '../../../src/core/kube/cluster';
import { until } from '../../helpers/poll';
import { alive, commandLine, descendants } from '../../helpers/processes';

const repoRoot = join(__dirname, '..', '..', '..');
/** The seeded pods' terminationGracePeriodSeconds (sandbox/seed.ts). */
const POD_GRACE_MS = 5_000;
/** Room for a machine kept busy by other work; a process left behind never ends at all. */
const BUSY_MARGIN_MS = 15_000;

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  describe(`npm run sandbox, ${signal} to the npm process`, function () {
    this.timeout(120_000);

    it('stops the sandbox and every pod process', async () => {
      const npm = spawn('npm', ['run', 'sandbox'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      npm.stdout.on('data', (d) => (output += d));
      npm.stderr.on('data', (d) => (output += d));
      const exited = new Promise<void>((resolve) => npm.on('exit', () => resolve()));
      let started: number[] = [];
      try {
        const kubeconfigPath = await until(
          'the "sandbox ready" line',
          () => {
            if (npm.exitCode !== null) throw new Error(`npm run sandbox exited early:\n${output}`);
            return /^sandbox ready: KUBECONFIG=(\S+)$/m.exec(output)?.[1];
          },
          90_000,
        );
        const cluster = new Cluster({ kubeconfigPath });
        try {
          await until(
            'the seeded pods running',
            async () =>
              (await cluster.listPods(undefined, 'demo')).filter((p) => p.status?.phase === 'Running').length === 3,
            60_000,
          );
        } finally {
          cluster.dispose();
        }
        started = descendants(npm.pid!);
        assert.ok(
          started.some((pid) => /server\.js/.test(commandLine(pid))),
          `the pods' processes are among npm's descendants:\n${started.map(commandLine).join('\n')}`,
        );

        process.kill(npm.pid!, signal);
        await until(
          'npm to exit',
          () => npm.exitCode !== null || npm.signalCode !== null,
          POD_GRACE_MS + BUSY_MARGIN_MS,
        );
        await until(
          'every process it started to end',
          () => started.every((pid) => !alive(pid)),
          POD_GRACE_MS + BUSY_MARGIN_MS,
        ).catch(() => {
          throw new Error(
            `still running after ${signal} to npm: ${started
              .filter(alive)
              .map((pid) => `${pid} ${commandLine(pid).slice(0, 120)}`)
              .join('; ')}`,
          );
        });
      } finally {
        // Only when the test failed half-way: nothing of this run may outlive it.
        for (const pid of [npm.pid!, ...started].filter(alive)) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {}
        }
        await exited;
      }
    });
  });
}
