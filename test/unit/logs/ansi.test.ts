import assert from 'node:assert/strict';
import { parseAnsi, stripAnsi } from '../../../src/core/logs/ansi';

describe('logs: ANSI escapes', () => {
  it('turns SGR colours into styled segments', () => {
    assert.deepEqual(parseAnsi('\x1b[1;31mred\x1b[0m plain \x1b[38;5;196mx\x1b[38;2;1;2;3my\x1b[39mz'), [
      { text: 'red', style: { bold: true, fg: 1 } },
      { text: ' plain ', style: {} },
      { text: 'x', style: { fg: 'rgb(255, 0, 0)' } },
      { text: 'y', style: { fg: 'rgb(1, 2, 3)' } },
      { text: 'z', style: {} },
    ]);
  });

  it('removes cursor movement, OSC 8 hyperlinks (keeping their text) and other controls', () => {
    const line = 'a\x1b[2K\x1b[1Gb \x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\ c\x07\x1b]0;title\x07d\re';
    assert.equal(stripAnsi(line), 'ab link cde');
    assert.equal(
      parseAnsi(line)
        .map((s) => s.text)
        .join(''),
      'ab link cde',
    );
  });

  it('leaves text without escapes alone, tabs included', () => {
    assert.equal(stripAnsi('a\tb <img src=x>'), 'a\tb <img src=x>');
    assert.deepEqual(parseAnsi('plain'), [{ text: 'plain', style: {} }]);
  });
});
