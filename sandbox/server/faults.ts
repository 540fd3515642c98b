// Fault injection for the reliability tests: slow, failing or silent API requests, forced stream
// drops, killed containers and failing execs. Reached through the library object or the admin
// endpoint (/truva-admin/faults, its own token).
export interface FailRule {
  /** Substring or regular expression matched against the request path. */
  path?: string | RegExp;
  method?: string;
  /** 409 imitates a concurrent writer: the request fails as if someone else changed the object first. */
  status: 500 | 503 | 429 | 409;
  /** Fail this share of matching requests (0..1)... */
  fraction?: number;
  /** ...or exactly the next `count` matching requests. */
  count?: number;
}

export interface StreamCloser {
  /** Destroys every open watch, log and exec stream; returns how many were closed. */
  closeStreams(): number;
  /** Open exec streams stop passing data either way, without closing; returns how many. */
  silenceExecs(): number;
  killContainer(namespace: string, pod: string, container: string): void;
}

/** Pod creates refused by admission, or pods the scheduler cannot place, for one deployment or all. */
export interface PodAdmissionRule {
  kind: 'refuseCreate' | 'unschedulable';
  /** Only the pods of this deployment; all when absent. */
  deployment?: string;
  /** The refusal or Unschedulable message; `{pod}` is replaced by the pod's name. */
  message: string;
}

/**
 * Faults that only the sandbox's own API server can inject: they need its admission, its
 * controllers or its exec handler, which the real control plane does not let a test reach into.
 */
export type SandboxOnlyFault = 'podAdmission' | 'mutateTemplates' | 'failExec afterUpgrade';

export class Faults {
  private podRules: PodAdmissionRule[] = [];
  private templateAnnotations?: Record<string, string>;
  private dropRules: { path?: string | RegExp; method?: string; count: number }[] = [];
  private latencyMs = 0;
  private latencyPath?: string | RegExp;
  private rules: FailRule[] = [];
  private execFailures = 0;
  private execFraction = 0;
  private execAfterUpgrade = false;
  private execPod?: string;
  private hangUntil = 0;

  /** `unavailable`: the faults this control plane cannot inject; asking for one throws, naming it. */
  constructor(
    private readonly streams: StreamCloser,
    private readonly unavailable: readonly SandboxOnlyFault[] = [],
  ) {}

  private need(fault: SandboxOnlyFault): void {
    if (this.unavailable.includes(fault))
      throw new Error(
        `the fault ${fault} exists on the sandbox control plane only; a test that needs it runs there (sandboxSuite({ controlPlane: 'sandbox', why }) or sandboxOn('sandbox'))`,
      );
  }

  latency(ms: number, path?: string | RegExp): void {
    this.latencyMs = ms;
    this.latencyPath = path;
  }

  fail(rule: FailRule): void {
    this.rules.push({ ...rule });
  }

  /**
   * Execs fail: refused before the upgrade (500), or with `afterUpgrade` the way a node refuses
   * on a 1.30+ server (upgraded, then an InternalError Status on channel 3). `pod` limits it to
   * one pod.
   */
  failExec(options: { count?: number; fraction?: number; afterUpgrade?: boolean; pod?: string }): void {
    if (options.afterUpgrade) this.need('failExec afterUpgrade');
    this.execFailures = options.count ?? 0;
    this.execFraction = options.fraction ?? 0;
    this.execAfterUpgrade = options.afterUpgrade ?? false;
    this.execPod = options.pod;
  }

  /** Stop answering any request for `ms` (connections are accepted, nothing is sent). */
  hang(ms: number): void {
    this.hangUntil = Date.now() + ms;
  }

  closeStreams(): number {
    return this.streams.closeStreams();
  }

  /** Every open exec goes silent but stays open, as a connection whose far end vanished (a laptop that slept, a NAT that forgot it). */
  silenceExecs(): number {
    return this.streams.silenceExecs();
  }

  killContainer(namespace: string, pod: string, container: string): void {
    this.streams.killContainer(namespace, pod, container);
  }

  /**
   * Admission or the scheduler say no, as on a real cluster: a ResourceQuota, PodSecurity or a
   * webhook refuses the ReplicaSet's pod creates (refuseCreate), or no node fits (unschedulable).
   */
  podAdmission(rule: PodAdmissionRule): void {
    this.need('podAdmission');
    this.podRules.push({ ...rule });
  }

  refuseCreate(namespace: string, pod: string, deployment: string | undefined): string | undefined {
    const rule = this.podRules.find((r) => r.kind === 'refuseCreate' && (!r.deployment || r.deployment === deployment));
    return rule?.message.replace(/\{pod\}/g, pod);
  }

  unschedulable(_namespace: string, deployment: string | undefined): string | undefined {
    return this.podRules.find((r) => r.kind === 'unschedulable' && (!r.deployment || r.deployment === deployment))
      ?.message;
  }

  /**
   * A mutating admission webhook on Deployments (as Kyverno or Gatekeeper mutation run them):
   * every create and update gets these annotations added to its pod template.
   */
  mutateTemplates(annotations: Record<string, string>): void {
    this.need('mutateTemplates');
    this.templateAnnotations = { ...annotations };
  }

  /** Applies the mutating webhook, if one is set, to a deployment being written. */
  mutateDeployment(deployment: any): void {
    if (!this.templateAnnotations || !deployment?.spec?.template) return;
    const metadata = (deployment.spec.template.metadata ??= {});
    metadata.annotations = { ...(metadata.annotations ?? {}), ...this.templateAnnotations };
  }

  /**
   * The next `count` matching requests are carried out, but their answers are lost: the
   * connection is reset after the write, as a stale keep-alive socket behind a load balancer does.
   */
  dropResponses(rule: { path?: string | RegExp; method?: string; count: number }): void {
    this.dropRules.push({ ...rule });
  }

  dropsResponse(method: string, path: string): boolean {
    const rule = this.dropRules.find(
      (r) => r.count > 0 && (!r.method || r.method.toUpperCase() === method) && matches(r.path, path),
    );
    if (!rule) return false;
    rule.count--;
    return true;
  }

  clear(): void {
    this.podRules = [];
    this.templateAnnotations = undefined;
    this.dropRules = [];
    this.latencyMs = 0;
    this.latencyPath = undefined;
    this.rules = [];
    this.execFailures = 0;
    this.execFraction = 0;
    this.execAfterUpgrade = false;
    this.execPod = undefined;
    this.hangUntil = 0;
  }

  /** Milliseconds to hold the request before answering (latency, or the rest of a hang). */
  delayFor(path: string): number {
    const hang = Math.max(0, this.hangUntil - Date.now());
    const latency = this.latencyMs > 0 && matches(this.latencyPath, path) ? this.latencyMs : 0;
    return hang + latency;
  }

  /** The status to fail this request with, if a rule says so. */
  failureFor(method: string, path: string): number | undefined {
    for (const rule of this.rules) {
      if (rule.method && rule.method.toUpperCase() !== method) continue;
      if (!matches(rule.path, path)) continue;
      if (rule.count !== undefined) {
        if (rule.count <= 0) continue;
        rule.count--;
      } else if (Math.random() >= (rule.fraction ?? 1)) continue;
      return rule.status;
    }
    return undefined;
  }

  /** How an exec into `pod` fails now, if it does. */
  execFault(pod: string): 'refuse' | 'afterUpgrade' | undefined {
    if (this.execPod !== undefined && this.execPod !== pod) return undefined;
    if (!this.execShouldFail()) return undefined;
    return this.execAfterUpgrade ? 'afterUpgrade' : 'refuse';
  }

  private execShouldFail(): boolean {
    if (this.execFailures > 0) {
      this.execFailures--;
      return true;
    }
    if (this.execFraction > 0 && Math.random() < this.execFraction) {
      return true;
    }
    return false;
  }

  /** Applies an admin-endpoint request body: { action, ...arguments }. */
  apply(body: any): unknown {
    const regex = (p: unknown) =>
      typeof p === 'string' && p.startsWith('/') && p.endsWith('/') && p.length > 1
        ? new RegExp(p.slice(1, -1))
        : (p as string | undefined);
    switch (body?.action) {
      case 'latency':
        return this.latency(Number(body.ms), regex(body.path));
      case 'fail':
        return this.fail({
          path: regex(body.path),
          method: body.method,
          status: body.status,
          fraction: body.fraction,
          count: body.count,
        });
      case 'failExec':
        return this.failExec(body);
      case 'mutateTemplates':
        return this.mutateTemplates(body.annotations ?? {});
      case 'dropResponses':
        return this.dropResponses({ path: regex(body.path), method: body.method, count: Number(body.count ?? 1) });
      case 'podAdmission':
        return this.podAdmission({ kind: body.kind, deployment: body.deployment, message: String(body.message) });
      case 'hang':
        return this.hang(Number(body.ms));
      case 'closeStreams':
        return { closed: this.closeStreams() };
      case 'silenceExecs':
        return { silenced: this.silenceExecs() };
      case 'killContainer':
        return this.killContainer(body.namespace, body.pod, body.container);
      case 'clear':
        return this.clear();
      default:
        throw new Error(
          `unknown fault action "${body?.action}"; use latency, fail, failExec, podAdmission, mutateTemplates, dropResponses, hang, closeStreams, silenceExecs, killContainer or clear`,
        );
    }
  }
}

function matches(pattern: string | RegExp | undefined, path: string): boolean {
  if (pattern === undefined) return true;
  return typeof pattern === 'string' ? path.includes(pattern) : pattern.test(path);
}
