// The defaults the real API server fills in when it decodes an object (pkg/apis/apps/v1 and
// pkg/apis/core/v1 defaults.go), so objects read back look like a cluster's. SetDefaults_PodSpec
// applies to every pod spec, a Deployment's template too; SetDefaults_Pod to Pods only.

export function applyDeploymentDefaults(d: any) {
  d.spec.replicas ??= 1;
  d.spec.revisionHistoryLimit ??= 10;
  d.spec.progressDeadlineSeconds ??= 600;
  d.spec.strategy ??= { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } };
  d.spec.template.metadata ??= {};
  applyPodSpecDefaults(d.spec.template.spec);
}

export function applyPodSpecDefaults(spec: any) {
  spec.restartPolicy ??= 'Always';
  for (const v of spec.volumes ?? []) {
    if (v.configMap) v.configMap.defaultMode ??= 420;
    if (v.secret) v.secret.defaultMode ??= 420;
  }
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  // serviceAccount is the deprecated alias the v1 conversion keeps equal to serviceAccountName.
  if (spec.serviceAccountName || spec.serviceAccount) {
    spec.serviceAccountName ||= spec.serviceAccount;
    spec.serviceAccount = spec.serviceAccountName;
  }
  for (const c of spec.containers ?? []) {
    // An image without a tag or with :latest is pulled always.
    const tag = /:([\w][\w.-]*)$/.exec(
      String(c.image ?? '')
        .split('@')[0]
        .split('/')
        .pop() ?? '',
    )?.[1];
    c.imagePullPolicy ??= !String(c.image).includes('@') && (!tag || tag === 'latest') ? 'Always' : 'IfNotPresent';
    for (const port of c.ports ?? []) port.protocol ??= 'TCP';
    c.terminationMessagePath ??= '/dev/termination-log';
    c.terminationMessagePolicy ??= 'File';
    c.resources ??= {};
    for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
      if (!probe) continue;
      if (probe.httpGet) probe.httpGet.scheme ??= 'HTTP';
      probe.timeoutSeconds ??= 1;
      probe.periodSeconds ??= 10;
      probe.successThreshold ??= 1;
      probe.failureThreshold ??= 3;
    }
  }
}

/** SetDefaults_Pod, then the pod spec's: what a Pod gets and a template does not. */
export function applyPodDefaults(spec: any) {
  // A limit without a request requests the limit (only on Pods, so templates stay as written).
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
    if (!c.resources?.limits) continue;
    c.resources.requests = { ...c.resources.limits, ...(c.resources.requests ?? {}) };
  }
  spec.enableServiceLinks ??= true;
  applyPodSpecDefaults(spec);
}
