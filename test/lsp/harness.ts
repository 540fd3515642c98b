// An LSP client talking the real protocol to the truva.yaml server, in-process over streams.
import { PassThrough } from 'node:stream';
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
} from 'vscode-jsonrpc/node';
import { createConnection } from 'vscode-languageserver/node';
import type { Diagnostic } from 'vscode-languageserver';
import { ClusterInfoRequest, type ClusterInfo, type ClusterInfoParams } from '../../src/server/protocol';
import { startServer } from '../../src/server/truvaServer';

export interface Published {
  uri: string;
  version?: number;
  diagnostics: Diagnostic[];
}

export class LspHarness {
  readonly published: Published[] = [];
  readonly clusterRequests: ClusterInfoParams[] = [];
  private waiters: (() => void)[] = [];
  private versions = new Map<string, number>();

  private constructor(
    readonly client: MessageConnection,
    private readonly streams: PassThrough[],
    private readonly serverDispose: () => void,
  ) {}

  static async start(
    clusterInfo?: (params: ClusterInfoParams) => ClusterInfo | null | Promise<ClusterInfo | null>,
  ): Promise<LspHarness> {
    const toServer = new PassThrough();
    const toClient = new PassThrough();
    const serverConnection = createConnection(new StreamMessageReader(toServer), new StreamMessageWriter(toClient));
    startServer(serverConnection);
    const client = createMessageConnection(new StreamMessageReader(toClient), new StreamMessageWriter(toServer));
    const harness = new LspHarness(client, [toServer, toClient], () => serverConnection.dispose());
    client.onNotification('textDocument/publishDiagnostics', (params: Published) => {
      harness.published.push(params);
      harness.waiters.splice(0).forEach((wake) => wake());
    });
    if (clusterInfo) {
      client.onRequest(ClusterInfoRequest, (params) => {
        harness.clusterRequests.push(params);
        return clusterInfo(params);
      });
    }
    client.listen();
    await client.sendRequest('initialize', { processId: null, rootUri: null, capabilities: {} });
    await client.sendNotification('initialized', {});
    return harness;
  }

  open(uri: string, text: string): void {
    this.versions.set(uri, 1);
    void this.client.sendNotification('textDocument/didOpen', {
      textDocument: { uri, languageId: 'yaml', version: 1, text },
    });
  }

  change(uri: string, text: string): void {
    const version = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, version);
    void this.client.sendNotification('textDocument/didChange', {
      textDocument: { uri, version },
      contentChanges: [{ text }],
    });
  }

  /** The first publish for `uri` (after `after` publishes) satisfying `accept`. */
  async diagnostics(
    uri: string,
    accept: (d: Diagnostic[]) => boolean = () => true,
    after = 0,
    timeoutMs = 5000,
  ): Promise<Diagnostic[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.published.slice(after).find((p) => p.uri === uri && accept(p.diagnostics));
      if (found) return found.diagnostics;
      if (Date.now() > deadline)
        throw new Error(
          `no matching diagnostics for ${uri}; got ${JSON.stringify(this.published.filter((p) => p.uri === uri).map((p) => p.diagnostics.map((d) => d.code)))}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  request<T>(method: string, params: unknown): Promise<T> {
    return this.client.sendRequest(method, params) as Promise<T>;
  }

  async stop(): Promise<void> {
    await this.client.sendRequest('shutdown');
    this.client.dispose();
    this.serverDispose();
    this.streams.forEach((s) => s.destroy());
  }
}
