import { strict as assert } from 'node:assert';
import { expandHome, normaliseRemote, remotePathProblem } from '../../../src/core/config/paths';

describe('config: path rules', () => {
  it('remote paths: relative, "..", / and system directories are refused unless allowed', () => {
    assert.equal(remotePathProblem('/app', false), undefined);
    assert.equal(remotePathProblem('/srv/app/src', false), undefined);
    assert.equal(remotePathProblem('/var/www', false), undefined);
    assert.match(remotePathProblem('app', false)!.message, /must be absolute/);
    assert.match(remotePathProblem('/app/../etc', false)!.message, /must not contain "\.\."/);
    for (const p of ['/', '/etc', '/etc/', '/usr', '/usr/local', '/bin', '/proc/1', '/sys', '/dev/', '/root', '/run'])
      assert.equal(remotePathProblem(p, false)?.code, 'remote-system-dir', p);
    assert.equal(remotePathProblem('/etc', true), undefined);
  });

  it('normalises remote paths and expands ~ from $HOME', () => {
    assert.equal(normaliseRemote('/app//src/'), '/app/src');
    assert.equal(normaliseRemote('/'), '/');
    assert.equal(expandHome('~/.kube/config', { HOME: '/home/dev' }), '/home/dev/.kube/config');
    assert.equal(expandHome('~', { HOME: '/home/dev' }), '/home/dev');
    assert.equal(expandHome('~other/x', { HOME: '/home/dev' }), '~other/x');
  });
});
