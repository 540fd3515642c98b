// How the rollout wait quotes a waiting container: a CrashLoopBackOff alone only says that the
// kubelet waits, so the last termination (a StartError with the runtime's message, or an exit)
// is quoted with it; other reasons carry their own message.
import { strict as assert } from 'node:assert';
import { waitingReason } from '../../../src/core/devmode/devMode';

const NOT_FOUND = 'failed to start container "web": exec: "sh": executable file not found in $PATH';

describe('rollout: the reason a waiting container gives', () => {
  it('RunContainerError: the reason with the runtime message', () => {
    assert.equal(
      waitingReason({
        name: 'web',
        state: { waiting: { reason: 'RunContainerError', message: NOT_FOUND } },
      } as never),
      `RunContainerError (${NOT_FOUND})`,
    );
  });

  it('CrashLoopBackOff after a failed start: how the last attempt ended, with its message', () => {
    assert.equal(
      waitingReason({
        name: 'web',
        state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container=web' } },
        lastState: { terminated: { reason: 'StartError', exitCode: 128, message: NOT_FOUND } },
      } as never),
      `CrashLoopBackOff (back-off 10s restarting failed container=web); it last ended with StartError, exit code 128: ${NOT_FOUND}`,
    );
  });

  it('CrashLoopBackOff after a crash: its exit code', () => {
    assert.equal(
      waitingReason({
        name: 'web',
        state: { waiting: { reason: 'CrashLoopBackOff' } },
        lastState: { terminated: { reason: 'Error', exitCode: 1 } },
      } as never),
      'CrashLoopBackOff; it last ended with Error, exit code 1',
    );
  });
});
