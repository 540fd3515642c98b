// Authentication by bearer token and RBAC-style authorization: each user is bound to a table of
// rules shaped like a Role's (apiGroups, resources, verbs), so a test can take away exactly
// one verb and see it refused with the real API server's message. A request without a bearer
// token is system:anonymous, as kube-apiserver's default --anonymous-auth=true makes it (the
// real control plane runs with that default); RBAC grants that user only the health and
// version endpoints (system:public-info-viewer), so everything else is its 403.
import { ApiError } from './status';

export interface PolicyRule {
  /** "" is the core group; "*" any group. */
  apiGroups: string[];
  /** Plural resources, with subresources after a slash ("pods/exec"); "*" any. */
  resources: string[];
  /** get, list, watch, create, update, patch, delete; "*" any. */
  verbs: string[];
}

export interface RequestAttributes {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

/** Everything, as cluster-admin. */
export const ADMIN_RULES: PolicyRule[] = [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }];

/** Reads and logs, as the built-in `view` role (no exec, no writes). */
export const VIEW_RULES: PolicyRule[] = [
  {
    apiGroups: ['', 'apps'],
    resources: ['namespaces', 'pods', 'deployments', 'replicasets'],
    verbs: ['get', 'list', 'watch'],
  },
  {
    apiGroups: ['', 'apps'],
    resources: ['pods/log', 'deployments/scale', 'deployments/status', 'pods/status'],
    verbs: ['get'],
  },
];

/** The user of a request without credentials. */
export const ANONYMOUS_USER = 'system:anonymous';

const matches = (list: string[], value: string) => list.includes('*') || list.includes(value);

export class Authorizer {
  private readonly users = new Map<string, { name: string; rules: PolicyRule[] }>();

  /** Binds a bearer token to a user with these rules (replacing any earlier binding of the token). */
  add(token: string, name: string, rules: PolicyRule[]): void {
    this.users.set(token, { name, rules: structuredClone(rules) });
  }

  /** The user a request's bearer token names; anonymous without one; 401 for a token nobody has. */
  authenticate(authorization: string | undefined): string {
    const match = /^Bearer\s+(\S+)/i.exec(authorization ?? '');
    if (!match) return ANONYMOUS_USER;
    const user = this.users.get(match[1]);
    if (!user) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
    return user.name;
  }

  allows(user: string, attrs: RequestAttributes): boolean {
    const bound = [...this.users.values()].find((u) => u.name === user);
    const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
    return (bound?.rules ?? []).some(
      (r) => matches(r.verbs, attrs.verb) && matches(r.apiGroups, attrs.group) && matches(r.resources, resource),
    );
  }

  /** Throws the real API server's 403 when the user may not. */
  authorize(user: string, attrs: RequestAttributes): void {
    if (!this.allows(user, attrs)) throw forbidden(user, attrs);
  }
}

/** A path outside the resources (discovery, /openapi): `forbidden: User "system:anonymous" cannot get path "/api"`. */
export function forbiddenPath(user: string, method: string, path: string): ApiError {
  return new ApiError(403, 'Forbidden', `forbidden: User "${user}" cannot ${method.toLowerCase()} path "${path}"`, {});
}

/** `pods "web-1" is forbidden: User "dev" cannot get resource "pods/exec" in API group "" in the namespace "demo"`. */
export function forbidden(user: string, attrs: RequestAttributes): ApiError {
  const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  const subject = `${attrs.resource}${attrs.group ? '.' + attrs.group : ''}${attrs.name ? ` "${attrs.name}"` : ''}`;
  const where = attrs.namespace ? ` in the namespace "${attrs.namespace}"` : ' at the cluster scope';
  return new ApiError(
    403,
    'Forbidden',
    `${subject} is forbidden: User "${user}" cannot ${attrs.verb} resource "${resource}" in API group "${attrs.group}"${where}`,
    { name: attrs.name, group: attrs.group, kind: attrs.resource },
  );
}
