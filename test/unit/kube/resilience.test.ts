import { strict as assert } from 'node:assert';
import { ApiException } from '@kubernetes/client-node';
import { Resilience, backoffDelay, sleep } from '../../../src/core/kube/resilience';
import { KubeError, errorFromStatus, isTransient, toKubeError } from '../../../src/core/kube/errors';

const target = {
  verb: 'patch',
  resource: 'deployments',
  name: 'web',
  namespace: 'demo',
  context: 'dev',
  user: 'alice',
};

describe('back-off', () => {
  it('sleep ends early, without an error, when its signal aborts (also when it already has)', async () => {
    const stop = new AbortController();
    const slept = sleep(60_000, stop.signal);
    stop.abort();
    await slept;
    await sleep(60_000, stop.signal);
    await sleep(1);
  });

  it('grows exponentially with equal jitter, capped, and honours Retry-After', () => {
    const opts = { initialDelayMs: 100, maxDelayMs: 1000 };
    assert.equal(
      backoffDelay(1, opts, () => 0),
      50,
    );
    assert.equal(
      backoffDelay(1, opts, () => 1),
      100,
    );
    assert.equal(
      backoffDelay(3, opts, () => 1),
      400,
    );
    assert.equal(
      backoffDelay(10, opts, () => 1),
      1000,
      'capped',
    );
    assert.equal(
      backoffDelay(10, opts, () => 0),
      500,
      'half of the cap at least',
    );
    assert.equal(
      backoffDelay(1, opts, () => 0, 800),
      800,
      'Retry-After wins when longer',
    );
    assert.equal(
      backoffDelay(1, opts, () => 0, 5000),
      1000,
      'but stays capped',
    );
  });
});

describe('circuit breaker and retries', () => {
  const serverError = () => errorFromStatus(503, { kind: 'Status', message: 'down' }, target);

  it('retries idempotent calls on transient failures, never writes', async () => {
    const r = new Resilience({ maxAttempts: 3, backoff: { initialDelayMs: 1, maxDelayMs: 2 }, breakerThreshold: 100 });
    let reads = 0;
    assert.equal(
      await r.call(target, { idempotent: true }, async () => (++reads < 3 ? Promise.reject(serverError()) : 'ok')),
      'ok',
    );
    assert.equal(reads, 3);
    let writes = 0;
    await assert.rejects(
      r.call(target, { idempotent: false }, async () => {
        writes++;
        throw serverError();
      }),
      (e: KubeError) => e.kind === 'server',
    );
    assert.equal(writes, 1, 'a write is tried once');
  });

  it('opens after repeated server failures, fails fast, half-opens after the cooldown and closes on success', async () => {
    const r = new Resilience({ maxAttempts: 1, breakerThreshold: 3, breakerCooldownMs: 50 });
    const states: string[] = [];
    r.onStateChange((s) => states.push(s));
    for (let i = 0; i < 3; i++)
      await r
        .call(target, { idempotent: false }, async () => {
          throw serverError();
        })
        .catch(() => undefined);
    assert.equal(r.state, 'open');
    let called = false;
    await assert.rejects(
      r.call(target, { idempotent: false }, async () => {
        called = true;
        return 1;
      }),
    );
    assert.equal(called, false, 'an open circuit fails fast');
    await new Promise((res) => setTimeout(res, 80));
    assert.equal(await r.call(target, { idempotent: false }, async () => 'back'), 'back');
    assert.equal(r.state, 'closed');
    assert.deepEqual(states, ['open', 'half-open', 'closed']);
  });

  it('user errors (403, 404, 409) never open the circuit', async () => {
    const r = new Resilience({ maxAttempts: 1, breakerThreshold: 2 });
    for (const status of [403, 404, 409, 403])
      await r
        .call(target, { idempotent: false }, async () => {
          throw errorFromStatus(status, {}, target);
        })
        .catch(() => undefined);
    assert.equal(r.state, 'closed');
  });

  it('times out a call that never answers, with a clear message', async () => {
    const r = new Resilience({ timeoutMs: 30, maxAttempts: 1 });
    await assert.rejects(
      r.call(
        target,
        { idempotent: false },
        (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))),
      ),
      (e: KubeError) => e.kind === 'timeout',
    );
  });
});

describe('error mapping', () => {
  it('says what failed in words a user understands', () => {
    const forbidden = errorFromStatus(403, { kind: 'Status', message: 'deployments.apps "web" is forbidden' }, target);
    assert.equal(forbidden.kind, 'forbidden');
    assert.match(forbidden.message, /may not patch deployments in namespace "demo"/);
    const missing = errorFromStatus(404, {}, { ...target, verb: 'get' });
    assert.equal(missing.kind, 'notFound');
    assert.match(missing.message, /deployment "web" in namespace "demo"/i);
    assert.match(errorFromStatus(409, {}, target).message, /changed by someone else/);
    assert.match(errorFromStatus(401, {}, target).message, /credentials .* expired or wrong/);
    assert.equal(errorFromStatus(429, {}, target, { 'retry-after': '3' }).retryAfterSeconds, 3);
    assert.ok(isTransient(errorFromStatus(503, {}, target)));
    assert.ok(!isTransient(errorFromStatus(403, {}, target)));
  });

  it('maps client-node ApiExceptions and network errors, without leaking headers', () => {
    const fromApi = toKubeError(
      new ApiException(403, 'Forbidden', JSON.stringify({ kind: 'Status', message: 'no', code: 403 }), {
        authorization: 'Bearer secret-token',
      }),
      target,
    );
    assert.equal(fromApi.kind, 'forbidden');
    assert.ok(!fromApi.message.includes('secret-token'));
    const refused = toKubeError(
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' }),
      { ...target, server: 'https://127.0.0.1:6443' },
    );
    assert.equal(refused.kind, 'unreachable');
    assert.ok(isTransient(refused));
  });
});
