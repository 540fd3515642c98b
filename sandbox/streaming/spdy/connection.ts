// The server end of a SPDY/3.1 connection, as moby/spdystream (the kubelet's and kubectl's
// library) behaves: the client opens streams with SYN_STREAM (odd, increasing ids), the server
// answers each accepted one with an empty SYN_REPLY or refuses it with RST_STREAM; DATA and FIN
// flow both ways; the server echoes the client's PINGs; GOAWAY ends the connection.
// No flow control: spdystream never sends WINDOW_UPDATE and ignores the ones it gets, so neither
// does this end (waiting for a window the peer never opens would stall every stream at 64 KiB).
// Back-pressure comes from the transport instead: `congested` and `whenDrained`.
import { EventEmitter } from 'node:events';
import {
  FrameReader,
  RstStatus,
  SpdyProtocolError,
  dataFrames,
  goAwayFrame,
  pingFrame,
  rstStreamFrame,
  synReplyFrame,
  type SpdyFrame,
} from './frames';
import { HeaderCodec, type SpdyHeaders } from './headerBlock';

/** The bytes under a SPDY connection: a TLS socket after an HTTP upgrade, or a WebSocket tunnel. */
export interface FrameTransport {
  /** Sends bytes; false when the peer is not keeping up (wait for whenDrained). */
  send(data: Buffer): boolean;
  /** Calls back once the bytes sent so far have (mostly) left. */
  whenDrained(callback: () => void): void;
  /** Stops, then restarts, reading from the peer: back-pressure toward it. */
  pause(): void;
  resume(): void;
  /** Ends the connection. */
  close(): void;
}

export interface SpdyServerOptions {
  /** Why a new stream is refused (it then gets RST_STREAM), or undefined to accept it. */
  accept(headers: SpdyHeaders, streamId: number): string | undefined;
  /** An accepted stream, after its SYN_REPLY was queued. */
  onStream(stream: SpdyStream): void;
  /** A refused stream or a broken frame, for the server's log. */
  onProblem?(message: string): void;
}

/** One stream of the connection: `data`, `end` (the peer's FIN) and `reset` events. */
export class SpdyStream extends EventEmitter {
  /** The peer sent FIN (or reset the stream). */
  remoteEnded = false;
  /** This end sent FIN (or reset the stream). */
  localEnded = false;
  isReset = false;

  constructor(
    readonly id: number,
    readonly headers: SpdyHeaders,
    private readonly connection: SpdyServerConnection,
  ) {
    super();
  }

  /** Queues bytes on the stream; false when the connection is congested (see SpdyServerConnection.whenDrained). */
  write(data: Buffer): boolean {
    if (this.localEnded || data.length === 0) return !this.connection.congested;
    return this.connection.sendData(this.id, data, false);
  }

  /** Sends FIN: this end writes nothing more. */
  end(): void {
    if (this.localEnded) return;
    this.localEnded = true;
    this.connection.sendData(this.id, Buffer.alloc(0), true);
    this.connection.settle(this);
  }

  /** Abandons the stream both ways (RST_STREAM CANCEL, as spdystream's Reset). */
  reset(status: number = RstStatus.Cancel): void {
    if (this.isReset) return;
    this.connection.resetStream(this, status, true);
  }

  /** @internal */
  receivedData(data: Buffer, fin: boolean): void {
    if (this.remoteEnded) return;
    if (data.length > 0) this.emit('data', data);
    if (fin) this.receivedEnd();
  }

  /** @internal */
  receivedEnd(): void {
    if (this.remoteEnded) return;
    this.remoteEnded = true;
    this.emit('end');
    this.connection.settle(this);
  }

  /** @internal */
  wasReset(): void {
    this.isReset = true;
    this.remoteEnded = true;
    this.localEnded = true;
    this.emit('reset');
  }
}

/** Queued bytes past which streams are told to hold their writes. */
const HIGH_WATER = 1 << 20;

export class SpdyServerConnection {
  private readonly reader = new FrameReader();
  private readonly codec = new HeaderCodec();
  private readonly streams = new Map<number, SpdyStream>();
  private nextClientStreamId = 1;
  private lastAcceptedStreamId = 0;
  /** Frames are handled one after another: a SYN_STREAM's headers decompress before its DATA is delivered. */
  private inbound: Promise<void> = Promise.resolve();
  /** Frames to send, in order; compressed header blocks may still be pending. */
  private outbound: (Buffer | Promise<Buffer>)[] = [];
  private outboundBytes = 0;
  private sending = false;
  private holds = 0;
  private drainWaiters: (() => void)[] = [];
  private goneAway = false;
  private closed = false;
  private readonly closedListeners: (() => void)[] = [];

  constructor(
    private readonly transport: FrameTransport,
    private readonly options: SpdyServerOptions,
  ) {}

  /** Bytes the transport received from the peer, in order. */
  receive(chunk: Buffer): void {
    if (this.closed) return;
    let frames: SpdyFrame[];
    try {
      frames = this.reader.push(chunk);
    } catch (err) {
      return this.fail(err as Error);
    }
    for (const frame of frames) this.inbound = this.inbound.then(() => this.handle(frame)).catch((e) => this.fail(e));
  }

  /** The transport is gone (the peer hung up or the socket failed): every open stream is reset. */
  transportClosed(): void {
    if (this.closed) return;
    this.closed = true;
    for (const stream of [...this.streams.values()]) {
      this.streams.delete(stream.id);
      stream.wasReset();
    }
    this.codec.close();
    for (const waiter of this.drainWaiters.splice(0)) waiter();
    for (const listener of this.closedListeners.splice(0)) listener();
  }

  /** Calls back once when the connection is gone. */
  onClosed(listener: () => void): void {
    if (this.closed) listener();
    else this.closedListeners.push(listener);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Too much is queued toward the peer: writers should wait for whenDrained. */
  get congested(): boolean {
    return this.outboundBytes > HIGH_WATER;
  }

  /** Calls back once the queue toward the peer is small again (or the connection closed). */
  whenDrained(callback: () => void): void {
    if (!this.congested || this.closed) callback();
    else this.drainWaiters.push(callback);
  }

  /**
   * Holds reading from the peer until the returned release is called (a stream's consumer is
   * slow); holds from several streams add up.
   */
  holdReceiving(): () => void {
    if (this.holds++ === 0) this.transport.pause();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.holds === 0 && !this.closed) this.transport.resume();
    };
  }

  /** Ends the connection the way spdystream's Close does: GOAWAY, then close. */
  close(): void {
    if (this.closed) return;
    if (!this.goneAway) {
      this.goneAway = true;
      this.queue(goAwayFrame(this.lastAcceptedStreamId));
    }
    void this.afterSent(() => this.transport.close());
  }

  /** @internal */
  sendData(streamId: number, data: Buffer, fin: boolean): boolean {
    for (const frame of dataFrames(streamId, data, fin)) this.queue(frame);
    return !this.congested;
  }

  /** @internal */
  resetStream(stream: SpdyStream, status: number, notifyPeer: boolean): void {
    this.streams.delete(stream.id);
    if (notifyPeer && !this.closed) this.queue(rstStreamFrame(stream.id, status));
    stream.wasReset();
  }

  /** @internal A stream both ends have finished is forgotten. */
  settle(stream: SpdyStream): void {
    if (stream.localEnded && stream.remoteEnded) this.streams.delete(stream.id);
    this.closeIfDone();
  }

  private closeIfDone(): void {
    if (this.goneAway && this.streams.size === 0 && !this.closed) this.close();
  }

  private async handle(frame: SpdyFrame): Promise<void> {
    if (this.closed) return;
    switch (frame.type) {
      case 'synStream':
        return this.openStream(frame);
      case 'data': {
        // Data for a stream that is gone (reset, finished) is dropped, as spdystream does.
        this.streams.get(frame.streamId)?.receivedData(frame.data, frame.fin);
        return;
      }
      case 'headers': {
        await this.codec.decompress(frame.headerBlock); // keeps the decompressor in step
        if (frame.fin) this.streams.get(frame.streamId)?.receivedEnd();
        return;
      }
      case 'synReply':
        // Only the server replies; a reply from the client still moves the decompressor on.
        await this.codec.decompress(frame.headerBlock);
        return;
      case 'rstStream': {
        const stream = this.streams.get(frame.streamId);
        if (stream) this.resetStream(stream, frame.status, false);
        return;
      }
      case 'ping':
        // Odd ids are the client's: echo them. Even ones would answer our own pings (we send none).
        if (frame.id % 2 === 1) this.queue(pingFrame(frame.id));
        return;
      case 'goAway':
        // The client leaves: no stream gets more of its data; streams end as their pods finish.
        this.goneAway = true;
        for (const stream of [...this.streams.values()]) stream.receivedEnd();
        this.closeIfDone();
        return;
      case 'settings':
      case 'windowUpdate':
      case 'unknown':
        return;
    }
  }

  private async openStream(frame: Extract<SpdyFrame, { type: 'synStream' }>): Promise<void> {
    // Decompress first, whatever happens next: the header stream must stay in step.
    const headers = await this.codec.decompress(frame.headerBlock);
    if (frame.streamId % 2 === 0 || frame.streamId < this.nextClientStreamId) {
      this.options.onProblem?.(`stream ${frame.streamId} is not a new client stream id`);
      this.queue(rstStreamFrame(frame.streamId, RstStatus.ProtocolError));
      return;
    }
    this.nextClientStreamId = frame.streamId + 2;
    if (this.goneAway) return;
    const refusal = this.options.accept(headers, frame.streamId);
    if (refusal !== undefined) {
      this.options.onProblem?.(`stream ${frame.streamId} refused: ${refusal}`);
      this.queue(rstStreamFrame(frame.streamId, RstStatus.Cancel));
      return;
    }
    this.lastAcceptedStreamId = frame.streamId;
    const stream = new SpdyStream(frame.streamId, headers, this);
    this.streams.set(stream.id, stream);
    this.queue(this.codec.compress({}).then((block) => synReplyFrame(stream.id, block)));
    this.options.onStream(stream);
    if (frame.fin) stream.receivedEnd();
  }

  private queue(frame: Buffer | Promise<Buffer>): void {
    if (this.closed) return;
    if (Buffer.isBuffer(frame)) this.outboundBytes += frame.length;
    this.outbound.push(frame);
    void this.pump();
  }

  /** Writes queued frames in order, waiting on the transport when it is full. */
  private async pump(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.outbound.length > 0 && !this.closed) {
        const head = this.outbound[0];
        const bytes = Buffer.isBuffer(head) ? head : await head;
        this.outbound.shift();
        if (Buffer.isBuffer(head)) this.outboundBytes -= head.length;
        if (this.closed) break;
        if (!this.transport.send(bytes)) await new Promise<void>((r) => this.transport.whenDrained(r));
        if (!this.congested) for (const waiter of this.drainWaiters.splice(0)) waiter();
      }
    } catch (err) {
      this.fail(err as Error);
    } finally {
      this.sending = false;
    }
  }

  /** Resolves once everything queued so far was handed to the transport. */
  private afterSent(then: () => void): Promise<void> {
    return new Promise<void>((resolve) => {
      const check = () => {
        if (this.closed || (this.outbound.length === 0 && !this.sending)) {
          then();
          resolve();
        } else setTimeout(check, 5);
      };
      check();
    });
  }

  private fail(err: Error): void {
    if (this.closed) return;
    this.options.onProblem?.(err instanceof SpdyProtocolError ? err.message : `SPDY connection failed: ${err.message}`);
    this.transport.close();
    this.transportClosed();
  }
}

export { SpdyProtocolError };
