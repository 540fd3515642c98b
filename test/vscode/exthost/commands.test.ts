// The manifest and the extension agree: every command the manifest contributes is registered
// once the extension is active, and nothing else is, and the extension under test is the one
// from this repo.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

const extensionId = 'truva-dev.truva';

describe('Truva commands', () => {
  it('activates and registers every contributed command', async () => {
    const extension = vscode.extensions.getExtension(extensionId);
    assert.ok(extension, `${extensionId} is not loaded in this extension host`);
    await extension.activate();
    const contributed: { command: string }[] = extension.packageJSON.contributes?.commands ?? [];
    assert.ok(contributed.length > 0, 'the manifest contributes no commands');
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.map((c) => c.command).filter((id) => !registered.has(id));
    assert.deepEqual(missing, [], 'contributed but not registered');
    // truva.<name> only: VS Code registers truva.cluster.focus and the like for the views.
    const extra = [...registered].filter(
      (id) => /^truva\.[^.]+$/.test(id) && !contributed.some((c) => c.command === id),
    );
    assert.deepEqual(extra, [], 'registered but not contributed');
  });
});
