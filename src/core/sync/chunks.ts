// The pieces a batch goes to the pods in. Each chunk is packed into a buffer with a little room in
// front of it, where the exec channel's byte and the sync shell's frame header go, so the same
// buffer is the WebSocket message for every pod: no copy per pod, none to add a header. The
// buffers come from a pool and go back to it once every connection they were written to has
// taken them, so a sync of 200 MB allocates a few buffers rather than 200 MB of them (buffers
// are freed only when the garbage collector gets to them: the engine of a 20,000-file sync
// held 70 MB more at its peak than one that sent nothing).
import { StdinMessage } from '../kube/exec';

/** Bytes kept free in front of every chunk: the channel byte and the longest frame header. */
export const HEADROOM = 24;
/** Free buffers a pool keeps for the next batch. */
const KEPT = 4;

/** A buffer of the pool, lent to one batch; back in the pool once retired and no longer held. */
class Slot {
  private holds = 0;
  private retired = false;
  constructor(
    readonly buffer: Buffer,
    private readonly pool: ChunkPool,
  ) {}

  /** A connection is about to send from this buffer; call the result once it has. */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      this.maybeFree();
    };
  }

  /** Its batch writes nothing more into it. */
  retire(): void {
    this.retired = true;
    this.maybeFree();
  }

  private maybeFree() {
    if (this.retired && this.holds === 0) this.pool.give(this.buffer);
  }
}

export class ChunkPool {
  private readonly free: Buffer[] = [];

  /** A buffer with room for `size` bytes after HEADROOM. */
  take(size: number): Slot {
    const i = this.free.findIndex((b) => b.length >= HEADROOM + size);
    const buffer = i >= 0 ? this.free.splice(i, 1)[0] : Buffer.allocUnsafeSlow(HEADROOM + size);
    return new Slot(buffer, this);
  }

  give(buffer: Buffer): void {
    if (this.free.length < KEPT) this.free.push(buffer);
  }
}

/** Part of a batch, with room in front (see HEADROOM); from a pool, or on its own. */
export class Chunk {
  private messages = new Map<string, StdinMessage>();
  private roomTaken = false;

  constructor(
    private readonly buffer: Buffer,
    readonly length: number,
    private readonly slot?: Slot,
  ) {}

  /** A chunk of these bytes (copied once, behind room for a header). */
  static of(bytes: Buffer): Chunk {
    const buffer = Buffer.allocUnsafe(HEADROOM + bytes.length);
    bytes.copy(buffer, HEADROOM);
    return new Chunk(buffer, bytes.length);
  }

  get bytes(): Buffer {
    return this.buffer.subarray(HEADROOM, HEADROOM + this.length);
  }

  /**
   * The stdin message of `header` then this chunk, the same object for every pod that asks with
   * the same header: built in the room in front of the chunk, or as a copy when that room holds
   * another header already.
   */
  message(header: string): StdinMessage {
    let message = this.messages.get(header);
    if (message) return message;
    const head = Buffer.from(header);
    if (!this.roomTaken && head.length + 1 <= HEADROOM) {
      this.roomTaken = true;
      const start = HEADROOM - head.length - 1;
      this.buffer[start] = 0; // the stdin channel
      head.copy(this.buffer, start + 1);
      message = new StdinMessage(this.buffer.subarray(start, HEADROOM + this.length), this.slot);
    } else message = StdinMessage.of(head, this.bytes);
    this.messages.set(header, message);
    return message;
  }
}
