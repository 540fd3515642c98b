// The truva.yaml language server in the real extension host: a broken file shows its problems in
// the Problems model, and fixing it makes them go.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

async function diagnosticsOf(
  uri: vscode.Uri,
  predicate: (d: readonly vscode.Diagnostic[]) => boolean,
  timeoutMs = 30_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const diagnostics = vscode.languages.getDiagnostics(uri);
    if (predicate(diagnostics)) return diagnostics;
    if (Date.now() > deadline)
      throw new Error(`diagnostics never matched; last: ${JSON.stringify(diagnostics.map((d) => d.message))}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('truva.yaml language support', () => {
  it('a broken truva.yaml shows diagnostics in the Problems model, and a fix clears them', async () => {
    const uri = vscode.Uri.joinPath(vscode.workspace.workspaceFolders![0].uri, 'broken', 'truva.yaml');
    await vscode.workspace.fs.writeFile(
      uri,
      Buffer.from('deploymnet: web\nsync:\n  - local: .\n    remote: /app\ndebounce: fast\n'),
    );
    try {
      const doc = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(doc);
      const broken = await diagnosticsOf(uri, (d) => d.length >= 2);
      assert.ok(
        broken.some((d) => /deploymnet/.test(d.message) && /deployment/.test(d.message) && d.range.start.line === 0),
        'the misspelt key, with a suggestion',
      );
      assert.ok(
        broken.some((d) => d.range.start.line === 4),
        'the wrong debounce value',
      );
      const editor = vscode.window.activeTextEditor!;
      await editor.edit((e) =>
        e.replace(
          new vscode.Range(0, 0, doc.lineCount, 0),
          'deployment: web\nsync:\n  - local: .\n    remote: /app\ndebounce: 300\n',
        ),
      );
      await diagnosticsOf(uri, (d) => d.filter((x) => x.severity === vscode.DiagnosticSeverity.Error).length === 0);
      await doc.save();
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    } finally {
      // A second truva.yaml left behind would make later suites ask "Which truva.yaml?".
      await vscode.workspace.fs.delete(vscode.Uri.joinPath(uri, '..'), { recursive: true });
    }
  });
});
