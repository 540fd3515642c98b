// Which local paths are never synced: .git/ always, .gitignore files (nested ones apply below
// their folder), .truvaignore at the root and `exclude` from truva.yaml, all with gitignore
// semantics from the `ignore` package. Used by the watcher before watching, so ignored trees
// such as node_modules are never watched at all.
import ignore, { type Ignore } from 'ignore';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export class IgnoreRules {
  private readonly perDir = new Map<string, Ignore | null>();
  private readonly rootRules: Ignore;

  constructor(
    private readonly root: string,
    exclude: string[] = [],
  ) {
    this.rootRules = ignore().add(['.git/', ...exclude]);
    const truvaignore = join(root, '.truvaignore');
    if (existsSync(truvaignore)) this.rootRules.add(readFileSync(truvaignore, 'utf8'));
  }

  /** The .gitignore of a folder (relative POSIX path, '' for the root), cached. */
  private gitignoreOf(dir: string): Ignore | null {
    if (!this.perDir.has(dir)) {
      const file = join(this.root, dir, '.gitignore');
      this.perDir.set(dir, existsSync(file) ? ignore().add(readFileSync(file, 'utf8')) : null);
    }
    return this.perDir.get(dir)!;
  }

  /** Forgets a cached .gitignore (it changed). */
  invalidate(relPath: string): void {
    if (relPath === '.gitignore' || relPath.endsWith('/.gitignore')) {
      this.perDir.delete(relPath.slice(0, -'.gitignore'.length).replace(/\/$/, ''));
      this.above.clear();
    }
  }

  /** Per folder: the .gitignore files that apply in it (its own and its ancestors'), with their folders. */
  private readonly above = new Map<string, { dir: string; rules: Ignore }[]>();

  private gitignoresFor(dir: string): { dir: string; rules: Ignore }[] {
    let list = this.above.get(dir);
    if (!list) {
      const parent = dir === '' ? undefined : dir.includes('/') ? dir.slice(0, dir.lastIndexOf('/')) : '';
      const own = this.gitignoreOf(dir);
      list = [...(parent === undefined ? [] : this.gitignoresFor(parent)), ...(own ? [{ dir, rules: own }] : [])];
      this.above.set(dir, list);
    }
    return list;
  }

  /**
   * ignores() for an entry of a folder that is itself not ignored, as a walk from the root meets
   * them: then only the entry's own path needs testing against each .gitignore, not every folder
   * above it. On a 20,000-file tree, checking every ancestor for every path was about a third of
   * the walk's CPU.
   */
  ignoresIn(dir: string, name: string, isDir: boolean): boolean {
    const rel = dir ? `${dir}/${name}` : name;
    const slash = isDir ? '/' : '';
    if (this.rootRules.ignores(rel + slash)) return true;
    for (const g of this.gitignoresFor(dir))
      if (g.rules.ignores((g.dir ? rel.slice(g.dir.length + 1) : rel) + slash)) return true;
    return false;
  }

  /** True when the relative POSIX path (a directory when isDir) must not be synced. */
  ignores(relPath: string, isDir = false): boolean {
    const subject = isDir ? `${relPath}/` : relPath;
    if (this.rootRules.ignores(subject)) return true;
    const parts = relPath.split('/');
    // A path is ignored if any ancestor folder's .gitignore ignores it, or ignores an ancestor of it.
    for (let depth = 0; depth < parts.length; depth++) {
      const dir = parts.slice(0, depth).join('/');
      const rules = this.gitignoreOf(dir);
      if (!rules) continue;
      const below = parts.slice(depth);
      for (let k = 1; k <= below.length; k++) {
        const isLast = k === below.length;
        const candidate = below.slice(0, k).join('/') + (isLast ? (isDir ? '/' : '') : '/');
        if (rules.ignores(candidate)) return true;
      }
    }
    return false;
  }
}
