// Diagnostics: the shared validator's problems, published at once, then the cluster's warnings
// (a context, namespace, deployment or container that does not exist) when its answer arrives.
import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { analyzeDocument, valueRange } from '../core/config';
import { ClusterChangedNotification, type ClusterInfo } from './protocol';
import { filePathOf, stringAt, type DocumentState, type ServerParts } from './serverParts';

/** Registers the handlers; returns how to validate a document again (after a quick fix changed the disk). */
export function registerDiagnostics({ connection, documents, states, cluster }: ServerParts): {
  validate(document: TextDocument): void;
} {
  function validate(document: TextDocument): void {
    const filePath = filePathOf(document.uri);
    const analysis = analyzeDocument(document.getText(), filePath, { skipFileSystem: filePath === '' });
    const state: DocumentState = { version: document.version, analysis, filePath };
    states.set(document.uri, state);
    const base = analysis.diagnostics as Diagnostic[];
    void connection.sendDiagnostics({ uri: document.uri, version: document.version, diagnostics: base });
    if (analysis.value === undefined || analysis.value === null || typeof analysis.value !== 'object') return;
    void cluster.for(state).then((info) => {
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

  documents.onDidChangeContent((event) => validate(event.document));
  documents.onDidClose((event) => {
    states.delete(event.document.uri);
    void connection.sendDiagnostics({ uri: event.document.uri, diagnostics: [] });
  });
  connection.onNotification(ClusterChangedNotification, () => {
    cluster.forget();
    for (const document of documents.all()) validate(document);
  });
  return { validate };
}

function clusterDiagnostics(state: DocumentState, info: ClusterInfo): Diagnostic[] {
  const out: Diagnostic[] = [];
  const { value, document, lines } = state.analysis;
  const warn = (key: string, message: string, code: string) =>
    out.push({
      range: document ? valueRange(document, lines, [key]) : lines.lineRange(0),
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
