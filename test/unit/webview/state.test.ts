// What the log panel's webview reads back from vscode.getState is as untrusted as a message:
// only known fields and values survive.
import assert from 'node:assert/strict';
import { sanitizePanelState } from '../../../webview/logs/state';

describe('log panel saved state', () => {
  const target = { namespace: 'demo', deployment: 'web' };

  it('keeps a well-formed state unchanged', () => {
    const state = {
      target,
      filter: {
        text: 'x',
        regex: true,
        caseSensitive: false,
        hiddenLevels: ['debug'],
        hiddenPods: [],
        hiddenContainers: [],
      },
      view: { wrap: true, timestamps: false, ansi: 'strip' },
    };
    assert.deepEqual(sanitizePanelState(state), state);
  });

  it('drops a state without a usable target, and replaces malformed filter and view values', () => {
    for (const bad of [undefined, null, 'x', {}, { target: { namespace: 'demo' } }, { target: { deployment: 'web' } }])
      assert.equal(sanitizePanelState(bad), undefined, JSON.stringify(bad));
    assert.deepEqual(
      sanitizePanelState({
        target,
        filter: { text: 7, hiddenLevels: ['fatal', 'error'], regex: 'yes' },
        view: { wrap: 1, ansi: 'html' },
        extra: 1,
      }),
      {
        target,
        filter: {
          text: '',
          regex: false,
          caseSensitive: false,
          hiddenLevels: ['error'],
          hiddenPods: [],
          hiddenContainers: [],
        },
        view: { wrap: false, timestamps: false, ansi: 'color' },
      },
    );
  });
});
