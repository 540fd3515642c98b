// The log of one container instance: timestamped lines from stdout and stderr, bounded in
// size, readable with the options of the Kubernetes log API, followable until the instance ends.
import { Readable } from 'node:stream';
import { formatRfc3339Nano, MonotonicStamp } from './clock';
import type { LogOptions } from './types';

interface LogEntry {
  ns: bigint;
  /** `ns` as the API prints it, formatted once when the line is written (as a CRI log file holds it). */
  stamp: string;
  text: string;
  /** The process exited before ending this line: printed without a newline, as kubelet does. */
  partial: boolean;
}

/** Longest line kept whole; longer output is cut into entries of this size (kubelet uses 16 KiB too). */
const MAX_LINE_BYTES = 16 * 1024;
/** Characters of lines sent as one chunk (about as many bytes). */
const CHUNK_CHARS = 64 * 1024;
/** Unread output a log stream may hold before it is ended with an error. */
const MAX_UNREAD_BYTES = 32 * 1024 * 1024;

export class InstanceLog {
  private entries: LogEntry[] = [];
  private first = 0;
  private bytes = 0;
  private ended = false;
  private readonly followers = new Set<(entry: LogEntry | null) => void>();
  private readonly pending = new Map<string, Buffer>();

  constructor(
    private readonly stamp: MonotonicStamp,
    private readonly maxBytes: number,
  ) {}

  /** Feeds raw output of one stream ('stdout' or 'stderr'); complete lines become entries. */
  write(stream: string, chunk: Buffer): void {
    let buf = this.pending.has(stream) ? Buffer.concat([this.pending.get(stream)!, chunk]) : chunk;
    let nl: number;
    while ((nl = buf.indexOf(10)) >= 0 || buf.length >= MAX_LINE_BYTES) {
      const cut = nl >= 0 && nl < MAX_LINE_BYTES ? nl : MAX_LINE_BYTES;
      this.add(buf.subarray(0, cut).toString('utf8'), false);
      buf = buf.subarray(nl === cut ? cut + 1 : cut);
    }
    if (buf.length > 0) this.pending.set(stream, Buffer.from(buf));
    else this.pending.delete(stream);
  }

  /** The instance ended: flush partial lines and end every follower. */
  end(): void {
    if (this.ended) return;
    for (const rest of this.pending.values()) this.add(rest.toString('utf8'), true);
    this.pending.clear();
    this.ended = true;
    for (const f of this.followers) f(null);
    this.followers.clear();
  }

  private add(text: string, partial: boolean): void {
    const ns = this.stamp.next();
    const entry: LogEntry = { ns, stamp: formatRfc3339Nano(ns), text, partial };
    this.entries.push(entry);
    this.bytes += text.length + 40;
    while (this.bytes > this.maxBytes && this.first < this.entries.length - 1) {
      this.bytes -= this.entries[this.first].text.length + 40;
      this.first++;
    }
    if (this.first > 4096 && this.first * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.first);
      this.first = 0;
    }
    for (const f of this.followers) f(entry);
  }

  read(options: LogOptions): Readable {
    const sinceNs = sinceBoundary(options, this.stamp.clock.nowNs());
    let selected = this.entries.slice(this.first).filter((e) => sinceNs === undefined || e.ns >= sinceNs);
    if (options.tailLines !== undefined && options.tailLines >= 0) {
      selected = options.tailLines === 0 ? [] : selected.slice(-options.tailLines);
    }
    let budget = options.limitBytes !== undefined && options.limitBytes > 0 ? options.limitBytes : Infinity;
    const format = (e: LogEntry) => (options.timestamps ? `${e.stamp} ` : '') + e.text + (e.partial ? '' : '\n');
    let unsubscribe = () => {};
    const out = new Readable({
      read() {},
      destroy: (err, cb) => {
        unsubscribe();
        cb(err);
      },
    });
    // Lines go out in chunks of about CHUNK_CHARS, not one push (one HTTP chunk and TLS record)
    // per line: a kubelet copies its log file in blocks too, and a write per line capped the
    // sandbox at about 183,000 lines/s, below what its readers could take. Lines are joined as
    // text and encoded once per chunk.
    let pending: string[] = [];
    let pendingLength = 0;
    let scheduled = false;
    const flush = () => {
      scheduled = false;
      if (pendingLength === 0 || out.destroyed) return;
      out.push(Buffer.from(pending.length === 1 ? pending[0] : pending.join(''), 'utf8'));
      pending = [];
      pendingLength = 0;
      // A follower that stopped reading must not grow memory without bound.
      if (out.readableLength > MAX_UNREAD_BYTES)
        out.destroy(new Error(`log reader fell more than ${MAX_UNREAD_BYTES} bytes behind`));
    };
    const add = (text: string) => {
      pending.push(text);
      pendingLength += text.length;
      if (pendingLength >= CHUNK_CHARS) flush();
    };
    const emit = (e: LogEntry | null): boolean => {
      if (out.destroyed) return false;
      if (e === null) {
        flush();
        out.push(null);
        return false;
      }
      const text = format(e);
      if (budget !== Infinity) {
        const bytes = Buffer.byteLength(text, 'utf8');
        if (bytes >= budget) {
          flush();
          out.push(Buffer.from(text, 'utf8').subarray(0, budget));
          budget = 0;
          out.push(null);
          return false;
        }
        budget -= bytes;
      }
      add(text);
      return !out.destroyed;
    };
    for (const e of selected) if (!emit(e)) return out;
    flush();
    if (!options.follow || this.ended) {
      out.push(null);
      return out;
    }
    // Lines written in one go (one chunk of the container's output) leave together.
    const follower = (e: LogEntry | null) => {
      if (!emit(e)) return unsubscribe();
      if (!scheduled) {
        scheduled = true;
        queueMicrotask(flush);
      }
    };
    this.followers.add(follower);
    unsubscribe = () => this.followers.delete(follower);
    return out;
  }
}

function sinceBoundary(options: LogOptions, nowNs: bigint): bigint | undefined {
  let since: bigint | undefined;
  if (options.sinceTime) {
    const ms = Date.parse(options.sinceTime);
    // Like the real API, only whole seconds of sinceTime count.
    if (!Number.isNaN(ms)) since = BigInt(Math.floor(ms / 1000)) * 1_000_000_000n;
  }
  if (options.sinceSeconds !== undefined && options.sinceSeconds > 0) {
    const s = nowNs - BigInt(Math.floor(options.sinceSeconds)) * 1_000_000_000n;
    since = since === undefined || s > since ? s : since;
  }
  return since;
}
