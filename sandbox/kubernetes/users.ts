// sandbox.addUser() on the real control plane: a user of kube-apiserver's own making, bound by
// real RBAC. Each user is a ServiceAccount in `default` with a token from the TokenRequest API
// (kube-apiserver issues and checks it; its name is system:serviceaccount:default:NAME), and
// its rules become a ClusterRole bound to it by a ClusterRoleBinding: the rules hold in every
// namespace, as on the sandbox's API server. Resolves once the server authorises the user as
// the rules say (RBAC reads its bindings from an informer, a moment after they are written).
import { setTimeout as sleep } from 'node:timers/promises';
import type { PolicyRule } from '../server/rbac';
import { ApiClient, ApiStatusError } from './apiClient';

/** Where the users' ServiceAccounts live. */
const USERS_NAMESPACE = 'default';
/** Long enough for any run; the TokenRequest API caps nothing on this cluster. */
const TOKEN_SECONDS = 24 * 3600;

const RBAC = '/apis/rbac.authorization.k8s.io/v1';

/** One request the rules allow, to see the binding take effect ("*" made concrete). */
function probeOf(rules: PolicyRule[]) {
  const rule = rules.find((r) => r.verbs.length && r.resources.length && r.apiGroups.length);
  if (!rule) return undefined;
  const [resource, subresource] = (rule.resources[0] === '*' ? 'pods' : rule.resources[0]).split('/');
  return {
    verb: rule.verbs[0] === '*' ? 'get' : rule.verbs[0],
    group: rule.apiGroups[0] === '*' ? '' : rule.apiGroups[0],
    resource,
    ...(subresource ? { subresource } : {}),
    namespace: 'demo',
  };
}

/** Creates the user; resolves with its bearer token. */
export async function addKubernetesUser(admin: ApiClient, url: string, ca: string, name: string, rules: PolicyRule[]) {
  const objectName = `truva-user-${name}`;
  await admin.request('POST', `/api/v1/namespaces/${USERS_NAMESPACE}/serviceaccounts`, {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name },
  });
  await admin.request('POST', `${RBAC}/clusterroles`, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: objectName },
    // A rule without verbs grants nothing, and RBAC refuses to store one.
    rules: rules.filter((r) => r.verbs.length > 0),
  });
  await admin.request('POST', `${RBAC}/clusterrolebindings`, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: objectName },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: objectName },
    subjects: [{ kind: 'ServiceAccount', name, namespace: USERS_NAMESPACE }],
  });
  const request = await admin.request('POST', `/api/v1/namespaces/${USERS_NAMESPACE}/serviceaccounts/${name}/token`, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: TOKEN_SECONDS },
  });
  const token: string = request.status.token;
  await untilAuthorised(new ApiClient(url, { ca, token }, 'truva-sandbox'), name, probeOf(rules));
  return token;
}

async function untilAuthorised(user: ApiClient, name: string, probe: ReturnType<typeof probeOf>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  try {
    for (;;) {
      try {
        const review = await user.request('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: probe ?? { verb: 'get', resource: 'pods', namespace: 'demo' } },
        });
        if (!probe || review.status?.allowed) return;
        last = `not yet allowed to ${probe.verb} ${probe.resource}`;
      } catch (err) {
        // 401 until the token authenticator sees the new ServiceAccount.
        if (!(err instanceof ApiStatusError)) throw err;
        last = err.message;
      }
      if (Date.now() > deadline) throw new Error(`user ${name}: its RBAC binding never took effect (${last})`);
      await sleep(50);
    }
  } finally {
    user.close();
  }
}
