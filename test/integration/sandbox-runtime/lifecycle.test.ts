import assert from 'node:assert/strict';
import { until } from '../../helpers/poll';
import { readAll, running, startHarness, type Harness } from './harness';
import type { RuntimePodStatus } from '../../../sandbox/runtime/types';

const TS = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (.*)$/;
const first = (s: RuntimePodStatus) => s.containerStatuses[0];

describe('sandbox runtime: logs, restarts, probes and termination', function () {
  this.timeout(30_000);
  let h: Harness;
  beforeEach(() => (h = startHarness({ backoffBaseMs: 300 })));
  afterEach(async () => h.close());

  it('timestamps every line (strictly increasing), and honours tailLines, limitBytes, sinceTime and partial last lines', async () => {
    const pod = h.pod('printer', [
      {
        name: 'main',
        image: 'web',
        command: [
          'sh',
          '-c',
          'for i in 1 2 3 4 5; do echo "line $i"; done; echo err >&2; printf "no newline"; sleep 30',
        ],
      },
    ]);
    h.rt.startPod(pod);
    await h.waitFor(pod.metadata.uid, 'running', running);
    let all = '';
    for (let i = 0; i < 50 && !all.includes('no newline'); i++) {
      all = await readAll(h.rt.logs(pod.metadata.uid, 'main', { timestamps: true }));
      if (!all.includes('line 5')) await new Promise((r) => setTimeout(r, 50));
      else break;
    }
    const lines = all
      .trimEnd()
      .split('\n')
      .map((l) => TS.exec(l));
    assert.ok(lines.every(Boolean), `every line has an RFC 3339 nanosecond timestamp:\n${all}`);
    assert.deepEqual(
      lines.map((m) => m![2]),
      ['line 1', 'line 2', 'line 3', 'line 4', 'line 5', 'err'],
    );
    const stamps = lines.map((m) => m![1]);
    for (let i = 1; i < stamps.length; i++) assert.ok(stamps[i] > stamps[i - 1], `${stamps[i]} after ${stamps[i - 1]}`);

    assert.equal(await readAll(h.rt.logs(pod.metadata.uid, 'main', { tailLines: 2 })), 'line 5\nerr\n');
    assert.equal(await readAll(h.rt.logs(pod.metadata.uid, 'main', { limitBytes: 9 })), 'line 1\nli');
    const future = new Date(Date.now() + 60_000).toISOString();
    assert.equal(await readAll(h.rt.logs(pod.metadata.uid, 'main', { sinceTime: future })), '');
    // Whole seconds only: a sinceTime inside the second of the first line still includes it.
    const sameSecond = stamps[0].slice(0, 19) + '.999999999Z';
    assert.match(await readAll(h.rt.logs(pod.metadata.uid, 'main', { sinceTime: sameSecond })), /^line 1\n/);
    assert.match(await readAll(h.rt.logs(pod.metadata.uid, 'main', { sinceSeconds: 60 })), /^line 1\n/);

    h.rt.killContainer(pod.metadata.uid, 'main');
    await h.waitFor(pod.metadata.uid, 'restarted', (s) => first(s).restartCount === 1 && running(s));
    const previous = await readAll(h.rt.logs(pod.metadata.uid, 'main', { previous: true }));
    assert.ok(
      previous.endsWith('err\nno newline'),
      `the partial last line is flushed when the instance ends: ${JSON.stringify(previous)}`,
    );
  });

  it('follows a log until that container instance ends, and keeps the previous instance for previous=true', async () => {
    const pod = h.pod('follow', [{ name: 'web', image: 'web' }]);
    h.rt.startPod(pod);
    await h.waitFor(pod.metadata.uid, 'running', running);
    assert.throws(
      () => h.rt.logs(pod.metadata.uid, 'web', { previous: true }),
      /previous terminated container "web" in pod "follow" not found/,
    );
    const stream = h.rt.logs(pod.metadata.uid, 'web', { follow: true, timestamps: true });
    const seen: string[] = [];
    stream.on('data', (d: Buffer) => seen.push(d.toString()));
    const ended = new Promise((r) => stream.on('end', r));
    // A line written after the stream opened (the app logs a heartbeat a second after it starts).
    await until('new lines while following', () => /heartbeat uptime=1s/.test(seen.join('')), 20_000, 50);
    h.rt.killContainer(pod.metadata.uid, 'web');
    await ended;
    const s = await h.waitFor(pod.metadata.uid, 'restarted', (st) => first(st).restartCount === 1 && running(st));
    assert.equal(first(s).lastState.terminated?.exitCode, 137);
    const previous = await readAll(h.rt.logs(pod.metadata.uid, 'web', { previous: true }));
    assert.match(previous, /web listening on :8080/);
    assert.match(previous, /heartbeat/);
    const current = await readAll(h.rt.logs(pod.metadata.uid, 'web', {}));
    assert.doesNotMatch(current, /heartbeat uptime=1s/, 'the new instance has its own log');
  });

  it('restarts a crashing container with growing back-off and shows CrashLoopBackOff', async () => {
    const pod = h.pod('crasher', [{ name: 'main', image: 'web', command: ['sh', '-c', 'echo "run"; exit 3'] }]);
    h.rt.startPod(pod);
    const s = await h.waitFor(
      pod.metadata.uid,
      'CrashLoopBackOff after restarts',
      (st) => first(st).state.waiting?.reason === 'CrashLoopBackOff' && first(st).restartCount >= 2,
    );
    assert.match(
      first(s).state.waiting!.message!,
      /back-off [\d.]+s restarting failed container=main pod=crasher_test/,
    );
    assert.equal(first(s).lastState.terminated?.exitCode, 3);
    assert.equal(first(s).lastState.terminated?.reason, 'Error');
    assert.equal(s.phase, 'Running');
    assert.equal(s.ready, false);
    const waits = h.statuses
      .get(pod.metadata.uid)!
      .map((st) => first(st).state.waiting?.message)
      .filter((m): m is string => !!m?.startsWith('back-off'));
    const delays = [...new Set(waits.map((m) => Number(/back-off ([\d.]+)s/.exec(m)![1])))];
    assert.ok(delays.length >= 2 && delays[1] === delays[0] * 2, `back-off doubles: ${delays}`);
  });

  it('follows restartPolicy OnFailure and Never to Succeeded and Failed', async () => {
    const ok = h.pod('once-ok', [{ name: 'main', image: 'web', command: ['true'] }], { restartPolicy: 'OnFailure' });
    const bad = h.pod('once-bad', [{ name: 'main', image: 'web', command: ['sh', '-c', 'exit 2'] }], {
      restartPolicy: 'Never',
    });
    h.rt.startPod(ok);
    h.rt.startPod(bad);
    const okStatus = await h.waitFor(ok.metadata.uid, 'Succeeded', (s) => s.phase === 'Succeeded');
    assert.equal(first(okStatus).state.terminated?.reason, 'Completed');
    const badStatus = await h.waitFor(bad.metadata.uid, 'Failed', (s) => s.phase === 'Failed');
    assert.equal(first(badStatus).state.terminated?.exitCode, 2);
    assert.equal(first(badStatus).restartCount, 0);
  });

  it('flips ready with the readiness probe (exec and httpGet) and restarts on liveness failure', async () => {
    const pod = h.pod('probed', [
      {
        name: 'web',
        image: 'web',
        readinessProbe: { exec: { command: ['test', '-e', '/tmp/ready'] }, periodSeconds: 0.2, failureThreshold: 1 },
        livenessProbe: {
          httpGet: { path: '/healthz', port: 'http' },
          periodSeconds: 0.3,
          failureThreshold: 2,
          initialDelaySeconds: 0.5,
        },
        ports: [{ containerPort: 8080, name: 'http' }],
      },
      {
        name: 'tcp',
        image: 'web',
        env: [{ name: 'PORT', value: '9090' }],
        readinessProbe: { tcpSocket: { port: 9090 }, periodSeconds: 0.2 },
      },
    ]);
    h.rt.startPod(pod);
    const uid = pod.metadata.uid;
    await h.waitFor(uid, 'tcp container ready', (s) => s.containerStatuses[1].ready);
    assert.equal(h.latest(uid)!.containerStatuses[0].ready, false, 'not ready before the probe passes');
    assert.equal(h.latest(uid)!.ready, false);
    await h.run(uid, 'web', ['touch', '/tmp/ready']);
    await h.waitFor(uid, 'pod ready', (s) => s.ready);
    await h.run(uid, 'web', ['rm', '/tmp/ready']);
    await h.waitFor(
      uid,
      'not ready again',
      (s) => !s.containerStatuses[0].ready && s.containerStatuses[0].state.running !== undefined,
    );
    // The app stops answering: the httpGet liveness probe fails and the container restarts.
    h.rt.killContainer(uid, 'web', 'SIGSTOP');
    const s = await h.waitFor(uid, 'liveness restart', (st) => first(st).restartCount === 1 && running(st));
    assert.equal(
      first(s).lastState.terminated?.exitCode,
      137,
      'a stopped process only dies by SIGKILL after the grace period',
    );
    assert.match(first(s).lastState.terminated?.message ?? '', /failed liveness probe/);
    assert.equal(first(s).ready, false, 'the fresh instance is not ready (its /tmp is new)');
  });

  it('holds a startup probe before liveness and readiness count', async () => {
    const pod = h.pod('slow-start', [
      {
        name: 'main',
        image: 'web',
        command: ['sh', '-c', 'sleep 0.6; touch /tmp/started; sleep 30'],
        startupProbe: { exec: { command: ['test', '-e', '/tmp/started'] }, periodSeconds: 0.1, failureThreshold: 50 },
        livenessProbe: { exec: { command: ['test', '-e', '/tmp/started'] }, periodSeconds: 0.1, failureThreshold: 1 },
      },
    ]);
    h.rt.startPod(pod);
    await h.waitFor(pod.metadata.uid, 'running', running);
    assert.equal(first(h.latest(pod.metadata.uid)!).started, false);
    const s = await h.waitFor(pod.metadata.uid, 'started', (st) => first(st).started && first(st).ready);
    assert.equal(first(s).restartCount, 0, 'liveness did not run before the startup probe passed');
  });

  it('sends SIGTERM, then SIGKILL after the grace period to a process that ignores SIGTERM', async () => {
    const pod = h.pod(
      'stubborn',
      [
        {
          name: 'main',
          image: 'web',
          command: ['sh', '-c', 'trap "echo got TERM" TERM; echo up; while :; do sleep 0.1; done'],
        },
      ],
      { terminationGracePeriodSeconds: 1 },
    );
    const polite = h.pod('polite', [{ name: 'web', image: 'web' }], { terminationGracePeriodSeconds: 20 });
    h.rt.startPod(pod);
    h.rt.startPod(polite);
    await h.waitFor(pod.metadata.uid, 'running', running);
    await h.waitFor(polite.metadata.uid, 'running', running);
    await new Promise((r) => setTimeout(r, 300));
    const log = h.rt.logs(pod.metadata.uid, 'main', { follow: true });
    const text = readAll(log);
    const t0 = Date.now();
    await h.rt.deletePod(pod.metadata.uid);
    const elapsed = Date.now() - t0;
    assert.match(await text, /got TERM/);
    assert.ok(elapsed >= 900, `killed only after the 1 s grace period (${elapsed} ms)`);
    const last = h.latest(pod.metadata.uid)!;
    assert.equal(first(last).state.terminated?.exitCode, 137);
    // web exits on SIGTERM by itself, long before its 20 s grace period.
    const webLog = h.rt.logs(polite.metadata.uid, 'web', { follow: true });
    const webText = readAll(webLog);
    await h.rt.deletePod(polite.metadata.uid, 20);
    assert.match(await webText, /SIGTERM received/);
    assert.equal(first(h.latest(polite.metadata.uid)!).state.terminated?.exitCode, 0);
  });
});

describe('sandbox runtime: containers that cannot be created', function () {
  this.timeout(20_000);
  let h: Harness;
  beforeEach(() => (h = startHarness()));
  afterEach(async () => h.close());

  it('reports ErrImagePull for an unknown image and CreateContainerConfigError for an unusable path, with clear messages', async () => {
    const missing = h.pod('no-image', [{ name: 'main', image: 'registry.local/does-not-exist:2' }]);
    const badDir = h.pod('bad-dir', [{ name: 'main', image: 'web', workingDir: '/usr/newdir' }]);
    const noVolume = h.pod('no-volume', [
      { name: 'main', image: 'web', volumeMounts: [{ name: 'data', mountPath: '/data' }] },
    ]);
    for (const p of [missing, badDir, noVolume]) h.rt.startPod(p);
    const waiting = (uid: string) =>
      h.waitFor(
        uid,
        'a waiting reason other than ContainerCreating',
        (s) => !!first(s).state.waiting && first(s).state.waiting!.reason !== 'ContainerCreating',
      );
    const m = first(await waiting(missing.metadata.uid));
    assert.equal(m.state.waiting!.reason, 'ErrImagePull');
    assert.match(
      m.state.waiting!.message!,
      /image "registry.local\/does-not-exist:2" not found: there is no folder .*does-not-exist/,
    );
    const d = first(await waiting(badDir.metadata.uid));
    assert.equal(d.state.waiting!.reason, 'CreateContainerConfigError');
    assert.match(d.state.waiting!.message!, /\/usr\/newdir" is inside the read-only host folder \/usr/);
    const v = first(await waiting(noVolume.metadata.uid));
    assert.match(v.state.waiting!.message!, /volumeMount "data" names no volume/);
    assert.equal(h.latest(missing.metadata.uid)!.phase, 'Pending');
    assert.throws(() => h.rt.logs(missing.metadata.uid, 'main', {}), /is waiting to start: ErrImagePull/);
    assert.throws(() => h.rt.exec(missing.metadata.uid, 'main', ['true']), /is not running/);
    assert.throws(() => h.rt.logs(missing.metadata.uid, 'other', {}), /container other is not valid for pod no-image/);
  });
});
