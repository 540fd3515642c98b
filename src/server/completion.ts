// Completion: keys from the schema where a key is typed; where a value is, the schema's enums
// and booleans, the cluster's contexts, namespaces, deployments and containers, and local
// folders for sync[].local.
import { readdirSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { CompletionItemKind, MarkupKind, type CompletionItem } from 'vscode-languageserver';
import { keyDocumentation, keysAt, schemaAt, suggestedValues } from '../core/config';
import { filePathOf, stringAt, type ServerParts } from './serverParts';
import { cursorContext } from './yamlContext';

export function registerCompletion({ connection, documents, states, cluster }: ServerParts): void {
  connection.onCompletion(async (params): Promise<CompletionItem[]> => {
    const document = documents.get(params.textDocument.uri);
    if (!document) return [];
    const context = cursorContext(document.getText(), params.position.line, params.position.character);
    const range = { start: { line: params.position.line, character: context.prefixStart }, end: params.position };
    if (context.kind === 'key') {
      return keysAt(context.path).map((key) => {
        const node = schemaAt([...context.path, key]);
        const block = node?.type === 'object' || node?.type === 'array';
        return {
          label: key,
          kind: CompletionItemKind.Property,
          documentation: { kind: MarkupKind.Markdown, value: keyDocumentation([...context.path, key]) ?? '' },
          textEdit: { range, newText: block ? `${key}:` : `${key}: ` },
        };
      });
    }
    const key = context.key ?? '';
    const state = states.get(document.uri);
    const values: { label: string; detail?: string }[] = [];
    values.push(...suggestedValues([...context.path, key]).map((label) => ({ label })));
    if (context.path.length === 0 && ['context', 'namespace', 'deployment', 'container'].includes(key) && state) {
      const info = await cluster.for(state);
      if (info) {
        if (key === 'context')
          values.push(
            ...info.contexts.map((c) => ({ label: c, detail: c === info.context ? 'current context' : 'context' })),
          );
        if (key === 'namespace')
          values.push(...(info.namespaces ?? []).map((n) => ({ label: n, detail: 'namespace' })));
        if (key === 'deployment')
          values.push(
            ...(info.deployments ?? []).map((d) => ({
              label: d.name,
              detail: `${d.replicas} replica(s): ${d.containers.join(', ')}`,
            })),
          );
        if (key === 'container') {
          const deployment = info.deployments?.find((d) => d.name === stringAt(state.analysis.value, 'deployment'));
          const containers = deployment
            ? deployment.containers
            : [...new Set((info.deployments ?? []).flatMap((d) => d.containers))];
          values.push(...containers.map((c) => ({ label: c, detail: 'container' })));
        }
      }
    }
    if (key === 'local' && context.path[0] === 'sync')
      values.push(...localFolders(filePathOf(document.uri), context.prefix));
    return values.map((v) => ({
      label: v.label,
      detail: v.detail,
      kind: CompletionItemKind.Value,
      textEdit: { range, newText: v.label },
    }));
  });
}

/** Sub-folders of what has been typed so far, relative to truva.yaml's folder. */
function localFolders(filePath: string, typed: string): { label: string; detail: string }[] {
  if (!filePath) return [];
  const root = dirname(filePath);
  const base = typed.includes('/') ? typed.slice(0, typed.lastIndexOf('/') + 1) : '';
  try {
    return readdirSync(join(root, base), { withFileTypes: true })
      .filter((e) => e.isDirectory() && e.name !== '.git' && e.name !== 'node_modules')
      .slice(0, 200)
      .map((e) => ({ label: base === '' ? `./${e.name}` : posix.join(base, e.name), detail: 'local folder' }));
  } catch {
    return [];
  }
}
