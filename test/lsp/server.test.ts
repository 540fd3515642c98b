import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CodeAction, CompletionItem, Diagnostic, Hover, MarkupContent } from 'vscode-languageserver';
import { keysAt } from '../../src/core/config';
import { CreateFolderCommand, type ClusterInfo } from '../../src/server/protocol';
import { LspHarness } from './harness';

const CLUSTER: ClusterInfo = {
  contexts: ['kind-dev', 'prod'],
  context: 'kind-dev',
  namespaces: ['default', 'demo'],
  namespace: 'demo',
  deployments: [
    { name: 'web', replicas: 2, readyReplicas: 2, containers: ['app', 'sidecar'] },
    { name: 'api', replicas: 1, containers: ['api'] },
  ],
};

const summary = (ds: Diagnostic[]) =>
  ds.map((d) => [
    d.code,
    d.range.start.line,
    d.range.start.character,
    d.range.end.line,
    d.range.end.character,
    d.severity,
  ]);

describe('lsp: truva.yaml server over the protocol', () => {
  let dir: string;
  let uri: string;
  let lsp: LspHarness;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'truva-lsp-'));
    mkdirSync(join(dir, 'src'));
    mkdirSync(join(dir, 'static'));
    uri = pathToFileURL(join(dir, 'truva.yaml')).href;
    lsp = await LspHarness.start(() => CLUSTER);
  });
  afterEach(async () => {
    await lsp.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes each problem with its exact range and a plain message', async () => {
    const text = [
      'namespace: demo', //                 0
      'deployment: web', //                 1
      'sync:', //                           2
      '  - local: ./missing', //            3
      '    remote: app', //                 4
      '  - local: ./src', //                5
      '    remote: /usr', //                6
      'namspace: x', //                     7
      'debounce: fast', //                  8
      'concurrency: -1', //                 9
      'exclude:', //                        10
      '  - ../shared', //                   11
      'deployment: again', //               12
    ].join('\n');
    lsp.open(uri, text);
    const syntax = await lsp.diagnostics(uri);
    assert.deepEqual(
      summary(syntax),
      [['yaml-syntax', 12, 0, 12, 10, 1]],
      'a duplicate key is a YAML error reported alone',
    );

    lsp.change(uri, text.split('\n').slice(0, 12).join('\n'));
    const ds = await lsp.diagnostics(uri, (d) => d.some((x) => x.code === 'unknown-key'));
    assert.deepEqual(summary(ds), [
      ['local-missing', 3, 11, 3, 20, 1],
      ['remote-not-absolute', 4, 12, 4, 15, 1],
      ['remote-system-dir', 6, 12, 6, 16, 1],
      ['unknown-key', 7, 0, 7, 8, 1],
      ['wrong-type', 8, 10, 8, 14, 1],
      ['out-of-range', 9, 13, 9, 15, 1],
      ['exclude-never-matches', 11, 4, 11, 13, 2],
    ]);
    assert.match(ds[3].message, /Did you mean "namespace"\?/);
    assert.match(ds[4].message, /"debounce" must be .* not "fast"/);
    assert.match(ds[5].message, /from 1 to 100, not -1/);
    assert.ok(ds.every((d) => d.source === 'truva'));
  });

  it('adds cluster warnings later without holding back the schema diagnostics', async () => {
    await lsp.stop();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    lsp = await LspHarness.start(async () => {
      await gate;
      return CLUSTER;
    });
    lsp.open(
      uri,
      'namespace: demo\ndeployment: wbe\ncontainer: app\nsync: [{ local: ./src, remote: /app }]\nconcurrency: 0\n',
    );
    const first = await lsp.diagnostics(uri);
    assert.deepEqual(
      first.map((d) => d.code),
      ['out-of-range'],
      'published while the cluster had not answered',
    );
    release();
    const later = await lsp.diagnostics(uri, (d) => d.some((x) => x.code === 'deployment-not-found'));
    assert.deepEqual(
      summary(later),
      [
        ['deployment-not-found', 1, 12, 1, 15, 2],
        ['out-of-range', 4, 13, 4, 14, 1],
      ].sort((a, b) => (a[1] as number) - (b[1] as number)),
    );
    assert.match(later[0].message, /Deployment "wbe" does not exist in namespace "demo".*web, api/);
  });

  it('warns about a missing namespace, context and container, and asks the cluster once per TTL', async () => {
    lsp.open(uri, 'namespace: nope\ndeployment: web\nsync: [{ local: ./src, remote: /app }]\n');
    const ns = await lsp.diagnostics(uri, (d) => d.length > 0);
    assert.deepEqual(summary(ns), [['namespace-not-found', 0, 11, 0, 15, 2]]);

    const count = lsp.published.length;
    lsp.change(uri, 'context: staging\nnamespace: demo\ndeployment: web\nsync: [{ local: ./src, remote: /app }]\n');
    const ctx = await lsp.diagnostics(uri, (d) => d.length > 0, count);
    assert.deepEqual(summary(ctx), [['context-not-found', 0, 9, 0, 16, 2]]);
    assert.match(ctx[0].message, /Known contexts: kind-dev, prod/);

    const count2 = lsp.published.length;
    lsp.change(uri, 'namespace: demo\ndeployment: web\ncontainer: db\nsync: [{ local: ./src, remote: /app }]\n');
    const container = await lsp.diagnostics(uri, (d) => d.length > 0, count2);
    assert.deepEqual(summary(container), [['container-not-found', 2, 11, 2, 13, 2]]);
    assert.match(container[0].message, /Its containers: app, sidecar/);

    const before = lsp.clusterRequests.length;
    const count3 = lsp.published.length;
    lsp.change(
      uri,
      'namespace: demo\ndeployment: web\ncontainer: db\nsync: [{ local: ./src, remote: /app }]\n# edit\n',
    );
    await lsp.diagnostics(uri, (d) => d.length > 0, count3);
    assert.equal(lsp.clusterRequests.length, before, 'a cached answer is reused while typing');
  });

  it('gives no cluster warnings when the cluster is unreachable (null)', async () => {
    await lsp.stop();
    lsp = await LspHarness.start(() => null);
    lsp.open(uri, 'namespace: nope\ndeployment: ghost\nsync: [{ local: ./src, remote: /app }]\n');
    assert.deepEqual(await lsp.diagnostics(uri), []);
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(lsp.published.every((p) => p.diagnostics.length === 0));
    assert.equal(lsp.clusterRequests.length, 1);
  });

  const complete = (line: number, character: number) =>
    lsp.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: { line, character } });

  it('completes every key with its documentation, at the root and inside sync items', async () => {
    lsp.open(uri, 'namespace: demo\n\nsync:\n  - local: ./src\n    \nlogs:\n  \n');
    const root = await complete(1, 0);
    assert.deepEqual(
      root.map((i) => i.label),
      keysAt([]),
    );
    const debounce = root.find((i) => i.label === 'debounce')!;
    assert.match((debounce.documentation as MarkupContent).value, /Quiet time.*\n\nDefault: `500`/s);
    assert.deepEqual(
      (await complete(4, 4)).map((i) => i.label),
      ['local', 'remote'],
    );
    assert.deepEqual(
      (await complete(6, 2)).map((i) => i.label),
      ['tail', 'buffer'],
    );
  });

  it('completes values: enum, cluster names, and local folders relative to truva.yaml', async () => {
    lsp.open(
      uri,
      'namespace: \ndeployment: \ncontainer: \ncontext: \nrestart: \nsync:\n  - local: \n    remote: /app\nmirror: \n',
    );
    assert.deepEqual(
      (await complete(0, 11)).map((i) => i.label),
      ['default', 'demo'],
    );
    const deployments = await complete(1, 12);
    assert.deepEqual(
      deployments.map((i) => [i.label, i.detail]),
      [
        ['web', '2 replica(s): app, sidecar'],
        ['api', '1 replica(s): api'],
      ],
    );
    assert.deepEqual(
      (await complete(2, 11)).map((i) => i.label),
      ['app', 'sidecar', 'api'],
    );
    assert.deepEqual(
      (await complete(3, 9)).map((i) => i.label),
      ['kind-dev', 'prod'],
    );
    assert.deepEqual(
      (await complete(4, 9)).map((i) => i.label),
      ['process', 'none', 'command'],
    );
    assert.deepEqual((await complete(6, 11)).map((i) => i.label).sort(), ['./src', './static']);
    assert.deepEqual(
      (await complete(8, 8)).map((i) => i.label),
      ['true', 'false'],
    );
  });

  it('completes, hovers and checks ports and debug: keys of a port mapping, pods and debug values', async () => {
    lsp.open(
      uri,
      'namespace: demo\ndeployment: web\nsync: [{ local: ./src, remote: /app }]\nports:\n  - remote: 8080\n    \n    pods: \ndebug: \n',
    );
    assert.deepEqual(
      (await complete(5, 4)).map((i) => i.label),
      ['remote', 'local', 'pods'],
    );
    assert.deepEqual(
      (await complete(6, 10)).map((i) => i.label),
      ['first', 'all'],
    );
    assert.deepEqual(
      (await complete(7, 7)).map((i) => i.label),
      ['true', 'false', 'all'],
    );
    lsp.open(
      uri,
      'namespace: demo\ndeployment: web\nsync: [{ local: ./src, remote: /app }]\nports: [{ remote: 8080, local: 18080 }, 18080]\n',
    );
    const hover = await lsp.request<Hover>('textDocument/hover', {
      textDocument: { uri },
      position: { line: 3, character: 12 },
    });
    assert.match(
      (hover.contents as MarkupContent).value,
      /^\*\*ports\.remote\*\*\n\nPort the app listens on inside the container\./,
    );
    const [clash] = await lsp.diagnostics(uri, (d) => d.some((x) => x.code === 'port-clash'));
    assert.equal(clash.code, 'port-clash');
    assert.equal(
      clash.message,
      'Local port 18080 is already forwarded by ports[0]: give ports[1] another `local` port.',
    );
  });

  it('hovers a key with its docs and default, and a deployment with its replicas and containers', async () => {
    lsp.open(uri, 'namespace: demo\ndeployment: web\nsync: [{ local: ./src, remote: /app }]\nconcurrency: 3\n');
    const onKey = await lsp.request<Hover>('textDocument/hover', {
      textDocument: { uri },
      position: { line: 3, character: 4 },
    });
    assert.match(
      (onKey.contents as MarkupContent).value,
      /^\*\*concurrency\*\*\n\nPods synced in parallel\.\n\nFrom 1 to 100\.\n\nDefault: `5`\.$/,
    );
    assert.deepEqual(onKey.range, { start: { line: 3, character: 0 }, end: { line: 3, character: 11 } });
    const onDeployment = await lsp.request<Hover>('textDocument/hover', {
      textDocument: { uri },
      position: { line: 1, character: 13 },
    });
    assert.equal(
      (onDeployment.contents as MarkupContent).value,
      '**web** in `demo`\n\nReplicas: 2 (2 ready)\n\nContainers: `app`, `sidecar`',
    );
    const inSync = await lsp.request<Hover>('textDocument/hover', {
      textDocument: { uri },
      position: { line: 2, character: 25 },
    });
    assert.match(
      (inSync.contents as MarkupContent).value,
      /^\*\*sync\.remote\*\*\n\nAbsolute path inside the container/,
    );
  });

  const actions = (ds: Diagnostic[]) =>
    lsp.request<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: ds[0].range,
      context: { diagnostics: ds },
    });

  it('quick-fixes a misspelt key with the suggested name', async () => {
    lsp.open(uri, 'namespace: demo\ndeployment: web\nsync: [{ local: ./src, remote: /app }]\nlogs:\n  bufer: 5000\n');
    const ds = await lsp.diagnostics(uri, (d) => d.length > 0);
    const [fix] = await actions(ds);
    assert.equal(fix.title, 'Replace with "buffer"');
    assert.deepEqual(fix.edit?.changes?.[uri], [
      { range: { start: { line: 4, character: 2 }, end: { line: 4, character: 7 } }, newText: 'buffer' },
    ]);
  });

  it('quick-fixes an empty file by inserting the required keys', async () => {
    lsp.open(uri, '');
    const ds = await lsp.diagnostics(uri, (d) => d.length > 0);
    assert.equal(ds[0].code, 'empty-file');
    const [fix] = await actions(ds);
    const edit = fix.edit!.changes![uri][0];
    assert.equal(edit.newText, 'namespace: default\ndeployment: my-app\nsync:\n  - local: .\n    remote: /app\n');
    const count = lsp.published.length;
    lsp.change(uri, edit.newText);
    assert.deepEqual(await lsp.diagnostics(uri, () => true, count), [], 'the inserted text is valid');
  });

  it('quick-fixes a missing local folder by creating it, and the diagnostic goes', async () => {
    lsp.open(uri, 'namespace: demo\ndeployment: web\nsync:\n  - local: ./app/code\n    remote: /app\n');
    const ds = await lsp.diagnostics(uri, (d) => d.length > 0);
    const [fix] = await actions(ds);
    assert.equal(fix.command?.command, CreateFolderCommand);
    assert.deepEqual(fix.command?.arguments, [join(dir, 'app', 'code')]);
    const count = lsp.published.length;
    await lsp.request('workspace/executeCommand', { command: fix.command!.command, arguments: fix.command!.arguments });
    assert.ok(existsSync(join(dir, 'app', 'code')));
    assert.deepEqual(await lsp.diagnostics(uri, () => true, count), []);
  });
});
