// The three patch types kubectl and client-node send: JSON merge patch (RFC 7386), strategic
// merge patch (lists of named things merged by their key) and JSON patch (RFC 6902).
import { ApiError, badRequest } from './status';

const isObject = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function mergePatch(target: any, patch: any): any {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, any> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/** Merge keys of the list fields Truva and kubectl patch (from the Kubernetes API's patchMergeKey tags). */
export const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  volumes: 'name',
  env: 'name',
  volumeMounts: 'mountPath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
  tolerations: 'key',
};

export function strategicMergePatch(target: any, patch: any): any {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, any> = isObject(target) ? { ...target } : {};
  const directive = patch['$patch'];
  if (directive === 'replace') {
    const { $patch: _, ...rest } = patch;
    return structuredClone(rest);
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) continue;
    if (value === null) delete out[key];
    else if (Array.isArray(value) && MERGE_KEYS[key] && Array.isArray(out[key]))
      out[key] = mergeList(out[key], value, MERGE_KEYS[key]);
    else if (Array.isArray(value))
      out[key] = structuredClone(value).filter((v: any) => !(isObject(v) && v['$patch'] === 'delete'));
    else out[key] = strategicMergePatch(out[key], value);
  }
  return out;
}

function mergeList(current: any[], patch: any[], mergeKey: string): any[] {
  const out = current.map((item) => structuredClone(item));
  for (const item of patch) {
    if (!isObject(item) || !(mergeKey in item))
      throw badRequest(`strategic merge patch: list item without merge key "${mergeKey}"`);
    const index = out.findIndex((existing) => existing?.[mergeKey] === item[mergeKey]);
    if (item['$patch'] === 'delete') {
      if (index >= 0) out.splice(index, 1);
    } else if (index >= 0) out[index] = strategicMergePatch(out[index], item);
    else out.push(strategicMergePatch({}, item));
  }
  return out;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw badRequest(`json patch: invalid path "${path}"`);
  return path
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: any, segments: string[], path: string) {
  let node = doc;
  for (const s of segments.slice(0, -1)) {
    node = Array.isArray(node) ? node[Number(s)] : node?.[s];
    if (node === undefined || node === null) throw badRequest(`json patch: path "${path}" does not exist`);
  }
  return { node, last: segments[segments.length - 1] };
}

function getAt(doc: any, path: string): any {
  let node = doc;
  for (const s of pointer(path)) {
    node = Array.isArray(node) ? node[Number(s)] : node?.[s];
    if (node === undefined) throw badRequest(`json patch: path "${path}" does not exist`);
  }
  return node;
}

function removeAt(doc: any, path: string) {
  const { node, last } = parentOf(doc, pointer(path), path);
  if (Array.isArray(node)) node.splice(Number(last), 1);
  else {
    if (!(last in node)) throw badRequest(`json patch: path "${path}" does not exist`);
    delete node[last];
  }
}

function addAt(doc: any, path: string, value: any) {
  const { node, last } = parentOf(doc, pointer(path), path);
  if (Array.isArray(node)) node.splice(last === '-' ? node.length : Number(last), 0, value);
  else node[last] = value;
}

export function jsonPatch(target: any, ops: any): any {
  if (!Array.isArray(ops)) throw badRequest('json patch: the body must be an array of operations');
  let doc = structuredClone(target);
  for (const op of ops) {
    switch (op?.op) {
      case 'add':
        if (op.path === '') doc = op.value;
        else addAt(doc, op.path, structuredClone(op.value));
        break;
      case 'remove':
        removeAt(doc, op.path);
        break;
      case 'replace':
        getAt(doc, op.path);
        if (op.path === '') doc = op.value;
        else {
          removeAt(doc, op.path);
          addAt(doc, op.path, structuredClone(op.value));
        }
        break;
      case 'move': {
        const v = getAt(doc, op.from);
        removeAt(doc, op.from);
        addAt(doc, op.path, v);
        break;
      }
      case 'copy':
        addAt(doc, op.path, structuredClone(getAt(doc, op.from)));
        break;
      case 'test':
        if (JSON.stringify(getAt(doc, op.path)) !== JSON.stringify(op.value))
          throw new ApiError(422, 'Invalid', `json patch: test failed at ${op.path}`);
        break;
      default:
        throw badRequest(`json patch: unknown operation "${op?.op}"`);
    }
  }
  return doc;
}

export function applyPatch(contentType: string, target: any, body: any): any {
  const type = contentType.split(';')[0].trim();
  switch (type) {
    case 'application/merge-patch+json':
      return mergePatch(target, body);
    case 'application/strategic-merge-patch+json':
      return strategicMergePatch(target, body);
    case 'application/json-patch+json':
      return jsonPatch(target, body);
    default:
      throw Object.assign(badRequest(`the content type "${type}" is not supported for patch`), {
        code: 415,
        reason: 'UnsupportedMediaType',
      });
  }
}
