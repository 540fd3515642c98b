import { strict as assert } from 'node:assert';
import { outputThreshold, writes } from '../../../src/vscode/logLevel';

describe('output channel level', () => {
  it('writes a message at or above the threshold only', () => {
    assert.equal(writes('error', 'warn'), true);
    assert.equal(writes('warn', 'warn'), true);
    assert.equal(writes('info', 'warn'), false);
    assert.equal(writes('debug', 'info'), false);
    assert.equal(writes('trace', 'debug'), false);
    assert.equal(writes('debug', 'debug'), true);
  });

  it('takes the most verbose of the setting and running sessions', () => {
    assert.equal(outputThreshold('warn', []), 'warn');
    assert.equal(outputThreshold('warn', ['error', 'debug']), 'debug');
    assert.equal(outputThreshold('debug', ['error']), 'debug');
    assert.equal(outputThreshold('info', ['warn', 'info']), 'info');
  });
});
