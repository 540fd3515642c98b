// SPDY/3.1 frames as kubectl's port-forward (moby/spdystream) writes and reads them: an 8-byte
// header, then the payload. Control frames: bit 31 set, 15-bit version, 16-bit type, 8-bit flags,
// 24-bit length. Data frames: bit 31 clear, 31-bit stream id, 8-bit flags, 24-bit length.
// Header blocks stay compressed here; headerBlock.ts (de)compresses them in connection order.

export const SPDY_VERSION = 3;

export const FrameType = {
  SynStream: 1,
  SynReply: 2,
  RstStream: 3,
  Settings: 4,
  Ping: 6,
  GoAway: 7,
  Headers: 8,
  WindowUpdate: 9,
} as const;

export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;

/** RST_STREAM status codes. */
export const RstStatus = {
  ProtocolError: 1,
  InvalidStream: 2,
  RefusedStream: 3,
  UnsupportedVersion: 4,
  Cancel: 5,
  InternalError: 6,
  FlowControlError: 7,
  StreamInUse: 8,
  StreamAlreadyClosed: 9,
  FrameTooLarge: 11,
} as const;

/** The largest payload a frame's 24-bit length can carry. */
export const MAX_FRAME_LENGTH = 0xffffff;

export type SpdyFrame =
  | { type: 'data'; streamId: number; fin: boolean; data: Buffer }
  | {
      type: 'synStream';
      streamId: number;
      associatedTo: number;
      priority: number;
      fin: boolean;
      unidirectional: boolean;
      headerBlock: Buffer;
    }
  | { type: 'synReply'; streamId: number; fin: boolean; headerBlock: Buffer }
  | { type: 'headers'; streamId: number; fin: boolean; headerBlock: Buffer }
  | { type: 'rstStream'; streamId: number; status: number }
  | { type: 'settings'; entries: { flags: number; id: number; value: number }[] }
  | { type: 'ping'; id: number }
  | { type: 'goAway'; lastGoodStreamId: number; status: number }
  | { type: 'windowUpdate'; streamId: number; delta: number }
  /** A control frame type SPDY/3.1 does not define; the spec says to ignore it. */
  | { type: 'unknown'; frameType: number };

/** A frame that breaks the protocol: the connection cannot go on. */
export class SpdyProtocolError extends Error {
  override name = 'SpdyProtocolError';
}

/** Splits a byte stream into frames; feed it chunks as they arrive, in order. */
export class FrameReader {
  private pending: Buffer[] = [];
  private pendingLength = 0;

  /** Frames completed by this chunk (possibly none); throws SpdyProtocolError on a malformed frame. */
  push(chunk: Buffer): SpdyFrame[] {
    this.pending.push(chunk);
    this.pendingLength += chunk.length;
    const frames: SpdyFrame[] = [];
    if (this.pendingLength < 8) return frames;
    let buf = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingLength);
    let offset = 0;
    while (buf.length - offset >= 8) {
      const length = buf.readUInt32BE(offset + 4) & 0xffffff;
      if (buf.length - offset < 8 + length) break;
      frames.push(parseFrame(buf.subarray(offset, offset + 8 + length)));
      offset += 8 + length;
    }
    buf = buf.subarray(offset);
    this.pending = buf.length ? [buf] : [];
    this.pendingLength = buf.length;
    return frames;
  }

  /** Bytes received that do not make a whole frame yet. */
  get buffered(): number {
    return this.pendingLength;
  }
}

function parseFrame(frame: Buffer): SpdyFrame {
  const first = frame.readUInt32BE(0);
  const flags = frame[4];
  const payload = frame.subarray(8);
  if ((first & 0x80000000) === 0) {
    const streamId = first & 0x7fffffff;
    if (streamId === 0) throw new SpdyProtocolError('a DATA frame on stream 0');
    // Copied: the payload would otherwise pin the whole chunk it arrived in.
    return { type: 'data', streamId, fin: (flags & FLAG_FIN) !== 0, data: Buffer.from(payload) };
  }
  const version = (first >>> 16) & 0x7fff;
  if (version !== SPDY_VERSION) throw new SpdyProtocolError(`SPDY version ${version} is not supported (only 3)`);
  const type = first & 0xffff;
  const need = (n: number, what: string) => {
    if (payload.length < n) throw new SpdyProtocolError(`a ${what} frame of ${payload.length} bytes is too short`);
  };
  const streamIdAt = (at: number, what: string) => {
    const id = payload.readUInt32BE(at) & 0x7fffffff;
    if (id === 0) throw new SpdyProtocolError(`a ${what} frame on stream 0`);
    return id;
  };
  switch (type) {
    case FrameType.SynStream:
      need(10, 'SYN_STREAM');
      return {
        type: 'synStream',
        streamId: streamIdAt(0, 'SYN_STREAM'),
        associatedTo: payload.readUInt32BE(4) & 0x7fffffff,
        priority: payload[8] >> 5,
        fin: (flags & FLAG_FIN) !== 0,
        unidirectional: (flags & FLAG_UNIDIRECTIONAL) !== 0,
        headerBlock: Buffer.from(payload.subarray(10)),
      };
    case FrameType.SynReply:
      need(4, 'SYN_REPLY');
      return {
        type: 'synReply',
        streamId: streamIdAt(0, 'SYN_REPLY'),
        fin: (flags & FLAG_FIN) !== 0,
        headerBlock: Buffer.from(payload.subarray(4)),
      };
    case FrameType.Headers:
      need(4, 'HEADERS');
      return {
        type: 'headers',
        streamId: streamIdAt(0, 'HEADERS'),
        fin: (flags & FLAG_FIN) !== 0,
        headerBlock: Buffer.from(payload.subarray(4)),
      };
    case FrameType.RstStream: {
      need(8, 'RST_STREAM');
      const status = payload.readUInt32BE(4);
      if (status === 0) throw new SpdyProtocolError('a RST_STREAM frame with status 0');
      return { type: 'rstStream', streamId: streamIdAt(0, 'RST_STREAM'), status };
    }
    case FrameType.Settings: {
      need(4, 'SETTINGS');
      const count = payload.readUInt32BE(0);
      if (count > (payload.length - 4) / 8) throw new SpdyProtocolError(`a SETTINGS frame claims ${count} entries`);
      const entries = [];
      for (let i = 0; i < count; i++) {
        const word = payload.readUInt32BE(4 + i * 8);
        entries.push({ flags: word >>> 24, id: word & 0xffffff, value: payload.readUInt32BE(8 + i * 8) });
      }
      return { type: 'settings', entries };
    }
    case FrameType.Ping:
      if (payload.length !== 4) throw new SpdyProtocolError(`a PING frame of ${payload.length} bytes (must be 4)`);
      return { type: 'ping', id: payload.readUInt32BE(0) };
    case FrameType.GoAway:
      if (payload.length !== 8) throw new SpdyProtocolError(`a GOAWAY frame of ${payload.length} bytes (must be 8)`);
      return {
        type: 'goAway',
        lastGoodStreamId: payload.readUInt32BE(0) & 0x7fffffff,
        status: payload.readUInt32BE(4),
      };
    case FrameType.WindowUpdate:
      if (payload.length !== 8)
        throw new SpdyProtocolError(`a WINDOW_UPDATE frame of ${payload.length} bytes (must be 8)`);
      return {
        type: 'windowUpdate',
        streamId: payload.readUInt32BE(0) & 0x7fffffff,
        delta: payload.readUInt32BE(4) & 0x7fffffff,
      };
    default:
      return { type: 'unknown', frameType: type };
  }
}

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  if (payload.length > MAX_FRAME_LENGTH) throw new RangeError(`a control frame of ${payload.length} bytes`);
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE((((flags & 0xff) << 24) | payload.length) >>> 0, 4);
  return Buffer.concat([head, payload]);
}

function words(...values: number[]): Buffer {
  const buf = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => buf.writeUInt32BE(v >>> 0, i * 4));
  return buf;
}

/** DATA frames for `data` on a stream, split at `chunkSize`; `fin` goes on the last one (an empty frame when there is no data). */
export function dataFrames(streamId: number, data: Buffer, fin: boolean, chunkSize = 32 * 1024): Buffer[] {
  const size = Math.min(Math.max(1, chunkSize), MAX_FRAME_LENGTH);
  const frames: Buffer[] = [];
  let offset = 0;
  do {
    const part = data.subarray(offset, offset + size);
    offset += part.length;
    const last = offset >= data.length;
    const head = Buffer.alloc(8);
    head.writeUInt32BE(streamId & 0x7fffffff, 0);
    head.writeUInt32BE((((last && fin ? FLAG_FIN : 0) << 24) | part.length) >>> 0, 4);
    frames.push(Buffer.concat([head, part]));
  } while (offset < data.length);
  return frames;
}

export function synStreamFrame(
  streamId: number,
  headerBlock: Buffer,
  opts: { fin?: boolean; associatedTo?: number; priority?: number } = {},
): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt32BE(streamId & 0x7fffffff, 0);
  fixed.writeUInt32BE((opts.associatedTo ?? 0) & 0x7fffffff, 4);
  fixed[8] = ((opts.priority ?? 0) & 0x7) << 5;
  return controlFrame(FrameType.SynStream, opts.fin ? FLAG_FIN : 0, Buffer.concat([fixed, headerBlock]));
}

export function synReplyFrame(streamId: number, headerBlock: Buffer, fin = false): Buffer {
  return controlFrame(
    FrameType.SynReply,
    fin ? FLAG_FIN : 0,
    Buffer.concat([words(streamId & 0x7fffffff), headerBlock]),
  );
}

export function rstStreamFrame(streamId: number, status: number): Buffer {
  return controlFrame(FrameType.RstStream, 0, words(streamId & 0x7fffffff, status));
}

export function pingFrame(id: number): Buffer {
  return controlFrame(FrameType.Ping, 0, words(id));
}

export function goAwayFrame(lastGoodStreamId: number, status = 0): Buffer {
  return controlFrame(FrameType.GoAway, 0, words(lastGoodStreamId & 0x7fffffff, status));
}

export function windowUpdateFrame(streamId: number, delta: number): Buffer {
  return controlFrame(FrameType.WindowUpdate, 0, words(streamId & 0x7fffffff, delta & 0x7fffffff));
}

export function settingsFrame(entries: { flags?: number; id: number; value: number }[]): Buffer {
  return controlFrame(
    FrameType.Settings,
    0,
    words(entries.length, ...entries.flatMap((e) => [(((e.flags ?? 0) & 0xff) << 24) | (e.id & 0xffffff), e.value])),
  );
}
