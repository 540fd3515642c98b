// What the truva.yaml language client needs at run time, bundled on its own (dist/languageClient.js)
// and loaded by src/vscode/lazy.ts when the first truva.yaml opens: vscode-languageclient and its
// protocol are about half of what the extension would otherwise load at activation.
export { LanguageClient, TransportKind } from 'vscode-languageclient/node';
export { ClusterChangedNotification, ClusterInfoRequest } from '../server/protocol';
