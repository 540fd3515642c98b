// What every feature of the truva.yaml language server shares: the connection, the open
// documents, what each one was last analysed as, and the cluster's answers. Each feature module
// (diagnostics, completion, hover, codeActions) registers its handlers with these.
import { fileURLToPath } from 'node:url';
import { dirname, isAbsolute, join } from 'node:path';
import type { Connection, TextDocuments } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Analysis } from '../core/config';
import { ClusterInfoRequest, type ClusterInfo, type ClusterInfoParams } from './protocol';

/** Cluster answers are reused this long, so typing never waits on the API. */
const CLUSTER_TTL_MS = 30_000;

export interface DocumentState {
  version: number;
  analysis: Analysis;
  filePath: string;
}

export interface ServerParts {
  connection: Connection;
  documents: TextDocuments<TextDocument>;
  /** By document URI: the last analysis. */
  states: Map<string, DocumentState>;
  cluster: ClusterAnswers;
}

export function filePathOf(uri: string): string {
  if (!uri.startsWith('file:')) return '';
  try {
    return fileURLToPath(uri);
  } catch {
    return '';
  }
}

/** A top-level string value of the document, or undefined (also for an empty string). */
export function stringAt(value: unknown, key: string): string | undefined {
  const record = value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const v = record[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** What the cluster holds for a document's context and namespace, asked of the client and cached. */
export class ClusterAnswers {
  private readonly cache = new Map<string, { at: number; answer: Promise<ClusterInfo | null> }>();

  constructor(private readonly connection: Connection) {}

  /** null when the cluster cannot be reached (then no cluster warnings are given). */
  for(state: DocumentState): Promise<ClusterInfo | null> {
    const params = this.params(state);
    const key = JSON.stringify([params.context ?? null, params.namespace ?? null, params.kubeconfig ?? null]);
    const cached = this.cache.get(key);
    if (cached && Date.now() - cached.at < CLUSTER_TTL_MS) return cached.answer;
    const answer = this.connection.sendRequest(ClusterInfoRequest, params).then(
      (info) => info ?? null,
      () => null,
    );
    this.cache.set(key, { at: Date.now(), answer });
    return answer;
  }

  /** The kubeconfig or cluster changed: ask again. */
  forget(): void {
    this.cache.clear();
  }

  private params(state: DocumentState): ClusterInfoParams {
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
}
