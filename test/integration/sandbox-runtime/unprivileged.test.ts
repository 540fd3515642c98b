import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const REPO = resolve(__dirname, '../../..');
const NOBODY = ['--reuid', '65534', '--regid', '65534', '--clear-groups'];

describe('sandbox runtime: user namespaces', function () {
  this.timeout(30_000);

  function runChild(asNobody: boolean) {
    const node = [process.execPath, '--import', 'tsx', resolve(__dirname, 'unprivilegedChild.ts')];
    const r = asNobody
      ? spawnSync('setpriv', [...NOBODY, ...node], {
          encoding: 'utf8',
          env: { ...process.env, HOME: '/tmp' },
          cwd: REPO,
          timeout: 25_000,
        })
      : spawnSync(node[0], node.slice(1), {
          encoding: 'utf8',
          env: { ...process.env, TRUVA_RT_FORCE_USERNS: '1' },
          cwd: REPO,
          timeout: 25_000,
        });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    assert.ok(line.startsWith('{'), `child output: ${r.stdout}\n${r.stderr}`);
    const result = JSON.parse(line);
    assert.equal(result.error, undefined);
    assert.equal(
      result.stdout,
      'userns-pod userns-pod /app\n',
      'hostname and workingDir as without user namespaces; /etc stays read-only',
    );
    assert.notEqual(result.code, 0);
    assert.deepEqual(result.tty, ['33 101', '/dev/pts/0'], 'a terminal from the container devpts, resized');
    assert.equal(result.forward, 'hello from userns-pod version 1\n', 'port-forward into the pod network namespace');
    assert.deepEqual(result.live, []);
    return result;
  }

  it('runs pods in a user namespace per pod when asked (as root)', () => {
    runChild(false);
  });

  it('runs pods as an unprivileged user through unprivileged user namespaces', function () {
    // The checkout must be readable by nobody (it is not in every CI folder).
    const readable =
      spawnSync('setpriv', [...NOBODY, 'test', '-r', resolve(__dirname, 'unprivilegedChild.ts')]).status === 0;
    if (!readable) this.skip();
    assert.equal(runChild(true).uid, 65534);
  });
});
