// Fixed-capacity buffer that keeps the newest items and counts what it had to drop, so memory
// stays bounded however chatty the pods are.

export class RingBuffer<T> {
  private readonly items: (T | undefined)[];
  private start = 0;
  private count = 0;
  private droppedCount = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(
        `Ring buffer capacity must be a positive integer, got ${capacity}; set truva.logs.bufferSize (or logs.buffer in truva.yaml) to 1 or more.`,
      );
    }
    this.items = new Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Items pushed out to make room since creation or the last clear(). */
  get dropped(): number {
    return this.droppedCount;
  }

  push(item: T): void {
    if (this.count < this.capacity) {
      this.items[(this.start + this.count) % this.capacity] = item;
      this.count++;
    } else {
      this.items[this.start] = item;
      this.start = (this.start + 1) % this.capacity;
      this.droppedCount++;
    }
  }

  /** Oldest first; `index` 0 is the oldest item kept. */
  at(index: number): T | undefined {
    if (index < 0 || index >= this.count) return undefined;
    return this.items[(this.start + index) % this.capacity];
  }

  toArray(): T[] {
    const out = new Array<T>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.items[(this.start + i) % this.capacity] as T;
    return out;
  }

  clear(): void {
    this.items.fill(undefined);
    this.start = 0;
    this.count = 0;
    this.droppedCount = 0;
  }
}
