// lsp.diagnostics_1000_lines_ms: change -> publishDiagnostics for a 1,000-line truva.yaml
// through the LSP protocol (in-process streams), median of 15 runs.
// lsp.idle_mb: RSS of the bundled server (dist/server.js) as a real child process over stdio,
// after it answered one document and sat idle for 2 s; lsp.bare_node_mb is a bare Node process
// measured in the same run, the floor under any Node server.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { LspHarness } from '../test/lsp/harness';
import type { Benchmark } from './types';

function thousandLines(dir: string): string {
  const lines = ['namespace: demo', 'deployment: web', 'container: app', 'sync:'];
  for (let i = 0; i < 100; i++) {
    mkdirSync(join(dir, `svc${i}`), { recursive: true });
    lines.push(`  - local: ./svc${i}`, `    remote: /app/svc${i}`);
  }
  lines.push('exclude:');
  while (lines.length < 990) lines.push(`  - "generated/part-${lines.length}/**/*.tmp"`);
  lines.push(
    'run: [node, server.js]',
    'restart: process',
    'debounce: 300ms',
    'batchSize: 500',
    'concurrency: 4',
    'logs:',
    '  tail: 100',
    '  buffer: 20000',
    'devMode:',
    '  keepProbes: false',
  );
  return `${lines.join('\n')}\n`;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function diagnosticsMs(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'truva-lsp-bench-'));
  const uri = pathToFileURL(join(dir, 'truva.yaml')).href;
  const text = thousandLines(dir);
  if (text.split('\n').length < 1000) throw new Error('the benchmark file is shorter than 1,000 lines');
  const lsp = await LspHarness.start(() => null);
  try {
    lsp.open(uri, text);
    await lsp.diagnostics(uri);
    const times: number[] = [];
    for (let i = 0; i < 15; i++) {
      const count = lsp.published.length;
      const started = performance.now();
      lsp.change(uri, `${text}# edit ${i}\n`);
      const ds = await lsp.diagnostics(uri, () => true, count);
      times.push(performance.now() - started);
      if (ds.length > 0) throw new Error(`the benchmark file should be valid: ${ds[0].message}`);
    }
    return median(times);
  } finally {
    await lsp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  return kb / 1024;
}

/** RSS of a bare Node process on this machine, the floor under any Node language server. */
async function bareNodeMb(): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10000)'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 1500));
    return rssMb(child.pid!);
  } finally {
    child.kill();
  }
}

async function idleMb(): Promise<number> {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'ignore' });
  const child = spawn(process.execPath, ['dist/server.js', '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const client = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  try {
    let published!: () => void;
    const firstPublish = new Promise<void>((resolve) => (published = resolve));
    client.onNotification('textDocument/publishDiagnostics', () => published());
    client.listen();
    await client.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} });
    await client.sendNotification('initialized', {});
    await client.sendNotification('textDocument/didOpen', {
      textDocument: {
        uri: 'file:///tmp/truva-idle/truva.yaml',
        languageId: 'yaml',
        version: 1,
        text: 'namespace: demo\ndeployment: web\nsync: [{ local: ., remote: /app }]\n',
      },
    });
    await firstPublish;
    await new Promise((r) => setTimeout(r, 2000));
    return rssMb(child.pid!);
  } finally {
    client.dispose();
    child.kill();
  }
}

const bench: Benchmark = {
  title: 'truva.yaml language server',
  keys: ['lsp.'],
  async run(ctx) {
    const out: Record<string, number> = {};
    if (!ctx.only || 'lsp.diagnostics_1000_lines_ms'.startsWith(ctx.only))
      out['lsp.diagnostics_1000_lines_ms'] = await diagnosticsMs();
    if (!ctx.only || 'lsp.idle_mb'.startsWith(ctx.only)) {
      out['lsp.idle_mb'] = await idleMb();
      out['lsp.bare_node_mb'] = await bareNodeMb();
    }
    return out;
  },
};
export default bench;
