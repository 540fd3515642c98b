// Field ownership (metadata.managedFields) as the API server keeps it, for the kinds the sandbox
// serves: every write records which fields its field manager set, a changed value moves to the
// manager that changed it, and server-side apply (PATCH application/apply-patch+yaml) merges
// the applied configuration, refuses to take fields another manager set to something else
// (409, unless force), and removes fields its manager applied before and no longer does.
// Fields are paths in the fieldsV1 notation: f:<field>, k:{"<merge key>":<value>} for items of
// keyed lists (containers by name, ...), "." for an item itself; other lists are atomic.
import { MERGE_KEYS, strategicMergePatch } from './patch';
import { ApiError } from './status';

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

/** Object fields no manager owns: identity and server bookkeeping. */
const UNOWNED_METADATA = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'managedFields',
  'selfLink',
  'deletionTimestamp',
]);

const isObject = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);

type Path = string[];
const keyOf = (p: Path) => JSON.stringify(p);

/** The leaf field paths an object sets. */
export function fieldsOf(obj: any): Set<string> {
  const out = new Set<string>();
  const walk = (value: unknown, path: Path, field: string | undefined) => {
    if (isObject(value)) {
      const entries = Object.entries(value).filter(
        ([k]) => !(path.length === 1 && path[0] === 'f:metadata' && UNOWNED_METADATA.has(k)),
      );
      if (Object.keys(value).length === 0 && path.length > 0) out.add(keyOf(path));
      for (const [k, v] of entries) walk(v, [...path, `f:${k}`], k);
    } else if (
      Array.isArray(value) &&
      field &&
      MERGE_KEYS[field] &&
      value.every((i) => isObject(i) && MERGE_KEYS[field] in i)
    ) {
      const key = MERGE_KEYS[field];
      for (const item of value) {
        const itemPath = [...path, `k:${JSON.stringify({ [key]: item[key] })}`];
        out.add(keyOf([...itemPath, '.']));
        walk(item, itemPath, undefined);
      }
    } else out.add(keyOf(path));
  };
  const { status: _status, apiVersion: _a, kind: _k, ...owned } = obj ?? {};
  walk(owned, [], undefined);
  return out;
}

/** The value at a field path, or undefined. */
function valueAt(obj: any, path: Path): unknown {
  let node = obj;
  for (const segment of path) {
    if (segment === '.') return node;
    if (node === undefined || node === null) return undefined;
    if (segment.startsWith('f:')) node = node[segment.slice(2)];
    else if (segment.startsWith('k:') && Array.isArray(node)) {
      const [[k, v]] = Object.entries(JSON.parse(segment.slice(2)));
      node = node.find((item) => isObject(item) && item[k] === v);
    } else return undefined;
  }
  return node;
}

/** Removes the fields at `paths` (a removed list item goes whole). */
function removeFields(obj: any, paths: Set<string>): any {
  const out = structuredClone(obj);
  const sorted = [...paths].map((p) => JSON.parse(p) as Path).sort((a, b) => b.length - a.length);
  for (const path of sorted) {
    const itemRemoval = path[path.length - 1] === '.';
    const target = itemRemoval ? path.slice(0, -1) : path;
    const parent = valueAt(out, target.slice(0, -1)) as any;
    const last = target[target.length - 1];
    if (parent === undefined || parent === null) continue;
    if (last.startsWith('f:') && isObject(parent)) delete parent[last.slice(2)];
    else if (last.startsWith('k:') && Array.isArray(parent)) {
      const [[k, v]] = Object.entries(JSON.parse(last.slice(2)));
      const i = parent.findIndex((item) => isObject(item) && item[k] === v);
      if (i >= 0) parent.splice(i, 1);
    }
  }
  return out;
}

export function toFieldsV1(paths: Set<string>): Record<string, unknown> {
  const root: Record<string, any> = {};
  for (const p of paths) {
    let node = root;
    for (const segment of JSON.parse(p) as Path) node = node[segment] ??= {};
  }
  return root;
}

export function fromFieldsV1(fields: Record<string, unknown> | undefined): Set<string> {
  const out = new Set<string>();
  const walk = (node: Record<string, unknown>, path: Path) => {
    const keys = Object.keys(node);
    if (keys.length === 0 && path.length > 0) out.add(keyOf(path));
    for (const k of keys) walk(node[k] as Record<string, unknown>, [...path, k]);
  };
  walk(fields ?? {}, []);
  return out;
}

/** The name a request writes as: fieldManager, else the client's user agent up to its first "/" (as the API server derives it). */
export function managerOf(fieldManager: string | null, userAgent: string | undefined): string {
  return fieldManager || (userAgent ?? 'unknown').split('/')[0] || 'unknown';
}

interface Owned {
  entry: ManagedFieldsEntry;
  fields: Set<string>;
}

function decode(entries: ManagedFieldsEntry[] | undefined): Owned[] {
  return (entries ?? []).map((entry) => ({ entry, fields: fromFieldsV1(entry.fieldsV1) }));
}

function encode(owned: Owned[]): ManagedFieldsEntry[] {
  return owned
    .filter((o) => o.fields.size > 0)
    .map((o) => ({ ...o.entry, fieldsType: 'FieldsV1' as const, fieldsV1: toFieldsV1(o.fields) }));
}

function entryFor(
  owned: Owned[],
  manager: string,
  operation: 'Apply' | 'Update',
  apiVersion: string,
  time: string,
): Owned {
  let o = owned.find((x) => x.entry.manager === manager && x.entry.operation === operation && !x.entry.subresource);
  if (!o) {
    o = { entry: { manager, operation, apiVersion, time, fieldsType: 'FieldsV1', fieldsV1: {} }, fields: new Set() };
    owned.push(o);
  }
  o.entry = { ...o.entry, time, apiVersion };
  return o;
}

/**
 * managedFields after an update (create, PUT, non-apply PATCH) by `manager` from `before` to
 * `after` (undefined before a create). managedFields sent in the request replace the recorded
 * ones first, as the API server allows (that is how they are reset or handed back).
 */
export function recordUpdate(
  before: any,
  after: any,
  manager: string,
  time: string,
  requested?: ManagedFieldsEntry[],
): ManagedFieldsEntry[] {
  const base = requested && requested.length > 0 ? requested : before?.metadata?.managedFields;
  const owned = decode(base);
  const old = before ? fieldsOf(before) : new Set<string>();
  const now = fieldsOf(after);
  // An item's "." marks that the manager put the item in the list: it changes hands only with the item.
  const changed = [...now].filter(
    (p) =>
      !old.has(p) ||
      (!p.endsWith('"."]') &&
        JSON.stringify(valueAt(before, JSON.parse(p))) !== JSON.stringify(valueAt(after, JSON.parse(p)))),
  );
  const removed = [...old].filter((p) => !now.has(p));
  for (const o of owned) for (const p of [...changed, ...removed]) o.fields.delete(p);
  if (changed.length) {
    const mine = entryFor(owned, manager, 'Update', after.apiVersion ?? 'v1', time);
    for (const p of changed) mine.fields.add(p);
  }
  return encode(owned);
}

/** A readable field path for conflict messages: .spec.template.spec.containers[name="web"].command */
function readable(path: Path): string {
  return path
    .filter((s) => s !== '.')
    .map((s) => {
      if (s.startsWith('f:')) return `.${s.slice(2)}`;
      const [[k, v]] = Object.entries(JSON.parse(s.slice(2)));
      return `[${k}=${JSON.stringify(v)}]`;
    })
    .join('');
}

/** Server-side apply of `config` by `manager` onto `live` (undefined: the object is created). */
export function serverSideApply(
  live: any,
  config: any,
  manager: string,
  opts: { force: boolean; time: string; resource: string; name: string },
): any {
  const applied = fieldsOf(config);
  const owned = decode(live?.metadata?.managedFields);
  const mine = entryFor(owned, manager, 'Apply', config.apiVersion ?? 'v1', opts.time);
  const conflicts: { path: Path; owner: ManagedFieldsEntry }[] = [];
  for (const p of applied) {
    const path = JSON.parse(p) as Path;
    if (path[path.length - 1] === '.') continue;
    if (JSON.stringify(valueAt(live, path)) === JSON.stringify(valueAt(config, path))) continue;
    for (const o of owned) if (o !== mine && o.fields.has(p)) conflicts.push({ path, owner: o.entry });
  }
  if (conflicts.length && !opts.force) {
    const list = conflicts.map(
      (c) =>
        `conflict with "${c.owner.manager}"${c.owner.operation === 'Update' ? ` using ${c.owner.apiVersion}` : ''}: ${readable(c.path)}`,
    );
    throw new ApiError(
      409,
      'Conflict',
      `Apply failed with ${conflicts.length} conflict${conflicts.length > 1 ? 's' : ''}: ${list.join('\n')}`,
      {
        name: opts.name,
        kind: opts.resource,
        causes: conflicts.map((c) => ({
          reason: 'FieldManagerConflict',
          message: `conflict with "${c.owner.manager}"`,
          field: readable(c.path),
        })),
      },
    );
  }
  for (const c of conflicts) for (const o of owned) if (o.entry === c.owner) o.fields.delete(keyOf(c.path));
  // What this manager applied before and applies no more goes, unless someone else owns it too.
  const dropped = new Set(
    [...mine.fields].filter((p) => !applied.has(p) && !owned.some((o) => o !== mine && o.fields.has(p))),
  );
  // A parent none of whose fields anyone owns any more goes with them (defaults and all), as a
  // dropped readinessProbe goes whole.
  const stillOwned = [...applied, ...owned.filter((o) => o !== mine).flatMap((o) => [...o.fields])].map(
    (p) => JSON.parse(p) as Path,
  );
  const ownedUnder = (prefix: Path) => stillOwned.some((p) => prefix.every((segment, i) => p[i] === segment));
  for (const p of [...dropped]) {
    const path = JSON.parse(p) as Path;
    for (let n = path.length - 1; n >= 1; n--) {
      const ancestor = path.slice(0, n);
      if (ownedUnder(ancestor)) break;
      dropped.add(keyOf(ancestor));
    }
  }
  const base = live ? removeFields(live, dropped) : {};
  const { metadata: liveMeta } = base;
  const merged = strategicMergePatch(base, config);
  if (liveMeta) merged.metadata = { ...strategicMergePatch(liveMeta, config.metadata ?? {}) };
  mine.fields = applied;
  merged.metadata.managedFields = encode(owned);
  return merged;
}
