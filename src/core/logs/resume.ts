// Resuming a follow stream after a drop. `sinceTime` has whole-second resolution, so the new
// stream replays every line of the last second already seen. A line is a duplicate when it is
// older than the newest line delivered, or when it falls in that newest second and the same
// (timestamp, text) pair was delivered there before - counted, so two genuinely identical lines
// with the same timestamp are both kept.
import { compareInstants, parseInstant, sinceTimeFor, type Instant } from './timestamp';

export class ResumeTracker {
  private last: Instant | undefined;
  /** (timestamp, text) -> times delivered within the second of `last`. */
  private delivered = new Map<string, number>();
  /** Same keys, counted since the current stream was (re)opened. */
  private seenThisStream = new Map<string, number>();

  /** The `sinceTime` to resume from, or undefined before any timestamped line. */
  get sinceTime(): string | undefined {
    return this.last ? sinceTimeFor(this.last) : undefined;
  }

  /** Call when a new stream is opened, before feeding it any line. */
  streamOpened(): void {
    this.seenThisStream.clear();
  }

  /** True when the line should be delivered; records it as delivered. */
  accept(timestamp: string, text: string): boolean {
    const at = timestamp ? parseInstant(timestamp) : undefined;
    if (!at) return true;
    if (this.last) {
      if (at.seconds < this.last.seconds) return false;
      if (at.seconds === this.last.seconds) {
        const key = timestamp + '\n' + text;
        const seen = (this.seenThisStream.get(key) ?? 0) + 1;
        this.seenThisStream.set(key, seen);
        const before = this.delivered.get(key) ?? 0;
        if (seen <= before) return false;
        // Older than the newest delivered line but never seen: keep it (clock skew between
        // containers cannot happen within one stream, but never lose a line on a guess).
        this.delivered.set(key, before + 1);
        if (compareInstants(at, this.last) > 0) this.last = at;
        return true;
      }
    }
    this.last = at;
    this.delivered = new Map([[timestamp + '\n' + text, 1]]);
    this.seenThisStream = new Map([[timestamp + '\n' + text, 1]]);
    return true;
  }
}
