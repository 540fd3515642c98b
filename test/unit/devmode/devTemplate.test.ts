import { strict as assert } from 'node:assert';
import { remotePathProblem } from '../../../src/core/config/paths';
import { DevMode, PreflightError, devTemplate, templateHash } from '../../../src/core/devmode/devMode';
import type { Cluster } from '../../../src/core/kube/cluster';

const template = {
  metadata: { labels: { app: 'web' } },
  spec: {
    containers: [
      {
        name: 'web',
        image: 'web',
        command: ['node'],
        args: ['server.js', '--name', 'a b'],
        readinessProbe: { httpGet: { path: '/healthz', port: 8080 } },
        env: [{ name: 'A', value: '1' }],
      },
      { name: 'sidecar', image: 'proxy', command: ['proxy'], livenessProbe: { exec: { command: ['true'] } } },
    ],
  },
};

describe('dev-mode template', () => {
  it('changes only the chosen container: supervisor command, args folded in, probes removed', () => {
    const dev = devTemplate(template as any, 'web', {});
    const web = dev.spec!.containers[0];
    assert.deepEqual(web.command!.slice(3), ['truva-supervisor', 'node', 'server.js', '--name', 'a b']);
    assert.equal(web.args, undefined);
    assert.equal(web.readinessProbe, undefined);
    assert.deepEqual(web.env, template.spec.containers[0].env);
    assert.deepEqual(dev.spec!.containers[1], template.spec.containers[1], 'the other container is untouched');
    assert.deepEqual(dev.metadata, template.metadata);
  });

  it('debug: the inspector flag follows node in the argv; a shell command gets NODE_OPTIONS, escaped too', () => {
    const direct = devTemplate(template as any, 'web', { inspectPort: 9229 }).spec!.containers[0].command!;
    assert.deepEqual(direct.slice(4), ['node', '--inspect=127.0.0.1:9229', 'server.js', '--name', 'a b']);
    assert.doesNotMatch(direct[2], /NODE_OPTIONS/);
    const shell = devTemplate(template as any, 'web', { inspectPort: 9230, run: ['sh', '-c', 'node app.js'] }).spec!
      .containers[0].command!;
    assert.deepEqual(shell.slice(4), ['sh', '-c', 'node app.js']);
    assert.match(shell[2], /export NODE_OPTIONS="\$\$\{NODE_OPTIONS:\+\$\$NODE_OPTIONS \}--inspect=127\.0\.0\.1:9230"/);
  });

  it('escapes $ in the script for Kubernetes expansion ($$ becomes $), and keepProbes keeps probes', () => {
    const dev = devTemplate(template as any, 'web', { keepProbes: true, run: ['sh', '-c', 'npm start'] });
    const script = dev.spec!.containers[0].command![2];
    assert.ok(!/[^$]\$[^$]/.test(script.replace(/\$\$/g, '')), 'every $ is doubled');
    assert.ok(dev.spec!.containers[0].readinessProbe);
    assert.deepEqual(dev.spec!.containers[0].command!.slice(4), ['sh', '-c', 'npm start']);
  });

  it('a container with no command and no run is refused with what to do', () => {
    const bare = { spec: { containers: [{ name: 'web', image: 'web' }] } };
    assert.throws(
      () => devTemplate(bare as any, 'web', {}),
      (e: Error) => e instanceof PreflightError && /Set "run" in truva.yaml/.test(e.message),
    );
  });

  it('the template hash ignores key order and changes with content', () => {
    assert.equal(templateHash({ a: 1, b: { c: 2 } }), templateHash({ b: { c: 2 }, a: 1 }));
    assert.notEqual(templateHash({ a: 1 }), templateHash({ a: 2 }));
  });

  it('preflight refuses the remote paths truva.yaml refuses, with the same words (one rule)', async () => {
    const deployment = {
      metadata: { name: 'web' },
      spec: { selector: { matchLabels: { app: 'web' } }, template: { spec: { containers: [{ name: 'web' }] } } },
    };
    const cluster = { getDeployment: async () => deployment } as unknown as Cluster;
    // /usr/local and /var/lib were accepted by preflight while truva.yaml's diagnostics refused them.
    for (const remote of ['/usr/local', '/var/lib', '/root', '/etc', '/proc/1', 'app', '/app/../etc']) {
      const said = remotePathProblem(remote, false)!.message;
      await assert.rejects(
        new DevMode(cluster, { namespace: 'demo', deployment: 'web', remotePaths: [remote] }).preflight(),
        (e: Error) => e instanceof PreflightError && e.message === said,
        remote,
      );
    }
  });
});
