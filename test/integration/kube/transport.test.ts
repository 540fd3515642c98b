// The HTTP layer on long sessions: client certificates that an exec credential plugin rotates
// are used from the next request on (a pooled socket keeps the certificate it was opened
// with), and however many streams (watches, log follows, execs) are open, plain requests still
// get a connection: streams are on an agent of their own.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { KubeConfig } from '@kubernetes/client-node';
import type { Sandbox } from '../../../sandbox';
import { clientCertificate, generateTls } from '../../../sandbox/server/tls';
import { Cluster } from '../../../src/core/kube/cluster';
import type { ExecStream } from '../../../src/core/kube/exec';
import type { Watcher } from '../../../src/core/kube/types';
import { podNames, sharedSandbox, waitFor, waitForRollout } from '../../helpers/sandbox';

describe('the HTTP layer on long sessions', function () {
  this.timeout(60_000);

  it('a client certificate rotated by the exec credential plugin is used from the next request on', async () => {
    const tls = generateTls();
    const server = https.createServer(
      { cert: tls.certPem, key: tls.keyPem, ca: tls.caCertPem, requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        const cn = (req.socket as TLSSocket).getPeerCertificate().subject?.CN;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Namespace', metadata: { name: cn } }));
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const dir = mkdtempSync(join(tmpdir(), 'truva-rotate-'));
    const credential = join(dir, 'credential.json');
    const issue = (cn: string) => {
      const { certPem, keyPem } = clientCertificate(tls, cn);
      writeFileSync(
        credential,
        JSON.stringify({
          apiVersion: 'client.authentication.k8s.io/v1',
          kind: 'ExecCredential',
          status: { clientCertificateData: certPem, clientKeyData: keyPem },
        }),
      );
    };
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [
        {
          name: 'c',
          server: `https://127.0.0.1:${(server.address() as { port: number }).port}`,
          caData: Buffer.from(tls.caCertPem).toString('base64'),
        },
      ],
      users: [
        {
          name: 'u',
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1',
            command: process.execPath,
            args: ['-e', `process.stdout.write(require('fs').readFileSync(${JSON.stringify(credential)}, 'utf8'))`],
            interactiveMode: 'Never',
          },
        },
      ],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const cluster = new Cluster({ kubeConfig: kc });
    const whoami = async () =>
      (
        await cluster.request<{ metadata: { name: string } }>('GET', '/api/v1/namespaces/x', {
          verb: 'get',
          resource: 'namespaces',
          name: 'x',
        })
      ).metadata.name;
    try {
      issue('first');
      assert.equal(await whoami(), 'first');
      issue('second'); // the plugin now hands out a new certificate
      assert.equal(await whoami(), 'second');
    } finally {
      cluster.dispose();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('80 open streams (watches, log follows, execs) do not starve a plain request', async () => {
    const sandbox: Sandbox = await sharedSandbox();
    // One attempt, no retries: the request must get a connection, not wait in the pool.
    const cluster = new Cluster({
      kubeconfigPath: sandbox.kubeconfigPath,
      resilience: { timeoutMs: 10_000, maxAttempts: 1 },
    });
    await waitForRollout(sandbox, 'web');
    const pods = await podNames(sandbox, 'web');
    const watchers: Watcher[] = [];
    const follows: { stream: Readable; stop: AbortController; bytes: number; closed: boolean }[] = [];
    const execs: { stream: ExecStream; output: string }[] = [];
    try {
      // Watches and log follows alone are more than the request pool's 64 sockets: were they in
      // it, the request below would wait for one of them to end, which none does.
      let listed = 0;
      for (let i = 0; i < 50; i++) {
        let first = true;
        watchers.push(
          cluster.watchPods(
            'app=web',
            () => void (first && ((first = false), listed++)),
            () => {},
            { namespace: 'demo' },
          ),
        );
      }
      await waitFor(() => listed === 50, 30_000, 'every watch listed');
      for (let i = 0; i < 20; i++) {
        const stop = new AbortController();
        const stream = await cluster.followLogs(pods[i % pods.length], 'web', {}, stop.signal, 'demo');
        const follow = { stream, stop, bytes: 0, closed: false };
        stream.on('data', (d: Buffer) => (follow.bytes += d.length));
        stream.once('close', () => (follow.closed = true));
        stream.on('error', () => {});
        follows.push(follow);
      }
      for (let i = 0; i < 10; i++) {
        const stream = await cluster.openExec(pods[i % pods.length], 'web', ['cat'], 'demo');
        const exec = { stream, output: '' };
        stream.onOutput((d) => (exec.output += d.toString()));
        execs.push(exec);
      }
      const echoed = (marker: string) =>
        Promise.all(
          execs.map(async (e) => {
            await e.stream.write(Buffer.from(`${marker}\n`));
            await waitFor(() => e.output.includes(marker), 20_000, `exec echoing ${marker}`);
          }),
        );
      await echoed('first');
      await new Promise((r) => setTimeout(r, 1_000)); // the watch requests follow their lists

      assert.equal((await cluster.getDeployment('web', 'demo')).metadata?.name, 'web');

      // Every stream was still open while the request was answered, and still carries data.
      assert.deepEqual(
        follows.filter((f) => f.closed),
        [],
        'no log follow ended',
      );
      const before = follows.map((f) => f.bytes);
      // The web app logs a heartbeat every second, so a follow that is still open gets more.
      await waitFor(() => follows.every((f, i) => f.bytes > before[i]), 20_000, 'every follow receiving');
      await echoed('second');
    } finally {
      for (const f of follows) f.stop.abort();
      for (const e of execs) e.stream.close();
      for (const w of watchers) w.stop();
      cluster.dispose();
    }
  });
});
