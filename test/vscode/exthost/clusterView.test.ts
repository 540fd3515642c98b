// The Cluster view follows the truva.kubeconfig setting: a kubeconfig that is missing and a
// cluster that refuses connections each put the view in the state its welcome text explains
// (package.json viewsWelcome, keyed on truva.clusterState), with the status bar saying the API is
// unreachable, and a command that needs the cluster fails with a message; pointing back at the
// sandbox brings the deployments back.
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { TruvaContext } from '../../../src/vscode/truvaContext';
import { until } from '../../helpers/poll';
import { activeTruva, outputLog } from './helpers';

describe('Cluster view states', function () {
  let truva: TruvaContext;
  const dir = mkdtempSync(join(tmpdir(), 'truva-kubeconfig-'));
  const settings = () => vscode.workspace.getConfiguration('truva');

  before(async () => {
    truva = await activeTruva();
  });

  after(async () => {
    await settings().update('kubeconfig', undefined, vscode.ConfigurationTarget.Global);
    rmSync(dir, { recursive: true, force: true });
  });

  it('no kubeconfig, a refused connection, then the sandbox again', async () => {
    const welcomes: { when?: string }[] =
      vscode.extensions.getExtension('truva-dev.truva')!.packageJSON.contributes.viewsWelcome;
    const explained = (state: string) => welcomes.some((w) => w.when === `truva.clusterState == '${state}'`);

    await settings().update('kubeconfig', join(dir, 'missing.yaml'), vscode.ConfigurationTarget.Global);
    await until('the no-kubeconfig state', () => truva.clusterTree.state === 'noKubeconfig', 15_000);
    assert.ok(explained('noKubeconfig'), 'a welcome text explains it');
    assert.deepEqual(truva.clusterTree.getChildren(), []);

    const refused = join(dir, 'refused.yaml');
    writeFileSync(
      refused,
      [
        'apiVersion: v1',
        'kind: Config',
        'current-context: nowhere',
        'clusters: [{name: nowhere, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]',
        'users: [{name: someone, user: {token: not-a-real-token}}]',
        'contexts: [{name: nowhere, context: {cluster: nowhere, user: someone, namespace: demo}}]',
      ].join('\n'),
    );
    await settings().update('kubeconfig', refused, vscode.ConfigurationTarget.Global);
    await until('the unreachable state', () => truva.clusterTree.state === 'unreachable', 30_000);
    assert.ok(explained('unreachable'), 'a welcome text explains it');
    await until(
      'the status bar saying so',
      () =>
        truva.statusBar.item.backgroundColor !== undefined &&
        /unreachable|API/i.test(
          `${truva.statusBar.item.text} ${(truva.statusBar.item.tooltip as vscode.MarkdownString).value}`,
        ),
      10_000,
    );
    // A command whose cluster call fails says so (it used to leave an unhandled rejection).
    const logBefore = (await outputLog(truva)).length;
    await vscode.commands.executeCommand('truva.restoreDeployment');
    await until('the failure in the output', async () =>
      /\[error\] Restore Deployment failed: .*Kubernetes API at https:\/\/127\.0\.0\.1:1/.test(
        (await outputLog(truva)).slice(logBefore),
      ),
    );

    await settings().update('kubeconfig', undefined, vscode.ConfigurationTarget.Global);
    await until(
      'the sandbox deployments again',
      () => truva.clusterTree.state === 'ok' && truva.clusterTree.deploymentNames().includes('web'),
      30_000,
    );
    assert.equal(truva.statusBar.item.backgroundColor, undefined);
  });
});
