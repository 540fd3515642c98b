import assert from 'node:assert/strict';
import { MonotonicStamp } from '../../../sandbox/runtime/clock';
import { InstanceLog } from '../../../sandbox/runtime/logStore';
import { readAll } from './harness';

describe('sandbox runtime: instance log store', () => {
  it('joins lines split across writes, keeps stdout and stderr apart, and cuts overlong lines at 16 KiB', async () => {
    const log = new InstanceLog(new MonotonicStamp(), 1024 * 1024);
    log.write('stdout', Buffer.from('hel'));
    log.write('stderr', Buffer.from('oops\n'));
    log.write('stdout', Buffer.from('lo\nwor'));
    log.write('stdout', Buffer.from('x'.repeat(20_000)));
    log.end();
    const lines = (await readAll(log.read({}))).split('\n');
    assert.deepEqual(lines.slice(0, 2), ['oops', 'hello']);
    assert.equal(lines[2].length, 16 * 1024);
    assert.equal(lines[3], 'x'.repeat(20_003 - 16 * 1024), 'the rest, flushed at the end without a newline');
    assert.equal(lines.length, 4);
  });

  it('drops the oldest lines past its size bound and ends followers when the instance ends', async () => {
    const log = new InstanceLog(new MonotonicStamp(), 10_000);
    for (let i = 0; i < 1000; i++) log.write('stdout', Buffer.from(`line ${i}\n`));
    const kept = (await readAll(log.read({}))).trim().split('\n');
    assert.ok(kept.length < 300, `bounded: ${kept.length} lines kept`);
    assert.equal(kept.at(-1), 'line 999');
    const follower = log.read({ follow: true, tailLines: 1 });
    const text = readAll(follower);
    log.write('stdout', Buffer.from('after\n'));
    log.end();
    assert.equal(await text, 'line 999\nafter\n');
  });
});
