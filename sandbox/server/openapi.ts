// What kubectl reads from /openapi/v3 before `apply -f` and `create -f` with validation on:
// per group-version, the paths of the served resources, whose PATCH operations name their
// kind (x-kubernetes-group-version-kind) and take the fieldValidation parameter, so kubectl
// leaves validation to the server. The server then validates strictly against the API's own
// field set, which client-node's generated models carry (from the Kubernetes OpenAPI spec).
import * as models from '@kubernetes/client-node';

interface Served {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  model: string;
}

export const SERVED: Served[] = [
  { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false, model: 'V1Namespace' },
  { group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true, model: 'V1Pod' },
  { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true, model: 'V1Deployment' },
  { group: 'apps', version: 'v1', kind: 'ReplicaSet', plural: 'replicasets', namespaced: true, model: 'V1ReplicaSet' },
];

const GROUP_VERSIONS: Record<string, { group: string; version: string }> = {
  'api/v1': { group: '', version: 'v1' },
  'apis/apps/v1': { group: 'apps', version: 'v1' },
};

/** GET /openapi/v3: where each group-version's document is. */
export function openApiIndex(): unknown {
  return {
    paths: Object.fromEntries(
      Object.keys(GROUP_VERSIONS).map((gv) => [
        gv,
        { serverRelativeURL: `/openapi/v3/${gv}?hash=sandbox-${gv.replace(/\//g, '-')}` },
      ]),
    ),
  };
}

const param = (name: string, description: string) => ({
  name,
  in: 'query',
  description,
  schema: { type: 'string', uniqueItems: true },
});
const WRITE_PARAMS = [
  param('dryRun', 'When present, modifications are not persisted.'),
  param('fieldManager', 'A name for the actor making these changes.'),
  param('fieldValidation', 'How the server treats unknown and duplicate fields: Ignore, Warn or Strict.'),
];

/** GET /openapi/v3/<group-version>: an OpenAPI 3 document with the served resources' paths. */
export function openApiDocument(groupVersion: string): unknown | undefined {
  const gv = GROUP_VERSIONS[groupVersion];
  if (!gv) return undefined;
  const paths: Record<string, unknown> = {};
  for (const r of SERVED.filter((s) => s.group === gv.group && s.version === gv.version)) {
    const gvk = { 'x-kubernetes-group-version-kind': { group: r.group, version: r.version, kind: r.kind } };
    const ref = { $ref: `#/components/schemas/${r.model}` };
    const body = (types: string[]) => ({ content: Object.fromEntries(types.map((t) => [t, { schema: ref }])) });
    const ok = { responses: { '200': { description: 'OK', content: { 'application/json': { schema: ref } } } } };
    const base = `/${groupVersion}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.plural}`;
    paths[base] = {
      get: { operationId: `list${r.kind}`, ...gvk, 'x-kubernetes-action': 'list', ...ok },
      post: {
        operationId: `create${r.kind}`,
        ...gvk,
        'x-kubernetes-action': 'post',
        parameters: WRITE_PARAMS,
        requestBody: body(['*/*']),
        ...ok,
      },
    };
    paths[`${base}/{name}`] = {
      get: { operationId: `read${r.kind}`, ...gvk, 'x-kubernetes-action': 'get', ...ok },
      put: {
        operationId: `replace${r.kind}`,
        ...gvk,
        'x-kubernetes-action': 'put',
        parameters: WRITE_PARAMS,
        requestBody: body(['*/*']),
        ...ok,
      },
      delete: { operationId: `delete${r.kind}`, ...gvk, 'x-kubernetes-action': 'delete', ...ok },
      // No strategic-merge-patch here: kubectl then computes apply patches from its built-in types.
      patch: {
        operationId: `patch${r.kind}`,
        ...gvk,
        'x-kubernetes-action': 'patch',
        parameters: [...WRITE_PARAMS, param('force', 'Force is going to "force" Apply requests.')],
        requestBody: body([
          'application/json-patch+json',
          'application/merge-patch+json',
          'application/apply-patch+yaml',
        ]),
        ...ok,
      },
    };
  }
  const schemas = Object.fromEntries(
    SERVED.filter((s) => s.group === gv.group && s.version === gv.version).map((s) => [
      s.model,
      { type: 'object', 'x-kubernetes-group-version-kind': [{ group: s.group, version: s.version, kind: s.kind }] },
    ]),
  );
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.31.0' }, paths, components: { schemas } };
}

type AttributeTypes = { name: string; baseName: string; type: string }[];

function attributesOf(model: string): AttributeTypes | undefined {
  const cls = (models as unknown as Record<string, { getAttributeTypeMap?: () => AttributeTypes }>)[model];
  return cls?.getAttributeTypeMap?.();
}

/** Fields of `value` that the API's schema for `type` does not declare, as kubectl prints them ("spec.foo"). */
export function unknownFields(type: string, value: unknown, path = ''): string[] {
  if (value === null || value === undefined) return [];
  const list = /^Array<(.+)>$/.exec(type);
  if (list) return Array.isArray(value) ? value.flatMap((v, i) => unknownFields(list[1], v, `${path}[${i}]`)) : [];
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map)
    return typeof value === 'object'
      ? Object.entries(value as object).flatMap(([k, v]) => unknownFields(map[1], v, `${path}[${k}]`))
      : [];
  const attrs = attributesOf(type);
  if (!attrs || typeof value !== 'object' || Array.isArray(value)) return [];
  const known = new Map(attrs.map((a) => [a.baseName, a.type]));
  return Object.entries(value as object).flatMap(([k, v]) => {
    if (k.startsWith('$')) return []; // strategic merge patch directives ($setElementOrder/..., $patch)
    const at = path ? `${path}.${k}` : k;
    const t = known.get(k);
    return t === undefined ? [at] : unknownFields(t, v, at);
  });
}

/** The model name of a served kind, for unknownFields. */
export function modelOf(kind: string): string | undefined {
  return SERVED.find((s) => s.plural === kind)?.model;
}
