// The sandbox's SPDY/3.1 framer, header codec and server connection. The header blocks below were
// captured from the real kubectl 1.29 (Go's spdy framer and zlib) opening two port-forward
// connections, so decoding them checks the dictionary and the compression against the real peer.
import { strict as assert } from 'node:assert';
import {
  FrameReader,
  RstStatus,
  SpdyProtocolError,
  dataFrames,
  goAwayFrame,
  pingFrame,
  rstStreamFrame,
  settingsFrame,
  synReplyFrame,
  synStreamFrame,
  windowUpdateFrame,
  type SpdyFrame,
} from '../../../sandbox/streaming/spdy/frames';
import { HeaderCodec, decodeHeaderBlock, encodeHeaderBlock } from '../../../sandbox/streaming/spdy/headerBlock';
import { SpdyServerConnection, type FrameTransport, type SpdyStream } from '../../../sandbox/streaming/spdy/connection';
import { until } from '../../helpers/poll';

const KUBECTL_HEADER_BLOCKS = [
  '78f9e3c6a7c202253a703a2b294a4dcc851625aca9a0808614cb45e01c60616061c0c0c0c0590489c64c50f2663400000000ffff',
  '826ac61445350e543225a29b06000000ffff',
  'a2c4624300000000ffff',
  'c2aa199735687a01000000ffff',
];

/** A client end for the tests: builds frames with its own header compressor. */
class TestClient {
  readonly codec = new HeaderCodec();
  readonly reader = new FrameReader();
  readonly received: SpdyFrame[] = [];
  async synStream(id: number, headers: Record<string, string>, fin = false): Promise<Buffer> {
    return synStreamFrame(id, await this.codec.compress(headers), { fin });
  }
}

function fakeTransport() {
  const sent: Buffer[] = [];
  let paused = 0;
  let closed = false;
  const transport: FrameTransport = {
    send: (data) => (sent.push(data), true),
    whenDrained: (cb) => cb(),
    pause: () => void paused++,
    resume: () => void paused--,
    close: () => void (closed = true),
  };
  return { transport, sent, paused: () => paused, closed: () => closed };
}

/** Waits for the connection's queued frame handling (a condition, never a fixed delay). */
const soon = <T>(what: string, fn: () => T) => until(what, fn, 10_000, 5);

describe('sandbox SPDY/3.1', () => {
  describe('frames', () => {
    it('reads every frame type back as written, whatever the chunk boundaries', () => {
      const bytes = Buffer.concat([
        synStreamFrame(1, Buffer.from('block'), { fin: true, priority: 3 }),
        synReplyFrame(1, Buffer.from('reply')),
        ...dataFrames(1, Buffer.from('hello'), true),
        rstStreamFrame(3, RstStatus.Cancel),
        settingsFrame([{ id: 7, value: 65536, flags: 1 }]),
        pingFrame(5),
        goAwayFrame(9, 0),
        windowUpdateFrame(1, 1000),
      ]);
      const reader = new FrameReader();
      const frames: SpdyFrame[] = [];
      for (const byte of bytes) frames.push(...reader.push(Buffer.from([byte])));
      assert.equal(reader.buffered, 0);
      assert.deepEqual(
        frames.map((f) => f.type),
        ['synStream', 'synReply', 'data', 'rstStream', 'settings', 'ping', 'goAway', 'windowUpdate'],
      );
      const [syn, reply, data, rst, settings, ping, goAway, window] = frames as any[];
      assert.deepEqual([syn.streamId, syn.fin, syn.priority, syn.headerBlock.toString()], [1, true, 3, 'block']);
      assert.deepEqual([reply.streamId, reply.headerBlock.toString()], [1, 'reply']);
      assert.deepEqual([data.streamId, data.fin, data.data.toString()], [1, true, 'hello']);
      assert.deepEqual([rst.streamId, rst.status], [3, RstStatus.Cancel]);
      assert.deepEqual(settings.entries, [{ flags: 1, id: 7, value: 65536 }]);
      assert.equal(ping.id, 5);
      assert.deepEqual([goAway.lastGoodStreamId, goAway.status], [9, 0]);
      assert.deepEqual([window.streamId, window.delta], [1, 1000]);
    });

    it('splits large data into frames that fit, FIN only on the last', () => {
      const frames = new FrameReader().push(Buffer.concat(dataFrames(3, Buffer.alloc(100_000, 7), true, 32 * 1024)));
      assert.deepEqual(
        frames.map((f) => (f.type === 'data' ? [f.data.length, f.fin] : f.type)),
        [
          [32768, false],
          [32768, false],
          [32768, false],
          [1696, true],
        ],
      );
    });

    it('refuses frames that break the protocol', () => {
      assert.throws(() => new FrameReader().push(Buffer.alloc(8)), /DATA frame on stream 0/);
      const v2 = synStreamFrame(1, Buffer.alloc(0));
      v2.writeUInt16BE(0x8002, 0);
      assert.throws(() => new FrameReader().push(v2), /version 2 is not supported/);
      const badPing = pingFrame(1);
      badPing.writeUInt32BE(3, 4); // length 3
      assert.throws(() => new FrameReader().push(badPing.subarray(0, 11)), /PING frame of 3 bytes/);
    });
  });

  describe('header blocks', () => {
    it('decodes the header blocks the real kubectl sends, in order, with the SPDY/3 dictionary', async () => {
      const codec = new HeaderCodec();
      const decoded = [];
      for (const hex of KUBECTL_HEADER_BLOCKS) decoded.push(await codec.decompress(Buffer.from(hex, 'hex')));
      codec.close();
      assert.deepEqual(decoded, [
        { streamtype: ['error'], port: ['8080'], requestid: ['0'] },
        { streamtype: ['data'], port: ['8080'], requestid: ['0'] },
        { streamtype: ['error'], port: ['8080'], requestid: ['1'] },
        { streamtype: ['data'], port: ['8080'], requestid: ['1'] },
      ]);
    });

    it('compresses blocks one peer decompresses in order, multi-valued headers included', async () => {
      const a = new HeaderCodec();
      const b = new HeaderCodec();
      const sent = Array.from({ length: 50 }, (_, i) => ({ port: String(i), streamtype: i % 2 ? 'data' : 'error' }));
      const blocks = await Promise.all(sent.map((h) => a.compress(h)));
      const back = [];
      for (const block of blocks) back.push(await b.decompress(block));
      assert.deepEqual(
        back,
        sent.map((h) => ({ port: [h.port], streamtype: [h.streamtype] })),
      );
      assert.deepEqual(decodeHeaderBlock(encodeHeaderBlock({ Accept: ['a', 'b'] })), { accept: ['a', 'b'] });
      a.close();
      b.close();
    });

    it('refuses a truncated block', () => {
      assert.throws(() => decodeHeaderBlock(encodeHeaderBlock({ port: '80' }).subarray(0, 10)), SpdyProtocolError);
    });
  });

  describe('server connection', () => {
    function open(accept: (h: Record<string, string[]>) => string | undefined = () => undefined) {
      const t = fakeTransport();
      const streams: SpdyStream[] = [];
      const client = new TestClient();
      const conn = new SpdyServerConnection(t.transport, { accept, onStream: (s) => streams.push(s) });
      const frames = () => {
        const out = client.reader.push(Buffer.concat(t.sent.splice(0)));
        client.received.push(...out);
        return client.received;
      };
      return { t, conn, client, streams, frames };
    }

    it('replies to a new stream, carries data both ways past 64 KiB without WINDOW_UPDATE, echoes pings', async () => {
      const { conn, client, streams, frames } = open();
      conn.receive(await client.synStream(1, { streamtype: 'data', port: '80', requestid: '0' }));
      await soon('the stream', () => streams.length === 1);
      assert.deepEqual(streams[0].headers, { streamtype: ['data'], port: ['80'], requestid: ['0'] });
      const got: Buffer[] = [];
      streams[0].on('data', (d: Buffer) => got.push(d));
      const upload = Buffer.alloc(200_000, 1);
      for (const frame of dataFrames(1, upload, true)) conn.receive(frame);
      conn.receive(pingFrame(7));
      await soon('the upload', () => streams[0].remoteEnded);
      assert.equal(Buffer.concat(got).length, upload.length);
      assert.ok(streams[0].remoteEnded);
      streams[0].write(Buffer.alloc(300_000, 2));
      streams[0].end();
      const out = await soon('the FIN', () => {
        const all = frames();
        return all.some((f) => f.type === 'data' && f.fin) && all.some((f) => f.type === 'ping') ? all : undefined;
      });
      assert.equal(out[0].type, 'synReply');
      const reply = out[0] as Extract<SpdyFrame, { type: 'synReply' }>;
      assert.deepEqual(await client.codec.decompress(reply.headerBlock), {});
      assert.ok(out.some((f) => f.type === 'ping' && f.id === 7));
      const data = out.filter((f): f is Extract<SpdyFrame, { type: 'data' }> => f.type === 'data');
      assert.equal(Buffer.concat(data.map((f) => f.data)).length, 300_000);
      assert.ok(data[data.length - 1].fin);
      assert.ok(!out.some((f) => f.type === 'windowUpdate'));
    });

    it('refuses a stream the handler rejects with RST_STREAM CANCEL, and an old stream id with PROTOCOL_ERROR', async () => {
      const { conn, client, streams, frames } = open((h) => (h.port ? undefined : '"port" header is required'));
      conn.receive(await client.synStream(1, { streamtype: 'data' }));
      conn.receive(await client.synStream(3, { streamtype: 'data', port: '80' }));
      conn.receive(await client.synStream(3, { streamtype: 'data', port: '80' }));
      const resets = await soon('two resets', () => {
        const r = frames().filter((f) => f.type === 'rstStream');
        return r.length === 2 ? r : undefined;
      });
      assert.deepEqual(
        streams.map((s) => s.id),
        [3],
      );
      assert.deepEqual(
        resets.map((f) => [(f as any).streamId, (f as any).status]),
        [
          [1, RstStatus.Cancel],
          [3, RstStatus.ProtocolError],
        ],
      );
    });

    it('a reset from the client resets the stream; GOAWAY ends every stream and then the connection', async () => {
      const { t, conn, client, streams } = open();
      conn.receive(await client.synStream(1, { port: '1' }));
      conn.receive(await client.synStream(3, { port: '2' }));
      await soon('both streams', () => streams.length === 2);
      const events: string[] = [];
      streams[0].on('reset', () => events.push('reset 1'));
      streams[1].on('end', () => events.push('end 3'));
      conn.receive(rstStreamFrame(1, RstStatus.Cancel));
      conn.receive(goAwayFrame(3));
      await soon('both events', () => events.length === 2);
      assert.deepEqual(events, ['reset 1', 'end 3']);
      assert.equal(t.closed(), false, 'stream 3 is still being answered');
      streams[1].end();
      await soon('the connection to close', () => t.closed());
    });

    it('holds reading from the peer while any stream holds it', () => {
      const { t, conn } = open();
      const a = conn.holdReceiving();
      const b = conn.holdReceiving();
      assert.equal(t.paused(), 1);
      a();
      a();
      assert.equal(t.paused(), 1);
      b();
      assert.equal(t.paused(), 0);
    });
  });
});
