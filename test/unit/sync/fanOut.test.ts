// fanOut: one batch read once and written to several pods' sinks (pure logic, fake sinks).
import { strict as assert } from 'node:assert';
import { Chunk } from '../../../src/core/sync/chunks';
import { fanOut } from '../../../src/core/sync/fanOut';
import type { BatchSink } from '../../../src/core/sync/podShell';

class FakeSink implements BatchSink {
  readonly got: string[] = [];
  ended = false;
  aborted = false;
  constructor(private readonly failOn?: { write?: string; end?: boolean }) {}
  async write(chunk: Chunk) {
    const text = chunk.bytes.toString();
    await new Promise((r) => setImmediate(r));
    if (text === this.failOn?.write) throw new Error(`write of ${text} failed`);
    this.got.push(text);
  }
  async end() {
    if (this.failOn?.end) throw new Error('the pod refused the batch');
    this.ended = true;
  }
  abort() {
    this.aborted = true;
  }
}

async function* chunks(...parts: string[]): AsyncGenerator<Chunk> {
  for (const part of parts) yield Chunk.of(Buffer.from(part));
}

describe('fanOut', () => {
  it('reads the source once and gives every pod every chunk, in order, then ends each batch', async () => {
    const sinks = { a: new FakeSink(), b: new FakeSink(), c: new FakeSink() };
    let reads = 0;
    async function* counted() {
      for await (const chunk of chunks('1', '2', '3')) {
        reads++;
        yield chunk;
      }
    }
    const failed = await fanOut(
      new Map(Object.entries(sinks).map(([pod, sink]) => [pod, Promise.resolve(sink)])),
      counted(),
    );
    assert.equal(failed.size, 0);
    assert.equal(reads, 3);
    for (const sink of Object.values(sinks)) {
      assert.deepEqual(sink.got, ['1', '2', '3']);
      assert.ok(sink.ended);
    }
  });

  it('drops a pod that fails (to open, to take a chunk, or at the end) and finishes the others', async () => {
    const ok = new FakeSink();
    const badWrite = new FakeSink({ write: '2' });
    const badEnd = new FakeSink({ end: true });
    const failed = await fanOut(
      new Map<string, Promise<BatchSink>>([
        ['ok', Promise.resolve(ok)],
        ['bad-open', Promise.reject(new Error('exec refused'))],
        ['bad-write', Promise.resolve(badWrite)],
        ['bad-end', Promise.resolve(badEnd)],
      ]),
      chunks('1', '2', '3'),
    );
    assert.deepEqual([...failed.keys()].sort(), ['bad-end', 'bad-open', 'bad-write']);
    assert.match(String(failed.get('bad-open')), /exec refused/);
    assert.match(String(failed.get('bad-write')), /write of 2 failed/);
    assert.match(String(failed.get('bad-end')), /refused the batch/);
    assert.deepEqual(ok.got, ['1', '2', '3']);
    assert.ok(ok.ended);
    assert.deepEqual(badWrite.got, ['1'], 'no chunk after the failed one');
    assert.ok(!badWrite.ended);
  });

  it("a source that fails midway aborts every pod's batch instead of ending it half-sent", async () => {
    const a = new FakeSink();
    const b = new FakeSink();
    async function* broken() {
      yield Chunk.of(Buffer.from('1'));
      throw new Error('a local file could not be read');
    }
    const failed = await fanOut(
      new Map([
        ['a', Promise.resolve(a)],
        ['b', Promise.resolve(b)],
      ]),
      broken(),
    );
    assert.deepEqual([...failed.keys()].sort(), ['a', 'b']);
    assert.match(String(failed.get('a')), /could not be read/);
    for (const sink of [a, b]) {
      assert.ok(sink.aborted);
      assert.ok(!sink.ended);
    }
  });

  it('stops reading the source once no pod takes it', async () => {
    let reads = 0;
    async function* endless() {
      for (;;) {
        reads++;
        yield Chunk.of(Buffer.from('x'));
      }
    }
    const failed = await fanOut(new Map([['only', Promise.resolve(new FakeSink({ write: 'x' }))]]), endless());
    assert.deepEqual([...failed.keys()], ['only']);
    assert.ok(reads <= 2, `read ${reads} chunks for nobody`);
  });
});
