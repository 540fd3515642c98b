// The truva.yaml language server: diagnostics from the shared validator (published at once),
// cluster warnings asked from the client (published when they arrive), completion, hover and
// quick fixes. Transport-free: server.ts hands it an IPC connection, the tests a stream one.
import { mkdirSync, readdirSync } from 'node:fs';
import { dirname, isAbsolute, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CodeActionKind,
  CompletionItemKind,
  DiagnosticSeverity,
  MarkupKind,
  TextDocumentSyncKind,
  TextDocuments,
  type CodeAction,
  type CompletionItem,
  type Connection,
  type Diagnostic,
  type Hover,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import {
  analyzeDocument,
  keyDocumentation,
  keysAt,
  schemaAt,
  suggestedValues,
  type Analysis,
  type DiagnosticData,
} from '../core/config';
import {
  ClusterChangedNotificationMethod,
  ClusterInfoRequestMethod,
  CreateFolderCommand,
  type ClusterInfo,
  type ClusterInfoParams,
} from './protocol';
import { cursorContext } from './yamlContext';

/** Cluster answers are reused this long, so typing never waits on the API. */
export const CLUSTER_TTL_MS = 30_000;

interface DocumentState {
  version: number;
  analysis: Analysis;
  filePath: string;
}

function filePathOf(uri: string): string {
  if (!uri.startsWith('file:')) return '';
  try {
    return fileURLToPath(uri);
  } catch {
    return '';
  }
}

function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function stringAt(value: unknown, key: string): string | undefined {
  const v = asRecord(value)[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function startServer(connection: Connection): void {
  const documents = new TextDocuments(TextDocument);
  const states = new Map<string, DocumentState>();
  const clusterCache = new Map<string, { at: number; answer: Promise<ClusterInfo | null> }>();

  function clusterInfo(params: ClusterInfoParams): Promise<ClusterInfo | null> {
    const key = JSON.stringify([params.context ?? null, params.namespace ?? null, params.kubeconfig ?? null]);
    const cached = clusterCache.get(key);
    if (cached && Date.now() - cached.at < CLUSTER_TTL_MS) return cached.answer;
    const answer = connection.sendRequest<ClusterInfo | null>(ClusterInfoRequestMethod, params).then(
      (info) => info ?? null,
      () => null,
    );
    clusterCache.set(key, { at: Date.now(), answer });
    return answer;
  }

  function clusterParams(state: DocumentState): ClusterInfoParams {
    const value = state.analysis.value;
    const kubeconfig = stringAt(value, 'kubeconfig');
    return {
      context: stringAt(value, 'context'),
      namespace: stringAt(value, 'namespace'),
      kubeconfig:
        kubeconfig && state.filePath && !isAbsolute(kubeconfig)
          ? join(dirname(state.filePath), kubeconfig)
          : kubeconfig,
    };
  }

  function validate(document: TextDocument): void {
    const filePath = filePathOf(document.uri);
    const analysis = analyzeDocument(document.getText(), filePath, { skipFileSystem: filePath === '' });
    const state: DocumentState = { version: document.version, analysis, filePath };
    states.set(document.uri, state);
    const base = analysis.diagnostics as Diagnostic[];
    void connection.sendDiagnostics({ uri: document.uri, version: document.version, diagnostics: base });
    if (analysis.value === undefined || analysis.value === null || typeof analysis.value !== 'object') return;
    void clusterInfo(clusterParams(state)).then((info) => {
      if (!info || states.get(document.uri) !== state) return;
      const warnings = clusterDiagnostics(state, info);
      if (warnings.length > 0)
        void connection.sendDiagnostics({
          uri: document.uri,
          version: document.version,
          diagnostics: [...base, ...warnings].sort(
            (a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character,
          ),
        });
    });
  }

  function rangeOfValue(state: DocumentState, key: string) {
    const doc = state.analysis.document;
    const pair = isMap(doc?.contents)
      ? doc.contents.items.find((p) => isScalar(p.key) && p.key.value === key)
      : undefined;
    const span = (pair?.value as Node | undefined)?.range ?? (pair?.key as Node | undefined)?.range;
    return span ? state.analysis.lines.range(span[0], span[1]) : state.analysis.lines.lineRange(0);
  }

  function clusterDiagnostics(state: DocumentState, info: ClusterInfo): Diagnostic[] {
    const out: Diagnostic[] = [];
    const value = state.analysis.value;
    const warn = (key: string, message: string, code: string) =>
      out.push({
        range: rangeOfValue(state, key),
        message,
        severity: DiagnosticSeverity.Warning,
        code,
        source: 'truva',
      });
    const context = stringAt(value, 'context');
    if (context && !info.contexts.includes(context)) {
      warn(
        'context',
        `Context "${context}" is not in your kubeconfig. Known contexts: ${info.contexts.join(', ') || 'none'}.`,
        'context-not-found',
      );
      return out;
    }
    const namespace = stringAt(value, 'namespace');
    if (namespace && info.namespaces && !info.namespaces.includes(namespace)) {
      warn('namespace', `Namespace "${namespace}" does not exist in context "${info.context}".`, 'namespace-not-found');
      return out;
    }
    const deploymentName = stringAt(value, 'deployment');
    if (!deploymentName || !info.deployments) return out;
    const deployment = info.deployments.find((d) => d.name === deploymentName);
    if (!deployment) {
      const names = info.deployments.map((d) => d.name);
      warn(
        'deployment',
        `Deployment "${deploymentName}" does not exist in namespace "${info.namespace}" (context "${info.context}"). ${names.length > 0 ? `Deployments there: ${names.slice(0, 10).join(', ')}.` : 'It has no deployments.'}`,
        'deployment-not-found',
      );
      return out;
    }
    const container = stringAt(value, 'container');
    if (container && !deployment.containers.includes(container)) {
      warn(
        'container',
        `Deployment "${deployment.name}" has no container "${container}". Its containers: ${deployment.containers.join(', ')}.`,
        'container-not-found',
      );
    }
    return out;
  }

  connection.onInitialize(() => ({
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      completionProvider: { triggerCharacters: [':', ' ', '/', '-'] },
      hoverProvider: true,
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
      executeCommandProvider: { commands: [CreateFolderCommand] },
    },
    serverInfo: { name: 'truva-yaml' },
  }));

  documents.onDidChangeContent((event) => validate(event.document));
  documents.onDidClose((event) => {
    states.delete(event.document.uri);
    void connection.sendDiagnostics({ uri: event.document.uri, diagnostics: [] });
  });

  connection.onNotification(ClusterChangedNotificationMethod, () => {
    clusterCache.clear();
    for (const document of documents.all()) validate(document);
  });

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
      const info = await clusterInfo(clusterParams(state));
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

  connection.onHover(async (params): Promise<Hover | null> => {
    const state = states.get(params.textDocument.uri);
    const document = documents.get(params.textDocument.uri);
    if (!state?.analysis.document || !document) return null;
    const offset = document.offsetAt(params.position);
    const target = hoverTarget(state.analysis.document.contents as Node | null, offset);
    if (!target) return null;
    const schemaPath = target.path.map((s) => (typeof s === 'number' ? '[]' : s));
    const lines = state.analysis.lines;
    if (
      target.onValue &&
      schemaPath.length === 1 &&
      schemaPath[0] === 'deployment' &&
      typeof target.value === 'string'
    ) {
      const info = await clusterInfo(clusterParams(state));
      const deployment = info?.deployments?.find((d) => d.name === target.value);
      if (deployment) {
        const ready = deployment.readyReplicas !== undefined ? ` (${deployment.readyReplicas} ready)` : '';
        return {
          contents: {
            kind: MarkupKind.Markdown,
            value: `**${deployment.name}** in \`${info!.namespace}\`\n\nReplicas: ${deployment.replicas}${ready}\n\nContainers: ${deployment.containers.map((c) => `\`${c}\``).join(', ')}`,
          },
          range: lines.range(target.span[0], target.span[1]),
        };
      }
    }
    const docs = keyDocumentation(schemaPath.filter((s, i) => !(s === '[]' && i === schemaPath.length - 1)));
    if (!docs) return null;
    return {
      contents: {
        kind: MarkupKind.Markdown,
        value: `**${target.path.filter((s) => typeof s === 'string').join('.')}**\n\n${docs}`,
      },
      range: lines.range(target.span[0], target.span[1]),
    };
  });

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
    for (const document of documents.all()) validate(document);
  });

  documents.listen(connection);
  connection.listen();
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

interface HoverTarget {
  path: (string | number)[];
  span: [number, number];
  onValue: boolean;
  value?: unknown;
}

/** The key or scalar value under `offset`, with its path; bounded depth, no recursion on hostile input. */
function hoverTarget(root: Node | null, offset: number): HoverTarget | undefined {
  let node: unknown = root;
  const path: (string | number)[] = [];
  for (let depth = 0; depth < 16; depth++) {
    if (isMap(node)) {
      const pair = node.items.find((p) => {
        const k = (p.key as Node | null)?.range;
        const v = (p.value as Node | null)?.range;
        return (k && offset >= k[0] && offset <= k[1]) || (v && offset >= v[0] && offset <= v[2]);
      });
      if (!pair || !isScalar(pair.key)) return undefined;
      const k = pair.key.range!;
      path.push(String(pair.key.value));
      if (offset >= k[0] && offset <= k[1]) return { path, span: [k[0], k[1]], onValue: false };
      node = pair.value;
    } else if (isSeq(node)) {
      const index = node.items.findIndex((item) => {
        const r = (item as Node | null)?.range;
        return r && offset >= r[0] && offset <= r[2];
      });
      if (index < 0) return undefined;
      path.push(index);
      node = node.items[index];
    } else if (isScalar(node) && node.range) {
      return { path, span: [node.range[0], node.range[1]], onValue: true, value: node.value };
    } else {
      return undefined;
    }
  }
  return undefined;
}
