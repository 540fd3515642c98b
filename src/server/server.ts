// truva.yaml language server entry point (bundled to dist/server.js): the IPC connection
// vscode-languageclient opens, handed to the transport-free server.
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startServer } from './truvaServer';

startServer(createConnection(ProposedFeatures.all));
