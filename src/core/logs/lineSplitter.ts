// Turns a byte stream into whole lines. A TextDecoder in stream mode keeps a multi-byte UTF-8
// character that straddles two chunks intact, and replaces invalid bytes with U+FFFD instead of
// throwing, so one bad byte never stops a log stream.

export class LineSplitter {
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });
  private partial = '';

  /** Lines completed by this chunk, without their line terminators. */
  push(chunk: Uint8Array | string): string[] {
    const text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    if (text.length === 0) return [];
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    for (let i = 0; i < parts.length; i++) {
      const line = parts[i];
      if (line.endsWith('\r')) parts[i] = line.slice(0, -1);
    }
    return parts;
  }

  /** Text received after the last newline (a line still being written). */
  get pending(): string {
    return this.partial;
  }

  /** Ends the stream: the unterminated rest (if any) becomes the last line. */
  end(): string[] {
    const rest = this.partial + this.decoder.decode();
    this.partial = '';
    return rest.length > 0 ? [rest.endsWith('\r') ? rest.slice(0, -1) : rest] : [];
  }

  /** Forgets the unterminated rest, e.g. after a dropped connection that will replay it. */
  discard(): void {
    this.partial = '';
    this.decoder.decode();
  }
}
