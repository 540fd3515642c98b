// Dev mode for one deployment, done safely: preflight before touching anything; back up the pod
// template and replicas on the deployment itself (once: a second start reuses the first backup);
// replace only the chosen container's command with the supervisor; restore exactly, and refuse
// to overwrite silently when someone else changed the deployment meanwhile.
import { createHash } from 'node:crypto';
import type { Cluster } from '../kube/cluster';
import { ConflictError, ExecError, KubeError, NotFoundError } from '../kube/errors';
import type { Container, Deployment, Pod, PodTemplate } from '../kube/types';
import { isSupervisorCommand, parsePid, readPidCommand, restartCommand, supervisorCommand } from './supervisor';

/** The backup of the original template and replicas (JSON), stored on the deployment. */
export const BACKUP_ANNOTATION = 'truva.dev/backup';
/** Hash of the dev-mode template Truva applied: a different live template means someone else changed it. */
export const DEV_TEMPLATE_ANNOTATION = 'truva.dev/dev-template-hash';

const SYSTEM_DIRS = ['/', '/bin', '/boot', '/dev', '/etc', '/lib', '/lib64', '/proc', '/sbin', '/sys', '/usr', '/var'];

export interface Backup {
  namespace: string;
  deployment: string;
  template: PodTemplate;
  replicas: number;
  createdAt: string;
}

export interface DevModeOptions {
  namespace: string;
  deployment: string;
  /** Default: the pod's first container. */
  container?: string;
  /** The command to supervise; default: the container's own command and args. */
  run?: string[];
  keepProbes?: boolean;
  /** Replicas while in dev mode; default unchanged. */
  replicas?: number;
  rolloutTimeoutSeconds?: number;
  /** Remote sync paths, checked in preflight. */
  remotePaths?: string[];
  allowSystemPath?: boolean;
  /** Start Node with its inspector on this port in the container (truva.yaml `debug`, runtime node). */
  inspectPort?: number;
}

/** Preflight found a reason not to start; the deployment was not touched. */
export class PreflightError extends Error {
  override name = 'PreflightError';
}

/** The live template is not the one Truva applied: someone else changed the deployment. */
export class RestoreConflictError extends Error {
  override name = 'RestoreConflictError';
  constructor(
    readonly deployment: string,
    /** Top-level template fields that differ from what Truva applied, e.g. ["spec.containers[web].image"]. */
    readonly changes: string[],
  ) {
    super(
      `Deployment "${deployment}" was changed by someone else during the dev session (${changes.join(', ') || 'template'}). Restoring would overwrite that change: choose to restore anyway (force) or keep the deployment as it is.`,
    );
  }
}

/** The rollout did not finish; the message carries the pods' own reasons. */
export class RolloutError extends Error {
  override name = 'RolloutError';
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as any)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as any)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export function templateHash(template: unknown): string {
  return createHash('sha256').update(stableJson(template)).digest('hex').slice(0, 16);
}

/** Reads the backup a deployment carries, if it is in dev mode. */
export function readBackup(deployment: Deployment): Backup | undefined {
  const raw = deployment.metadata?.annotations?.[BACKUP_ANNOTATION];
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as Backup;
  } catch {
    throw new Error(
      `The Truva backup on deployment "${deployment.metadata?.name}" is not valid JSON; it was edited by hand. Remove the ${BACKUP_ANNOTATION} annotation and restore the deployment from your own manifests.`,
    );
  }
}

/** Problems with a remote sync path, or undefined when it is fine. */
export function remotePathProblem(path: string, allowSystemPath = false): string | undefined {
  if (!path.startsWith('/')) return `Remote path "${path}" is not absolute; use a path such as /app.`;
  if (path.split('/').includes('..')) return `Remote path "${path}" contains "..".`;
  const normal = path.replace(/\/+$/, '') || '/';
  if (
    !allowSystemPath &&
    SYSTEM_DIRS.some(
      (dir) =>
        normal === dir || (dir !== '/' && normal.startsWith(dir + '/') && ['/proc', '/sys', '/dev'].includes(dir)),
    )
  ) {
    return `Remote path "${path}" is a system directory; syncing there could break the container. Pick the app's folder (e.g. /app), or set allowSystemPath: true in truva.yaml if you really mean it.`;
  }
  return undefined;
}

/** The dev-mode pod template: only the chosen container changes. */
export function devTemplate(
  original: PodTemplate,
  containerName: string,
  opts: { run?: string[]; keepProbes?: boolean; inspectPort?: number },
): PodTemplate {
  const template = structuredClone(original);
  const container = template.spec!.containers.find((c) => c.name === containerName)!;
  const argv = opts.run ?? [...(container.command ?? []), ...(container.args ?? [])];
  if (argv.length === 0) {
    throw new PreflightError(
      `Container "${containerName}" has no command in its spec (the image's entrypoint runs), so Truva cannot tell what to restart. Set "run" in truva.yaml to the command that starts your app.`,
    );
  }
  container.command = supervisorCommand(argv, { inspectPort: opts.inspectPort });
  // Kubernetes expands $(VAR) in command and turns $$ into $; escape the script so the shell
  // sees it exactly as written ($$ is its own PID). The user's argv keeps Kubernetes semantics,
  // as it had in the original container.
  container.command[2] = container.command[2].replace(/\$/g, '$$$$');
  delete container.args;
  if (!opts.keepProbes) {
    delete container.livenessProbe;
    delete container.readinessProbe;
    delete container.startupProbe;
  }
  return template;
}

function templateChanges(applied: PodTemplate, live: PodTemplate): string[] {
  const changes: string[] = [];
  const a = applied.spec ?? ({} as any);
  const b = live.spec ?? ({} as any);
  if (stableJson(applied.metadata) !== stableJson(live.metadata)) changes.push('template metadata');
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (key === 'containers') continue;
    if (stableJson(a[key]) !== stableJson(b[key])) changes.push(`spec.${key}`);
  }
  const names = new Set([...(a.containers ?? []), ...(b.containers ?? [])].map((c: Container) => c.name));
  for (const name of names) {
    const ca = (a.containers ?? []).find((c: Container) => c.name === name);
    const cb = (b.containers ?? []).find((c: Container) => c.name === name);
    if (!ca || !cb) changes.push(`container ${name} ${ca ? 'removed' : 'added'}`);
    else
      for (const key of new Set([...Object.keys(ca), ...Object.keys(cb)]))
        if (stableJson(ca[key]) !== stableJson(cb[key])) changes.push(`containers[${name}].${key}`);
  }
  return changes;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class DevMode {
  private containerName: string | undefined;

  constructor(
    private readonly cluster: Cluster,
    readonly options: DevModeOptions,
  ) {}

  private get name() {
    return this.options.deployment;
  }

  private get namespace() {
    return this.options.namespace;
  }

  /** The container dev mode works on: the configured one, else the first. */
  containerOf(deployment: Deployment): Container {
    const containers = deployment.spec?.template?.spec?.containers ?? [];
    const wanted = this.options.container;
    const container = wanted ? containers.find((c) => c.name === wanted) : containers[0];
    if (!container) {
      throw new PreflightError(
        `Container "${wanted}" is not in deployment "${this.name}" (namespace "${this.namespace}"); it has ${containers.map((c) => `"${c.name}"`).join(', ')}. Set "container" in truva.yaml to one of them.`,
      );
    }
    return container;
  }

  /** Label selector of the deployment's pods. */
  selectorOf(deployment: Deployment): string {
    return Object.entries(deployment.spec?.selector?.matchLabels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
  }

  /** Checks everything a session needs, changing nothing. Throws PreflightError or a KubeError. */
  async preflight(): Promise<{ deployment: Deployment; container: string }> {
    const deployment = await this.cluster.getDeployment(this.name, this.namespace).catch((err) => {
      throw err instanceof NotFoundError ? this.notFound(err) : err;
    });
    const container = this.containerOf(deployment);
    for (const path of this.options.remotePaths ?? []) {
      const problem = remotePathProblem(path, this.options.allowSystemPath);
      if (problem) throw new PreflightError(problem);
    }
    for (const [verb, resource, group, sub] of [
      ['patch', 'deployments', 'apps', undefined],
      ['create', 'pods', '', 'exec'],
    ] as const) {
      const review = await this.cluster.selfSubjectAccessReview(verb, resource, group, this.namespace, sub);
      if (review.allowed === false) {
        const what = sub ? `${resource}/${sub}` : resource;
        throw new PreflightError(
          `Your Kubernetes user may not ${verb} ${what} in namespace "${this.namespace}" (RBAC), which a dev session needs. Ask a cluster admin for that permission, or switch to a context that has it.`,
        );
      }
    }
    if (!readBackup(deployment)) devTemplate(deployment.spec!.template!, container.name, this.options); // throws when there is no command to run
    const pod = (await this.cluster.listPods(this.selectorOf(deployment), this.namespace)).find(
      (p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp,
    );
    if (pod) await this.probeTools(pod, container);
    return { deployment, container: container.name };
  }

  /**
   * The API says only "not found" for a missing deployment and for a missing namespace alike:
   * find out which, and say what exists instead.
   */
  private async notFound(err: NotFoundError): Promise<NotFoundError> {
    const where = `context "${this.cluster.contextName}"`;
    const details = { status: 404, reason: err.reason, target: err.target, cause: err };
    const namespaces = await this.cluster.listNamespaces().then(
      (list) => list.map((n) => n.metadata!.name!),
      () => undefined,
    );
    if (namespaces && !namespaces.includes(this.namespace)) {
      return new NotFoundError(
        `Namespace "${this.namespace}" does not exist in ${where} (it has ${namespaces.map((n) => `"${n}"`).join(', ') || 'none'}). Set "namespace" in truva.yaml (or the truva.namespace setting) to the deployment's namespace.`,
        details,
      );
    }
    const deployments = await this.cluster.listDeployments({ namespace: this.namespace }).then(
      (list) => list.map((d) => d.metadata!.name!),
      () => undefined,
    );
    const has = deployments ? ` (it has ${deployments.map((d) => `"${d}"`).join(', ') || 'no deployments'})` : '';
    return new NotFoundError(
      `Deployment "${this.name}" was not found in namespace "${this.namespace}" of ${where}${has}. Set "deployment" in truva.yaml to one that exists, or check the namespace.`,
      details,
    );
  }

  /** Syncing needs `sh` and `tar` in the container: find out before the deployment changes. */
  private async probeTools(pod: Pod, container: Container) {
    const missing = (tool: string) =>
      new PreflightError(
        `Container "${container.name}" (image "${container.image}") has no ${tool}, which Truva needs to copy files into it. Use an image that has sh and tar (for example a -debug or -slim variant), or add them to your dev image.`,
      );
    const NO_TAR = 42; // an exit code sh itself never uses, so 126/127 still mean "no sh"
    let result;
    try {
      result = await this.cluster.exec(
        pod.metadata!.name!,
        container.name,
        ['sh', '-c', `command -v tar >/dev/null 2>&1 || exit ${NO_TAR}`],
        { namespace: this.namespace, timeoutMs: 15_000 },
      );
    } catch (err) {
      if (err instanceof ExecError) throw missing('sh');
      throw err;
    }
    if (result.exitCode === NO_TAR) throw missing('tar');
    if (result.exitCode !== 0) throw missing('sh');
  }

  /** Backs up (once), switches the container to the supervisor and waits for the rollout. */
  async enter(report: (message: string) => void = () => {}, signal?: AbortSignal): Promise<Backup> {
    let backup: Backup | undefined;
    await this.retryOnConflict(async () => {
      const deployment = await this.cluster.getDeployment(this.name, this.namespace);
      backup = readBackup(deployment) ?? {
        namespace: this.namespace,
        deployment: this.name,
        template: structuredClone(deployment.spec!.template!),
        replicas: deployment.spec?.replicas ?? 1,
        createdAt: new Date().toISOString(),
      };
      const container = this.containerOf({
        spec: { selector: deployment.spec!.selector, template: backup.template },
      } as Deployment);
      const template = devTemplate(backup.template, container.name, this.options);
      const next = structuredClone(deployment);
      next.metadata!.annotations = {
        ...(next.metadata!.annotations ?? {}),
        [BACKUP_ANNOTATION]: JSON.stringify(backup),
        [DEV_TEMPLATE_ANNOTATION]: templateHash(template),
      };
      next.spec!.template = template;
      if (this.options.replicas !== undefined) next.spec!.replicas = this.options.replicas;
      report(
        readBackup(deployment)
          ? 'Deployment already in dev mode: reusing its first backup'
          : 'Backed up the deployment; switching it to dev mode',
      );
      await this.cluster.replaceDeployment(next, { namespace: this.namespace });
    });
    await this.waitForRollout(report, signal);
    return backup!;
  }

  /** Puts the backed-up template and replicas back and waits for the rollout. */
  async restore(opts: { force?: boolean } = {}, report: (message: string) => void = () => {}): Promise<void> {
    let restored = false;
    await this.retryOnConflict(async () => {
      const deployment = await this.cluster.getDeployment(this.name, this.namespace);
      const backup = readBackup(deployment);
      if (!backup) return; // not in dev mode (already restored, or never entered)
      const appliedHash = deployment.metadata?.annotations?.[DEV_TEMPLATE_ANNOTATION];
      if (!opts.force && appliedHash && appliedHash !== templateHash(deployment.spec!.template)) {
        const applied = devTemplate(
          backup.template,
          this.containerOf({ spec: { template: backup.template } } as Deployment).name,
          this.options,
        );
        throw new RestoreConflictError(this.name, templateChanges(applied, deployment.spec!.template!));
      }
      const next = structuredClone(deployment);
      delete next.metadata!.annotations![BACKUP_ANNOTATION];
      delete next.metadata!.annotations![DEV_TEMPLATE_ANNOTATION];
      next.spec!.template = backup.template;
      next.spec!.replicas = backup.replicas;
      report('Restoring the original deployment');
      await this.cluster.replaceDeployment(next, { namespace: this.namespace });
      restored = true;
    });
    if (restored) await this.waitForRollout(report);
  }

  /** Asks the supervisor in one pod to restart the app; resolves with the new PID. */
  async restartProcess(pod: string): Promise<number> {
    const container = await this.devContainerName();
    const result = await this.cluster.exec(pod, container, restartCommand(), {
      namespace: this.namespace,
      timeoutMs: 20_000,
    });
    const pid = parsePid(result.stdout);
    if (result.exitCode !== 0 || pid === undefined) {
      throw new Error(
        `Could not restart the process in pod "${pod}": ${result.stderr.toString().trim() || `exit code ${result.exitCode}`}`,
      );
    }
    return pid;
  }

  /** The app's PID in a pod, or undefined while it is between restarts. */
  async processId(pod: string): Promise<number | undefined> {
    const container = await this.devContainerName();
    const result = await this.cluster.exec(pod, container, readPidCommand(), {
      namespace: this.namespace,
      timeoutMs: 10_000,
    });
    return parsePid(result.stdout);
  }

  /**
   * The dev container's name, looked up once: a restart after every save should not pay for
   * reading the deployment each time (the container cannot change during a session).
   */
  private async devContainerName(): Promise<string> {
    this.containerName ??=
      this.options.container ?? this.containerOf(await this.cluster.getDeployment(this.name, this.namespace)).name;
    return this.containerName;
  }

  /** A write that lost a race (409) is redone on a fresh read, a few times. */
  private async retryOnConflict(write: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await write();
      } catch (err) {
        if (!(err instanceof ConflictError) || attempt >= 5) throw err;
      }
    }
  }

  /** Waits until every replica runs the current template, reporting progress and pod problems. */
  async waitForRollout(report: (message: string) => void = () => {}, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + (this.options.rolloutTimeoutSeconds ?? 120) * 1000;
    let last = '';
    for (;;) {
      if (signal?.aborted) throw new Error('Cancelled while waiting for the rollout.');
      const d = await this.cluster.getDeployment(this.name, this.namespace);
      const s = d.status ?? {};
      const want = d.spec?.replicas ?? 1;
      const updated = s.updatedReplicas ?? 0;
      const available = s.availableReplicas ?? 0;
      if (
        (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
        updated === want &&
        (s.replicas ?? 0) === want &&
        available === want
      )
        return;
      const message = `Waiting for the rollout: ${updated} of ${want} pods updated, ${available} available`;
      if (message !== last) report((last = message));
      if (Date.now() > deadline)
        throw new RolloutError(
          `The rollout of deployment "${this.name}" did not finish in ${this.options.rolloutTimeoutSeconds ?? 120}s. ${await this.podProblems(d)}`.trim(),
        );
      const problems = await this.podProblems(d);
      if (/CrashLoopBackOff|ImagePullBackOff|ErrImagePull|CreateContainerConfigError/.test(problems))
        throw new RolloutError(`The rollout of deployment "${this.name}" is stuck: ${problems}`);
      await sleep(250);
    }
  }

  /** The waiting/terminated reasons of the deployment's pods, in the pods' own words. */
  private async podProblems(deployment: Deployment): Promise<string> {
    try {
      const pods = await this.cluster.listPods(this.selectorOf(deployment), this.namespace);
      const problems = pods.flatMap((p) =>
        (p.status?.containerStatuses ?? [])
          .flatMap((c) => {
            const w = c.state?.waiting;
            if (w && w.reason && w.reason !== 'ContainerCreating')
              return [`pod ${p.metadata?.name} container ${c.name}: ${w.reason}${w.message ? ` (${w.message})` : ''}`];
            return [];
          })
          .concat(
            p.status?.phase === 'Pending' && !(p.status?.containerStatuses ?? []).length
              ? [`pod ${p.metadata?.name} is Pending`]
              : [],
          ),
      );
      return problems.join('; ');
    } catch (err) {
      return err instanceof KubeError ? '' : String(err);
    }
  }
}

/** Every deployment in the context that Truva left in dev mode (after a crash, or from another machine). */
export async function findDevModeDeployments(cluster: Cluster): Promise<Backup[]> {
  let deployments: Deployment[];
  try {
    deployments = await cluster.listDeployments({ allNamespaces: true });
  } catch (err) {
    if (!(err instanceof KubeError && err.kind === 'forbidden')) throw err;
    deployments = await cluster.listDeployments({});
  }
  return deployments.flatMap((d) => {
    try {
      const backup = readBackup(d);
      return backup ? [{ ...backup, namespace: d.metadata!.namespace!, deployment: d.metadata!.name! }] : [];
    } catch {
      return [];
    }
  });
}

/** True when the container currently runs under Truva's supervisor. */
export function runsSupervisor(container: Container | undefined): boolean {
  return isSupervisorCommand(container?.command);
}
