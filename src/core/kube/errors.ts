// Typed Kubernetes errors whose messages a user can act on. Every failure that leaves the
// kube layer is one of these, so callers switch on `kind` instead of parsing text.
// Messages never include request headers or credentials.

export type KubeErrorKind =
  | 'unreachable'
  | 'unauthorized'
  | 'forbidden'
  | 'notFound'
  | 'conflict'
  | 'timeout'
  | 'invalid'
  | 'gone'
  | 'throttled'
  | 'server'
  | 'exec'
  | 'config'
  | 'unknown';

/** What the failed call was about, used to phrase messages ("patch deployments in namespace demo"). */
export interface CallTarget {
  /** Kubernetes verb: get, list, watch, create, update, patch, delete. */
  verb: string;
  /** Plural resource, with subresource after a slash: deployments, pods, pods/exec, pods/log. */
  resource: string;
  name?: string;
  namespace?: string;
  context?: string;
  user?: string;
  server?: string;
}

export class KubeError extends Error {
  /** HTTP status when the API answered, else undefined. */
  readonly status?: number;
  /** The Status `reason` the API gave (e.g. "NotFound", "AlreadyExists"), if any. */
  readonly reason?: string;
  readonly target?: CallTarget;
  /** Seconds the server asked us to wait (Retry-After), if it said. */
  readonly retryAfterSeconds?: number;

  constructor(
    readonly kind: KubeErrorKind,
    message: string,
    details: {
      status?: number;
      reason?: string;
      target?: CallTarget;
      retryAfterSeconds?: number;
      cause?: unknown;
    } = {},
  ) {
    super(message, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.name = new.target.name;
    this.status = details.status;
    this.reason = details.reason;
    this.target = details.target;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}

export class ApiUnreachableError extends KubeError {
  constructor(message: string, details: ConstructorParameters<typeof KubeError>[2] = {}) {
    super('unreachable', message, details);
  }
}
export class UnauthorizedError extends KubeError {
  constructor(message: string, details: ConstructorParameters<typeof KubeError>[2] = {}) {
    super('unauthorized', message, details);
  }
}
export class ForbiddenError extends KubeError {
  constructor(message: string, details: ConstructorParameters<typeof KubeError>[2] = {}) {
    super('forbidden', message, details);
  }
}
export class NotFoundError extends KubeError {
  constructor(message: string, details: ConstructorParameters<typeof KubeError>[2] = {}) {
    super('notFound', message, details);
  }
}
export class ConflictError extends KubeError {
  constructor(message: string, details: ConstructorParameters<typeof KubeError>[2] = {}) {
    super('conflict', message, details);
  }
}
export class TimeoutError extends KubeError {
  constructor(message: string, details: ConstructorParameters<typeof KubeError>[2] = {}) {
    super('timeout', message, details);
  }
}
/** 410 Gone: a watch's resourceVersion is too old; the caller must list again. */
export class GoneError extends KubeError {
  constructor(message: string, details: ConstructorParameters<typeof KubeError>[2] = {}) {
    super('gone', message, details);
  }
}
/** The command could not be started in the container (no such binary, container not running). */
export class ExecError extends KubeError {
  constructor(message: string, details: ConstructorParameters<typeof KubeError>[2] = {}) {
    super('exec', message, details);
  }
}
/** Kubeconfig missing, unreadable, or naming a context that does not exist. */
export class KubeConfigError extends KubeError {
  constructor(message: string, details: ConstructorParameters<typeof KubeError>[2] = {}) {
    super('config', message, details);
  }
}

/** The parts of a Kubernetes `Status` object we read. */
interface StatusBody {
  kind?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; kind?: string; group?: string; causes?: { message?: string; field?: string }[] };
}

/** One-word singular for messages: deployments -> deployment, pods/exec -> pod. */
function singular(resource: string): string {
  const base = resource.split('/')[0];
  return base.endsWith('s') ? base.slice(0, -1) : base;
}

/** `deployment "web" in namespace "demo"`, `deployments in namespace "demo"`, `namespaces`. */
export function describeTarget(t: CallTarget): string {
  const where = t.namespace ? ` in namespace "${t.namespace}"` : '';
  if (t.name) return `${singular(t.resource)} "${t.name}"${where}`;
  return `${t.resource}${where}`;
}

/**
 * What the call was doing, for messages: an exec is an exec ("exec into pod "web-1""), not the
 * "create pod" its RBAC verb would suggest; a log read is a log read.
 */
export function describeAction(t: CallTarget | undefined, fallback: string): string {
  if (!t) return fallback;
  const where = t.namespace ? ` in namespace "${t.namespace}"` : '';
  if (t.resource === 'pods/exec') return `exec into pod "${t.name ?? ''}"${where}`;
  if (t.resource === 'pods/log') return `read the log of pod "${t.name ?? ''}"${where}`;
  return `${t.verb} ${describeTarget(t)}`;
}

function whoAmI(t?: CallTarget): string {
  if (!t) return 'the current user';
  const user = t.user ? `user "${t.user}"` : 'the current user';
  return t.context ? `${user} (context "${t.context}")` : user;
}

function parseStatusBody(body: unknown): StatusBody | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    const text = body.toString();
    try {
      const parsed = JSON.parse(text);
      return typeof parsed === 'object' && parsed ? parsed : undefined;
    } catch {
      return text.trim() ? { message: text.trim().slice(0, 500) } : undefined;
    }
  }
  if (typeof body === 'object') return body as StatusBody;
  return undefined;
}

/** Builds the typed error for an HTTP answer outside 2xx. */
export function errorFromStatus(
  status: number,
  body: unknown,
  target?: CallTarget,
  headers: Record<string, string | string[] | undefined> = {},
): KubeError {
  const parsed = parseStatusBody(body);
  const serverMessage = parsed?.message;
  const reason = parsed?.reason;
  const retryAfterHeader = headers['retry-after'];
  const retryAfter = Number(Array.isArray(retryAfterHeader) ? retryAfterHeader[0] : retryAfterHeader);
  const details = {
    status,
    reason,
    target,
    retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
  };
  const what = target ? describeTarget(target) : 'the resource';
  const said = serverMessage ? ` The API server said: ${serverMessage}` : '';
  switch (status) {
    case 401:
      return new UnauthorizedError(
        `The cluster rejected the credentials of ${whoAmI(target)} (401 Unauthorized): they are expired or wrong. ` +
          `Log in again or refresh the kubeconfig.`,
        details,
      );
    case 403: {
      const ns = target?.namespace ? ` in namespace "${target.namespace}"` : '';
      const may =
        target?.resource === 'pods/exec'
          ? `exec into pods${ns} (a WebSocket exec needs get and, from Kubernetes 1.35, create on pods/exec)`
          : `${target?.verb ?? 'access'} ${target?.resource ?? 'this resource'}${ns}`;
      return new ForbiddenError(
        `RBAC refused: ${whoAmI(target)} may not ${may} (403 Forbidden). ` +
          `Ask a cluster admin for that permission or switch to another context.${said}`,
        details,
      );
    }
    case 404: {
      if (target && (target.name || target.namespace)) {
        return new NotFoundError(`${capitalize(what)} was not found (404).${said}`, details);
      }
      return new NotFoundError(`Not found (404): ${serverMessage ?? what}.`, details);
    }
    case 409:
      return new ConflictError(
        `${capitalize(what)} was changed by someone else while Truva was updating it (409 Conflict). ` +
          `Read it again and retry.${said}`,
        details,
      );
    case 410:
      return new GoneError(
        `The list of ${target?.resource ?? 'resources'} moved on too far to resume (410 Gone); listing again.`,
        details,
      );
    case 400:
    case 422:
      return new KubeError(
        'invalid',
        `The API server refused the request to ${describeAction(target, `change ${what}`)} as invalid (${status}).${said}`,
        details,
      );
    case 429:
      return new KubeError(
        'throttled',
        `The API server is throttling requests (429 Too Many Requests); Truva retries after a pause.${said}`,
        details,
      );
    case 504:
      return new TimeoutError(
        `The API server timed out on the request to ${describeAction(target, what)} (504).${said}`,
        details,
      );
    default:
      if (status >= 500) {
        return new KubeError(
          'server',
          `The API server failed to ${describeAction(target, `handle ${what}`)} (${status}).${said}`,
          details,
        );
      }
      return new KubeError(
        'unknown',
        `Unexpected answer ${status} to the request to ${describeAction(target, what)}.${said}`,
        details,
      );
  }
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|DEPTH_ZERO/;

function findCode(err: unknown): string | undefined {
  let cur: any = err;
  for (let i = 0; i < 4 && cur; i++) {
    if (typeof cur.code === 'string') return cur.code;
    cur = cur.cause;
  }
  return undefined;
}

/**
 * Maps anything a call can throw to a KubeError: our own KubeErrors pass through; client-node's
 * ApiException (code + body), ws handshake errors ("Unexpected server response: 403"),
 * watch errors (statusCode), Node network errors, TLS errors and cockatiel's timeout/circuit errors.
 */
export function toKubeError(err: unknown, target?: CallTarget): KubeError {
  if (err instanceof KubeError) return err;
  const e = err as any;
  const server = target?.server ? ` at ${target.server}` : '';
  const ctx = target?.context ? ` (context "${target.context}")` : '';
  if (e && typeof e === 'object') {
    if (e.name === 'BrokenCircuitError' || e.constructor?.name === 'BrokenCircuitError') {
      return new ApiUnreachableError(
        `The Kubernetes API${server}${ctx} failed repeatedly, so Truva paused calls to it for a moment; it tries again shortly.`,
        { target, cause: err },
      );
    }
    if (e.name === 'TaskCancelledError' || e.constructor?.name === 'TaskCancelledError') {
      return new TimeoutError(`${capitalize(describeAction(target, 'the request'))} timed out${server}.`, {
        target,
        cause: err,
      });
    }
    // client-node ApiException: numeric `code` plus `body`.
    if (typeof e.code === 'number' && e.code >= 100 && e.code < 600 && 'body' in e) {
      return errorFromStatus(e.code, e.body, target, e.headers ?? {});
    }
    if (typeof e.statusCode === 'number') return errorFromStatus(e.statusCode, e.body, target);
    const wsMatch = typeof e.message === 'string' ? /Unexpected server response: (\d{3})/.exec(e.message) : null;
    if (wsMatch) return errorFromStatus(Number(wsMatch[1]), undefined, target);
    const code = findCode(e);
    if (code && TLS_CODES.test(code)) {
      return new ApiUnreachableError(
        `The TLS connection to the Kubernetes API${server}${ctx} failed (${code}): the kubeconfig's certificate authority does not match the server.`,
        { target, cause: err },
      );
    }
    if ((code && NETWORK_CODES.has(code)) || e.type === 'system' || e.name === 'FetchError') {
      return new ApiUnreachableError(
        `Cannot reach the Kubernetes API${server}${ctx}: ${code ?? e.message}. Check that the cluster is running and the kubeconfig points at it.`,
        { target, cause: err },
      );
    }
    if (e.name === 'AbortError') {
      return new TimeoutError(`${capitalize(describeAction(target, 'the request'))} was cancelled or timed out.`, {
        target,
        cause: err,
      });
    }
  }
  const message = e instanceof Error ? e.message : String(err);
  return new KubeError(
    'unknown',
    `${target ? `${capitalize(target.verb)} ${describeTarget(target)} failed: ` : ''}${message}`,
    { target, cause: err },
  );
}

/** Errors worth another attempt for an idempotent call: the cluster may answer next time. */
export function isTransient(err: unknown): boolean {
  if (!(err instanceof KubeError)) return false;
  if (err.kind === 'unreachable' || err.kind === 'timeout' || err.kind === 'throttled') {
    // An open circuit is not going to close within a retry's back-off.
    return !(err.cause && (err.cause as any).name === 'BrokenCircuitError');
  }
  return err.kind === 'server' && (err.status === 500 || err.status === 502 || err.status === 503);
}

/** Failures that say the API server is unhealthy (they count toward opening the circuit). */
export function isServerFailure(err: unknown): boolean {
  if (!(err instanceof KubeError)) return false;
  return (
    err.kind === 'unreachable' ||
    err.kind === 'timeout' ||
    (err.kind === 'server' && err.status !== undefined && err.status >= 500)
  );
}
