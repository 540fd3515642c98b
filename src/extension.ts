// Composition root: the VS Code layer is built here (see issue 6).
import type * as vscode from 'vscode';

export function activate(_context: vscode.ExtensionContext): void {}

export function deactivate(): void {}
