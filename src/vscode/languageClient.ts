// Starts the truva.yaml language server (dist/server.js over IPC) the first time a truva.yaml is
// open, answers its cluster questions through the provider the composition root passes in, and
// stops it on dispose. The client id `truva` makes languageclient honour `truva.trace.server`.
import * as vscode from 'vscode';
import type { LanguageClient, LanguageClientOptions, ServerOptions } from 'vscode-languageclient/node';
import type { ClusterInfoProvider } from '../server/protocol';
import { lsp } from './lazy';

export type { ClusterInfo, ClusterInfoParams, ClusterInfoProvider } from '../server/protocol';

export interface TruvaLanguageClient extends vscode.Disposable {
  /** Forget cached cluster answers (context switched, kubeconfig edited) and re-check open files. */
  clusterChanged(): void;
  /** Whether the server has been started (it starts on the first open truva.yaml). */
  readonly started: boolean;
  /** Stops the server and waits for it (for deactivate); dispose() does the same without waiting. */
  stop(): Promise<void>;
}

function isTruvaYaml(document: vscode.TextDocument): boolean {
  return (
    (document.uri.scheme === 'file' || document.uri.scheme === 'untitled') &&
    /(^|[\\/])truva\.yaml$/.test(document.uri.path)
  );
}

/**
 * The client starts, and vscode-languageclient loads (lazy.ts), on the first truva.yaml open: one
 * open already is taken up after activation returns, so activation never waits for the server.
 */
export function startLanguageClient(
  context: vscode.ExtensionContext,
  clusterInfo: ClusterInfoProvider,
): TruvaLanguageClient {
  const module = context.asAbsolutePath('dist/server.js');
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', pattern: '**/truva.yaml' },
      { scheme: 'untitled', pattern: '**/truva.yaml' },
    ],
    diagnosticCollectionName: 'truva',
  };
  let client: LanguageClient | undefined;
  let starting: Promise<void> | undefined;
  let disposed = false;

  const start = (): Promise<void> => {
    if (starting || disposed) return starting ?? Promise.resolve();
    const { LanguageClient, TransportKind, ClusterInfoRequest } = lsp();
    const serverOptions: ServerOptions = {
      run: { module, transport: TransportKind.ipc },
      debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
    };
    client = new LanguageClient('truva', 'Truva truva.yaml', serverOptions, clientOptions);
    client.onRequest(ClusterInfoRequest, async (params) => {
      try {
        return await clusterInfo.getClusterInfo(params);
      } catch {
        // An unreachable cluster means "no cluster warnings", never an error in the editor.
        return null;
      }
    });
    starting = client.start();
    return starting;
  };

  const opened = vscode.workspace.onDidOpenTextDocument((document) => {
    if (isTruvaYaml(document)) void start();
  });
  if (vscode.workspace.textDocuments.some(isTruvaYaml)) setImmediate(() => void start());

  const handle: TruvaLanguageClient = {
    get started() {
      return starting !== undefined;
    },
    clusterChanged() {
      if (client?.isRunning()) void client.sendNotification(lsp().ClusterChangedNotification);
    },
    async stop() {
      disposed = true;
      opened.dispose();
      try {
        await starting;
        if (client?.isRunning()) await client.stop(2000);
      } catch {
        // A server that failed to start or is already gone has nothing left to stop.
      }
    },
    dispose() {
      void handle.stop();
    },
  };
  return handle;
}
