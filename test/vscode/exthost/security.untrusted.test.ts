// Runs in a code-server with workspace trust on, on harness/workspace.ts's hostile workspace:
// its settings and truva.yaml name a kubeconfig of the workspace whose exec credential plugin is
// a script of the workspace (it leaves `.executed` behind when run). In Restricted Mode no dev
// session may start, and nothing of the workspace may run: not through the sidebar's connection,
// the language server's cluster checks, or Start Dev Session.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { loadKubeConfig } from '../../../src/core/kube/kubeconfig';
import type { TruvaContext } from '../../../src/vscode/truvaContext';
import { activeTruva, outputLog, waitFor } from './helpers';

describe('Truva in an untrusted workspace', () => {
  let truva: TruvaContext;
  const folder = () => vscode.workspace.workspaceFolders![0].uri;
  const executed = () => join(folder().fsPath, '.executed');
  const truvaYaml = () => vscode.Uri.joinPath(folder(), 'truva.yaml');
  // The user's own kubeconfig (KUBECONFIG of the VS Code process): the sandbox.
  const userServer = () => loadKubeConfig().getCurrentCluster()!.server;

  before(async () => {
    assert.equal(vscode.workspace.isTrusted, false, 'the workspace opened in Restricted Mode');
    truva = await activeTruva();
  });

  it("the sidebar uses the user's kubeconfig, not the one the workspace settings name", async () => {
    const settings = JSON.parse(readFileSync(join(folder().fsPath, '.vscode', 'settings.json'), 'utf8'));
    assert.match(settings['truva.kubeconfig'], /hostile-kubeconfig$/, 'the workspace does set truva.kubeconfig');
    // Restricted Mode hides the workspace's value (package.json: restrictedConfigurations).
    assert.equal(vscode.workspace.getConfiguration('truva').inspect<string>('kubeconfig')?.workspaceValue, undefined);
    assert.ok(truva.cluster, 'a cluster is connected');
    assert.equal(truva.cluster.server, userServer());
    await waitFor('the sandbox deployments in the tree', () => truva.clusterTree.deploymentNames().includes('web'));
    assert.equal(existsSync(executed()), false, "the workspace's credential plugin ran");
  });

  it("the language server's cluster checks do not read the kubeconfig truva.yaml names", async () => {
    const doc = await vscode.workspace.openTextDocument(truvaYaml());
    await vscode.window.showTextDocument(doc);
    // The extension answers the server's cluster question by saying why it will not use that file.
    await waitFor('the refusal in the output channel', async () =>
      /Not using the kubeconfig ".*hostile-kubeconfig" that truva\.yaml names: the workspace is not trusted/.test(
        await outputLog(truva),
      ),
    );
    assert.equal(existsSync(executed()), false, "the workspace's credential plugin ran");
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('Start Dev Session is refused with a message saying why and what to do; the deployment is untouched', async () => {
    const before = await truva.cluster!.getDeployment('web', 'demo');
    for (const arg of [truvaYaml(), undefined]) {
      const session = await vscode.commands.executeCommand('truva.startSession', arg);
      assert.equal(session, undefined, 'no session is returned');
    }
    assert.equal(truva.sessions.list().length, 0);
    const log = await outputLog(truva);
    const refusals = log
      .split('\n')
      .filter((l) => l.includes('[error] Truva does not start dev sessions in an untrusted workspace'));
    assert.equal(refusals.length, 2, 'each attempt is refused, with the error shown');
    assert.match(
      refusals[0],
      /runs this workspace's code in your cluster and reads its truva\.yaml\. Trust the workspace \(Manage Workspace Trust\) to use Truva here\./,
    );
    const after = await truva.cluster!.getDeployment('web', 'demo');
    assert.equal(after.metadata?.generation, before.metadata?.generation);
    assert.deepEqual(after.metadata?.annotations, before.metadata?.annotations);
    assert.deepEqual(after.spec, before.spec);
    assert.equal(existsSync(executed()), false, "the workspace's credential plugin ran");
  });
});
