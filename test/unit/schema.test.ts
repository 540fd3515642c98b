import { strict as assert } from 'node:assert';
import Ajv from 'ajv';
import schema from '../../schema/truva.schema.json';

describe('truva.schema.json', () => {
  const validate = new Ajv({ strict: true, allErrors: true }).compile(schema);

  it('accepts the three-line file', () => {
    assert.ok(
      validate({ namespace: 'demo', deployment: 'web', sync: [{ local: '.', remote: '/app' }] }),
      JSON.stringify(validate.errors),
    );
  });

  it('rejects a debounce of "fast" and a negative concurrency', () => {
    assert.equal(validate({ deployment: 'web', sync: [{ local: '.', remote: '/app' }], debounce: 'fast' }), false);
    assert.equal(validate({ deployment: 'web', sync: [{ local: '.', remote: '/app' }], concurrency: -1 }), false);
  });

  it('documents every key', () => {
    for (const [key, value] of Object.entries(schema.properties)) {
      assert.ok((value as { description?: string }).description, `${key} has no description`);
    }
  });
});
