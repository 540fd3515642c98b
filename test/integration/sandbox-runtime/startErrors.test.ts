// Containers the runtime can create but not start, or cannot create, reported as a kubelet
// with containerd reports them: a program that is not on the PATH (an image without a shell,
// like a distroless one) is RunContainerError with the runtime's message, the attempt kept as a
// StartError and retried with the crash back-off; an image USER missing from /etc/passwd is
// CreateContainerError, with no restart. An image USER that exists is who the processes run as.
import assert from 'node:assert/strict';
import type { RuntimeContainerStatus, RuntimePodStatus } from '../../../sandbox/runtime/types';
import { running, startHarness, type Harness } from './harness';

const first = (s: RuntimePodStatus): RuntimeContainerStatus => s.containerStatuses[0];
const NO_SH = /^failed to start container "main": exec: "sh": executable file not found in \$PATH$/;

describe('sandbox runtime: containers that cannot start or cannot be created, as a kubelet reports them', function () {
  this.timeout(30_000);
  let h: Harness;
  beforeEach(() => (h = startHarness({ backoffBaseMs: 300 })));
  afterEach(async () => h.close());

  it('a program not on the PATH: RunContainerError with the message, a StartError as last state, retried with back-off', async () => {
    const pod = h.pod('nosh', [{ name: 'main', image: 'nosh', command: ['sh', '-c', 'sleep 30'] }]);
    h.rt.startPod(pod);
    await h.waitFor(pod.metadata.uid, 'the third attempt', (s) => first(s).restartCount >= 2);
    const seen = h.statuses.get(pod.metadata.uid)!.map(first);
    const failed = seen.filter((c) => c.state.waiting?.reason === 'RunContainerError');
    // Every attempt is shown, counted from 0 as the kubelet counts a container's attempts.
    assert.deepEqual([...new Set(failed.map((c) => c.restartCount))], [0, 1, 2]);
    for (const c of failed) {
      assert.match(c.state.waiting!.message!, NO_SH);
      const last = c.lastState.terminated!;
      assert.equal(last.reason, 'StartError');
      assert.equal(last.exitCode, 128);
      assert.match(last.message!, NO_SH);
      assert.equal(last.startedAt, '1970-01-01T00:00:00Z', 'the process never started');
    }
    // Between attempts it backs off as after a crash, still showing why it last ended.
    const backOff = seen.find((c) => c.state.waiting?.reason === 'CrashLoopBackOff');
    assert.ok(backOff, 'a CrashLoopBackOff between attempts');
    assert.equal(backOff.lastState.terminated?.reason, 'StartError');
    assert.match(backOff.state.waiting!.message!, /^back-off 0\.3s restarting failed container=main pod=nosh_test/);
    // A container that stopped and will restart: the pod runs, as the kubelet's phase says.
    assert.equal(h.latest(pod.metadata.uid)!.phase, 'Running');
    assert.throws(() => h.rt.exec(pod.metadata.uid, 'main', ['true']), /is not running/);
  });

  it('with restartPolicy Never a failed start is the end: terminated StartError, the pod Failed', async () => {
    const pod = h.pod('nosh-once', [{ name: 'main', image: 'nosh', command: ['sh'] }], { restartPolicy: 'Never' });
    h.rt.startPod(pod);
    const s = await h.waitFor(pod.metadata.uid, 'the end', (x) => x.phase === 'Failed');
    assert.equal(first(s).state.terminated?.reason, 'StartError');
    assert.match(first(s).state.terminated!.message!, NO_SH);
  });

  it('an image without a shell still runs its own program', async () => {
    const pod = h.pod('nosh-app', [{ name: 'main', image: 'nosh' }]);
    h.rt.startPod(pod);
    await h.waitFor(pod.metadata.uid, 'running', running);
    const r = await h.run(pod.metadata.uid, 'main', ['node', '-e', 'console.log("node here")']);
    assert.equal(r.stdout.trim(), 'node here');
  });

  it('an image USER that is not in /etc/passwd: CreateContainerError, no restart; runAsUser overrides it', async () => {
    const pod = h.pod('nouser', [{ name: 'main', image: 'nouser' }]);
    const overridden = h.pod('nouser-runasuser', [
      { name: 'main', image: 'nouser', securityContext: { runAsUser: 1000 } },
    ]);
    h.rt.startPod(pod);
    h.rt.startPod(overridden);
    const s = await h.waitFor(pod.metadata.uid, 'CreateContainerError', (x) => !!first(x).state.waiting?.message);
    assert.deepEqual(first(s).state.waiting, {
      reason: 'CreateContainerError',
      message: 'failed to create container "main": unable to find user nodeapp: no users found',
    });
    assert.equal(first(s).restartCount, 0);
    assert.deepEqual(first(s).lastState, {});
    assert.equal(s.phase, 'Pending');
    await h.waitFor(overridden.metadata.uid, 'running', running);
    assert.equal((await h.run(overridden.metadata.uid, 'main', ['id', '-u'])).stdout.trim(), '1000');
  });

  it('runAsNonRoot with an image USER that is a name: CreateContainerConfigError, as the kubelet cannot verify it', async () => {
    const pod = h.pod('nonroot-name', [{ name: 'main', image: 'nonroot' }], {
      securityContext: { runAsNonRoot: true },
    });
    h.rt.startPod(pod);
    const s = await h.waitFor(pod.metadata.uid, 'a waiting message', (x) => !!first(x).state.waiting?.message);
    assert.equal(first(s).state.waiting!.reason, 'CreateContainerConfigError');
    assert.match(
      first(s).state.waiting!.message!,
      /^container has runAsNonRoot and image has non-numeric user \(nobody\), cannot verify user is non-root \(pod: "nonroot-name_test\(.*\)", container: main\)$/,
    );
  });

  it('an image USER that exists is who the container and its execs run as', async () => {
    const pod = h.pod('nonroot', [{ name: 'main', image: 'nonroot' }]);
    h.rt.startPod(pod);
    await h.waitFor(pod.metadata.uid, 'running', running);
    assert.equal((await h.run(pod.metadata.uid, 'main', ['id', '-u'])).stdout.trim(), '65534');
    // PID 1, the image's own program, runs as that user too.
    assert.equal((await h.run(pod.metadata.uid, 'main', ['stat', '-c', '%u', '/proc/1'])).stdout.trim(), '65534');
  });
});
