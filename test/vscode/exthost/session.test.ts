// A whole dev session through the VS Code API in the real extension host, against the sandbox:
// the tree shows the cluster, Start Dev Session switches `web` to dev mode, a saved edit reaches
// both pods, the status bar toggle pauses and resumes sync, Stop restores the deployment.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { until as waitFor } from '../../helpers/poll';
import type { TruvaContext } from '../../../src/vscode/truvaContext';
import type { DevSession } from '../../../src/core/session/devSession';

const extensionId = 'truva-dev.truva';

describe('Truva dev session in VS Code', function () {
  let truva: TruvaContext;
  const folder = () => vscode.workspace.workspaceFolders![0].uri;

  async function podContents(file: string): Promise<string[]> {
    const cluster = truva.cluster!;
    const pods = (await cluster.listPods('app=web', 'demo')).filter(
      (p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp,
    );
    return Promise.all(
      pods.map(async (p) =>
        (
          await cluster.exec(p.metadata!.name!, 'web', ['sh', '-c', `cat /app/${file} 2>/dev/null || true`], {
            namespace: 'demo',
          })
        ).stdout.toString(),
      ),
    );
  }

  async function saveFile(name: string, text: string) {
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder(), name));
    const editor = await vscode.window.showTextDocument(doc);
    assert.ok(await editor.edit((e) => e.replace(new vscode.Range(0, 0, doc.lineCount, 0), text)), 'the edit applied');
    assert.ok(await doc.save(), 'the document saved');
  }

  before(async () => {
    const extension = vscode.extensions.getExtension<{ truva: TruvaContext }>(extensionId)!;
    truva = (await extension.activate()).truva;
    await truva.started; // the sidebar connects right after activation
  });

  it('the cluster view lists the sandbox deployments and the status bar says Truva', async () => {
    await waitFor(
      'deployments in the tree',
      () =>
        truva.clusterTree.deploymentNames().includes('web') && truva.clusterTree.deploymentNames().includes('worker'),
    );
    const web = truva.clusterTree
      .getChildren()
      .find((n) => n.kind === 'deployment' && n.deployment.metadata?.name === 'web')!;
    const pods = await waitFor('web pods', () =>
      truva.clusterTree.getChildren(web).length === 2 ? truva.clusterTree.getChildren(web) : undefined,
    );
    assert.equal(pods[0].kind, 'pod');
    assert.match(String(truva.clusterTree.getTreeItem(web).description), /^2\/2/);
    assert.match(truva.statusBar.item.text, /Truva/);
    assert.equal(truva.statusBar.item.command, 'truva.startSession');
  });

  it('start, edit and save, pause and resume from the status bar, stop and restore', async () => {
    const session = (await vscode.commands.executeCommand<DevSession>(
      'truva.startSession',
      vscode.Uri.joinPath(folder(), 'truva.yaml'),
    ))!;
    assert.ok(session, 'the session started');
    assert.equal(session.phase, 'running');
    const deployment = await truva.cluster!.getDeployment('web', 'demo');
    assert.ok(deployment.metadata?.annotations?.['truva.dev/backup'], 'the deployment is in dev mode');
    const item = truva.clusterTree.getTreeItem({ kind: 'deployment', deployment });
    assert.equal(item.contextValue, 'deployment.session');
    assert.equal(truva.statusBar.item.command, 'truva.toggleSync');
    // The initial sync sent the files: the Sessions view says when, not "not yet".
    const details = truva.sessionsTree.getChildren({ session }).map((n) => ('detail' in n ? n.detail : ''));
    assert.ok(
      details.some((d) => /^files sent: [1-9]/.test(d)) && details.some((d) => /^last sync: at /.test(d)),
      details.join('; '),
    );

    await saveFile('version.txt', 'exthost-v2\n');
    await waitFor('the edit in both pods', async () =>
      (await podContents('version.txt')).every((t) => t === 'exthost-v2\n'),
    );
    await waitFor('synced in the status bar', () => /synced/.test(truva.statusBar.item.text));
    // What the user sees of that save: its time to live in both pods, and each pod's version.
    const lines = await waitFor('the save live in the Sessions view', () => {
      const shown = truva.sessionsTree.getChildren({ session }).map((n) => ('detail' in n ? n.detail : ''));
      return shown.some((d) => /^last save live in both pods in \d+ ms$/.test(d)) ? shown : undefined;
    });
    const { batch, pods } = session.snapshot();
    assert.ok(batch >= 1, `batch ${batch}`);
    assert.deepEqual(
      lines.filter((d) => / batch \d/.test(d)),
      pods.map((p) => `${p.pod}: batch ${batch}`),
      'each pod runs the newest batch',
    );
    const tooltip = (truva.statusBar.item.tooltip as vscode.MarkdownString).value;
    assert.match(
      tooltip,
      /last save live in both pods in \d+ ms \(batch \d+, from the save being recorded to the last pod's restart done\)/,
    );
    for (const p of pods) assert.ok(tooltip.includes(`  - ${p.pod}: batch ${batch}`), tooltip);

    await vscode.commands.executeCommand(truva.statusBar.item.command as string);
    assert.equal(session.snapshot().state, 'paused');
    assert.match(truva.statusBar.item.text, /paused/);
    await saveFile('version.txt', 'exthost-paused\n');
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(
      (await podContents('version.txt')).every((t) => t === 'exthost-v2\n'),
      'nothing reaches the pods while paused',
    );
    await vscode.commands.executeCommand(truva.statusBar.item.command as string);
    await waitFor('the paused edit after resume', async () =>
      (await podContents('version.txt')).every((t) => t === 'exthost-paused\n'),
    );

    await vscode.commands.executeCommand('truva.stopSession', session.id);
    const restored = await truva.cluster!.getDeployment('web', 'demo');
    assert.equal(restored.metadata?.annotations?.['truva.dev/backup'], undefined);
    assert.deepEqual(restored.spec?.template?.spec?.containers[0].command, ['node', 'server.js']);
    assert.equal(truva.sessions.list().length, 0);
  });
});
