import { strict as assert } from 'node:assert';
import { Session, SessionCancelledError, type SessionParts } from '../../../src/core/session/session';
import { SessionManager } from '../../../src/core/session/sessionManager';

/** Parts that record the calls made to them; `failAt` makes one of them throw. */
function recordingParts(failAt?: string, hooks: { onEnter?: () => void } = {}) {
  const calls: string[] = [];
  const maybeFail = (name: string) => {
    calls.push(name);
    if (failAt === name) throw new Error(`${name} failed`);
  };
  const parts: SessionParts = {
    devMode: {
      preflight: async () => maybeFail('preflight'),
      enter: async () => {
        hooks.onEnter?.();
        maybeFail('enter');
      },
      restore: async (o) => maybeFail(o?.force ? 'restore(force)' : 'restore'),
    },
    sync: {
      snapshot: () => ({ state: 'idle', pending: 0, filesSent: 0 }),
      onDidChange: () => () => {},
      notify: (path) => calls.push(`notify ${path}`),
      start: async () => maybeFail('sync.start'),
      restartAll: async () => maybeFail('restartAll'),
      pause: () => calls.push('pause'),
      resume: () => calls.push('resume'),
      fullSync: async () => maybeFail('fullSync'),
      dispose: async () => maybeFail('sync.dispose'),
    },
    logs: { start: () => calls.push('logs.start'), stop: () => calls.push('logs.stop') },
  };
  return { parts, calls };
}

describe('Session', () => {
  it('runs the steps in order and reports each one', async () => {
    const { parts, calls } = recordingParts();
    const steps: string[] = [];
    const session = new Session('ctx/demo/web', parts);
    await session.start((p) => steps.push(p.step));
    assert.equal(session.phase, 'running');
    assert.deepEqual(calls, ['preflight', 'enter', 'sync.start', 'restartAll', 'logs.start']);
    assert.deepEqual(steps, ['preflight', 'backup', 'initial-sync', 'start']);
  });

  it('a failed preflight changes nothing: no restore is attempted', async () => {
    const { parts, calls } = recordingParts('preflight');
    const session = new Session('s', parts);
    await assert.rejects(session.start(), /preflight failed/);
    assert.equal(session.phase, 'failed');
    assert.ok(!calls.includes('restore'));
  });

  it('a failure after dev mode was entered restores the deployment', async () => {
    const { parts, calls } = recordingParts('sync.start');
    const session = new Session('s', parts);
    await assert.rejects(session.start(), /sync.start failed/);
    assert.deepEqual(calls.slice(-3), ['logs.stop', 'sync.dispose', 'restore']);
  });

  it('cancel during the rollout restores and says it was cancelled', async () => {
    const cancel = new AbortController();
    const { parts, calls } = recordingParts(undefined, { onEnter: () => cancel.abort() });
    const session = new Session('s', parts);
    await assert.rejects(
      session.start(() => {}, cancel.signal),
      SessionCancelledError,
    );
    assert.ok(calls.includes('restore'));
    assert.ok(!calls.includes('restartAll'));
  });

  it('stop restores; a restore failure leaves the session failed with the reason', async () => {
    const ok = recordingParts();
    const session = new Session('s', ok.parts);
    await session.start();
    await session.stop({ force: true });
    assert.equal(session.phase, 'stopped');
    assert.ok(ok.calls.includes('restore(force)'));

    const bad = recordingParts('restore');
    const failing = new Session('s2', bad.parts);
    await failing.start();
    await assert.rejects(failing.stop(), /restore failed/);
    assert.equal(failing.phase, 'failed');
  });
});

describe('SessionManager', () => {
  it('refuses a second session on the same deployment and forgets stopped ones', async () => {
    const manager = new SessionManager();
    const first = manager.create('c/n/web', recordingParts().parts);
    await first.start();
    assert.throws(() => manager.create('c/n/web', recordingParts().parts), /already running/);
    manager.create('c/n/api', recordingParts().parts);
    assert.equal(manager.list().length, 2);
    await first.stop();
    assert.deepEqual(
      manager.list().map((s) => s.id),
      ['c/n/api'],
    );
  });
});
