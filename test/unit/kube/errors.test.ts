import { strict as assert } from 'node:assert';
import { TaskCancelledError } from 'cockatiel';
import { errorFromStatus, toKubeError, type CallTarget } from '../../../src/core/kube/errors';

describe('kube error messages name an exec an exec', () => {
  const exec: CallTarget = { verb: 'create', resource: 'pods/exec', name: 'web-1', namespace: 'demo' };

  it('a refused, timed-out or failed exec is never "create pod"', () => {
    const messages = [
      errorFromStatus(400, { message: 'container nope is not valid for pod web-1' }, exec).message,
      errorFromStatus(500, { message: 'boom' }, exec).message,
      errorFromStatus(403, { message: 'forbidden' }, exec).message,
      toKubeError(new TaskCancelledError('timed out'), exec).message,
    ];
    for (const m of messages) assert.doesNotMatch(m, /create pod/i, m);
    assert.match(messages[0], /refused the request to exec into pod "web-1" in namespace "demo" as invalid \(400\)/);
    assert.match(messages[2], /may not exec into pods in namespace "demo" \(a WebSocket exec needs get and/);
    assert.match(messages[3], /^Exec into pod "web-1" in namespace "demo" timed out/);
  });
});
