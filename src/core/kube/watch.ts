// A list-then-watch loop that survives dropped connections: it resumes from the last
// resourceVersion it saw, lists again on 410 Gone (emitting the differences as events, so
// consumers never see a gap), and backs off while the API is unreachable.
import type { IncomingMessage } from 'node:http';
import { KubeError, isTransient, toKubeError, type CallTarget } from './errors';
import { errorFromResponse, type HttpTransport } from './http';
import { backoffDelay, sleep, type Resilience } from './resilience';
import type { ObjectList, WatchEvent, Watcher } from './types';

interface Meta {
  metadata?: { uid?: string; name?: string; namespace?: string; resourceVersion?: string };
}

export interface WatchSpec<T> {
  /** The collection path, e.g. /api/v1/namespaces/demo/pods. */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  target: CallTarget;
  onEvent: (event: WatchEvent<T>) => void;
  /** Called on every failure; `retrying` false means the watch has ended for good. */
  onError: (error: KubeError, info: { retrying: boolean }) => void;
  /** Server-side watch timeout; the loop simply re-watches after it. Default 290 s. */
  timeoutSeconds?: number;
}

function keyOf(o: Meta): string {
  return o.metadata?.uid ?? `${o.metadata?.namespace}/${o.metadata?.name}`;
}

/** Starts the loop: ADDED for every object that exists now, then live events. */
export function startWatch<T extends Meta>(
  transport: HttpTransport,
  resilience: Resilience,
  spec: WatchSpec<T>,
): Watcher {
  const ctl = new AbortController();
  const known = new Map<string, T>();
  let resourceVersion: string | undefined;
  let failures = 0;
  const emit = (event: WatchEvent<T>) => {
    if (!ctl.signal.aborted) spec.onEvent(event);
  };

  const relist = async () => {
    const list = await resilience.call(spec.target, { idempotent: true, signal: ctl.signal }, (signal) =>
      transport.json<ObjectList<T>>(
        {
          method: 'GET',
          path: spec.path,
          query: { labelSelector: spec.labelSelector, fieldSelector: spec.fieldSelector },
          signal,
        },
        spec.target,
      ),
    );
    const seen = new Set<string>();
    for (const item of list.items) {
      const key = keyOf(item);
      seen.add(key);
      const before = known.get(key);
      known.set(key, item);
      if (!before) emit({ type: 'ADDED', object: item });
      else if (before.metadata?.resourceVersion !== item.metadata?.resourceVersion)
        emit({ type: 'MODIFIED', object: item });
    }
    for (const [key, obj] of [...known]) {
      if (!seen.has(key)) {
        known.delete(key);
        emit({ type: 'DELETED', object: obj });
      }
    }
    resourceVersion = list.metadata?.resourceVersion;
  };

  /** Opens the watch stream; the head (not the body) is bounded by the call timeout. */
  const open = () =>
    resilience.call(spec.target, { idempotent: true, signal: ctl.signal }, (policySignal) => {
      const req = new AbortController();
      const stopReq = () => req.abort();
      ctl.signal.addEventListener('abort', stopReq, { once: true });
      const abortBeforeHead = () => req.abort();
      policySignal.addEventListener('abort', abortBeforeHead, { once: true });
      return transport
        .open({
          method: 'GET',
          path: spec.path,
          query: {
            watch: 'true',
            resourceVersion,
            allowWatchBookmarks: 'true',
            labelSelector: spec.labelSelector,
            fieldSelector: spec.fieldSelector,
            timeoutSeconds: spec.timeoutSeconds ?? 290,
          },
          signal: req.signal,
          stream: true,
        })
        .then(async (res: IncomingMessage) => {
          policySignal.removeEventListener('abort', abortBeforeHead);
          if (res.statusCode !== 200) throw await errorFromResponse(res, spec.target);
          return res;
        })
        .catch((err) => {
          ctl.signal.removeEventListener('abort', stopReq);
          throw err;
        });
    });

  /** Reads events until the stream ends; throws GoneError-kind errors from ERROR events. */
  const consume = async (res: IncomingMessage) => {
    let buffered = '';
    for await (const chunk of res) {
      if (ctl.signal.aborted) return;
      buffered += (chunk as Buffer).toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (!line) continue;
        let ev: { type: string; object: any };
        try {
          ev = JSON.parse(line);
        } catch {
          continue;
        }
        failures = 0;
        if (ev.type === 'ERROR') {
          const status = ev.object ?? {};
          throw toKubeError({ code: status.code ?? 500, body: status, headers: {} }, spec.target);
        }
        const rv = ev.object?.metadata?.resourceVersion;
        if (rv) resourceVersion = rv;
        if (ev.type === 'BOOKMARK') continue;
        const obj = ev.object as T;
        const key = keyOf(obj);
        if (ev.type === 'DELETED') known.delete(key);
        else known.set(key, obj);
        if (ev.type === 'ADDED' || ev.type === 'MODIFIED' || ev.type === 'DELETED')
          emit({ type: ev.type, object: obj });
      }
    }
  };

  const loop = async () => {
    let needList = true;
    while (!ctl.signal.aborted) {
      try {
        if (needList) {
          await relist();
          needList = false;
        }
        const res = await open();
        await consume(res);
        // A clean end (server timeout or proxy drop): resume from the last resourceVersion.
      } catch (raw) {
        if (ctl.signal.aborted) return;
        const err = toKubeError(raw, spec.target);
        if (err.kind === 'gone') {
          needList = true;
          continue;
        }
        const retrying = isTransient(err) || err.kind === 'unreachable';
        spec.onError(err, { retrying });
        if (!retrying) return;
        failures++;
        await sleep(backoffDelay(failures, { initialDelayMs: 500, maxDelayMs: 10_000 }), ctl.signal);
      }
    }
  };
  void loop();
  return { stop: () => ctl.abort() };
}
