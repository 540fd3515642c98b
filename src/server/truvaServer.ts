// The truva.yaml language server: diagnostics from the shared validator (published at once),
// cluster warnings asked from the client (published when they arrive), completion, hover and
// quick fixes, each in a module of its own. Transport-free: server.ts hands it an IPC
// connection, the tests a stream one.
import { CodeActionKind, TextDocumentSyncKind, TextDocuments, type Connection } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { registerCodeActions } from './codeActions';
import { registerCompletion } from './completion';
import { registerDiagnostics } from './diagnostics';
import { registerHover } from './hover';
import { CreateFolderCommand } from './protocol';
import { ClusterAnswers, type ServerParts } from './serverParts';

export function startServer(connection: Connection): void {
  const documents = new TextDocuments(TextDocument);
  const parts: ServerParts = { connection, documents, states: new Map(), cluster: new ClusterAnswers(connection) };

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
  const { validate } = registerDiagnostics(parts);
  registerCompletion(parts);
  registerHover(parts);
  registerCodeActions(parts, () => documents.all().forEach(validate));

  documents.listen(connection);
  connection.listen();
}
