import assert from 'node:assert/strict';
import { RingBuffer } from '../../../src/core/logs/ringBuffer';

describe('logs: RingBuffer', () => {
  it('keeps items in order until full', () => {
    const b = new RingBuffer<number>(3);
    b.push(1);
    b.push(2);
    assert.deepEqual(b.toArray(), [1, 2]);
    assert.equal(b.dropped, 0);
  });

  it('drops the oldest when full and counts them', () => {
    const b = new RingBuffer<number>(3);
    for (let i = 1; i <= 10; i++) b.push(i);
    assert.deepEqual(b.toArray(), [8, 9, 10]);
    assert.equal(b.size, 3);
    assert.equal(b.dropped, 7);
    assert.equal(b.at(0), 8);
    assert.equal(b.at(3), undefined);
  });

  it('clear() empties it and resets the dropped count', () => {
    const b = new RingBuffer<number>(2);
    for (let i = 0; i < 5; i++) b.push(i);
    b.clear();
    assert.equal(b.size, 0);
    assert.equal(b.dropped, 0);
    b.push(9);
    assert.deepEqual(b.toArray(), [9]);
  });

  it('refuses a capacity that is not a positive integer, naming the setting', () => {
    assert.throws(() => new RingBuffer(0), /truva\.logs\.bufferSize/);
  });
});
