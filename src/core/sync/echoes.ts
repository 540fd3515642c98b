// The editor calls notify() on save, and the file watcher then reports the same write again a
// few milliseconds later, sometimes twice (a write that truncates first can give two events).
// Recording that echo would restart the debounce (delaying every save by the watcher's lag) or,
// when it arrives after the batch went out, send the file and restart the app a second time. A
// watcher event is an echo when the file still has the size and modification time it had when
// notify() saw it; any later write changes them.

/** What identifies one version of a file cheaply: size and mtime (ns precision on Linux). */
export function fileSignature(st: { size: number; mtimeMs: number }): string {
  return `${st.size}:${st.mtimeMs}`;
}

export class SaveEchoes {
  private readonly notified = new Map<string, string>();

  /** notify() recorded this version of the path. */
  remember(path: string, signature: string): void {
    this.notified.set(path, signature);
  }

  /**
   * A watcher event for the path; `signatureNow` reads the file's signature (undefined if it is
   * gone), only when needed. True when the event only repeats what notify() already recorded:
   * every event while the file keeps that version is one, and the version is forgotten once the
   * file has changed or gone.
   */
  isEcho(path: string, signatureNow: () => string | undefined): boolean {
    const remembered = this.notified.get(path);
    if (remembered === undefined) return false;
    if (signatureNow() === remembered) return true;
    this.notified.delete(path);
    return false;
  }
}
