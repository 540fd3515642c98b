// Dev mode for one deployment, done safely: preflight before touching anything; back up the pod
// template and replicas on the deployment itself (once: a second start reuses the first backup);
// replace only the chosen container's command with the supervisor; restore exactly, and refuse
// to overwrite silently when someone else changed the deployment meanwhile.
import { createHash } from 'node:crypto';
import { DEFAULT_CONTAINER_ANNOTATION } from './defaultContainer';
import { remotePathProblem } from '../config/paths';
import type { Cluster } from '../kube/cluster';
import { DeploymentPods, REVISION_ANNOTATION, controllerUid } from '../kube/deploymentPods';
import { ConflictError, ExecError, KubeError, NotFoundError } from '../kube/errors';
import { FIELD_MANAGER } from '../kube/cluster';
import { handBackFields, type ManagedFieldsEntry } from '../kube/managedFields';
import { backoffDelay, sleep } from '../kube/resilience';
import { SelectorError } from '../kube/selectors';
import type { Container, ContainerStatus, Deployment, Pod, PodTemplate } from '../kube/types';
import {
  DEFAULT_STATE_DIR,
  isSupervisorCommand,
  parsePid,
  readPidCommand,
  restartCommand,
  supervisorCommand,
} from './supervisor';

/** The backup of the original template and replicas (JSON), stored on the deployment. */
export const BACKUP_ANNOTATION = 'truva.dev/backup';
/** On deployments in dev mode, so they are found by a label selector instead of by reading every deployment. */
export const DEV_MODE_LABEL = 'truva.dev/dev-mode';
/** Kubernetes' limit on the total size of an object's annotations (keys and values). */
export const ANNOTATIONS_LIMIT_BYTES = 256 * 1024;
/** Hash of the dev-mode template Truva applied: a different live template means someone else changed it. */
export const DEV_TEMPLATE_ANNOTATION = 'truva.dev/dev-template-hash';

export interface Backup {
  namespace: string;
  deployment: string;
  template: PodTemplate;
  replicas: number;
  createdAt: string;
  /** Who owned which fields before dev mode (metadata.managedFields), handed back on restore. */
  managedFields?: ManagedFieldsEntry[];
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
  /** Mount writable emptyDir volumes at the state folder and the remote paths (hardened pods). */
  emptyDir?: boolean;
  /** Start Node with its inspector on this port in the container (truva.yaml `debug`, runtime node). */
  inspectPort?: number;
  /** The session forwards ports (truva.yaml `ports` or `debug`): preflight checks pods/portforward too. */
  portForward?: boolean;
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

/** Refuses, readably, annotations the API server would refuse with a 422 for their size. */
function checkAnnotationSize(deployment: string, annotations: Record<string, string>): void {
  const size = (k: string, v: string) => Buffer.byteLength(k) + Buffer.byteLength(v);
  const total = Object.entries(annotations).reduce((n, [k, v]) => n + size(k, v), 0);
  if (total <= ANNOTATIONS_LIMIT_BYTES) return;
  const kib = (n: number) => `${Math.ceil(n / 1024)} KiB`;
  const others = Object.entries(annotations)
    .filter(([k, v]) => k !== BACKUP_ANNOTATION && size(k, v) >= 1024)
    .sort((a, b) => size(...b) - size(...a))
    .slice(0, 2)
    .map(([k, v]) => `${k} ${kib(size(k, v))}`)
    .join(', ');
  throw new PreflightError(
    `Deployment "${deployment}" cannot hold Truva's backup: its annotations would total ${kib(total)} (the backup of the pod template ${kib(size(BACKUP_ANNOTATION, annotations[BACKUP_ANNOTATION] ?? ''))}${others ? `, then ${others}` : ''}), over Kubernetes' limit of 256 KiB for all annotations, so the API server would refuse the change. Nothing was changed. Make the pod template smaller (large env values belong in a ConfigMap), or drop the kubectl.kubernetes.io/last-applied-configuration annotation by applying with --server-side.`,
  );
}

/**
 * The argv the container runs, when its spec says it. With no `command` the image's ENTRYPOINT
 * runs, which the API never shows: `args` alone are only its arguments, so running `args[0]`
 * as the program would start the wrong thing. Then the user has to say what to run.
 */
export function originalArgv(container: Container): string[] {
  const command = container.command ?? [];
  const args = container.args ?? [];
  if (command.length > 0) return [...command, ...args];
  const what =
    args.length > 0
      ? `has args (${JSON.stringify(args)}) but no command, so the image's entrypoint runs with them, and the API does not say what that entrypoint is`
      : `has no command in its spec (the image's entrypoint runs)`;
  throw new PreflightError(
    `Container "${container.name}" ${what}; Truva cannot tell what to run and restart. Set "run" in truva.yaml to the command that starts your app (for example run: ["node", "server.js"]).`,
  );
}

/** The dev-mode pod template: only the chosen container changes. */
export function devTemplate(
  original: PodTemplate,
  containerName: string,
  opts: { run?: string[]; keepProbes?: boolean; emptyDir?: boolean; remotePaths?: string[]; inspectPort?: number },
): PodTemplate {
  const template = structuredClone(original);
  const container = template.spec!.containers.find((c) => c.name === containerName)!;
  const argv = opts.run ?? originalArgv(container);
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
  if (opts.emptyDir) {
    // Hardened pods: a writable place for the supervisor's state and the synced files.
    const paths = [DEFAULT_STATE_DIR, ...(opts.remotePaths ?? [])];
    const volumes = paths.map((_, i) => ({ name: `truva-dev-${i}`, emptyDir: {} }));
    template.spec!.volumes = [...(template.spec!.volumes ?? []), ...volumes];
    container.volumeMounts = [
      ...(container.volumeMounts ?? []).filter((m) => !paths.includes(m.mountPath)),
      ...paths.map((mountPath, i) => ({ name: `truva-dev-${i}`, mountPath })),
    ];
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

/** One permission a dev session uses, and what for (the README's Role manifest lists the same rules). */
export interface AccessNeed {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  why: string;
}

/** Every permission a session uses, as the API authorises Truva's requests. */
export const REQUIRED_ACCESS: readonly AccessNeed[] = [
  { verb: 'get', group: 'apps', resource: 'deployments', why: 'read the deployment' },
  { verb: 'update', group: 'apps', resource: 'deployments', why: 'enter and restore replace it with a PUT' },
  { verb: 'list', group: 'apps', resource: 'replicasets', why: "tell the deployment's pods from others" },
  { verb: 'watch', group: 'apps', resource: 'replicasets', why: "tell the deployment's pods from others" },
  { verb: 'list', group: '', resource: 'pods', why: "find the deployment's pods" },
  { verb: 'watch', group: '', resource: 'pods', why: 'follow pods as they come and go' },
  // A WebSocket exec is a GET, authorised as get; servers from 1.35 also require create.
  { verb: 'get', group: '', resource: 'pods', subresource: 'exec', why: 'exec over WebSocket' },
  { verb: 'create', group: '', resource: 'pods', subresource: 'exec', why: 'exec over WebSocket on 1.35+' },
  { verb: 'get', group: '', resource: 'pods', subresource: 'log', why: 'follow the logs' },
];

/** What truva.yaml `ports` and `debug` need besides (checked in preflight when either is set). */
export const PORT_FORWARD_ACCESS: readonly AccessNeed[] = [
  { verb: 'get', group: '', resource: 'pods', subresource: 'portforward', why: 'forward ports over WebSocket' },
  {
    verb: 'create',
    group: '',
    resource: 'pods',
    subresource: 'portforward',
    why: 'forward ports over WebSocket on 1.35+',
  },
];

function accessName(need: AccessNeed): string {
  return need.subresource ? `${need.resource}/${need.subresource}` : need.resource;
}

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

  /**
   * The container dev mode works on, as kubectl picks one: the configured one, else the one the
   * pod template's kubectl.kubernetes.io/default-container annotation names, else the first.
   */
  containerOf(deployment: Deployment): Container {
    const containers = deployment.spec?.template?.spec?.containers ?? [];
    const annotated = deployment.spec?.template?.metadata?.annotations?.[DEFAULT_CONTAINER_ANNOTATION];
    if (!this.options.container && annotated && !containers.some((c) => c.name === annotated)) {
      throw new PreflightError(
        `The ${DEFAULT_CONTAINER_ANNOTATION} annotation of deployment "${this.name}" names container "${annotated}", which is not in its pod template (it has ${containers.map((c) => `"${c.name}"`).join(', ')}). Set "container" in truva.yaml, or fix the annotation.`,
      );
    }
    const wanted = this.options.container ?? annotated;
    const container = wanted ? containers.find((c) => c.name === wanted) : containers[0];
    if (!container) {
      throw new PreflightError(
        `Container "${wanted}" is not in deployment "${this.name}" (namespace "${this.namespace}"); it has ${containers.map((c) => `"${c.name}"`).join(', ')}. Set "container" in truva.yaml to one of them.`,
      );
    }
    return container;
  }

  /** The deployment's own pods (selector and ReplicaSet ownership); an empty selector is a PreflightError. */
  podsOf(deployment: Deployment): DeploymentPods {
    try {
      return new DeploymentPods(this.cluster, deployment);
    } catch (err) {
      throw err instanceof SelectorError ? new PreflightError(err.message) : err;
    }
  }

  /** Checks everything a session needs, changing nothing. Throws PreflightError or a KubeError. */
  async preflight(): Promise<{ deployment: Deployment; container: string }> {
    const deployment = await this.cluster.getDeployment(this.name, this.namespace).catch((err) => {
      throw err instanceof NotFoundError ? this.notFound(err) : err;
    });
    const container = this.containerOf(deployment);
    for (const path of this.options.remotePaths ?? []) {
      const problem = remotePathProblem(path, this.options.allowSystemPath ?? false);
      if (problem) throw new PreflightError(problem.message);
    }
    const pods = this.podsOf(deployment); // refuses an empty selector before anything else
    await this.checkAccess();
    if (!readBackup(deployment)) {
      devTemplate(deployment.spec!.template!, container.name, this.options); // throws when there is no command to run
      const backup: Backup = {
        namespace: this.namespace,
        deployment: this.name,
        template: deployment.spec!.template!,
        replicas: deployment.spec?.replicas ?? 1,
        createdAt: new Date().toISOString(),
        managedFields: deployment.metadata?.managedFields as ManagedFieldsEntry[] | undefined,
      };
      checkAnnotationSize(this.name, {
        ...(deployment.metadata?.annotations ?? {}),
        [BACKUP_ANNOTATION]: JSON.stringify(backup),
        [DEV_TEMPLATE_ANNOTATION]: '0123456789abcdef',
      });
    }
    const pod = (await pods.list()).find((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
    if (pod) await this.probeTools(pod, container);
    return { deployment, container: container.name };
  }

  /**
   * Asks the API (SelfSubjectAccessReview) for every permission a session uses, and refuses
   * with all the missing ones at once. A server that cannot answer reviews is not a refusal.
   */
  private async checkAccess(): Promise<void> {
    const reviews = await Promise.all(
      [...REQUIRED_ACCESS, ...(this.options.portForward ? PORT_FORWARD_ACCESS : [])].map(async (need) => ({
        need,
        review: await this.cluster.selfSubjectAccessReview(
          need.verb,
          need.resource,
          need.group,
          this.namespace,
          need.subresource,
        ),
      })),
    );
    const missing = reviews.filter((r) => r.review.allowed === false).map((r) => r.need);
    if (missing.length === 0) return;
    const list = missing.map((m) => `${m.verb} ${accessName(m)} (${m.why})`).join('; ');
    throw new PreflightError(
      `Your Kubernetes user may not ${list} in namespace "${this.namespace}" (RBAC), which a dev session needs. Nothing was changed. Ask a cluster admin for a Role with these rules (the README has one), or switch to a context that has them.`,
    );
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
    const NO_TAR = 42; // exit codes sh itself never uses, so 126/127 still mean "no sh"
    const NOT_WRITABLE = 43;
    // The folders dev mode writes, checked as the container's own user (an exec runs as it):
    // a read-only root filesystem or a non-root user cannot write everywhere root can.
    const folders = this.options.emptyDir ? [] : [DEFAULT_STATE_DIR, ...(this.options.remotePaths ?? [])];
    const script = `command -v tar >/dev/null 2>&1 || exit ${NO_TAR}
for d in "$@"; do
  t="$d/.truva-write-check.$$"
  # In a subshell: a failed redirection of ":" (a special builtin) would end the shell itself.
  { mkdir -p "$d" && (: > "$t") && rm -f "$t"; } 2>/dev/null || { echo "$d"; id -u 2>/dev/null; exit ${NOT_WRITABLE}; }
done`;
    let result;
    try {
      result = await this.cluster.exec(
        pod.metadata!.name!,
        container.name,
        ['sh', '-c', script, 'truva-preflight', ...folders],
        { namespace: this.namespace, timeoutMs: 15_000 },
      );
    } catch (err) {
      // A missing sh is an InternalError too on a real server; a container that stopped is not.
      if (err instanceof ExecError && !/container not found|not running|does not exist/i.test(err.message))
        throw missing('sh');
      throw err;
    }
    if (result.exitCode === NO_TAR) throw missing('tar');
    if (result.exitCode === NOT_WRITABLE) {
      const [folder, uid] = result.stdout.toString().trim().split('\n');
      const who = uid ? `user ${uid}` : "the container's user";
      const what =
        folder === DEFAULT_STATE_DIR
          ? `Truva's state folder ${folder}, where the supervisor keeps its PID files`
          : `the remote path ${folder}`;
      throw new PreflightError(
        `Container "${container.name}", running as ${who}, cannot write ${what} (a read-only root filesystem, or a folder only root may write). Nothing was changed. Set devMode.emptyDir: true in truva.yaml so dev mode mounts a writable emptyDir at ${DEFAULT_STATE_DIR} and at each remote path (the image's files at the remote path are hidden; the initial sync brings yours)${folder === DEFAULT_STATE_DIR ? '' : ', or pick a remote path that user can write'}.`,
      );
    }
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
        managedFields: deployment.metadata?.managedFields as ManagedFieldsEntry[] | undefined,
      };
      const container = this.containerOf({
        spec: { selector: deployment.spec!.selector, template: backup.template },
      } as Deployment);
      const template = devTemplate(backup.template, container.name, this.options);
      const next = structuredClone(deployment);
      next.metadata!.labels = { ...(next.metadata!.labels ?? {}), [DEV_MODE_LABEL]: 'true' };
      next.metadata!.annotations = {
        ...(next.metadata!.annotations ?? {}),
        [BACKUP_ANNOTATION]: JSON.stringify(backup),
        [DEV_TEMPLATE_ANNOTATION]: templateHash(template),
      };
      checkAnnotationSize(this.name, next.metadata!.annotations);
      next.spec!.template = template;
      if (this.options.replicas !== undefined) next.spec!.replicas = this.options.replicas;
      report(
        readBackup(deployment)
          ? 'Deployment already in dev mode: reusing its first backup'
          : 'Backed up the deployment; switching it to dev mode',
      );
      // A PUT carries the resourceVersion, so repeating it after a dropped connection is safe:
      // if the first one landed, the repeat meets 409 and the write is redone on a fresh read.
      const stored = await this.cluster.replaceDeployment(next, { namespace: this.namespace, safeToRetry: true });
      // The hash is of what the server stored: a mutating webhook may have changed the template.
      const storedHash = templateHash(stored.spec!.template);
      if (storedHash !== next.metadata!.annotations[DEV_TEMPLATE_ANNOTATION]) {
        stored.metadata!.annotations = { ...stored.metadata!.annotations, [DEV_TEMPLATE_ANNOTATION]: storedHash };
        await this.cluster.replaceDeployment(stored, { namespace: this.namespace, safeToRetry: true });
      }
    });
    await this.waitForRollout(report, signal);
    return backup!;
  }

  /** Puts the backed-up template and replicas back and waits for the rollout. */
  async restore(opts: { force?: boolean } = {}, report: (message: string) => void = () => {}): Promise<void> {
    let restored = false;
    let earlierOwners: ManagedFieldsEntry[] | undefined;
    await this.retryOnConflict(async () => {
      const deployment = await this.cluster.getDeployment(this.name, this.namespace);
      const backup = readBackup(deployment);
      if (!backup) return; // not in dev mode (already restored, or never entered)
      restored = true;
      const live = deployment.spec!.template!;
      // GitOps (Argo CD self-heal, Flux) may have put the original back already: nothing to overwrite.
      const alreadyOriginal = stableJson(live) === stableJson(backup.template);
      const appliedHash = deployment.metadata?.annotations?.[DEV_TEMPLATE_ANNOTATION];
      if (!opts.force && !alreadyOriginal && appliedHash && appliedHash !== templateHash(live)) {
        const applied = devTemplate(
          backup.template,
          this.containerOf({ spec: { template: backup.template } } as Deployment).name,
          this.options,
        );
        throw new RestoreConflictError(this.name, templateChanges(applied, live));
      }
      const next = structuredClone(deployment);
      delete next.metadata!.annotations![BACKUP_ANNOTATION];
      delete next.metadata!.annotations![DEV_TEMPLATE_ANNOTATION];
      if (next.metadata!.labels) delete next.metadata!.labels[DEV_MODE_LABEL];
      next.spec!.template = backup.template;
      next.spec!.replicas = backup.replicas;
      report(
        alreadyOriginal
          ? 'The original template is back already; removing the backup'
          : 'Restoring the original deployment',
      );
      earlierOwners = backup.managedFields;
      await this.cluster.replaceDeployment(next, { namespace: this.namespace, safeToRetry: true });
    });
    if (!restored) return;
    if (earlierOwners?.length) await this.handBackFields(earlierOwners);
    await this.waitForRollout(report);
    await this.forgetDevRevisions(report);
  }

  /**
   * The restore PUT made Truva the owner of every field it put back: hand them to the managers
   * that owned them before dev mode, so their next server-side apply neither conflicts on them
   * nor keeps fields it has dropped. A PUT that changes only managedFields changes nothing else.
   */
  private async handBackFields(earlierOwners: ManagedFieldsEntry[]): Promise<void> {
    await this.retryOnConflict(async () => {
      const live = await this.cluster.getDeployment(this.name, this.namespace);
      const fields = handBackFields(
        live.metadata?.managedFields as ManagedFieldsEntry[] | undefined,
        earlierOwners,
        FIELD_MANAGER,
      );
      if (!fields || readBackup(live)) return; // nothing of Truva's, or in dev mode again
      live.metadata!.managedFields = fields as never;
      await this.cluster.replaceDeployment(live, { namespace: this.namespace, safeToRetry: true });
    });
  }

  /**
   * Deletes the deployment's dev-mode ReplicaSets (scaled to zero by now). They carry the backup
   * annotation (the controller copies a deployment's annotations onto its ReplicaSets), and
   * `kubectl rollout undo` to their revision would copy template and annotations back: dev mode
   * again, with no session. Without permission to delete them, says so and leaves them.
   */
  private async forgetDevRevisions(report: (message: string) => void): Promise<void> {
    try {
      const deployment = await this.cluster.getDeployment(this.name, this.namespace);
      const sets = await this.cluster.listReplicaSets(this.podsOf(deployment).selector, this.namespace);
      for (const rs of sets) {
        const ours = controllerUid(rs, 'Deployment') === deployment.metadata?.uid;
        const dev = (rs.spec?.template?.spec?.containers ?? []).some((c) => isSupervisorCommand(c.command));
        if (ours && dev && (rs.spec?.replicas ?? 0) === 0)
          await this.cluster.deleteReplicaSet(rs.metadata!.name!, this.namespace);
      }
    } catch (err) {
      if (!(err instanceof KubeError)) throw err;
      report(
        `The dev-mode revision of deployment "${this.name}" stays in its rollout history (${err.message}); \`kubectl rollout undo\` to it would bring dev mode back.`,
      );
    }
  }

  /** Asks the supervisor in one pod to restart the app; resolves with the new PID. */
  /** `run`: how to run the command in the container (the sync engine's pod shell); default an exec. */
  async restartProcess(
    pod: string,
    run?: (command: string[]) => Promise<{ exitCode: number; stdout: Buffer; stderr: Buffer }>,
  ): Promise<number> {
    const container = await this.devContainerName();
    const result = await (
      run ?? ((command) => this.cluster.exec(pod, container, command, { namespace: this.namespace, timeoutMs: 20_000 }))
    )(restartCommand());
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

  /** A write that lost a race (409) is redone on a fresh read, a few times, backing off so two writers part. */
  private async retryOnConflict(write: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await write();
      } catch (err) {
        if (!(err instanceof ConflictError) || attempt >= 5) throw err;
      }
      await sleep(backoffDelay(attempt, { initialDelayMs: 50, maxDelayMs: 1_000 }));
    }
  }

  /**
   * Waits until every replica runs the current template, reporting progress. Fails, quoting the
   * cluster's own reason, as soon as the rollout cannot finish: the deployment is paused, its
   * progress deadline passed, the ReplicaSet cannot create pods (quota, pod security, an
   * admission webhook; once that has lasted REPLICA_FAILURE_CONFIRM_MS), a pod cannot be
   * scheduled, or a container cannot be created or started.
   */
  async waitForRollout(report: (message: string) => void = () => {}, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + (this.options.rolloutTimeoutSeconds ?? 120) * 1000;
    let last = '';
    let failingSince: number | undefined;
    for (;;) {
      if (signal?.aborted) throw new Error('Cancelled while waiting for the rollout.');
      const d = await this.cluster.getDeployment(this.name, this.namespace);
      const s = d.status ?? {};
      const want = d.spec?.replicas ?? 1;
      const updated = s.updatedReplicas ?? 0;
      const available = s.availableReplicas ?? 0;
      const observed = (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
      if (observed && updated === want && (s.replicas ?? 0) === want && available === want) return;
      // Pods tell why only once the controller has seen this generation (so its revision is the
      // current template's), and only those of the current ReplicaSet: the old ones are going.
      const failing = hasReplicaFailure(d) && (await this.currentSetFails(d));
      // A ReplicaSet keeps its FailedCreate until its controller next syncs it, so a quota or a
      // policy just lifted still shows for a moment: a failure counts once it has lasted.
      failingSince = failing ? (failingSince ?? Date.now()) : undefined;
      const confirmed = failingSince !== undefined && Date.now() - failingSince >= REPLICA_FAILURE_CONFIRM_MS;
      const stuck =
        rolloutBlocker(d, observed, { replicaFailure: confirmed }) ?? (observed ? await this.podProblems(d, true) : '');
      if (stuck) throw new RolloutError(`The rollout of deployment "${this.name}" cannot finish: ${stuck}`);
      const message = `Waiting for the rollout: ${updated} of ${want} pods updated, ${available} available`;
      if (message !== last) report((last = message));
      if (Date.now() > deadline)
        throw new RolloutError(
          `The rollout of deployment "${this.name}" did not finish in ${this.options.rolloutTimeoutSeconds ?? 120}s. ${await this.podProblems(d, false)}`.trim(),
        );
      await sleep(250, signal);
    }
  }

  /**
   * Whether the deployment's current ReplicaSet itself cannot create pods. A ReplicaFailure on
   * the Deployment may be an old ReplicaSet's: the deployment controller reports one when the
   * new set has none, and the old set (a dev ReplicaSet refused by a quota, say) keeps it until
   * its own controller next syncs it. Such a failure does not block this rollout.
   */
  private async currentSetFails(deployment: Deployment): Promise<boolean> {
    const revision = deployment.metadata?.annotations?.[REVISION_ANNOTATION];
    try {
      const sets = await this.cluster.listReplicaSets(this.podsOf(deployment).selector, this.namespace);
      const current = sets.find(
        (rs) =>
          controllerUid(rs, 'Deployment') === deployment.metadata?.uid &&
          rs.metadata?.annotations?.[REVISION_ANNOTATION] === revision,
      );
      return (current?.status?.conditions ?? []).some((c) => c.type === REPLICA_FAILURE && c.status === 'True');
    } catch (err) {
      if (err instanceof KubeError) return false; // looked at again on the next round
      throw err;
    }
  }

  /**
   * The pods' own reasons (waiting containers, unschedulable pods). With `fatal`, only those
   * that will not resolve by waiting, or '' when there is none.
   */
  private async podProblems(deployment: Deployment, fatal: boolean): Promise<string> {
    try {
      const pods = await this.podsOf(deployment).list({
        revision: deployment.metadata?.annotations?.[REVISION_ANNOTATION],
      });
      const problems = pods.flatMap((p) => {
        const name = p.metadata?.name;
        const waiting = (p.status?.containerStatuses ?? []).flatMap((c) => {
          const w = c.state?.waiting;
          if (!w?.reason || w.reason === 'ContainerCreating' || (fatal && !FATAL_WAITING.test(w.reason))) return [];
          return [`pod ${name} container ${c.name}: ${waitingReason(c)}`];
        });
        const unscheduled = (p.status?.conditions ?? []).find(
          (c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable',
        );
        if (unscheduled) waiting.push(`pod ${name} is Unschedulable: ${unscheduled.message ?? 'no node fits it'}`);
        else if (!fatal && p.status?.phase === 'Pending' && !(p.status?.containerStatuses ?? []).length)
          waiting.push(`pod ${name} is Pending`);
        return waiting;
      });
      return problems.join('; ');
    } catch (err) {
      return err instanceof KubeError ? '' : String(err);
    }
  }
}

/** Container waiting reasons that do not go away by waiting (kubelet's and the runtime's names). */
const FATAL_WAITING =
  /^(CrashLoopBackOff|ImagePullBackOff|ErrImagePull|InvalidImageName|ErrImageNeverPull|CreateContainerConfigError|CreateContainerError|RunContainerError)$/;

/**
 * A waiting container's reason and message; for a back-off, also how it last ended. A
 * CrashLoopBackOff only says that the kubelet waits: why is in the last state (a process that
 * exited, or a StartError with the runtime's message when the program could not be started,
 * which the kubelet showed as RunContainerError just before).
 */
export function waitingReason(c: ContainerStatus): string {
  const w = c.state!.waiting!;
  const said = `${w.reason}${w.message ? ` (${w.message})` : ''}`;
  const last = c.lastState?.terminated;
  if (w.reason !== 'CrashLoopBackOff' || !last) return said;
  const detail = [last.reason, `exit code ${last.exitCode}`].filter(Boolean).join(', ');
  return `${said}; it last ended with ${detail}${last.message ? `: ${last.message.trim()}` : ''}`;
}

const REPLICA_FAILURE = 'ReplicaFailure';

/**
 * How long the current ReplicaSet must go on failing to create pods before the rollout counts as
 * stuck. The reliability run's restore after a ValidatingAdmissionPolicy was deleted (and a dry
 * run admitted again) found the ReplicaSet still saying FailedCreate from before.
 */
const REPLICA_FAILURE_CONFIRM_MS = 3_000;

function hasReplicaFailure(d: Deployment): boolean {
  return (d.status?.conditions ?? []).some((c) => c.type === REPLICA_FAILURE && c.status === 'True');
}

/**
 * Why the deployment's status says the rollout cannot finish, in the controller's words; undefined
 * if it can. `replicaFailure: false`: its ReplicaFailure condition is an old ReplicaSet's, not this rollout's.
 */
export function rolloutBlocker(
  d: Deployment,
  observed: boolean,
  opts: { replicaFailure?: boolean } = {},
): string | undefined {
  if (d.spec?.paused)
    return (
      'it is paused (spec.paused), so no new pods are rolled out. Resume it (kubectl rollout resume deployment/' +
      `${d.metadata?.name}) and start again.`
    );
  if (!observed) return undefined; // the conditions are of an older generation
  const conditions = d.status?.conditions ?? [];
  const failure = conditions.find((c) => c.type === REPLICA_FAILURE && c.status === 'True');
  if (failure && opts.replicaFailure !== false)
    return `${failure.reason ?? REPLICA_FAILURE}: ${failure.message ?? 'the ReplicaSet cannot create pods'}`;
  const progressing = conditions.find((c) => c.type === 'Progressing');
  if (progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded')
    return `ProgressDeadlineExceeded: ${progressing.message ?? 'the rollout made no progress within spec.progressDeadlineSeconds'}`;
  return undefined;
}

/**
 * Every deployment in the context that Truva left in dev mode (after a crash, or from another
 * machine): selected by Truva's label, page by page, instead of reading every deployment.
 */
export async function findDevModeDeployments(cluster: Cluster): Promise<Backup[]> {
  let deployments: Deployment[];
  try {
    deployments = await cluster.listDeployments({ allNamespaces: true, labelSelector: DEV_MODE_LABEL });
  } catch (err) {
    if (!(err instanceof KubeError && err.kind === 'forbidden')) throw err;
    deployments = await cluster.listDeployments({ labelSelector: DEV_MODE_LABEL });
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
