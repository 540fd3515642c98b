import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Diagnostic } from 'vscode-languageserver';
import { fuzzDocument, prng } from '../unit/config/fuzzDocs';
import { LspHarness } from './harness';

// The server runs in this process, so its memory is this heap. What it keeps is measured after a
// collection: heapUsed alone also counts garbage not yet collected, which on a busy machine (the
// collector running late) once read 208 MB for a heap that holds far less.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
const retainedHeap = () => {
  collectGarbage();
  return process.memoryUsage().heapUsed;
};

describe('lsp: fuzz', () => {
  it('answers every request for 2,000 generated and mutated documents, stays up and under 200 MB', async function () {
    this.timeout(300_000);
    const dir = mkdtempSync(join(tmpdir(), 'truva-lsp-fuzz-'));
    const uri = pathToFileURL(join(dir, 'truva.yaml')).href;
    const lsp = await LspHarness.start(() => ({
      contexts: ['kind-dev'],
      context: 'kind-dev',
      namespaces: ['demo'],
      namespace: 'demo',
      deployments: [{ name: 'web', replicas: 1, containers: ['app'] }],
    }));
    const rand = prng(7);
    let peakHeap = 0;
    let answered = 0;
    try {
      lsp.open(uri, '');
      for (let i = 0; i < 2000; i++) {
        const text = fuzzDocument(rand, i);
        lsp.change(uri, text);
        const lines = text.split('\n');
        const line = Math.floor(rand() * (lines.length + 1));
        const character = Math.floor(rand() * ((lines[line]?.length ?? 0) + 2));
        const position = { line, character };
        const range = { start: position, end: position };
        const last = lsp.published.filter((p) => p.uri === uri).at(-1)?.diagnostics ?? [];
        const results = await Promise.all([
          lsp.request('textDocument/completion', { textDocument: { uri }, position }),
          lsp.request('textDocument/hover', { textDocument: { uri }, position }),
          lsp.request('textDocument/codeAction', {
            textDocument: { uri },
            range,
            context: { diagnostics: last as Diagnostic[] },
          }),
        ]);
        assert.ok(
          Array.isArray(results[0]) && Array.isArray(results[2]),
          `document ${i}: ${JSON.stringify(text.slice(0, 200))}`,
        );
        answered += 3;
        if (i % 100 === 0) peakHeap = Math.max(peakHeap, retainedHeap());
      }
      // Still alive and still right after all that.
      const count = lsp.published.length;
      lsp.change(uri, 'namespace: demo\ndeployment: web\nsync: [{ local: ., remote: /app }]\nconcurrency: 0\n');
      const final = await lsp.diagnostics(uri, (d) => d.length > 0, count);
      assert.deepEqual(
        final.map((d) => d.code),
        ['out-of-range'],
      );
    } finally {
      await lsp.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(answered, 6000);
    assert.ok(peakHeap < 200 * 1024 * 1024, `heap peaked at ${(peakHeap / 1048576).toFixed(0)} MB`);
  });
});
