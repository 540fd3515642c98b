// SPDY/3 header blocks: a count, then length-prefixed lowercase names and values (several values
// of one name joined by NUL), compressed by one zlib stream per direction of the connection, primed
// with the SPDY/3 dictionary and sync-flushed after every block. One stream per direction means
// blocks must be compressed and decompressed in the order they travel: HeaderCodec queues them.
import zlib from 'node:zlib';
import { SPDY3_DICTIONARY } from './dictionary';
import { SpdyProtocolError } from './frames';

/** Header names (lowercase) to their values. */
export type SpdyHeaders = Record<string, string[]>;

/** Limits spdystream applies to a peer's header block. */
const MAX_HEADER_COUNT = 1000;
const MAX_FIELD_SIZE = 1 << 20;

export function encodeHeaderBlock(headers: Record<string, string | string[]>): Buffer {
  const parts: Buffer[] = [];
  const entries = Object.entries(headers);
  const count = Buffer.alloc(4);
  count.writeUInt32BE(entries.length);
  parts.push(count);
  for (const [name, value] of entries) {
    for (const field of [name.toLowerCase(), Array.isArray(value) ? value.join('\0') : value]) {
      const bytes = Buffer.from(field, 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      parts.push(length, bytes);
    }
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(block: Buffer): SpdyHeaders {
  let offset = 0;
  const take = (n: number, what: string): Buffer => {
    if (offset + n > block.length) throw new SpdyProtocolError(`a header block ends inside ${what}`);
    const part = block.subarray(offset, offset + n);
    offset += n;
    return part;
  };
  const length = (what: string): number => {
    const n = take(4, what).readUInt32BE(0);
    if (n > MAX_FIELD_SIZE) throw new SpdyProtocolError(`a header ${what} of ${n} bytes`);
    return n;
  };
  const count = take(4, 'the header count').readUInt32BE(0);
  if (count > MAX_HEADER_COUNT) throw new SpdyProtocolError(`a header block of ${count} headers`);
  const headers: SpdyHeaders = {};
  for (let i = 0; i < count; i++) {
    const name = take(length('name'), 'a header name').toString('utf8').toLowerCase();
    const value = take(length('value'), 'a header value').toString('utf8');
    (headers[name] ??= []).push(...value.split('\0'));
  }
  if (offset !== block.length) throw new SpdyProtocolError('a header block has bytes after its last header');
  return headers;
}

/** The first value of a header, or undefined. */
export function headerValue(headers: SpdyHeaders, name: string): string | undefined {
  return headers[name.toLowerCase()]?.[0];
}

/** One zlib stream whose inputs are processed strictly in order, each sync-flushed. */
class OrderedZlib {
  private queue: Promise<unknown> = Promise.resolve();
  private failure: Error | undefined;

  constructor(private readonly stream: zlib.Deflate | zlib.Inflate) {
    stream.on('error', (err) => (this.failure = err));
  }

  /** The output for `input`, once everything queued before it has been processed. */
  run(input: Buffer): Promise<Buffer> {
    const result = this.queue.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          if (this.failure) return reject(this.failure);
          const chunks: Buffer[] = [];
          const onData = (chunk: Buffer) => chunks.push(chunk);
          const onError = (err: Error) => {
            this.stream.off('data', onData);
            reject(err);
          };
          this.stream.on('data', onData);
          this.stream.once('error', onError);
          this.stream.write(input);
          // A flush is a write in sequence: its callback runs after this input's output was emitted.
          this.stream.flush(zlib.constants.Z_SYNC_FLUSH, () => {
            this.stream.off('data', onData);
            this.stream.off('error', onError);
            if (this.failure) reject(this.failure);
            else resolve(Buffer.concat(chunks));
          });
        }),
    );
    this.queue = result.catch(() => {});
    return result;
  }

  close(): void {
    this.stream.destroy();
  }
}

/** The header (de)compression state of one SPDY connection. */
export class HeaderCodec {
  // Best compression, as Go's spdy framer uses: header blocks are small and rare.
  private readonly deflate = new OrderedZlib(
    zlib.createDeflate({ dictionary: SPDY3_DICTIONARY, level: zlib.constants.Z_BEST_COMPRESSION }),
  );
  private readonly inflate = new OrderedZlib(zlib.createInflate({ dictionary: SPDY3_DICTIONARY }));

  /** Compresses a header block for the next frame this end sends. */
  compress(headers: Record<string, string | string[]>): Promise<Buffer> {
    return this.deflate.run(encodeHeaderBlock(headers));
  }

  /** Decompresses the next header block the peer sent. */
  async decompress(block: Buffer): Promise<SpdyHeaders> {
    let raw: Buffer;
    try {
      raw = await this.inflate.run(block);
    } catch (err) {
      throw new SpdyProtocolError(`a header block does not decompress: ${(err as Error).message}`);
    }
    return decodeHeaderBlock(raw);
  }

  close(): void {
    this.deflate.close();
    this.inflate.close();
  }
}
