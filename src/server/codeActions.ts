// Quick fixes for the validator's diagnostics: the suggested key for a misspelt one, creating a
// missing local folder (a command the server runs), a starter file for an empty one, and the
// required keys that are missing.
import { mkdirSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { CodeActionKind, type CodeAction } from 'vscode-languageserver';
import type { DiagnosticData } from '../core/config';
import { CreateFolderCommand } from './protocol';
import type { ServerParts } from './serverParts';

/** `revalidate` runs after a folder was created: the "folder missing" problem is gone. */
export function registerCodeActions({ connection, documents }: ServerParts, revalidate: () => void): void {
  connection.onCodeAction((params): CodeAction[] => {
    const document = documents.get(params.textDocument.uri);
    if (!document) return [];
    const actions: CodeAction[] = [];
    for (const d of params.context.diagnostics) {
      if (d.source !== 'truva') continue;
      const data = (d.data ?? {}) as DiagnosticData;
      if (d.code === 'unknown-key' && data.replacement) {
        actions.push({
          title: `Replace with "${data.replacement}"`,
          kind: CodeActionKind.QuickFix,
          diagnostics: [d],
          isPreferred: true,
          edit: { changes: { [document.uri]: [{ range: d.range, newText: data.replacement }] } },
        });
      } else if (d.code === 'local-missing' && data.folder) {
        actions.push({
          title: `Create folder ${data.folder}`,
          kind: CodeActionKind.QuickFix,
          diagnostics: [d],
          command: { title: 'Create folder', command: CreateFolderCommand, arguments: [data.folder] },
        });
      } else if (d.code === 'empty-file') {
        actions.push({
          title: 'Insert namespace, deployment and a sync pair',
          kind: CodeActionKind.QuickFix,
          diagnostics: [d],
          isPreferred: true,
          edit: {
            changes: {
              [document.uri]: [
                {
                  range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
                  newText: starterText(document.getText()),
                },
              ],
            },
          },
        });
      } else if (d.code === 'missing-key' && data.missingKeys && data.path && data.path.length === 0) {
        const end = document.positionAt(document.getText().length);
        const needsBreak = document.getText().length > 0 && !document.getText().endsWith('\n');
        const text = data.missingKeys.map((k) => STARTER[k] ?? `${k}: \n`).join('');
        actions.push({
          title: `Add ${data.missingKeys.map((k) => `"${k}"`).join(', ')}`,
          kind: CodeActionKind.QuickFix,
          diagnostics: [d],
          edit: {
            changes: { [document.uri]: [{ range: { start: end, end }, newText: `${needsBreak ? '\n' : ''}${text}` }] },
          },
        });
      }
    }
    return actions;
  });

  connection.onExecuteCommand((params) => {
    if (params.command !== CreateFolderCommand) return;
    const folder = params.arguments?.[0];
    if (typeof folder !== 'string' || !isAbsolute(folder)) return;
    mkdirSync(folder, { recursive: true });
    revalidate();
  });
}

const STARTER: Record<string, string> = {
  namespace: 'namespace: default\n',
  deployment: 'deployment: my-app\n',
  sync: 'sync:\n  - local: .\n    remote: /app\n',
};

function starterText(existing: string): string {
  const starter = `${STARTER.namespace}${STARTER.deployment}${STARTER.sync}`;
  return existing.trim() === '' || existing.startsWith('\n') ? starter : `${starter}\n`;
}
