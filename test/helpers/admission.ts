// Pods of one deployment refused, or left unplaced, the way a cluster does it, on either control
// plane. On the real one these are the real objects: a ResourceQuota, the PodSecurity label on
// the namespace, a ValidatingAdmissionPolicy with its binding, a cordoned node; kube-apiserver,
// its admission plugins and kube-scheduler say no in their own words. On the sandbox's API
// server, which has none of those, its podAdmission fault says the same thing in the same shape.
import type { Sandbox } from '../../sandbox';
import { webDeployment } from '../../sandbox/seed';
import type { Cluster } from '../../src/core/kube/cluster';
import { waitFor } from './sandbox';

export type Refusal = 'quota' | 'pod security' | 'admission policy' | 'unschedulable';

export interface AppliedRefusal {
  /** What the rollout failure must quote (the Deployment condition's reason and message). */
  expected: RegExp;
  /** Takes the refusal away again. */
  undo(): Promise<void>;
}

/** The sandbox's fault message for each cause: the real server's wording (for a pod `{pod}`). */
const SANDBOX_MESSAGES: Record<Refusal, { kind: 'refuseCreate' | 'unschedulable'; message: string }> = {
  quota: {
    kind: 'refuseCreate',
    message: 'pods "{pod}" is forbidden: exceeded quota: truva-test, requested: pods=1, used: pods=2, limited: pods=0',
  },
  'pod security': {
    kind: 'refuseCreate',
    message:
      'pods "{pod}" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "web" must set securityContext.allowPrivilegeEscalation=false), runAsNonRoot != true (pod or container "web" must set securityContext.runAsNonRoot=true)',
  },
  'admission policy': {
    kind: 'refuseCreate',
    message:
      "pods \"{pod}\" is forbidden: ValidatingAdmissionPolicy 'truva-test-deny' with binding 'truva-test-deny' denied request: label team is required",
  },
  unschedulable: {
    kind: 'unschedulable',
    message:
      '0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.',
  },
};

const EXPECTED: Record<Refusal, RegExp> = {
  quota:
    /FailedCreate: pods ".*" is forbidden: exceeded quota: truva-test, requested: pods=1, used: pods=\d+, limited: pods=0/,
  'pod security':
    /FailedCreate: pods ".*" is forbidden: violates PodSecurity "restricted:latest": .*runAsNonRoot != true/,
  'admission policy':
    /FailedCreate: pods ".*" is forbidden: ValidatingAdmissionPolicy 'truva-test-deny' with binding 'truva-test-deny' denied request: label team is required/,
  unschedulable: /pod .* is Unschedulable: 0\/1 nodes are available: 1 node\(s\) were unschedulable/,
};

const QUOTA = '/api/v1/namespaces/demo/resourcequotas';
const POLICIES = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies';
const BINDINGS = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings';
const ENFORCE = 'pod-security.kubernetes.io/enforce';

/**
 * Waits until the API server refuses (or, with `refused` false, takes again) a dry-run create of
 * one of the deployment's pods: admission reads its objects from informers.
 */
async function untilPodsRefused(cluster: Cluster, deployment: string, refused = true): Promise<void> {
  const template = (await cluster.getDeployment(deployment, 'demo')).spec!.template;
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { ...template.metadata, generateName: `${deployment}-` } };
  await waitFor(
    () =>
      cluster
        .request(
          'POST',
          '/api/v1/namespaces/demo/pods',
          { verb: 'create', resource: 'pods', namespace: 'demo' },
          { ...pod, spec: template.spec },
          { query: { dryRun: 'All' } },
        )
        .then(
          () => !refused,
          (err) => refused && (err as { status?: number }).status === 403,
        ),
    30_000,
    `a dry-run pod of ${deployment} to be ${refused ? 'refused' : 'taken again'}`,
  );
}

/** Makes the cluster refuse (or not place) the deployment's new pods; `admin` is a cluster-admin client. */
export async function refusePods(
  sandbox: Sandbox,
  admin: Cluster,
  deployment: string,
  cause: Refusal,
): Promise<AppliedRefusal> {
  const expected = EXPECTED[cause];
  if (sandbox.controlPlane === 'sandbox') {
    sandbox.faults.podAdmission({ ...SANDBOX_MESSAGES[cause], deployment });
    return { expected, undo: async () => sandbox.faults.clear() };
  }
  const undo = await refuseOnKubernetes(admin, deployment, cause);
  return {
    expected,
    undo: async () => {
      await undo();
      if (cause !== 'unschedulable') await untilPodsRefused(admin, deployment, false);
    },
  };
}

/** The real objects that refuse the pods; resolves with what removes them. */
async function refuseOnKubernetes(admin: Cluster, deployment: string, cause: Refusal): Promise<() => Promise<void>> {
  const call = (method: 'POST' | 'PATCH' | 'DELETE', path: string, resource: string, body?: unknown) =>
    admin.request(method, path, { verb: method.toLowerCase(), resource }, body, {
      contentType: method === 'PATCH' ? 'application/merge-patch+json' : undefined,
    });
  switch (cause) {
    case 'quota': {
      await call('POST', QUOTA, 'resourcequotas', {
        apiVersion: 'v1',
        kind: 'ResourceQuota',
        metadata: { name: 'truva-test' },
        spec: { hard: { pods: '0' } },
      });
      // Until kube-controller-manager has counted the usage, admission refuses with "status unknown".
      await waitFor(
        async () =>
          (await admin.request<any>('GET', `${QUOTA}/truva-test`, { verb: 'get', resource: 'resourcequotas' })).status
            ?.hard?.pods !== undefined,
        30_000,
        'the quota to be counted',
      );
      await untilPodsRefused(admin, deployment);
      return () => call('DELETE', `${QUOTA}/truva-test`, 'resourcequotas').then(() => undefined);
    }
    case 'pod security': {
      await call('PATCH', '/api/v1/namespaces/demo', 'namespaces', {
        metadata: { labels: { [ENFORCE]: 'restricted' } },
      });
      await untilPodsRefused(admin, deployment);
      return () =>
        call('PATCH', '/api/v1/namespaces/demo', 'namespaces', { metadata: { labels: { [ENFORCE]: null } } }).then(
          () => undefined,
        );
    }
    case 'admission policy': {
      await call('POST', POLICIES, 'validatingadmissionpolicies', {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicy',
        metadata: { name: 'truva-test-deny' },
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: {
            resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }],
          },
          validations: [
            {
              expression: "has(object.metadata.labels) && 'team' in object.metadata.labels",
              message: 'label team is required',
              // As a webhook's denial reads (the default reason of a policy is Invalid, 422).
              reason: 'Forbidden',
            },
          ],
        },
      });
      await call('POST', BINDINGS, 'validatingadmissionpolicybindings', {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicyBinding',
        metadata: { name: 'truva-test-deny' },
        spec: {
          policyName: 'truva-test-deny',
          validationActions: ['Deny'],
          matchResources: { objectSelector: { matchLabels: { app: deployment } } },
        },
      });
      await untilPodsRefused(admin, deployment);
      return async () => {
        await call('DELETE', `${BINDINGS}/truva-test-deny`, 'validatingadmissionpolicybindings');
        await call('DELETE', `${POLICIES}/truva-test-deny`, 'validatingadmissionpolicies');
      };
    }
    case 'unschedulable': {
      // kubectl cordon: the one node takes no new pods (what already runs stays).
      const nodes = await admin.request<{ items: { metadata: { name: string } }[] }>('GET', '/api/v1/nodes', {
        verb: 'list',
        resource: 'nodes',
      });
      const cordon = (unschedulable: boolean | null) =>
        Promise.all(
          nodes.items.map((n) =>
            call('PATCH', `/api/v1/nodes/${n.metadata.name}`, 'nodes', { spec: { unschedulable } }),
          ),
        ).then(() => undefined);
      await cordon(true);
      return () => cordon(null);
    }
  }
}

const MUTATING_POLICIES = '/apis/admissionregistration.k8s.io/v1/mutatingadmissionpolicies';
const MUTATING_BINDINGS = '/apis/admissionregistration.k8s.io/v1/mutatingadmissionpolicybindings';

/**
 * A mutating admission step on Deployments (as Kyverno or Gatekeeper mutation run them): every
 * create and update gets these annotations added to its pod template. On the real control plane a
 * MutatingAdmissionPolicy (admissionregistration.k8s.io/v1) does it, on the sandbox's API server
 * its mutateTemplates fault.
 */
export async function mutateTemplates(
  sandbox: Sandbox,
  admin: Cluster,
  annotations: Record<string, string>,
): Promise<{ undo(): Promise<void> }> {
  if (sandbox.controlPlane === 'sandbox') {
    sandbox.faults.mutateTemplates(annotations);
    return { undo: async () => sandbox.faults.clear() };
  }
  const name = 'truva-test-annotate';
  // JSON string literals are CEL string literals.
  const map = `{${Object.entries(annotations)
    .map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`)
    .join(', ')}}`;
  const call = (method: 'POST' | 'DELETE', path: string, resource: string, body?: unknown) =>
    admin.request(method, path, { verb: method === 'POST' ? 'create' : 'delete', resource }, body);
  await call('POST', MUTATING_POLICIES, 'mutatingadmissionpolicies', {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingAdmissionPolicy',
    metadata: { name },
    spec: {
      failurePolicy: 'Fail',
      reinvocationPolicy: 'Never',
      matchConstraints: {
        resourceRules: [
          { apiGroups: ['apps'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['deployments'] },
        ],
      },
      mutations: [
        {
          patchType: 'ApplyConfiguration',
          applyConfiguration: {
            expression: `Object{spec: Object.spec{template: Object.spec.template{metadata: Object.spec.template.metadata{annotations: ${map}}}}}`,
          },
        },
      ],
    },
  });
  await call('POST', MUTATING_BINDINGS, 'mutatingadmissionpolicybindings', {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingAdmissionPolicyBinding',
    metadata: { name },
    spec: { policyName: name },
  });
  // kube-apiserver applies the policy from an informer: wait on a dry-run create, both ways.
  const mutated = async () => {
    const created = await admin.request<any>(
      'POST',
      '/apis/apps/v1/namespaces/demo/deployments',
      { verb: 'create', resource: 'deployments', namespace: 'demo' },
      webDeployment('truva-mutate-probe', 1),
      { query: { dryRun: 'All' } },
    );
    const got = created.spec?.template?.metadata?.annotations ?? {};
    return Object.entries(annotations).every(([k, v]) => got[k] === v);
  };
  await waitFor(mutated, 30_000, 'the mutating admission policy to take effect');
  return {
    undo: async () => {
      await call('DELETE', `${MUTATING_BINDINGS}/${name}`, 'mutatingadmissionpolicybindings');
      await call('DELETE', `${MUTATING_POLICIES}/${name}`, 'mutatingadmissionpolicies');
      await waitFor(async () => !(await mutated()), 30_000, 'the mutating admission policy to be gone');
    },
  };
}
