// Field ownership (metadata.managedFields, fieldsV1) as plain sets of field paths, so that dev
// mode can hand the fields it changed back to the managers that owned them before: after a PUT
// the API server records every changed field as owned by the writer, and a later server-side
// apply by the original owner (Argo CD, Flux, kubectl --server-side) would then conflict on
// them, or keep fields it has dropped from its manifest.

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: object;
  subresource?: string;
}

/** The leaf paths of a fieldsV1 tree (each as a JSON array of its keys). */
function leaves(fields: object | undefined): Set<string> {
  const out = new Set<string>();
  const walk = (node: Record<string, object>, path: string[]) => {
    const keys = Object.keys(node);
    if (keys.length === 0 && path.length > 0) out.add(JSON.stringify(path));
    for (const k of keys) walk(node[k] as Record<string, object>, [...path, k]);
  };
  walk((fields ?? {}) as Record<string, object>, []);
  return out;
}

function tree(paths: Iterable<string>): object {
  const root: Record<string, any> = {};
  for (const p of paths) {
    let node = root;
    for (const key of JSON.parse(p) as string[]) node = node[key] ??= {};
  }
  return root;
}

const sameEntry = (a: ManagedFieldsEntry, b: ManagedFieldsEntry) =>
  a.manager === b.manager && a.operation === b.operation && (a.subresource ?? '') === (b.subresource ?? '');

/**
 * managedFields with the fields `manager` owns now given back to whoever owned them in
 * `before`; what nobody owned before is let go. Other entries (changes made by others since)
 * are kept. Undefined when `manager` owns nothing, so there is nothing to write.
 */
export function handBackFields(
  now: ManagedFieldsEntry[] | undefined,
  before: ManagedFieldsEntry[] | undefined,
  manager: string,
): ManagedFieldsEntry[] | undefined {
  const mine = (now ?? []).filter((e) => e.manager === manager);
  if (mine.length === 0) return undefined;
  const taken = new Set([...mine.flatMap((e) => [...leaves(e.fieldsV1)])]);
  const result = (now ?? [])
    .filter((e) => e.manager !== manager)
    .map((e) => ({ entry: e, fields: leaves(e.fieldsV1) }));
  for (const earlier of before ?? []) {
    if (earlier.manager === manager) continue;
    const back = [...leaves(earlier.fieldsV1)].filter((p) => taken.has(p));
    if (back.length === 0) continue;
    let target = result.find((r) => sameEntry(r.entry, earlier));
    if (!target) result.push((target = { entry: earlier, fields: new Set() }));
    for (const p of back) target.fields.add(p);
  }
  return result
    .filter((r) => r.fields.size > 0)
    .map((r) => ({ ...r.entry, fieldsType: 'FieldsV1', fieldsV1: tree(r.fields) }));
}
