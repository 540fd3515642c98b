import assert from 'node:assert/strict';
import { LineSplitter } from '../../../src/core/logs/lineSplitter';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('logs: LineSplitter', () => {
  it('joins a line split across chunks and splits several lines in one chunk', () => {
    const s = new LineSplitter();
    assert.deepEqual(s.push(bytes('hel')), []);
    assert.deepEqual(s.push(bytes('lo\nwor')), ['hello']);
    assert.deepEqual(s.push(bytes('ld\nsecond\nthi')), ['world', 'second']);
    assert.equal(s.pending, 'thi');
    assert.deepEqual(s.end(), ['thi']);
  });

  it('keeps a multi-byte character split at every possible byte boundary', () => {
    const text = 'añ€😀 done\n';
    const all = bytes(text);
    for (let cut = 1; cut < all.length; cut++) {
      const s = new LineSplitter();
      const lines = [...s.push(all.slice(0, cut)), ...s.push(all.slice(cut)), ...s.end()];
      assert.deepEqual(lines, ['añ€😀 done'], `cut at byte ${cut}`);
    }
  });

  it('survives a 4-byte character fed one byte at a time', () => {
    const s = new LineSplitter();
    const lines: string[] = [];
    for (const b of bytes('x😀y\n')) lines.push(...s.push(Uint8Array.of(b)));
    assert.deepEqual(lines, ['x😀y']);
  });

  it('replaces invalid UTF-8 and keeps going', () => {
    const s = new LineSplitter();
    const lines = s.push(Uint8Array.from([0x6f, 0x6b, 0xff, 0xfe, 0x0a, 0xc3, 0x0a, 0x61, 0x0a]));
    assert.deepEqual(lines, ['ok\uFFFD\uFFFD', '\uFFFD', 'a']);
    assert.deepEqual(s.push(bytes('next\n')), ['next']);
  });

  it('strips CRLF and keeps empty lines', () => {
    const s = new LineSplitter();
    assert.deepEqual(s.push(bytes('a\r\n\r\nb\n\n')), ['a', '', 'b', '']);
  });

  it('keeps very long lines whole', () => {
    const s = new LineSplitter();
    const long = 'x'.repeat(1_000_000);
    const out: string[] = [];
    for (let i = 0; i < long.length; i += 65536) out.push(...s.push(bytes(long.slice(i, i + 65536))));
    out.push(...s.push(bytes('\n')));
    assert.equal(out.length, 1);
    assert.equal(out[0].length, 1_000_000);
  });

  it('discard() forgets a partial line so a replay does not double it', () => {
    const s = new LineSplitter();
    s.push(bytes('half a li'));
    s.discard();
    assert.deepEqual(s.push(bytes('whole\n')), ['whole']);
  });
});
