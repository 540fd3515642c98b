// Fault injection, through the admin endpoint (its own token) as the reliability tests and the
// demo use it, checked with raw HTTPS so the exact status, headers and stream ends are visible.
import { strict as assert } from 'node:assert';
import * as https from 'node:https';
import { PassThrough } from 'node:stream';
import { Exec, KubeConfig } from '@kubernetes/client-node';
import type { Sandbox } from '../../../sandbox';
import { sharedSandbox, waitFor } from '../../helpers/sandbox';

interface Reply {
  code: number;
  headers: Record<string, unknown>;
  body: string;
}

function request(
  sandbox: Sandbox,
  path: string,
  opts: { method?: string; token?: string; body?: unknown } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${sandbox.url}${path}`,
      {
        method: opts.method ?? 'GET',
        ca: sandbox.caCertPem,
        headers: { authorization: `Bearer ${opts.token ?? sandbox.tokens.admin}`, 'content-type': 'application/json' },
      },
      (res) => {
        let body = '';
        res
          .on('data', (d) => (body += d))
          .on('end', () => resolve({ code: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(opts.body === undefined ? undefined : JSON.stringify(opts.body));
  });
}

const admin = (sandbox: Sandbox, body: unknown, token = sandbox.tokens.faults) =>
  request(sandbox, '/truva-admin/faults', { method: 'POST', token, body });

describe('sandbox faults', function () {
  this.timeout(30_000);
  let sandbox: Sandbox;

  before(async () => (sandbox = await sharedSandbox()));
  afterEach(() => sandbox.faults.clear());

  it("the admin endpoint wants its own token, not the kubeconfig's", async () => {
    assert.equal((await admin(sandbox, { action: 'clear' }, sandbox.tokens.admin)).code, 401);
    assert.equal((await admin(sandbox, { action: 'clear' })).code, 200);
    const bad = await admin(sandbox, { action: 'explode' });
    assert.equal(bad.code, 400);
    assert.match(JSON.parse(bad.body).message, /unknown fault action "explode"; use latency, fail/);
  });

  it('fails exactly the next N matching requests, 429 with Retry-After as a Status', async () => {
    await admin(sandbox, { action: 'fail', path: '/pods', method: 'GET', status: 429, count: 2 });
    const first = await request(sandbox, '/api/v1/namespaces/demo/pods');
    assert.equal(first.code, 429);
    assert.equal(first.headers['retry-after'], '1');
    assert.deepEqual(JSON.parse(first.body).reason, 'TooManyRequests');
    assert.equal(
      (await request(sandbox, '/apis/apps/v1/namespaces/demo/deployments')).code,
      200,
      'other paths are untouched',
    );
    assert.equal((await request(sandbox, '/api/v1/namespaces/demo/pods')).code, 429);
    assert.equal((await request(sandbox, '/api/v1/namespaces/demo/pods')).code, 200);
  });

  it('latency and hang hold answers back', async () => {
    sandbox.faults.latency(300, /deployments/);
    let t = Date.now();
    await request(sandbox, '/apis/apps/v1/namespaces/demo/deployments');
    assert.ok(Date.now() - t >= 280);
    sandbox.faults.clear();
    sandbox.faults.hang(400);
    t = Date.now();
    assert.equal((await request(sandbox, '/api/v1/namespaces')).code, 200);
    assert.ok(Date.now() - t >= 380);
  });

  it('closeStreams ends open watches abruptly and says how many', async () => {
    let ended = false;
    const req = https.get(
      `${sandbox.url}/api/v1/namespaces/demo/pods?watch=true`,
      { ca: sandbox.caCertPem, headers: { authorization: `Bearer ${sandbox.tokens.admin}` } },
      (res) => {
        res.resume();
        res.on('close', () => (ended = true));
      },
    );
    req.on('error', () => (ended = true));
    await waitFor(() => req.socket !== undefined && req.writableFinished, 5_000, 'the watch request sent');
    await new Promise((r) => setTimeout(r, 200));
    const reply = await admin(sandbox, { action: 'closeStreams' });
    assert.ok(JSON.parse(reply.body).closed >= 1);
    await waitFor(() => ended, 5_000, 'the watch to be cut');
  });

  it('failExec makes only the next exec fail', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(sandbox.kubeconfigPath);
    const pods = JSON.parse(
      (await request(sandbox, '/api/v1/namespaces/demo/pods?labelSelector=app%3Dweb')).body,
    ).items;
    const execTrue = () =>
      new Promise<string>((resolve, reject) => {
        new Exec(kc)
          .exec('demo', pods[0].metadata.name, 'web', ['true'], new PassThrough(), null, null, false, (s) =>
            resolve(String(s.status)),
          )
          .catch(reject);
      });
    sandbox.faults.failExec({ count: 1 });
    const failed = await execTrue().then(
      () => undefined,
      (e) => e,
    );
    assert.match(String(failed?.message), /500/);
    assert.equal(await execTrue(), 'Success');
  });
});
