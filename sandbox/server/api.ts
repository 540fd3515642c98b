// The sandbox's API server: HTTPS, bearer-token authentication, a two-user authorizer, REST for
// namespaces, deployments, replicasets and pods, watches, logs and exec, with errors as Status objects.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { WebSocketServer } from 'ws';
import { parse as parseYaml } from 'yaml';
import { RuntimeError, type ExecProcess, type PodRuntime } from '../runtime/types';
import { EXEC_PROTOCOLS, bridgeExec, failAfterUpgrade, refuseUpgrade } from '../streaming/execBridge';
import { portForwardWebSocketServer, servePortForward } from '../streaming/portForward';
import { Controllers } from './controllers';
import { applyDeploymentDefaults, applyPodDefaults } from './defaults';
import { APPS_V1, AUTHZ_V1, CORE_V1, GROUPS, VERSION, coreVersions, groupDocument } from './discovery';
import { Faults } from './faults';
import { managerOf, recordUpdate, serverSideApply } from './managedFields';
import { modelOf, openApiDocument, openApiIndex, unknownFields } from './openapi';
import { applyPatch } from './patch';
import { admitNewPod, admitPodUpdate, keepObservedGeneration } from './podAdmission';
import { fieldMatcher, labelMatcher } from './selectors';
import {
  ADMIN_RULES,
  ANONYMOUS_USER,
  Authorizer,
  VIEW_RULES,
  forbidden,
  forbiddenPath,
  type RequestAttributes,
} from './rbac';
import { ApiError, badRequest, invalid, statusBody } from './status';
import { RESOURCE, Store, type Kind, type StoreEvent } from './store';
import type { SandboxTls } from './tls';
import { tableIfAsked } from './table';
import { OpenStreams } from './openStreams';

export interface ApiUsers {
  /** Bearer token of the full-access user. */
  admin: string;
  /** Bearer token of the user who may only get, list and watch. */
  readonly: string;
  /** Bearer token of the fault-injection endpoint. */
  faults: string;
}

type User = string;

interface Route {
  kind: Kind;
  namespace?: string;
  name?: string;
  subresource?: string;
}

const KIND_INFO: Record<Kind, { kind: string; apiVersion: string; listKind: string }> = {
  namespaces: { kind: 'Namespace', apiVersion: 'v1', listKind: 'NamespaceList' },
  pods: { kind: 'Pod', apiVersion: 'v1', listKind: 'PodList' },
  deployments: { kind: 'Deployment', apiVersion: 'apps/v1', listKind: 'DeploymentList' },
  replicasets: { kind: 'ReplicaSet', apiVersion: 'apps/v1', listKind: 'ReplicaSetList' },
};

function parseRoute(path: string): Route | undefined {
  const parts = path.split('/').filter(Boolean);
  let rest: string[];
  if (parts[0] === 'api' && parts[1] === 'v1') rest = parts.slice(2);
  else if (parts[0] === 'apis' && parts[1] === 'apps' && parts[2] === 'v1') rest = parts.slice(3);
  else return undefined;
  const core = parts[0] === 'api';
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const kind = rest[0] as Kind;
  const allowed: Kind[] = core ? ['namespaces', 'pods'] : ['deployments', 'replicasets'];
  if (!allowed.includes(kind) || rest.length > 3) return undefined;
  if (kind === 'namespaces' && rest.length === 1 && namespace === undefined) return { kind };
  if (kind === 'namespaces') return { kind, name: rest[1] };
  return { kind, namespace, name: rest[1], subresource: rest[2] };
}

function verbOf(method: string, route: Route, query: URLSearchParams): string {
  if (method === 'GET')
    return route.name ? 'get' : query.get('watch') === 'true' || query.get('watch') === '1' ? 'watch' : 'list';
  return (
    ({ POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' } as Record<string, string>)[method] ??
    method.toLowerCase()
  );
}

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

function parseJson(text: string): any {
  try {
    return text ? JSON.parse(text) : {};
  } catch (err) {
    throw badRequest(`the request body is not valid JSON: ${(err as Error).message}`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ApiServer {
  readonly store = new Store();
  readonly controllers: Controllers;
  readonly faults: Faults;
  /** Users and their rules; tests bind more users with `authorizer.add`. */
  readonly authorizer = new Authorizer();
  private readonly server: https.Server;
  private readonly wss = new WebSocketServer({
    noServer: true,
    autoPong: false,
    handleProtocols: (protocols) => EXEC_PROTOCOLS.find((p) => protocols.has(p)) ?? false,
  });
  private readonly portForwardWss = portForwardWebSocketServer();
  /** Port-forward connections made so far, by protocol (tests check which one kubectl chose). */
  readonly portForwardProtocols: Record<string, number> = {};
  private readonly streams = new OpenStreams();
  private readonly dropping = new WeakSet<ServerResponse>();
  private readonly execSilencers = new Set<() => void>();
  private address = '127.0.0.1:0';

  constructor(
    tls: SandboxTls,
    private readonly users: ApiUsers,
    private readonly runtime: PodRuntime,
  ) {
    this.faults = new Faults({
      closeStreams: () => this.closeStreams(),
      silenceExecs: () => {
        const n = this.execSilencers.size;
        for (const silence of this.execSilencers) silence();
        this.execSilencers.clear();
        return n;
      },
      killContainer: (namespace, pod, container) =>
        this.runtime.killContainer(this.store.get('pods', namespace, pod).metadata.uid, container),
    });
    this.controllers = new Controllers(
      this.store,
      runtime,
      {
        refuseCreate: (ns, pod, deployment) => this.faults.refuseCreate(ns, pod, deployment),
        unschedulable: (ns, deployment) => this.faults.unschedulable(ns, deployment),
      },
      tls.caCertPem,
    );
    this.authorizer.add(users.admin, 'admin', ADMIN_RULES);
    this.authorizer.add(users.readonly, 'readonly', VIEW_RULES);
    this.server = https.createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => void this.handle(req, res));
    this.server.on('upgrade', (req, socket, head) => void this.upgrade(req, socket, head));
    this.server.keepAliveTimeout = 30_000;
  }

  async listen(port: number): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    const addr = this.server.address() as { port: number };
    this.address = `127.0.0.1:${addr.port}`;
    return `https://${this.address}`;
  }

  async close(): Promise<void> {
    this.controllers.stop();
    this.closeStreams();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Drops every open watch, log and exec stream at once, as a flaky network or API restart would. */
  closeStreams(): number {
    return this.streams.closeAll();
  }

  private authenticate(req: IncomingMessage): User {
    return this.authorizer.authenticate(req.headers.authorization);
  }

  private send(res: ServerResponse, code: number, body: unknown) {
    // The dropResponses fault: the request was carried out, but its answer is lost on the way.
    if (this.dropping.has(res)) return void res.socket?.destroy();
    const text = JSON.stringify(body);
    res.writeHead(code, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text),
      ...(code === 429 ? { 'Retry-After': '1' } : {}),
    });
    res.end(text);
  }

  private sendError(res: ServerResponse, err: unknown) {
    if (res.headersSent) return void res.destroy();
    const e =
      err instanceof ApiError
        ? err
        : new ApiError(500, 'InternalError', `Internal error occurred: ${(err as Error)?.message ?? err}`);
    this.send(res, e.code, statusBody(e.code, e.reason, e.message, e.details));
  }

  /** Faults that apply to every API request: held, failed, or (while hanging) never answered. */
  private async injected(method: string, path: string): Promise<number | undefined> {
    const delay = this.faults.delayFor(path);
    if (delay > 0) await sleep(delay);
    return this.faults.failureFor(method, path);
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    // The Date header is the cluster's clock, as a real API server's is its host's.
    res.setHeader('Date', new Date(this.store.clock.nowMs()).toUTCString());
    const url = new URL(req.url ?? '/', 'https://sandbox');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    try {
      if (path === '/truva-admin/faults') return await this.admin(req, res);
      if (this.faults.dropsResponse(req.method ?? 'GET', path)) this.dropping.add(res);
      const failure = await this.injected(req.method ?? 'GET', path);
      if (failure) {
        const reason =
          ({ 409: 'Conflict', 429: 'TooManyRequests', 503: 'ServiceUnavailable' } as Record<number, string>)[failure] ??
          'InternalError';
        throw new ApiError(failure, reason, `injected fault: ${reason} (sandbox)`);
      }
      if (['/healthz', '/livez', '/readyz'].includes(path)) {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        return void res.end('ok');
      }
      if (path === '/version') return this.send(res, 200, VERSION);
      const user = this.authenticate(req);
      if (user === ANONYMOUS_USER && !parseRoute(path)) throw anonymousRefusal(req.method ?? 'GET', path);
      if (path === '/openapi/v3') return this.send(res, 200, openApiIndex());
      if (path.startsWith('/openapi/v3/')) {
        const doc = openApiDocument(path.slice('/openapi/v3/'.length));
        if (doc) return this.send(res, 200, doc);
      }
      const discovery = this.discovery(path);
      if (discovery) return this.send(res, 200, discovery);
      if (path === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews' && req.method === 'POST') {
        return this.send(res, 201, this.accessReview(user, parseJson(await readBody(req))));
      }
      const route = parseRoute(path);
      if (!route) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      const verb = verbOf(req.method ?? 'GET', route, url.searchParams);
      this.authorizer.authorize(user, attributesOf(verb, route));
      await this.resource(req, res, url.searchParams, route, verb);
    } catch (err) {
      this.sendError(res, err);
    }
  }

  private async admin(req: IncomingMessage, res: ServerResponse) {
    if (req.headers.authorization !== `Bearer ${this.users.faults}`)
      throw new ApiError(401, 'Unauthorized', 'Unauthorized');
    try {
      const result = this.faults.apply(parseJson(await readBody(req)));
      this.send(res, 200, result ?? { ok: true });
    } catch (err) {
      throw err instanceof ApiError ? err : badRequest((err as Error).message);
    }
  }

  private discovery(path: string): unknown {
    switch (path) {
      case '/api':
        return coreVersions(this.address);
      case '/api/v1':
        return CORE_V1;
      case '/apis':
        return GROUPS;
      case '/apis/apps':
        return groupDocument('apps');
      case '/apis/apps/v1':
        return APPS_V1;
      case '/apis/authorization.k8s.io':
        return groupDocument('authorization.k8s.io');
      case '/apis/authorization.k8s.io/v1':
        return AUTHZ_V1;
      default:
        return undefined;
    }
  }

  private accessReview(user: User, body: any) {
    const attrs = body?.spec?.resourceAttributes ?? {};
    const allowed = this.authorizer.allows(user, {
      verb: attrs.verb ?? '',
      group: attrs.group ?? '',
      resource: attrs.resource ?? '',
      subresource: attrs.subresource || undefined,
      namespace: attrs.namespace,
    });
    return {
      kind: 'SelfSubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec: body?.spec ?? {},
      // As the RBAC authorizer answers: a reason when a rule allowed it, nothing when none did.
      status: allowed ? { allowed: true, reason: `sandbox: a rule of user "${user}" allows it` } : { allowed: false },
    };
  }

  private async resource(
    req: IncomingMessage,
    res: ServerResponse,
    query: URLSearchParams,
    route: Route,
    verb: string,
  ) {
    const { kind, namespace, name, subresource } = route;
    if (subresource === 'log' && kind === 'pods' && name && namespace) return this.log(res, query, namespace, name);
    if (subresource === 'exec') throw badRequest('exec needs a WebSocket upgrade (v5.channel.k8s.io)');
    if (subresource === 'portforward') throw badRequest('Upgrade request required');
    if (subresource === 'scale' && kind === 'deployments' && name && namespace)
      return this.scale(req, res, namespace, name);
    if (subresource && subresource !== 'status')
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    const dryRun = query.get('dryRun') === 'All';
    const who = {
      manager: managerOf(query.get('fieldManager'), req.headers['user-agent']),
      force: query.get('force') === 'true',
    };
    const validated = (text: string, contentType = 'application/json') => {
      this.validateFields(res, route.kind, text, contentType, query.get('fieldValidation'));
      return text;
    };
    switch (verb) {
      case 'list':
        return this.send(res, 200, tableIfAsked(req.headers.accept, kind, this.list(route, query)));
      case 'watch':
        return this.watch(req, res, route, query);
      case 'get':
        return this.send(
          res,
          200,
          tableIfAsked(req.headers.accept, kind, withKind(kind, this.store.get(kind, namespace, name!))),
        );
      case 'create': {
        const obj = parseJson(validated(await readBody(req)));
        if (kind === 'pods' || kind === 'deployments' || kind === 'namespaces') {
          const created = this.create(kind, namespace, obj, dryRun, who.manager);
          return this.send(res, 201, withKind(kind, created));
        }
        throw new ApiError(405, 'MethodNotAllowed', `create is not supported on ${kind} in the sandbox`);
      }
      case 'update':
        return this.send(
          res,
          200,
          withKind(
            kind,
            this.write(kind, namespace, name!, validated(await readBody(req)), 'replace', subresource, dryRun, who),
          ),
        );
      case 'patch': {
        const contentType = req.headers['content-type'] ?? '';
        // Server-side apply creates what does not exist yet.
        if (contentType.startsWith('application/apply-patch') && !this.store.find(kind, namespace, name!)) {
          const config = parseApplyConfig(validated(await readBody(req), contentType), who.manager);
          if (config.metadata?.name !== name)
            throw badRequest(
              `the name of the object (${config.metadata?.name}) does not match the name on the URL (${name})`,
            );
          const obj = serverSideApply(undefined, config, who.manager, {
            force: who.force,
            time: this.store.clock.iso(),
            resource: kind,
            name: name!,
          });
          return this.send(res, 201, withKind(kind, this.create(kind, namespace, obj, dryRun, who.manager)));
        }
        return this.send(
          res,
          200,
          withKind(
            kind,
            this.write(
              kind,
              namespace,
              name!,
              validated(await readBody(req), contentType),
              contentType,
              subresource,
              dryRun,
              who,
            ),
          ),
        );
      }
      case 'delete':
        return this.send(res, 200, this.remove(kind, namespace, name!, parseJson(await readBody(req)), query));
      default:
        throw new ApiError(405, 'MethodNotAllowed', `${verb} is not allowed`);
    }
  }

  /**
   * fieldValidation as the API server does it: Strict refuses fields the schema does not
   * declare (400), Warn (the default) answers with a Warning header per field, Ignore says
   * nothing. JSON patches are lists of operations, not objects, and are not checked.
   */
  private validateFields(res: ServerResponse, kind: Kind, text: string, contentType: string, mode: string | null) {
    const model = modelOf(kind);
    if (!model || mode === 'Ignore' || contentType.includes('json-patch')) return;
    let body: unknown;
    try {
      body = contentType.includes('yaml') ? parseYaml(text) : JSON.parse(text || '{}');
    } catch {
      return; // the write itself reports the malformed body
    }
    const unknown = unknownFields(model, body);
    if (unknown.length === 0) return;
    if (mode === 'Strict')
      throw badRequest(`strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`);
    res.setHeader(
      'Warning',
      unknown.map((f) => `299 - "unknown field \\"${f}\\""`),
    );
  }

  private list(route: Route, query: URLSearchParams) {
    const labels = labelMatcher(query.get('labelSelector'));
    const fields = fieldMatcher(query.get('fieldSelector'));
    const all = this.store.list(route.kind, route.namespace).filter((o) => labels(o.metadata.labels) && fields(o));
    const info = KIND_INFO[route.kind];
    // Pages (limit/continue) as the real server serves them; the token names where the next page starts.
    const limit = Number(query.get('limit') ?? 0);
    const token = query.get('continue');
    let start = 0;
    let rv = String(this.store.resourceVersion);
    if (token) {
      try {
        ({ start, rv } = JSON.parse(Buffer.from(token, 'base64').toString('utf8')));
      } catch {
        throw badRequest('continue key is not valid: illegal base64 data');
      }
    }
    const end = limit > 0 ? Math.min(all.length, start + limit) : all.length;
    const more = end < all.length;
    return {
      kind: info.listKind,
      apiVersion: info.apiVersion,
      metadata: {
        resourceVersion: rv,
        ...(more
          ? {
              continue: Buffer.from(JSON.stringify({ start: end, rv })).toString('base64'),
              remainingItemCount: all.length - end,
            }
          : {}),
      },
      items: all.slice(start, end),
    };
  }

  private create(kind: Kind, namespace: string | undefined, obj: any, dryRun: boolean, manager = 'unknown'): any {
    if (!obj?.metadata?.name && !obj?.metadata?.generateName)
      throw invalid(KIND_INFO[kind].kind, '', 'metadata.name: Required value: name or generateName is required');
    obj.metadata.name ??= obj.metadata.generateName + Math.random().toString(36).slice(2, 7);
    if (kind !== 'namespaces') {
      if (obj.metadata.namespace && namespace && obj.metadata.namespace !== namespace)
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      obj.metadata.namespace = namespace ?? obj.metadata.namespace ?? 'default';
      if (!this.store.find('namespaces', undefined, obj.metadata.namespace))
        throw new ApiError(404, 'NotFound', `namespaces "${obj.metadata.namespace}" not found`, {
          name: obj.metadata.namespace,
          kind: 'namespaces',
        });
    }
    Object.assign(obj, { kind: KIND_INFO[kind].kind, apiVersion: KIND_INFO[kind].apiVersion });
    validateAnnotationSize(KIND_INFO[kind].kind, obj.metadata.name, obj.metadata.annotations);
    // The fields the client set (before defaults) are its manager's; an apply brought its own.
    if (!obj.metadata.managedFields?.length)
      obj.metadata.managedFields = recordUpdate(undefined, obj, manager, this.store.clock.iso());
    if (kind === 'deployments') {
      this.faults.mutateDeployment(obj);
      validateDeployment(obj);
      applyDeploymentDefaults(obj);
      obj.metadata.generation = 1;
      obj.status = {};
    }
    if (kind === 'namespaces') obj.status = { phase: 'Active' };
    if (kind === 'pods') {
      applyPodDefaults(obj.spec);
      admitNewPod(obj);
      obj.spec.nodeName ??= 'sandbox';
    }
    if (dryRun) return obj;
    const created = this.store.create(kind, obj);
    if (kind === 'pods') this.controllers.startPod(created);
    this.controllers.schedule();
    return created;
  }

  /** PUT (replace) and PATCH of an object or its status subresource. */
  private write(
    kind: Kind,
    namespace: string | undefined,
    name: string,
    body: string,
    mode: string,
    subresource: string | undefined,
    dryRun: boolean,
    who: { manager: string; force: boolean } = { manager: 'unknown', force: false },
  ): any {
    const current = this.store.get(kind, namespace, name);
    // Read before the patch: a patch can share parts of `current` with its result.
    const currentGeneration = current.metadata.generation;
    const apply = mode.startsWith('application/apply-patch');
    const incoming = apply ? parseApplyConfig(body, who.manager) : parseJson(body);
    const time = this.store.clock.iso();
    let next =
      mode === 'replace'
        ? incoming
        : apply
          ? serverSideApply(current, incoming, who.manager, { force: who.force, time, resource: kind, name })
          : applyPatch(mode, current, incoming);
    if (!next || typeof next !== 'object' || !next.metadata) throw badRequest('the object has no metadata');
    if (next.metadata.name !== name)
      throw badRequest(`the name of the object (${next.metadata.name}) does not match the name on the URL (${name})`);
    const expectRv = mode === 'replace' ? incoming.metadata?.resourceVersion : incoming?.metadata?.resourceVersion;
    next.metadata.namespace = current.metadata.namespace;
    Object.assign(next, { kind: KIND_INFO[kind].kind, apiVersion: KIND_INFO[kind].apiVersion });
    if (subresource === 'status') {
      next = { ...current, status: next.status };
      if (kind === 'pods') keepObservedGeneration(next, current);
    } else next.status = current.status; // status is its own subresource, for every kind served
    validateAnnotationSize(KIND_INFO[kind].kind, name, next.metadata.annotations);
    if (subresource === 'status') next.metadata.managedFields = current.metadata.managedFields;
    else if (!apply)
      next.metadata.managedFields = recordUpdate(
        current,
        next,
        who.manager,
        time,
        mode === 'replace' ? incoming.metadata?.managedFields : undefined,
      );
    if (kind === 'deployments' && subresource !== 'status') this.faults.mutateDeployment(next);
    if (kind === 'deployments') {
      validateDeployment(next);
      applyDeploymentDefaults(next);
      // As the registry's PrepareForUpdate: annotation changes bump it too (they are copied to ReplicaSets).
      const changed =
        JSON.stringify(next.spec) !== JSON.stringify(current.spec) ||
        JSON.stringify(next.metadata.annotations ?? {}) !== JSON.stringify(current.metadata.annotations ?? {});
      next.metadata.generation = (current.metadata.generation ?? 1) + (changed ? 1 : 0);
    }
    if (kind === 'pods' && subresource !== 'status') admitPodUpdate(next, current);
    if (
      kind === 'pods' &&
      JSON.stringify(stripMutablePodSpec(next.spec)) !== JSON.stringify(stripMutablePodSpec(current.spec))
    ) {
      throw invalid(
        'Pod',
        name,
        'spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`, `spec.activeDeadlineSeconds` or `spec.tolerations`',
      );
    }
    if (dryRun) {
      if (expectRv && expectRv !== current.metadata.resourceVersion)
        throw new ApiError(409, 'Conflict', 'the object has been modified');
      return next;
    }
    const stored = this.store.update(kind, next, expectRv);
    if (kind === 'pods' && stored.metadata.generation !== currentGeneration)
      this.controllers.observeGeneration(stored.metadata.namespace, name);
    this.controllers.schedule();
    return stored;
  }

  private remove(kind: Kind, namespace: string | undefined, name: string, body: any, query: URLSearchParams) {
    const grace = query.get('gracePeriodSeconds') ?? body?.gracePeriodSeconds;
    if (kind === 'pods')
      return withKind(
        kind,
        this.controllers.deletePod(namespace!, name, grace === undefined || grace === null ? undefined : Number(grace)),
      );
    const obj = this.store.get(kind, namespace, name);
    if (kind === 'deployments') this.controllers.cascadeDelete(obj);
    if (kind === 'namespaces') {
      for (const k of ['deployments', 'pods'] as Kind[]) {
        for (const o of this.store.list(k, name)) {
          if (k === 'pods') this.controllers.deletePod(name, o.metadata.name);
          else {
            this.controllers.cascadeDelete(o);
            this.store.delete(k, name, o.metadata.name);
          }
        }
      }
    }
    this.store.delete(kind, namespace, name);
    this.controllers.schedule();
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name, group: RESOURCE[kind].group, kind, uid: obj.metadata.uid },
    };
  }

  private async scale(req: IncomingMessage, res: ServerResponse, namespace: string, name: string) {
    const deployment = this.store.get('deployments', namespace, name);
    const scaleOf = (d: any) => ({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: {
        name,
        namespace,
        uid: d.metadata.uid,
        resourceVersion: d.metadata.resourceVersion,
        creationTimestamp: d.metadata.creationTimestamp,
      },
      spec: { replicas: d.spec.replicas },
      status: {
        replicas: d.status?.replicas ?? 0,
        selector: Object.entries(d.spec.selector?.matchLabels ?? {})
          .map(([k, v]) => `${k}=${v}`)
          .join(','),
      },
    });
    if (req.method === 'GET') return this.send(res, 200, scaleOf(deployment));
    const body = parseJson(await readBody(req));
    const scale =
      req.method === 'PUT' ? body : applyPatch(req.headers['content-type'] ?? '', scaleOf(deployment), body);
    const replicas = Number(scale?.spec?.replicas);
    if (!Number.isInteger(replicas) || replicas < 0)
      throw invalid(
        'Scale.autoscaling',
        name,
        `spec.replicas: Invalid value: ${JSON.stringify(scale?.spec?.replicas)}: must be greater than or equal to 0`,
      );
    const updated = this.store.update(
      'deployments',
      {
        ...deployment,
        spec: { ...deployment.spec, replicas },
        metadata: {
          ...deployment.metadata,
          generation: deployment.metadata.generation + (replicas !== deployment.spec.replicas ? 1 : 0),
        },
      },
      req.method === 'PUT' ? body?.metadata?.resourceVersion : undefined,
    );
    this.controllers.schedule();
    this.send(res, 200, scaleOf(updated));
  }

  private watch(req: IncomingMessage, res: ServerResponse, route: Route, query: URLSearchParams) {
    const labels = labelMatcher(query.get('labelSelector'));
    const fields = fieldMatcher(query.get('fieldSelector'));
    const wanted = (obj: any) =>
      (route.namespace === undefined || obj.metadata.namespace === route.namespace) &&
      (route.kind !== 'namespaces' || !route.name || obj.metadata.name === route.name) &&
      labels(obj.metadata.labels) &&
      fields(obj);
    const rvParam = query.get('resourceVersion');
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders(); // clients wait for the headers before they read events
    const write = (type: string, object: unknown) => res.write(JSON.stringify({ type, object }) + '\n');
    const sendEvent = (e: StoreEvent) => {
      if (wanted(e.object)) write(e.type, withKind(route.kind, e.object));
    };
    if (!rvParam || rvParam === '0') {
      for (const obj of this.store.list(route.kind, route.namespace))
        if (wanted(obj)) write('ADDED', withKind(route.kind, obj));
    } else {
      const backlog = this.store.eventsSince(route.kind, Number(rvParam));
      if (!backlog) {
        write('ERROR', {
          ...statusBody(410, 'Expired', `too old resource version: ${rvParam} (${this.store.oldestResumable})`),
          kind: 'Status',
        });
        return void res.end();
      }
      backlog.forEach(sendEvent);
    }
    const unwatch = this.store.watch(route.kind, sendEvent);
    const timeout = Number(query.get('timeoutSeconds') ?? 0);
    const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
    const bookmarks =
      query.get('allowWatchBookmarks') === 'true'
        ? setInterval(
            () =>
              write('BOOKMARK', {
                kind: KIND_INFO[route.kind].kind,
                apiVersion: KIND_INFO[route.kind].apiVersion,
                metadata: { resourceVersion: String(this.store.resourceVersion) },
              }),
            10_000,
          )
        : undefined;
    this.streams.track(res, res);
    res.once('close', () => {
      unwatch();
      clearTimeout(timer);
      clearInterval(bookmarks);
    });
    req.socket.setTimeout(0);
  }

  private podContainer(namespace: string, name: string, container: string | null): { pod: any; container: string } {
    const pod = this.store.get('pods', namespace, name);
    const names = (pod.spec.containers ?? []).map((c: any) => c.name);
    if (!container) {
      if (names.length === 1) return { pod, container: names[0] };
      throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]`);
    }
    if (!names.includes(container)) throw badRequest(`container ${container} is not valid for pod ${name}`);
    return { pod, container };
  }

  private log(res: ServerResponse, query: URLSearchParams, namespace: string, name: string) {
    const { pod, container } = this.podContainer(namespace, name, query.get('container'));
    const num = (key: string) => (query.has(key) ? Number(query.get(key)) : undefined);
    let stream: Readable;
    try {
      stream = this.runtime.logs(pod.metadata.uid, container, {
        follow: query.get('follow') === 'true',
        previous: query.get('previous') === 'true',
        timestamps: query.get('timestamps') === 'true',
        sinceTime: query.get('sinceTime') ?? undefined,
        sinceSeconds: num('sinceSeconds'),
        tailLines: num('tailLines'),
        limitBytes: num('limitBytes'),
      });
    } catch (err) {
      if (err instanceof RuntimeError)
        throw new ApiError(err.reason === 'NotFound' ? 404 : 400, err.reason, err.message);
      throw err;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    stream.pipe(res);
    stream.on('error', () => res.destroy());
    this.streams.track(
      {
        destroy: () => {
          stream.destroy();
          res.destroy();
        },
      },
      res,
    );
    res.once('close', () => stream.destroy());
    res.socket?.setTimeout(0);
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    const refuse = (err: unknown) => {
      const e =
        err instanceof ApiError ? err : new ApiError(500, 'InternalError', String((err as Error)?.message ?? err));
      refuseUpgrade(socket, e.code, e.reason, statusBody(e.code, e.reason, e.message, e.details));
    };
    try {
      const url = new URL(req.url ?? '/', 'https://sandbox');
      const failure = await this.injected(req.method ?? 'GET', url.pathname);
      if (failure)
        throw new ApiError(failure, failure === 429 ? 'TooManyRequests' : 'InternalError', 'injected fault (sandbox)');
      const user = this.authenticate(req);
      const route = parseRoute(url.pathname);
      if (user === ANONYMOUS_USER && !route) throw anonymousRefusal(req.method ?? 'GET', url.pathname);
      if (route?.kind === 'pods' && route.subresource === 'portforward' && route.name && route.namespace)
        return this.portForward(req, socket, head, user, route);
      if (!route || route.kind !== 'pods' || route.subresource !== 'exec' || !route.name || !route.namespace)
        throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      // A WebSocket exec is a GET, authorised as get; since 1.35
      // (AuthorizePodWebsocketUpgradeCreatePermission) the server also requires create.
      this.authorizer.authorize(user, attributesOf('get', route));
      this.authorizer.authorize(user, attributesOf('create', route));
      const { pod, container } = this.podContainer(route.namespace, route.name, url.searchParams.get('container'));
      const command = url.searchParams.getAll('command');
      if (command.length === 0) throw badRequest('you must specify at least 1 command');
      const fault = this.faults.execFault(route.name);
      if (fault === 'refuse') throw new ApiError(500, 'InternalError', 'injected exec failure (sandbox)');
      // What the kubelet says, after the upgrade, when it cannot run the command.
      let nodeRefusal: string | undefined =
        fault === 'afterUpgrade' ? `unable to upgrade connection: container not found ("${container}")` : undefined;
      let proc: ExecProcess | undefined;
      if (!nodeRefusal) {
        try {
          proc = this.runtime.exec(pod.metadata.uid, container, command, {
            tty: url.searchParams.get('tty') === 'true',
          });
        } catch (err) {
          if (!(err instanceof RuntimeError)) throw err;
          nodeRefusal =
            err.reason === 'NotFound'
              ? 'unable to upgrade connection: pod does not exist'
              : `unable to upgrade connection: container not found ("${container}")`;
        }
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.streams.track({ destroy: () => ws.terminate() }, ws);
        if (!proc) return failAfterUpgrade(ws, nodeRefusal!);
        bridgeExec(ws, proc, {
          command,
          stdin: url.searchParams.get('stdin') === 'true',
          silencers: this.execSilencers,
        });
      });
    } catch (err) {
      refuse(err);
    }
  }

  /** pods/portforward, authorised as `create`; the connection goes into the pod's network namespace. */
  private portForward(req: IncomingMessage, socket: Duplex, head: Buffer, user: User, route: Route): void {
    // SPDY upgrades are POSTs, authorised as create; a WebSocket upgrade is a GET, authorised as
    // get and, since 1.35 (AuthorizePodWebsocketUpgradeCreatePermission), as create too.
    if (req.method === 'GET') this.authorizer.authorize(user, attributesOf('get', route));
    this.authorizer.authorize(user, attributesOf('create', route));
    const uid = this.store.get('pods', route.namespace, route.name!).metadata.uid;
    const target = { pod: route.name!, uid, dial: (port: number) => this.runtime.portForward(uid, port) };
    servePortForward(req, socket, head, this.portForwardWss, target, {
      onConnection: (protocol, close, closed) => {
        const key = protocol || '(none)';
        this.portForwardProtocols[key] = (this.portForwardProtocols[key] ?? 0) + 1;
        this.streams.track({ destroy: close }, { once: (_event, fn) => void closed.then(fn) });
      },
    });
  }
}

/** An apply configuration (YAML or JSON); the API server requires a field manager for it. */
function parseApplyConfig(body: string, manager: string): any {
  if (!manager || manager === 'unknown')
    throw invalid('PatchOptions.meta.k8s.io', '', 'fieldManager: Required value: is required for apply patch');
  try {
    const config = parseYaml(body);
    if (!config || typeof config !== 'object') throw new Error('not an object');
    return config;
  } catch (err) {
    throw badRequest(`error decoding YAML: ${(err as Error).message}`);
  }
}

/**
 * The anonymous user's 403 outside the resources the routes serve: RBAC is asked before a path
 * is looked up, so a path that does not exist is refused the same way.
 */
function anonymousRefusal(method: string, path: string) {
  if (path === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews' && method === 'POST')
    return forbidden(ANONYMOUS_USER, {
      verb: 'create',
      group: 'authorization.k8s.io',
      resource: 'selfsubjectaccessreviews',
    });
  return forbiddenPath(ANONYMOUS_USER, method, path);
}

function attributesOf(verb: string, route: Route): RequestAttributes {
  return {
    verb,
    group: RESOURCE[route.kind].group,
    resource: route.kind,
    subresource: route.subresource,
    namespace: route.namespace,
    name: route.name,
  };
}

function withKind(kind: Kind, obj: any) {
  return { kind: KIND_INFO[kind].kind, apiVersion: KIND_INFO[kind].apiVersion, ...obj };
}

/** The API's limit on all of an object's annotations together (apimachinery's TotalAnnotationSizeLimitB). */
const ANNOTATIONS_LIMIT_BYTES = 256 * 1024;

function validateAnnotationSize(kind: string, name: string, annotations: Record<string, string> | undefined) {
  const total = Object.entries(annotations ?? {}).reduce(
    (n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(String(v)),
    0,
  );
  if (total > ANNOTATIONS_LIMIT_BYTES)
    throw invalid(
      kind === 'Deployment' ? 'Deployment.apps' : kind,
      name,
      `metadata.annotations: Too long: may not be more than ${ANNOTATIONS_LIMIT_BYTES} bytes`,
    );
}

function validateDeployment(d: any) {
  const name = d.metadata?.name ?? '';
  const problems: string[] = [];
  if (!d.spec?.selector?.matchLabels && !d.spec?.selector?.matchExpressions)
    problems.push('spec.selector: Required value');
  if (!Array.isArray(d.spec?.template?.spec?.containers) || d.spec.template.spec.containers.length === 0)
    problems.push('spec.template.spec.containers: Required value');
  const labels = d.spec?.template?.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(d.spec?.selector?.matchLabels ?? {})) {
    if (labels[k] !== v)
      problems.push(
        `spec.template.metadata.labels: Invalid value: ${JSON.stringify(Object.fromEntries(Object.entries(labels).sort()))}: \`selector\` does not match template \`labels\``,
      );
  }
  if (d.spec?.replicas !== undefined && (!Number.isInteger(d.spec.replicas) || d.spec.replicas < 0))
    problems.push('spec.replicas: Invalid value: must be greater than or equal to 0');
  for (const c of d.spec?.template?.spec?.containers ?? [])
    if (!c?.name || !c?.image) problems.push('spec.template.spec.containers: name and image are required');
  if (problems.length) throw invalid('Deployment.apps', name, problems.join(', '));
}

function stripMutablePodSpec(spec: any) {
  return {
    ...spec,
    containers: (spec.containers ?? []).map((c: any) => ({ ...c, image: undefined })),
    activeDeadlineSeconds: undefined,
    tolerations: undefined,
  };
}
