// Start Dev Session in a workspace without truva.yaml, as a new user meets it: each question in
// the quick-pick flow (context, namespace, deployment, folder, remote path prefilled from the
// container's workingDir, command prefilled from its original command), then the offer to save
// the answers as truva.yaml, which the next start uses without questions.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createSampleWorkspace } from '../harness/workspace';
import { kubectl } from './kubectl';
import { openWorkbench, until, type Workbench } from './workbench';

describe('UI: Start Dev Session without truva.yaml', function () {
  let wb: Workbench | undefined;
  let folder: string | undefined;

  after(async () => {
    await wb?.close();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('asks each question with sensible defaults, starts, and saves the answers as truva.yaml', async () => {
    folder = createSampleWorkspace('truva-quickpick-');
    rmSync(join(folder, 'truva.yaml'));
    wb = await openWorkbench({ suite: 'quick-pick', folder });
    const page = wb.page;
    const input = page.locator('.quick-input-widget input');
    const title = page.locator('.quick-input-widget .quick-input-title');
    // Without a truva.yaml nothing activates Truva until its command runs, so there is no status item yet.

    /** Waits for the step titled `step`, then picks `label` from its list. */
    const pick = async (step: string, label: string) => {
      await until(`the question "${step}"`, async () => ((await title.textContent()) ?? '').includes(step), 30_000);
      await input.fill(label);
      await page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first().waitFor({ timeout: 15_000 });
      await wb!.screenshot(step.replace(/\W+/g, '-'));
      await input.press('Enter');
    };
    /** Waits for the input box titled `step`, checks its prefilled value and accepts it. */
    const accept = async (step: string, prompt: RegExp, expected: string) => {
      await until(
        `the input box "${prompt}"`,
        async () =>
          prompt.test(
            (await page
              .locator('.quick-input-widget .quick-input-message, .quick-input-widget')
              .first()
              .textContent()) ?? '',
          ) && ((await title.textContent()) ?? '').includes(step),
        30_000,
      );
      assert.equal(await input.inputValue(), expected, `the prefilled answer to "${prompt.source}"`);
      await input.press('Enter');
    };

    await wb.runCommand('Truva: Start Dev Session');
    await pick('(1/6)', 'truva-sandbox');
    await pick('(2/6)', 'demo');
    await pick('(3/6)', 'web');
    await accept('(5/6)', /Local folder/, '.');
    await accept('(5/6)', /Path inside the container/, '/app');
    await accept('(6/6)', /Command that starts your app/, 'node server.js');

    const offer = await wb.notification('Save these answers as truva.yaml', 120_000);
    await wb.screenshot('offer-to-save');
    await offer.locator('.monaco-button', { hasText: 'Save truva.yaml' }).click();
    const saved = join(folder, 'truva.yaml');
    await until('truva.yaml written', async () => existsSync(saved), 15_000);
    const yaml = parse(readFileSync(saved, 'utf8'));
    assert.deepEqual(
      { namespace: yaml.namespace, deployment: yaml.deployment, sync: yaml.sync },
      { namespace: 'demo', deployment: 'web', sync: [{ local: '.', remote: '/app' }] },
    );
    assert.equal(yaml.run, undefined, 'an unchanged command is not written');
    assert.equal(yaml.context, undefined, 'the current context is not written');

    await wb!.sessionRunning();
    const deployment = JSON.parse(await kubectl('get', 'deploy', 'web', '-o', 'json'));
    assert.ok(deployment.metadata.annotations['truva.dev/backup'], 'web is in dev mode');
    await wb.screenshot('session-started');

    await wb.runCommand('Truva: Stop Dev Session');
    await until(
      'the deployment restored',
      async () =>
        !JSON.parse(await kubectl('get', 'deploy', 'web', '-o', 'json')).metadata.annotations?.['truva.dev/backup'],
      90_000,
    );
  });
});
