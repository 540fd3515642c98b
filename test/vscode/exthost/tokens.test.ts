// After a real dev session in code-server, the kubeconfig's secrets (the sandbox's bearer tokens,
// and any client key or password), or any 16-character piece of one, appear nowhere Truva writes: the "Truva" output channel's
// file, globalState and workspaceState, the extension's storage and log folders, everything
// else under code-server's user-data-dir, the deployment (annotations included) while in dev
// mode and after, and the workspace's truva.yaml.
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import * as vscode from 'vscode';
import { loadKubeConfig } from '../../../src/core/kube/kubeconfig';
import type { DevSession } from '../../../src/core/session/devSession';
import type { TruvaContext } from '../../../src/vscode/truvaContext';
import { countLeaks } from '../../../reliability/probes';
import { activeTruva, filesUnder, outputLog, outputLogFile, waitFor } from './helpers';

describe('no kubeconfig secret leaks from a real session', () => {
  let truva: TruvaContext;
  const folder = () => vscode.workspace.workspaceFolders![0].uri;

  /** Every secret the user's kubeconfig holds: tokens, client keys, passwords. */
  function secrets(): string[] {
    const kc = loadKubeConfig();
    const found = kc.users.flatMap((u) =>
      [u.token, u.keyData, u.password, u.keyFile].filter((s): s is string => !!s && s.length >= 8),
    );
    return found;
  }

  before(async () => {
    truva = await activeTruva();
  });

  it('the token is nowhere in output, storage, user data, the deployment or truva.yaml', async () => {
    const tokens = secrets();
    assert.ok(
      tokens.some((t) => t.startsWith('truva-admin-')),
      "the sandbox's admin token is among the secrets searched for",
    );
    // Any 16-character piece of a secret counts: a message that shows the start of a token
    // ("truva-admin-1a2b...") has leaked part of it.
    const pieces = [
      ...new Set(tokens.flatMap((t) => Array.from({ length: t.length - 15 }, (_, i) => t.slice(i, i + 16)))),
    ];
    const leaks = (texts: string[], files: string[] = []) =>
      pieces.reduce((n, piece) => n + countLeaks(piece, { texts, files }), 0);

    // First a broken kubeconfig with a YAML mistake right after the token: its error reaches the
    // output channel, and a YAML error quotes the lines around the mistake.
    const broken = join(mkdtempSync(join(tmpdir(), 'truva-broken-kubeconfig-')), 'config');
    const kubeconfig = readFileSync(process.env.KUBECONFIG!, 'utf8');
    writeFileSync(broken, kubeconfig.replace(/token: (\S+)/, 'token: $1\n    extra: [unclosed'));
    const settings = vscode.workspace.getConfiguration('truva');
    await settings.update('kubeconfig', broken, vscode.ConfigurationTarget.Global);
    try {
      await waitFor('the broken kubeconfig reported', async () =>
        (await outputLog(truva)).includes(`The kubeconfig file "${broken}" could not be read`),
      );
    } finally {
      await settings.update('kubeconfig', undefined, vscode.ConfigurationTarget.Global);
      rmSync(dirname(broken), { recursive: true, force: true });
    }
    await waitFor(
      'the sandbox connected again',
      () => truva.cluster?.server === loadKubeConfig().getCurrentCluster()?.server && truva.clusterTree.state === 'ok',
    );

    const session = (await vscode.commands.executeCommand<DevSession>(
      'truva.startSession',
      vscode.Uri.joinPath(folder(), 'truva.yaml'),
    ))!;
    assert.ok(session, 'the session started');
    const inDevMode = await truva.cluster!.getDeployment('web', 'demo');
    assert.ok(inDevMode.metadata?.annotations?.['truva.dev/backup'], 'the deployment carries the backup annotation');
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder(), 'version.txt'));
    const editor = await vscode.window.showTextDocument(doc);
    await editor.edit((e) => e.replace(new vscode.Range(0, 0, doc.lineCount, 0), 'tokens-v1\n'));
    await doc.save();
    await waitFor('synced', () => session.snapshot().lastSyncAt !== undefined && session.snapshot().pending === 0);
    const state = (memento: vscode.Memento) => memento.keys().map((k) => `${k}=${JSON.stringify(memento.get(k))}`);
    const globalDuring = state(truva.extension.globalState);
    assert.ok(
      globalDuring.some((s) => s.startsWith('backup/')),
      'the backup copy is in globalState during the session',
    );
    assert.equal(
      leaks([JSON.stringify(inDevMode), ...globalDuring, ...state(truva.extension.workspaceState)]),
      0,
      'the dev-mode deployment or state during the session',
    );

    await vscode.commands.executeCommand('truva.stopSession', session.id);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    const restored = await truva.cluster!.getDeployment('web', 'demo');
    assert.equal(restored.metadata?.annotations?.['truva.dev/backup'], undefined);

    const log = await outputLog(truva);
    assert.match(log, /Dev session for "web" is running/, 'the output channel file holds the session');
    // The extension's folders, and the whole user-data-dir they live in (workbench state, logs).
    const userDataDir = resolve(truva.extension.globalStorageUri.fsPath, '../../..');
    const places = [
      userDataDir,
      truva.extension.logUri.fsPath,
      truva.extension.globalStorageUri.fsPath,
      truva.extension.storageUri?.fsPath,
      folder().fsPath,
    ].filter((p): p is string => !!p);
    const files = [...new Set(places.flatMap(filesUnder))];
    assert.ok(files.includes(outputLogFile(truva)), 'the output channel file is among the files searched');
    assert.ok(
      files.some((f) => f.endsWith('truva.yaml')),
      'truva.yaml is among the files searched',
    );
    const texts = [
      log,
      JSON.stringify(restored),
      ...state(truva.extension.globalState),
      ...state(truva.extension.workspaceState),
    ];
    const leaked = files.filter((f) => {
      const bytes = readFileSync(f);
      return pieces.some((piece) => bytes.includes(piece));
    });
    assert.deepEqual(leaked, [], 'files holding a kubeconfig secret');
    assert.equal(leaks(texts), 0, 'the output channel, the deployment or extension state');
  });
});
