import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAll, running, startHarness, type Harness } from './harness';

// Retries while the app is still starting to listen.
const HTTP_GET =
  'for i in $(seq 50); do exec 3<>/dev/tcp/127.0.0.1/8080 2>/dev/null && break; sleep 0.1; done; printf "GET / HTTP/1.0\\r\\n\\r\\n" >&3 && cat <&3';

describe('sandbox runtime: containers are isolated real processes', function () {
  this.timeout(30_000);
  let h: Harness;
  beforeEach(() => (h = startHarness()));
  afterEach(async () => h.close());

  it('gives each container the pod name as hostname and HOSTNAME, the image files in workingDir, and honours command, args and env', async () => {
    const pod = h.pod('web-abc12', [{ name: 'web', image: 'registry.local/web:1' }]);
    const shell = h.pod('shell-1', [
      {
        name: 'main',
        image: 'web',
        command: ['sh', '-c'],
        args: ['echo "$GREETING $(pwd)"; sleep 30'],
        env: [
          { name: 'NAME', value: 'pods' },
          { name: 'GREETING', value: 'hi $(NAME)' },
        ],
        workingDir: '/work',
      },
    ]);
    h.rt.startPod(pod);
    h.rt.startPod(shell);
    await h.waitFor(pod.metadata.uid, 'web running', running);
    await h.waitFor(shell.metadata.uid, 'shell running', running);
    const r = await h.run(pod.metadata.uid, 'web', [
      'sh',
      '-c',
      'echo "$HOSTNAME $(hostname) $(cat /etc/hostname)"; pwd; ls',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const [names, cwd, ...files] = r.stdout.trim().split('\n');
    assert.equal(names, 'web-abc12 web-abc12 web-abc12');
    assert.equal(cwd, '/app');
    assert.deepEqual(files.sort(), ['server.js', 'version.txt']);
    const log = await readAll(h.rt.logs(shell.metadata.uid, 'main', {}));
    assert.equal(log, 'hi pods /work\n');
    const pid1 = await h.run(shell.metadata.uid, 'main', ['sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "']);
    assert.match(pid1.stdout, /^sh -c echo/, 'the command is PID 1 of its own PID namespace');
  });

  it('keeps two pods of one image apart: files, tar -x into /app, and the same port 8080', async () => {
    const a = h.pod('web-a', [{ name: 'web', image: 'web' }]);
    const b = h.pod('web-b', [{ name: 'web', image: 'web' }]);
    h.rt.startPod(a);
    h.rt.startPod(b);
    await h.waitFor(a.metadata.uid, 'a running', running);
    await h.waitFor(b.metadata.uid, 'b running', running);
    const src = mkdtempSync(join(tmpdir(), 'truva-tar-'));
    try {
      writeFileSync(join(src, 'version.txt'), 'synced-2\n');
      writeFileSync(join(src, 'only-a.txt'), 'a\n');
      const tarball = spawnSync('tar', ['-c', '-C', src, '.']).stdout;
      const x = await h.run(a.metadata.uid, 'web', ['tar', '-x', '-f', '-', '-C', '/app'], tarball);
      assert.equal(x.code, 0, x.stderr);
    } finally {
      rmSync(src, { recursive: true, force: true });
    }
    assert.equal((await h.run(a.metadata.uid, 'web', ['cat', '/app/only-a.txt'])).stdout, 'a\n');
    assert.notEqual(
      (await h.run(b.metadata.uid, 'web', ['cat', '/app/only-a.txt'])).code,
      0,
      "pod b must not see pod a's file",
    );
    await h.run(a.metadata.uid, 'web', ['sh', '-c', 'echo secret > /tmp/mine']);
    assert.notEqual((await h.run(b.metadata.uid, 'web', ['cat', '/tmp/mine'])).code, 0);

    const fromA = await h.run(a.metadata.uid, 'web', ['bash', '-c', HTTP_GET]);
    const fromB = await h.run(b.metadata.uid, 'web', ['bash', '-c', HTTP_GET]);
    assert.match(fromA.stdout, /hello from web-a version synced-2/);
    assert.match(fromB.stdout, /hello from web-b version 1/);
  });

  it('makes the host filesystem read-only inside the container; /tmp, /var/tmp, HOME and workingDir are writable', async () => {
    const pod = h.pod('ro-check', [{ name: 'web', image: 'web' }]);
    h.rt.startPod(pod);
    await h.waitFor(pod.metadata.uid, 'running', running);
    const marker = `truva-rt-${process.pid}`;
    for (const path of [`/usr/bin/${marker}`, `/etc/${marker}`, `/${marker}`, `/opt/${marker}`]) {
      const r = await h.run(pod.metadata.uid, 'web', ['sh', '-c', `echo x > ${path}`]);
      assert.notEqual(r.code, 0, `writing ${path} must fail`);
      assert.match(r.stderr, /Read-only file system|Permission denied|Directory nonexistent/);
      assert.equal(existsSync(path), false);
    }
    const rm = await h.run(pod.metadata.uid, 'web', ['rm', '-f', '/usr/bin/env']);
    assert.notEqual(rm.code, 0);
    assert.ok(existsSync('/usr/bin/env'));
    const ok = await h.run(pod.metadata.uid, 'web', [
      'sh',
      '-c',
      'echo 1 > /tmp/a && echo 2 > /var/tmp/b && echo 3 > /app/c && echo 4 > "$HOME/d" && cat /tmp/a /var/tmp/b /app/c /root/d',
    ]);
    assert.equal(ok.stdout, '1\n2\n3\n4\n', ok.stderr);
    const devs = await h.run(pod.metadata.uid, 'web', ['ls', '/dev']);
    assert.doesNotMatch(devs.stdout, /vda|sda|nvme/, 'no host block devices inside');
  });

  it('has no usable tar in an image marked {"tar": false}, while the web image has one', async () => {
    const pod = h.pod('notar-1', [{ name: 'app', image: 'notar' }]);
    const web = h.pod('web-tar', [{ name: 'web', image: 'web' }]);
    h.rt.startPod(pod);
    h.rt.startPod(web);
    await h.waitFor(pod.metadata.uid, 'running', running);
    await h.waitFor(web.metadata.uid, 'running', running);
    for (const cmd of [
      ['tar', '--version'],
      ['/bin/tar', '--version'],
      ['/usr/bin/tar', '--version'],
      ['sh', '-c', 'command -v tar'],
    ]) {
      const r = await h.run(pod.metadata.uid, 'app', cmd);
      assert.notEqual(r.code, 0, `${cmd.join(' ')} must fail in notar`);
    }
    assert.equal((await h.run(web.metadata.uid, 'web', ['tar', '--version'])).code, 0);
    const served = await h.run(pod.metadata.uid, 'app', ['bash', '-c', HTTP_GET]);
    assert.match(served.stdout, /hello from notar-1/, 'notar runs the web app');
  });

  it("shares a pod's emptyDir volumes between its containers", async () => {
    const pod = h.pod(
      'shared-vol',
      [
        {
          name: 'writer',
          image: 'web',
          command: ['sh', '-c', 'echo from-writer > /data/x; sleep 30'],
          volumeMounts: [{ name: 'scratch', mountPath: '/data' }],
        },
        {
          name: 'reader',
          image: 'web',
          command: ['sleep', '30'],
          volumeMounts: [{ name: 'scratch', mountPath: '/data' }],
        },
      ],
      { volumes: [{ name: 'scratch', emptyDir: {} }] },
    );
    h.rt.startPod(pod);
    await h.waitFor(pod.metadata.uid, 'running', running);
    let r = { code: 1, stdout: '', stderr: '' };
    for (let i = 0; i < 20 && r.stdout === ''; i++)
      r = await h.run(pod.metadata.uid, 'reader', ['sh', '-c', 'cat /data/x 2>/dev/null || true']);
    assert.equal(r.stdout, 'from-writer\n');
  });

  it("kills an exec's command (not only nsenter) and stops a pod deleted while it is being created", async () => {
    const pod = h.pod('exec-kill', [{ name: 'web', image: 'web' }]);
    h.rt.startPod(pod);
    await h.waitFor(pod.metadata.uid, 'running', running);
    const sleeps = async () =>
      (await h.run(pod.metadata.uid, 'web', ['sh', '-c', 'cat /proc/[0-9]*/comm'])).stdout
        .split('\n')
        .filter((c) => c === 'sleep').length;
    const exec = h.rt.exec(pod.metadata.uid, 'web', ['sleep', '1000']);
    exec.stdout.resume();
    exec.stderr.resume();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await sleeps(), 1);
    exec.kill('SIGKILL');
    assert.equal(await exec.exited, 137);
    assert.equal(await sleeps(), 0, 'the sleep inside the container is gone');

    const early = h.pod('early-delete', [{ name: 'web', image: 'web' }]);
    h.rt.startPod(early);
    await h.rt.deletePod(early.metadata.uid, 0);
    await h.rt.deletePod('no-such-uid');
    await new Promise((r) => setTimeout(r, 300));
    const stray = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => safeRead(`/proc/${p}/cmdline`).includes('early-delete'));
    assert.deepEqual(stray, [], 'nothing of the pod deleted during creation runs');
  });

  it('leaves no process, namespace or mount behind after stopAll', async () => {
    const a = h.pod('leak-a', [
      { name: 'web', image: 'web' },
      { name: 'side', image: 'worker', command: ['node', 'worker.js'], args: ['sidecar'] },
    ]);
    const b = h.pod('leak-b', [
      { name: 'stubborn', image: 'web', command: ['sh', '-c', 'trap "" TERM; sleep 1000 & wait'] },
    ]);
    h.rt.startPod(a);
    h.rt.startPod(b);
    await h.waitFor(a.metadata.uid, 'a running', running);
    await h.waitFor(b.metadata.uid, 'b running', running);
    const exec = h.rt.exec(a.metadata.uid, 'web', ['sleep', '1000']);
    exec.stdout.resume();
    exec.stderr.resume();
    const pids = h.rt.livePids();
    assert.ok(pids.length >= 5, `expected pause, init and exec processes, got ${pids}`);
    await new Promise((r) => setTimeout(r, 100));
    const namespaces = new Set(
      pids.flatMap((pid) => ['pid', 'net', 'mnt'].map((ns) => safeReadlink(`/proc/${pid}/ns/${ns}`))).filter(Boolean),
    );
    for (const own of ['pid', 'net', 'mnt']) namespaces.delete(safeReadlink(`/proc/self/ns/${own}`));
    assert.ok(namespaces.size >= 3);
    // Every process in the pods' namespaces now, named by PID and start time: namespace
    // numbers are reused once freed (other sandboxes may be running on this machine).
    const inPods = () =>
      readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .filter((pid) => ['pid', 'net', 'mnt'].some((ns) => namespaces.has(safeReadlink(`/proc/${pid}/ns/${ns}`))))
        .map((pid) => `${pid} ${startTime(pid)} ${safeRead(`/proc/${pid}/cmdline`).slice(0, 80)}`);
    const before = inPods();
    assert.ok(
      before.some((p) => p.includes('sleep 1000')),
      `the pods' processes are found: ${before.join('; ')}`,
    );
    await h.rt.stopAll();
    assert.deepEqual(h.rt.livePids(), []);
    const stillThere = new Set(readdirSync('/proc').map((pid) => `${pid} ${startTime(pid)}`));
    assert.deepEqual(
      before.filter((p) => stillThere.has(p.split(' ').slice(0, 2).join(' '))),
      [],
      'processes of the pods still running',
    );
    assert.equal((await exec.exited) > 0, true, 'the exec ended with its container');
  });
});

function safeReadlink(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

function startTime(pid: string): string {
  const stat = safeRead(`/proc/${pid}/stat`);
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}
