// Resuming a follow stream after a drop. `sinceTime` has whole-second resolution, so the new
// stream replays every line of the last second already seen. A line is a duplicate when it is
// older than the newest line delivered, or when it falls in that newest second and the same
// (timestamp, text) pair was delivered there before - counted, so two genuinely identical lines
// with the same timestamp are both kept.
import { compareInstants, parseInstant, sinceTimeFor, type Instant } from './timestamp';

export class ResumeTracker {
  private last: Instant | undefined;
  /**
   * The lines delivered within the second of `last`, in order (timestamps and texts). Kept as they are and only
   * counted when a stream reopens: counting every line as it arrived (a map keyed by timestamp
   * and text, grown by each line) cost 11 µs a line when a pod wrote a whole burst within one
   * second, and capped a stream at about 80,000 lines/s.
   */
  private newestStamps: string[] = [];
  private newestTexts: string[] = [];
  /** While a reopened stream replays the newest second: keys delivered before, and seen since it opened. */
  private replay: { delivered: Map<string, number>; seen: Map<string, number> } | undefined;

  /** The `sinceTime` to resume from, or undefined before any timestamped line. */
  get sinceTime(): string | undefined {
    return this.last ? sinceTimeFor(this.last) : undefined;
  }

  /** Call when a new stream is opened, before feeding it any line. */
  streamOpened(): void {
    if (this.newestStamps.length === 0) return void (this.replay = undefined);
    const delivered = new Map<string, number>();
    this.newestStamps.forEach((timestamp, i) => {
      const key = timestamp + '\n' + this.newestTexts[i];
      delivered.set(key, (delivered.get(key) ?? 0) + 1);
    });
    this.replay = { delivered, seen: new Map() };
  }

  /** True when the line should be delivered; records it as delivered. */
  accept(timestamp: string, text: string): boolean {
    const at = timestamp ? parseInstant(timestamp) : undefined;
    if (!at) return true;
    if (this.last) {
      if (at.seconds < this.last.seconds) return false;
      if (at.seconds === this.last.seconds) {
        if (this.replay) {
          const key = timestamp + '\n' + text;
          const seen = (this.replay.seen.get(key) ?? 0) + 1;
          this.replay.seen.set(key, seen);
          const before = this.replay.delivered.get(key) ?? 0;
          if (seen <= before) return false;
          this.replay.delivered.set(key, before + 1);
        }
        // Older than the newest delivered line but never seen: keep it (clock skew between
        // containers cannot happen within one stream, but never lose a line on a guess).
        this.newestStamps.push(timestamp);
        this.newestTexts.push(text);
        if (compareInstants(at, this.last) > 0) this.last = at;
        return true;
      }
    }
    this.last = at;
    this.newestStamps = [timestamp];
    this.newestTexts = [text];
    this.replay = undefined;
    return true;
  }
}
