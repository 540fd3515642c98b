// What we ship is what we test: package the .vsix, install it into code-server with
// --install-extension, and start and stop a dev session from the palette with it.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uiContext } from './context';
import { openWorkbench, until, type Workbench } from './workbench';

describe('packaged .vsix in code-server', function () {
  let wb: Workbench;
  after(async () => {
    await wb?.close();
    // Never leave the packaged copy installed for the suites that follow, even after a failure.
    try {
      uiContext().server.cli(['--uninstall-extension', 'truva-dev.truva']);
    } catch {}
  });

  it('installs with --install-extension and runs start and stop from the palette', async () => {
    const ctx = uiContext();
    const out = mkdtempSync(join(tmpdir(), 'truva-vsix-'));
    const version = JSON.parse(readFileSync(join(ctx.repoRoot, 'package.json'), 'utf8')).version;
    const vsix = join(out, `truva-${version}.vsix`);
    execFileSync(
      process.execPath,
      [
        join(ctx.repoRoot, 'node_modules/@vscode/vsce/vsce'),
        'package',
        '--no-dependencies',
        '--allow-missing-repository',
        '--skip-license',
        '--out',
        vsix,
      ],
      { cwd: ctx.repoRoot, stdio: 'pipe' },
    );
    const installed = ctx.server.cli(['--install-extension', vsix, '--force']);
    assert.match(installed, /truva-dev\.truva.*successfully installed|was successfully installed/i);

    wb = await openWorkbench({ suite: 'vsix', extensionDevelopmentPath: null });
    await until(
      'the installed Truva in the status bar',
      async () => /Truva/.test((await wb.statusItem().textContent()) ?? ''),
      90_000,
    );
    await wb.runCommand('Truva: Start Dev Session');
    await wb.sessionRunning();
    await wb.screenshot('vsix-session');
    await wb.runCommand('Truva: Stop Dev Session');
    await until('no session', async () => !/pods/.test((await wb.statusItem().textContent()) ?? ''), 90_000);
  });
});
