import { strict as assert } from 'node:assert';
import { loadConfig } from '../../../src/core/config';
import { fuzzDocument, prng } from './fuzzDocs';
import { tempProject } from './helpers';

describe('config: fuzz', () => {
  it('answers 2,000 generated and mutated documents with a typed result, never a throw', function () {
    this.timeout(120_000);
    const project = tempProject();
    const rand = prng(20261128);
    const codes = new Set<string>();
    let accepted = 0;
    try {
      for (let i = 0; i < 2000; i++) {
        const text = fuzzDocument(rand, i);
        let result: ReturnType<typeof loadConfig>;
        try {
          result = loadConfig(text, { filePath: project.file });
        } catch (err) {
          assert.fail(`document ${i} threw ${(err as Error).stack}\n${JSON.stringify(text.slice(0, 300))}`);
        }
        if (result.ok) {
          accepted++;
          assert.equal(typeof result.config.deployment, 'string');
          assert.ok(result.config.debounceMs >= 0);
        } else {
          assert.ok(result.errors.length > 0, `document ${i}: refused without an error`);
          for (const e of result.errors) {
            assert.equal(typeof e.message, 'string');
            assert.ok(
              e.message.length > 0 && e.message.length < 2000,
              `document ${i}: message length ${e.message.length}`,
            );
            assert.ok(
              Number.isInteger(e.line) && e.line >= 1 && Number.isInteger(e.column) && e.column >= 1,
              `document ${i}: ${JSON.stringify(e)}`,
            );
            assert.ok(e.range.start.line <= e.range.end.line);
            codes.add(e.code);
          }
        }
      }
    } finally {
      project.cleanup();
    }
    // The generator must reach the guards it exists for, or this test proves little.
    for (const code of ['yaml-syntax', 'too-deep', 'alias-limit', 'unknown-key', 'wrong-type', 'empty-file'])
      assert.ok(codes.has(code), `no document produced ${code}; saw ${[...codes].join(', ')}`);
    assert.ok(accepted > 0, 'some mutated documents should still be valid');
  });
});
