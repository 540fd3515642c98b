// The long-lived streams a server has open (watches, logs, execs, port-forwards), so a fault can
// drop them all at once, as a flaky network or an API server restart would.
export type Destroyable = { destroy(): void };

export class OpenStreams {
  private readonly streams = new Set<Destroyable>();

  /** Keeps `stream` until `until` closes. */
  track(stream: Destroyable, until: { once(event: 'close', fn: () => void): unknown }): void {
    this.streams.add(stream);
    until.once('close', () => this.streams.delete(stream));
  }

  /** Destroys every open stream; returns how many there were. */
  closeAll(): number {
    const n = this.streams.size;
    for (const s of [...this.streams]) s.destroy();
    this.streams.clear();
    return n;
  }
}
