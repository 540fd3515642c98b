// The commands a developer uses during a session, through the VS Code API against the sandbox:
// Sync Now puts back a file someone changed inside the pods, Restart Process gives every pod a new
// process, Open truva.yaml opens the session's file, Show Logs opens one panel per deployment.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { DevMode } from '../../../src/core/devmode/devMode';
import type { DevSession } from '../../../src/core/session/devSession';
import type { TruvaContext } from '../../../src/vscode/truvaContext';
import { until } from '../../helpers/poll';
import { activeTruva } from './helpers';

describe('Session commands', function () {
  let truva: TruvaContext;
  let session: DevSession | undefined;
  const folder = () => vscode.workspace.workspaceFolders![0].uri;

  const webPods = async () =>
    (await truva.cluster!.listPods('app=web', 'demo'))
      .filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp)
      .map((p) => p.metadata!.name!);
  const inPods = async (script: string) =>
    Promise.all(
      (await webPods()).map(async (pod) =>
        (await truva.cluster!.exec(pod, 'web', ['sh', '-c', script], { namespace: 'demo' })).stdout.toString(),
      ),
    );

  before(async () => {
    truva = await activeTruva();
    session = await vscode.commands.executeCommand<DevSession>(
      'truva.startSession',
      vscode.Uri.joinPath(folder(), 'truva.yaml'),
    );
    assert.ok(session, 'the session started');
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    if (session) await vscode.commands.executeCommand('truva.stopSession', session.id);
  });

  it('Sync Now puts back a file that was changed inside the pods', async () => {
    const local = Buffer.from(
      await vscode.workspace.fs.readFile(vscode.Uri.joinPath(folder(), 'server.js')),
    ).toString();
    await inPods('echo "// changed in the pod" > /app/server.js');
    assert.ok(
      (await inPods('cat /app/server.js')).every((t) => t !== local),
      'the pods have drifted',
    );
    await vscode.commands.executeCommand('truva.syncNow', session!.id);
    await until(
      'server.js as it is locally in every pod',
      async () => (await inPods('cat /app/server.js')).every((t) => t === local),
      30_000,
    );
  });

  it('Restart Process gives every pod a new process', async () => {
    const devMode = new DevMode(truva.cluster!, { namespace: 'demo', deployment: 'web' });
    const pids = async () => Promise.all((await webPods()).map((pod) => devMode.processId(pod)));
    const before = await until(
      'a process in every pod',
      async () => ((await pids()).every((p) => p !== undefined) ? pids() : undefined),
      30_000,
    );
    await vscode.commands.executeCommand('truva.restartProcess', session!.id);
    await until(
      'a new process in every pod',
      async () => {
        const now = await pids();
        return now.every((pid, i) => pid !== undefined && pid !== before[i]);
      },
      30_000,
    );
  });

  it("Open truva.yaml opens the workspace's file; Show Logs opens one panel per deployment", async () => {
    await vscode.commands.executeCommand('truva.openConfig');
    await until(
      'truva.yaml in the editor',
      () => vscode.window.activeTextEditor?.document.uri.path.endsWith('/truva.yaml'),
      10_000,
    );

    await vscode.commands.executeCommand('truva.showLogs', session!.id);
    await vscode.commands.executeCommand('truva.showLogs', session!.id);
    // Other suites may have left the panels of other deployments open.
    const webLogTabs = () =>
      vscode.window.tabGroups.all
        .flatMap((g) => g.tabs)
        .filter(
          (t) =>
            t.input instanceof vscode.TabInputWebview && /truvaLogs/.test(t.input.viewType) && /\bweb\b/.test(t.label),
        );
    await until('the log panel of web', () => webLogTabs().length > 0, 15_000);
    assert.equal(webLogTabs().length, 1, 'showing the logs twice reveals the same panel');
  });
});
