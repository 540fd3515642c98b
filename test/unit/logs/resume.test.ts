import assert from 'node:assert/strict';
import { ResumeTracker } from '../../../src/core/logs/resume';
import { parseInstant, sinceTimeFor, splitTimestamp } from '../../../src/core/logs/timestamp';

describe('logs: timestamps', () => {
  it('splits the RFC 3339 prefix the API adds, with trimmed or full nanoseconds', () => {
    assert.deepEqual(splitTimestamp('2026-11-28T17:54:03.123456789Z hello world'), {
      timestamp: '2026-11-28T17:54:03.123456789Z',
      text: 'hello world',
    });
    assert.deepEqual(splitTimestamp('2026-11-28T17:54:03.5Z x'), { timestamp: '2026-11-28T17:54:03.5Z', text: 'x' });
    assert.deepEqual(splitTimestamp('2026-11-28T17:54:03Z '), { timestamp: '2026-11-28T17:54:03Z', text: '' });
    assert.deepEqual(splitTimestamp('no timestamp here'), { timestamp: '', text: 'no timestamp here' });
  });

  it('orders trimmed fractions numerically, and rounds sinceTime down to the second', () => {
    const a = parseInstant('2026-11-28T17:54:03.5Z')!;
    const b = parseInstant('2026-11-28T17:54:03.123456789Z')!;
    assert.ok(a.nanos > b.nanos);
    assert.equal(sinceTimeFor(a), '2026-11-28T17:54:03Z');
  });
});

describe('logs: resume de-duplication', () => {
  const t = (s: string) => `2026-11-28T17:54:0${s}Z`;

  it('drops the replayed second and older lines after a reconnect, keeps the new ones', () => {
    const r = new ResumeTracker();
    r.streamOpened();
    const first = [
      [t('1.1'), 'a'],
      [t('2.1'), 'b'],
      [t('2.2'), 'c'],
    ].map(([ts, x]) => r.accept(ts, x));
    assert.deepEqual(first, [true, true, true]);
    assert.equal(r.sinceTime, '2026-11-28T17:54:02Z');
    r.streamOpened(); // the server replays everything from 17:54:02
    const replay = [
      [t('2.1'), 'b'],
      [t('2.2'), 'c'],
      [t('2.7'), 'd'],
      [t('3.0'), 'e'],
    ].map(([ts, x]) => r.accept(ts, x));
    assert.deepEqual(replay, [false, false, true, true]);
  });

  it('keeps genuinely repeated identical lines (same timestamp, same text) exactly as often as sent', () => {
    const r = new ResumeTracker();
    r.streamOpened();
    assert.equal(r.accept(t('5.5'), 'same'), true);
    assert.equal(r.accept(t('5.5'), 'same'), true);
    r.streamOpened();
    assert.equal(r.accept(t('5.5'), 'same'), false);
    assert.equal(r.accept(t('5.5'), 'same'), false);
    assert.equal(r.accept(t('5.5'), 'same'), true, 'a third copy was never delivered');
  });

  it('survives several drops within the same second', () => {
    const r = new ResumeTracker();
    const delivered: string[] = [];
    const source = ['a', 'b', 'c', 'd', 'e'].map((x, i) => [t(`7.${i + 1}`), x]);
    for (let cut = 1; cut <= source.length; cut++) {
      r.streamOpened();
      for (const [ts, x] of source.slice(0, cut)) if (r.accept(ts, x)) delivered.push(x);
    }
    assert.deepEqual(delivered, ['a', 'b', 'c', 'd', 'e']);
  });

  it('passes lines without a timestamp through', () => {
    const r = new ResumeTracker();
    assert.equal(r.accept('', 'x'), true);
    assert.equal(r.accept('', 'x'), true);
    assert.equal(r.sinceTime, undefined);
  });
});
