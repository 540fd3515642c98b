// Two dev sessions at once in one window (web from the workspace's truva.yaml, worker from a
// second truva.yaml in a subfolder): each has its own sync into its own pods, the status bar and
// Sessions view show both, and stopping one restores only its deployment.
import * as assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { until } from '../../helpers/poll';
import { activeTruva } from './helpers';
import type { DevSession } from '../../../src/core/session/devSession';
import type { TruvaContext } from '../../../src/vscode/truvaContext';

describe('Several dev sessions in one window', function () {
  let truva: TruvaContext;
  const root = () => vscode.workspace.workspaceFolders![0].uri.fsPath;
  const workerDir = () => join(root(), 'worker-dev');

  async function fileInPods(app: string, container: string, path: string): Promise<string[]> {
    const pods = (await truva.cluster!.listPods(`app=${app}`, 'demo')).filter(
      (p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp,
    );
    return Promise.all(
      pods.map(async (p) =>
        (
          await truva.cluster!.exec(p.metadata!.name!, container, ['sh', '-c', `cat ${path} 2>/dev/null || true`], {
            namespace: 'demo',
          })
        ).stdout.toString(),
      ),
    );
  }

  before(async () => {
    truva = await activeTruva();
    mkdirSync(workerDir(), { recursive: true });
    writeFileSync(
      join(workerDir(), 'truva.yaml'),
      'namespace: demo\ndeployment: worker\ncontainer: main\nsync:\n  - local: .\n    remote: /app/dev\n',
    );
  });

  after(async () => {
    for (const s of truva.sessions.list()) await vscode.commands.executeCommand('truva.stopSession', s.id);
    rmSync(workerDir(), { recursive: true, force: true });
  });

  it('web and worker each sync their own folder; stopping worker leaves web running', async () => {
    const web = await vscode.commands.executeCommand<DevSession>(
      'truva.startSession',
      vscode.Uri.file(join(root(), 'truva.yaml')),
    );
    const worker = await vscode.commands.executeCommand<DevSession>(
      'truva.startSession',
      vscode.Uri.file(join(workerDir(), 'truva.yaml')),
    );
    assert.ok(web && worker, 'both sessions started');
    assert.deepEqual(
      truva.sessions.list().map((s) => s.phase),
      ['running', 'running'],
    );
    assert.match(
      truva.statusBar.item.text,
      /2 sessions|web.*worker|worker.*web/,
      `the status bar names both: ${truva.statusBar.item.text}`,
    );
    assert.equal(truva.sessionsTree.getChildren().length, 2, 'the Sessions view lists both');

    writeFileSync(join(workerDir(), 'note.txt'), 'for the worker\n');
    writeFileSync(join(root(), 'version.txt'), 'multi-session\n');
    await until('the note in the worker pod', async () =>
      (await fileInPods('worker', 'main', '/app/dev/note.txt')).every((t) => t === 'for the worker\n'),
    );
    await until('the version in both web pods', async () =>
      (await fileInPods('web', 'web', '/app/version.txt')).every((t) => t === 'multi-session\n'),
    );
    assert.ok(
      (await fileInPods('worker', 'main', '/app/version.txt')).every((t) => t !== 'multi-session\n'),
      'the web folder is not synced into worker',
    );

    await vscode.commands.executeCommand('truva.stopSession', worker.id);
    const restored = await truva.cluster!.getDeployment('worker', 'demo');
    assert.equal(restored.metadata?.annotations?.['truva.dev/backup'], undefined, 'worker is restored');
    assert.deepEqual(
      truva.sessions.list().map((s) => s.id),
      [web.id],
      'web is still running',
    );
    assert.ok(
      (await truva.cluster!.getDeployment('web', 'demo')).metadata?.annotations?.['truva.dev/backup'],
      'web is still in dev mode',
    );
    await vscode.commands.executeCommand('truva.stopSession', web.id);
    assert.equal(truva.sessions.list().length, 0);
  });
});
