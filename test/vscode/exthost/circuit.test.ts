// The Kubernetes API fully down during a session, long enough for the circuit breaker to open,
// try again (half-open) and open again: the status bar says "API down", the output channel says
// so once (every notification Truva shows is written there as an error too, so counting its lines
// counts those as well), no warning repeats, the circuit closes when the API is back, and the
// edit saved during the outage then reaches both pods.
import * as assert from 'node:assert/strict';
import * as https from 'node:https';
import * as vscode from 'vscode';
import { loadKubeConfig } from '../../../src/core/kube/kubeconfig';
import type { DevSession } from '../../../src/core/session/devSession';
import type { TruvaContext } from '../../../src/vscode/truvaContext';
import { activeTruva, outputLog, waitFor } from './helpers';

/** POSTs to the sandbox's fault endpoint (its own token, handed over by test/vscode/run.ts). */
function fault(body: object): Promise<void> {
  const cluster = loadKubeConfig().getCurrentCluster()!;
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${cluster.server}/truva-admin/faults`,
      {
        method: 'POST',
        ca: Buffer.from(cluster.caData!, 'base64'),
        headers: { authorization: `Bearer ${process.env.TRUVA_FAULTS_TOKEN}`, 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`fault endpoint: HTTP ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe('Truva while the Kubernetes API is down', () => {
  let truva: TruvaContext;
  const folder = () => vscode.workspace.workspaceFolders![0].uri;

  before(async () => {
    assert.ok(process.env.TRUVA_FAULTS_TOKEN, 'test/vscode/run.ts passes the fault token');
    truva = await activeTruva();
  });
  after(() => fault({ action: 'clear' }));

  it('says so once, opens, half-opens and closes, then delivers the edit saved meanwhile', async () => {
    await waitFor('the cluster view', () => truva.clusterTree.state === 'ok');
    const session = (await vscode.commands.executeCommand<DevSession>(
      'truva.startSession',
      vscode.Uri.joinPath(folder(), 'truva.yaml'),
    ))!;
    assert.ok(session, 'the session started');
    try {
      // The sidebar, the session and its log panel lease one connection: one breaker for the server.
      assert.equal(truva.pool.connections().length, 1, 'one connection to the sandbox');
      const transitions: string[] = [];
      const subscription = truva.cluster!.connection.onBreakerStateChange((s) => transitions.push(s));
      const logBefore = (await outputLog(truva)).length;

      await fault({ action: 'fail', status: 503 });
      await fault({ action: 'closeStreams' });
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder(), 'version.txt'));
      const editor = await vscode.window.showTextDocument(doc);
      await editor.edit((e) => e.replace(new vscode.Range(0, 0, doc.lineCount, 0), 'saved-while-down\n'));
      await doc.save();
      await waitFor('"API down" in the status bar', () => /API down/.test(truva.statusBar.item.text));
      // Two failed trials while down: open -> half-open -> open, twice.
      await waitFor(
        'the circuit to re-open twice',
        () => transitions.join(' ').split('half-open open').length > 2,
        90_000,
      );
      const during = (await outputLog(truva)).slice(logBefore);

      await fault({ action: 'clear' });
      await waitFor(
        'the status bar without the outage',
        () => !/API (down|retrying)/.test(truva.statusBar.item.text),
        90_000,
      );
      const cluster = truva.cluster!;
      await waitFor(
        'the edit in both pods',
        async () => {
          const pods = (await cluster.listPods('app=web', 'demo')).filter(
            (p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp,
          );
          const texts = await Promise.all(
            pods.map(async (p) =>
              (
                await cluster.exec(p.metadata!.name!, 'web', ['cat', '/app/version.txt'], { namespace: 'demo' })
              ).stdout.toString(),
            ),
          );
          return texts.length === 2 && texts.every((t) => t === 'saved-while-down\n');
        },
        90_000,
      );
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
      const all = (await outputLog(truva)).slice(logBefore);
      subscription.dispose();

      const lines = (text: string) =>
        text
          .split('\n')
          .filter(Boolean)
          .map((l) => l.replace(/^\S+ \S+ /, ''));
      const shown = `; the output channel said:\n${lines(all).join('\n')}`;
      assert.equal(
        lines(all).filter((l) => /^\[warning\] The Kubernetes API .* is down/.test(l)).length,
        1,
        `the outage is announced once${shown}`,
      );
      assert.equal(
        lines(all).filter((l) => /^\[info\] The Kubernetes API .* answers again/.test(l)).length,
        1,
        `and its end once${shown}`,
      );
      assert.deepEqual(
        lines(during).filter((l) => l.startsWith('[error]')),
        [],
        `no error (and so no error notification) during the outage${shown}`,
      );
      const warnings = lines(during)
        .filter((l) => l.startsWith('[warning]'))
        .map((l) => l.replace(/\d+/g, 'N'));
      assert.deepEqual(
        warnings.filter((w, i) => warnings.indexOf(w) !== i),
        [],
        `no warning repeats during the outage${shown}`,
      );
    } finally {
      await fault({ action: 'clear' });
      await vscode.commands.executeCommand('truva.stopSession', session.id);
    }
  });
});
