// `npm run demo -- --port 0` exactly as the README tells a new user (and with
// `--control-plane kubernetes`, on the real control plane): it prints the sandbox's
// kubeconfig line (a second client can use the same cluster) and the workbench URL, the URL
// opens VS Code with Truva in it, and SIGTERM to the npm process itself (what a process manager
// sends; npm passes it on to the script's one process) stops everything it started: no process
// of its tree is left, and its temporary workspace is gone.
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { alive, commandLine, descendants } from '../../helpers/processes';
import { uiContext } from './context';
import { kubectlWith } from './kubectl';
import { until } from './workbench';

for (const extra of [[], ['--control-plane', 'kubernetes']])
  describe(`UI: npm run demo ${extra.join(' ')}`.trimEnd(), function () {
    let demo: ChildProcess | undefined;
    let output = '';

    after(() => {
      // Only when the test failed half-way: take the whole group down.
      if (demo?.exitCode === null && demo.pid)
        try {
          process.kill(-demo.pid, 'SIGKILL');
        } catch {}
    });

    it('prints the kubeconfig and URL lines, serves VS Code with Truva, and SIGTERM to npm leaves nothing running', async () => {
      const ctx = uiContext();
      demo = spawn('npm', ['run', 'demo', '--', '--port', '0', ...extra], {
        cwd: ctx.repoRoot,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      demo.stdout!.on('data', (d) => (output += d));
      demo.stderr!.on('data', (d) => (output += d));
      const exited = new Promise<number | null>((resolve) => demo!.on('exit', (code) => resolve(code)));

      const url = await until(
        'the "demo ready" line',
        async () => {
          if (demo!.exitCode !== null) throw new Error(`npm run demo exited early:\n${output}`);
          return /^demo ready: (http:\/\/127\.0\.0\.1:\d+\/\S+)$/m.exec(output)?.[1];
        },
        180_000,
      );
      const kubeconfig = /^sandbox ready: KUBECONFIG=(\S+)$/m.exec(output)?.[1];
      assert.ok(kubeconfig, `the sandbox line comes first:\n${output}`);
      assert.ok(output.indexOf('sandbox ready:') < output.indexOf('demo ready:'));
      const folder = new URL(url).searchParams.get('folder');
      assert.ok(folder && existsSync(folder), `the workspace in the URL exists: ${folder}`);

      // A second client on the same cluster, as the README promises.
      assert.match(await kubectlWith(kubeconfig, 'get', 'deployments'), /\bweb\b/);

      const page = await ctx.browser.newPage({ viewport: { width: 1400, height: 900 } });
      try {
        await page.goto(url, { timeout: 60_000 });
        const status = page.locator('.statusbar-item[id="truva-dev.truva.truva.status"]');
        await until(
          'the Truva status bar item in the demo',
          async () => /Truva/.test((await status.textContent()) ?? ''),
          90_000,
        );
        await page.screenshot({ path: `${ctx.artifactsDir}/demo.png` }).catch(() => undefined);
      } finally {
        await page.close();
      }

      const started = descendants(demo.pid!);
      assert.ok(started.length >= 3, `the demo runs code-server and pod processes (saw ${started.length} processes)`);
      process.kill(demo.pid!, 'SIGTERM');
      const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 60_000))]);
      assert.notEqual(code, 'hung', `npm run demo did not exit within 60 s of SIGTERM:\n${output}`);
      await until(
        'every process the demo started to end',
        async () => started.every((pid) => !alive(pid)),
        15_000,
      ).catch(() => {
        throw new Error(
          `still running after SIGTERM: ${started
            .filter(alive)
            .map((pid) => `${pid} ${commandLine(pid).slice(0, 120)}`)
            .join('; ')}`,
        );
      });
      assert.ok(!existsSync(folder), 'the temporary workspace is removed');
    });
  });
