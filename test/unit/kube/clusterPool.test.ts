import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { ClusterPool } from '../../../src/core/kube/clusterPool';
import type { ClusterConnection } from '../../../src/core/kube/connection';

/** Two servers; on the first, contexts `a` and `a-other-ns` share the user, `a-readonly` has another. */
function kubeconfig(serverA: string, serverB = 'https://127.0.0.1:2') {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      { name: 'a', server: serverA, skipTLSVerify: true },
      { name: 'a-again', server: serverA, skipTLSVerify: true },
      { name: 'b', server: serverB, skipTLSVerify: true },
    ],
    users: [
      { name: 'admin', token: 'admin-token' },
      { name: 'readonly', token: 'readonly-token' },
    ],
    contexts: [
      { name: 'a', cluster: 'a', user: 'admin', namespace: 'demo' },
      { name: 'a-other-ns', cluster: 'a-again', user: 'admin', namespace: 'other' },
      { name: 'a-readonly', cluster: 'a', user: 'readonly' },
      { name: 'b', cluster: 'b', user: 'admin' },
    ],
    currentContext: 'a',
  });
  return kc;
}

/** An API server that fails every request with 503 and counts them. */
async function failingServer(): Promise<{ url: string; requests: () => number; close(): Promise<void> }> {
  let requests = 0;
  const server: Server = createServer((_req, res) => {
    requests++;
    res.writeHead(503, { 'content-type': 'application/json' }).end('{"kind":"Status","code":503}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const fast = { backoff: { initialDelayMs: 1, maxDelayMs: 2 }, breakerThreshold: 3, breakerCooldownMs: 60_000 };

describe('ClusterPool', () => {
  it('gives contexts of the same server and user one connection, and other users their own', () => {
    const pool = new ClusterPool();
    const kc = kubeconfig('https://127.0.0.1:1');
    const a = pool.acquire({ kubeConfig: kc, context: 'a' });
    const otherNs = pool.acquire({ kubeConfig: kc, context: 'a-other-ns' });
    const readonly = pool.acquire({ kubeConfig: kc, context: 'a-readonly' });
    const b = pool.acquire({ kubeConfig: kc, context: 'b' });
    assert.equal(pool.connections().length, 3);
    // Each lease keeps its own context and default namespace.
    assert.deepEqual(
      [a, otherNs, readonly].map((c) => [c.contextName, c.namespace]),
      [
        ['a', 'demo'],
        ['a-other-ns', 'other'],
        ['a-readonly', 'default'],
      ],
    );
    for (const c of [a, otherNs, readonly, b]) c.dispose();
    assert.equal(pool.connections().length, 0);
  });

  it('one circuit breaker per connection: what one lease runs into, the other sees', async () => {
    const api = await failingServer();
    const pool = new ClusterPool({ ...fast, maxAttempts: 1 });
    const kc = kubeconfig(api.url);
    const sidebar = pool.acquire({ kubeConfig: kc, context: 'a' });
    const session = pool.acquire({ kubeConfig: kc, context: 'a-other-ns' });
    const readonly = pool.acquire({ kubeConfig: kc, context: 'a-readonly' });
    const seen: string[] = [];
    session.connection.onBreakerStateChange((s) => seen.push(s));
    try {
      for (let i = 0; i < 3; i++) await assert.rejects(sidebar.listNamespaces());
      assert.equal(session.connection.breakerState, 'open');
      assert.deepEqual(seen, ['open']);
      assert.equal(readonly.connection.breakerState, 'closed', 'another user has a breaker of its own');
      await assert.rejects(session.listDeployments(), /paused calls/);
      assert.equal(api.requests(), 3, 'the open circuit held the session’s call back');
    } finally {
      for (const c of [sidebar, session, readonly]) c.dispose();
      await api.close();
    }
  });

  it('counts leases: the connection closes with the last one, and a Cluster gives its lease back once', () => {
    const pool = new ClusterPool();
    const events: string[] = [];
    const name = (c: ClusterConnection) => c.contextName;
    pool.subscribe({
      opened: (c) => events.push(`opened ${name(c)}`),
      closed: (c) => events.push(`closed ${name(c)}`),
    });
    const kc = kubeconfig('https://127.0.0.1:1');
    const first = pool.acquire({ kubeConfig: kc, context: 'a' });
    const second = pool.acquire({ kubeConfig: kc, context: 'a-other-ns' });
    first.dispose();
    first.dispose();
    assert.deepEqual(events, ['opened a'], 'the second lease keeps it open');
    second.dispose();
    assert.deepEqual(events, ['opened a', 'closed a']);
    pool.acquire({ kubeConfig: kc, context: 'a-other-ns' }).dispose();
    assert.deepEqual(events, ['opened a', 'closed a', 'opened a-other-ns', 'closed a-other-ns']);
  });

  it('tells a new subscriber of the connections already open, and closes them all on dispose', () => {
    const pool = new ClusterPool();
    const kc = kubeconfig('https://127.0.0.1:1');
    const lease = pool.acquire({ kubeConfig: kc, context: 'b' });
    const events: string[] = [];
    pool.subscribe({
      opened: (c) => events.push(`opened ${c.server}`),
      closed: (c) => events.push(`closed ${c.server}`),
    });
    pool.dispose();
    assert.deepEqual(events, ['opened https://127.0.0.1:2', 'closed https://127.0.0.1:2']);
    lease.dispose();
    assert.equal(events.length, 2, 'a lease given back after the pool closed changes nothing');
  });

  it('per-lease call options on a shared connection: a brief question is not retried, a session call is', async () => {
    const api = await failingServer();
    const pool = new ClusterPool({ ...fast, breakerThreshold: 100 });
    const kc = kubeconfig(api.url);
    const question = pool.acquire({ kubeConfig: kc, context: 'a', calls: { maxAttempts: 1 } });
    const session = pool.acquire({ kubeConfig: kc, context: 'a' });
    try {
      assert.equal(pool.connections().length, 1);
      await assert.rejects(question.listNamespaces());
      assert.equal(api.requests(), 1);
      await assert.rejects(session.listNamespaces());
      assert.equal(api.requests(), 1 + 4, 'the default policy makes 4 attempts');
    } finally {
      question.dispose();
      session.dispose();
      await api.close();
    }
  });

  it('refuses a context the kubeconfig does not have, leasing nothing', () => {
    const pool = new ClusterPool();
    assert.throws(
      () => pool.acquire({ kubeConfig: kubeconfig('https://127.0.0.1:1'), context: 'nope' }),
      /no context "nope"/,
    );
    assert.equal(pool.connections().length, 0);
  });
});
