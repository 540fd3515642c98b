import { strict as assert } from 'node:assert';
import { PreflightError, devTemplate, remotePathProblem, templateHash } from '../../../src/core/devmode/devMode';

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

  it('remote paths: relative, "..", / and system directories are refused unless allowed', () => {
    assert.equal(remotePathProblem('/app'), undefined);
    assert.equal(remotePathProblem('/srv/app/src'), undefined);
    assert.match(remotePathProblem('app')!, /not absolute/);
    assert.match(remotePathProblem('/app/../etc')!, /\.\./);
    for (const p of ['/', '/etc', '/usr', '/bin', '/proc/1', '/sys', '/dev/'])
      assert.match(remotePathProblem(p)!, /system directory/, p);
    assert.equal(remotePathProblem('/etc', true), undefined);
  });
});
