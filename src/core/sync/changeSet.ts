// Local changes waiting to be synced, coalesced by path: the last event wins, a file created and
// deleted before a sync is nothing at all, a rename arrives as delete + create.
export type ChangeKind = 'add' | 'change' | 'delete';

export class ChangeSet {
  private readonly changes = new Map<string, ChangeKind>();
  /** When the oldest change still waiting arrived (for save-to-synced latency). */
  firstAt: number | undefined;

  get size(): number {
    return this.changes.size;
  }

  has(path: string): boolean {
    return this.changes.has(path);
  }

  record(path: string, kind: ChangeKind, now = Date.now()): void {
    const before = this.changes.get(path);
    this.firstAt ??= now;
    if (kind === 'delete') {
      if (before === 'add')
        this.changes.delete(path); // created and removed in between: nothing to do
      else this.changes.set(path, 'delete');
    } else if (before === 'delete') {
      this.changes.set(path, 'change'); // deleted then recreated: the remote copy is replaced
    } else if (before !== 'add') {
      this.changes.set(path, kind);
    }
    if (this.changes.size === 0) this.firstAt = undefined;
  }

  /** Takes everything recorded so far, leaving the set empty. */
  take(): { upserts: string[]; deletes: string[]; firstAt: number | undefined } {
    const upserts: string[] = [];
    const deletes: string[] = [];
    for (const [path, kind] of this.changes) (kind === 'delete' ? deletes : upserts).push(path);
    const firstAt = this.firstAt;
    this.changes.clear();
    this.firstAt = undefined;
    return { upserts: upserts.sort(), deletes: deletes.sort(), firstAt };
  }

  /** Puts back changes that could not be sent (a failed batch), without overriding newer ones. */
  restore(taken: { upserts: string[]; deletes: string[]; firstAt: number | undefined }): void {
    for (const p of taken.upserts) if (!this.changes.has(p)) this.changes.set(p, 'change');
    for (const p of taken.deletes) if (!this.changes.has(p)) this.changes.set(p, 'delete');
    if (taken.firstAt !== undefined) this.firstAt = Math.min(this.firstAt ?? taken.firstAt, taken.firstAt);
  }
}

export interface FileEntry {
  path: string;
  size: number;
}

/** Splits files into batches of at most maxFiles files and maxBytes bytes (a bigger file goes alone). */
export function batches<T extends FileEntry>(files: T[], maxFiles: number, maxBytes: number): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const file of files) {
    if (current.length > 0 && (current.length >= maxFiles || bytes + file.size > maxBytes)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(file);
    bytes += file.size;
  }
  if (current.length) out.push(current);
  return out;
}
