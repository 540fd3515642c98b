// The pod's long-lived sync shell against real pods: framed batches of files and deletions in
// one exec, a tar that cannot run reported without losing the frame, a dropped connection noticed, and
// an image whose `head` reads ahead (busybox) detected, with batches then sent by one exec each;
// scripts (the restart after a batch) run through the same shell.
import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sandbox } from '../../../sandbox';
import type { Cluster } from '../../../src/core/kube/cluster';
import type { ExecStream } from '../../../src/core/kube/exec';
import { Chunk, SyncEngine, clusterSyncTarget, tarOf } from '../../../src/core/sync';
import { oneShotSink, PodShell, type BatchSink } from '../../../src/core/sync/podShell';
import {
  createTestDeployment,
  podNames,
  sandboxCluster,
  sharedSandbox,
  uniqueName,
  waitFor,
} from '../../helpers/sandbox';

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

describe('pod sync shell on the sandbox', function () {
  this.timeout(120_000);
  let sandbox: Sandbox;
  let cluster: Cluster;
  let local: string;
  let webApp: string;
  let webPod: string;
  let busyboxApp: string;
  let busyboxPod: string;
  let noTarPod: string;
  let opened: string[][];

  const opener =
    (pod: string) =>
    (command: string[]): Promise<ExecStream> => {
      opened.push(command);
      return cluster.openExec(pod, 'web', command, 'demo');
    };

  async function tarChunks(paths: string[], size: number): Promise<Buffer[]> {
    const parts: Buffer[] = [];
    for await (const part of tarOf(local, paths).chunks) parts.push(Buffer.from(part.bytes));
    const all = Buffer.concat(parts);
    const chunks: Buffer[] = [];
    for (let at = 0; at < all.length; at += size) chunks.push(all.subarray(at, at + size));
    return chunks;
  }

  /** An archive through the shell, in these chunks. */
  async function extract(shell: PodShell, chunks: Buffer[]) {
    const bytes = chunks.reduce((n, c) => n + c.length, 0);
    await send(await shell.begin('extract', bytes), chunks);
  }

  async function send(sink: BatchSink, chunks: Buffer[]) {
    for (const chunk of chunks) await sink.write(Chunk.of(chunk));
    await sink.end();
  }

  async function remote(pod: string, script: string): Promise<string> {
    const r = await cluster.exec(pod, 'web', ['sh', '-c', script], { namespace: 'demo' });
    return r.stdout.toString().trim();
  }

  before(async () => {
    sandbox = await sharedSandbox();
    cluster = sandboxCluster(sandbox);
    webApp = uniqueName('shell');
    busyboxApp = uniqueName('shell-bb');
    const noTarApp = uniqueName('shell-notar');
    await Promise.all([
      createTestDeployment(sandbox, { name: webApp, replicas: 1 }),
      createTestDeployment(sandbox, { name: busyboxApp, replicas: 1, image: 'busybox-like' }),
      createTestDeployment(sandbox, { name: noTarApp, replicas: 1, image: 'notar' }),
    ]);
    [noTarPod] = await podNames(sandbox, noTarApp);
    [webPod] = await podNames(sandbox, webApp);
    [busyboxPod] = await podNames(sandbox, busyboxApp);
    local = mkdtempSync(join(tmpdir(), 'truva-shell-'));
    writeFileSync(join(local, 'one.txt'), 'one shot');
  });

  beforeEach(() => {
    opened = [];
  });

  after(() => {
    cluster?.dispose();
    rmSync(local, { recursive: true, force: true });
  });

  it('applies batches one after another through one exec: files in many frames, then deletions', async () => {
    const big = randomBytes(3 << 20);
    writeFileSync(join(local, 'big.bin'), big);
    mkdirSync(join(local, 'dir'), { recursive: true });
    writeFileSync(join(local, 'dir', 'small.txt'), 'small');
    const shell = await PodShell.open(opener(webPod), webPod, '/app/shell-a');
    assert.ok(shell, 'GNU head frames exactly: the shell runs');
    await extract(shell, await tarChunks(['big.bin', 'dir', 'dir/small.txt'], 100_000));
    assert.equal(await remote(webPod, 'sha256sum < /app/shell-a/big.bin | cut -d" " -f1'), sha(big));
    assert.equal(await remote(webPod, 'cat /app/shell-a/dir/small.txt'), 'small');
    await send(await shell.begin('delete'), [Buffer.from('big.bin\0dir/small.txt\0')]);
    assert.equal(await remote(webPod, 'ls -A /app/shell-a; ls -A /app/shell-a/dir'), 'dir');
    assert.equal(opened.length, 1, 'both batches went through the one shell');
    shell.close();
  });

  it('a batch tar cannot take is reported with its message, and the shell reads the next batch from the right place', async () => {
    // No tar in the image: the command fails at once and leaves the whole batch unread.
    const shell = (await PodShell.open(opener(noTarPod), noTarPod, '/app/shell-b'))!;
    for (let round = 0; round < 2; round++) {
      const bytes = randomBytes(300_000);
      await assert.rejects(extract(shell, [bytes.subarray(0, 100_000), bytes.subarray(100_000)]), (err: Error) => {
        assert.match(
          err.message,
          new RegExp(`tar in pod ${noTarPod} failed \\(exit code 12[67]\\): .*tar: Permission denied`),
        );
        return true;
      });
    }
    // Had the unread rest been taken for the next frame, the shell would have ended by now.
    await send(await shell.begin('delete'), [Buffer.from('nothing-here\0')]);
    assert.ok(shell.alive);
    shell.close();
  });

  it('runs a script in the container through the shell: exit code, output, the container working directory, no stdin', async () => {
    const shell = (await PodShell.open(opener(webPod), webPod, '/app/shell-run'))!;
    const ok = await shell.run('pwd; echo "to stderr" >&2; cat; echo "read nothing"');
    assert.deepEqual(ok, { exitCode: 0, output: '/app\nto stderr\nread nothing\n' });
    const failed = await shell.run('echo "no supervisor" >&2; exit 3');
    assert.deepEqual(failed, { exitCode: 3, output: 'no supervisor\n' });
    // Batches before and after a script go through as usual.
    await extract(shell, await tarChunks(['one.txt'], 1 << 20));
    assert.equal((await shell.run('cat /app/shell-run/one.txt')).output, 'one shot');
    assert.ok(shell.alive);
    assert.equal(opened.length, 1, 'no exec besides the shell');
    shell.close();
  });

  it('notices a dropped connection: the shell is no longer alive and a new batch fails saying why', async () => {
    const shell = (await PodShell.open(opener(webPod), webPod, '/app/shell-c'))!;
    sandbox.faults.closeStreams();
    await waitFor(() => !shell.alive, 10_000, 'the shell to notice its connection closed');
    await assert.rejects(shell.begin('extract', 0), /sync shell in pod|closed/);
  });

  it('notices a connection that went silent without closing (a laptop that slept): the next batch fails within seconds, not minutes', async () => {
    const shell = (await PodShell.open(opener(webPod), webPod, '/app/shell-e'))!;
    await extract(shell, await tarChunks(['one.txt'], 512));
    assert.ok(sandbox.faults.silenceExecs() >= 1);
    const started = Date.now();
    await assert.rejects(
      extract(shell, await tarChunks(['one.txt'], 512)),
      /did not answer within 5 s; its connection was probably lost/,
    );
    assert.ok(Date.now() - started < 20_000);
    assert.ok(!shell.alive);
  });

  it('notices a connection that went silent in the middle of a batch (shell or one-off exec), by WebSocket pings the API server no longer answers', async function () {
    // Data sent after the silence is never confirmed by an answer, so the pings get the budget a
    // real server's back-pressure needs (client-go's 61 s) before the connection counts as lost.
    this.timeout(150_000);
    const shell = (await PodShell.open(opener(webPod), webPod, '/app/shell-f'))!;
    const chunks = await tarChunks(['one.txt'], 512);
    const sinks = [
      await shell.begin(
        'extract',
        chunks.reduce((n, c) => n + c.length, 0),
      ),
      await oneShotSink(opener(busyboxPod), busyboxPod, '/app/shell-f', 'extract'),
    ];
    for (const sink of sinks) await sink.write(Chunk.of(chunks[0]));
    await new Promise((r) => setTimeout(r, 500)); // the shell has answered the ping ahead of the batch
    assert.ok(sandbox.faults.silenceExecs() >= 2);
    const started = Date.now();
    await Promise.all(
      sinks.map(async (sink) => {
        for (const chunk of chunks.slice(1)) await sink.write(Chunk.of(chunk));
        await assert.rejects(sink.end(), /lost its connection while it applied a batch/);
      }),
    );
    assert.ok(Date.now() - started < 100_000);
    assert.ok(!shell.alive);
  });

  it('an image whose head reads ahead (busybox) gets no shell, and one exec per batch instead', async () => {
    assert.equal(await PodShell.open(opener(busyboxPod), busyboxPod, '/app/shell-d'), undefined);
    await send(
      await oneShotSink(opener(busyboxPod), busyboxPod, '/app/shell-d', 'extract'),
      await tarChunks(['one.txt'], 512),
    );
    assert.equal(await remote(busyboxPod, 'cat /app/shell-d/one.txt'), 'one shot');
  });

  it('the engine syncs to that image too, and to a normal one without a new exec per change', async () => {
    for (const [app, pod, busybox] of [
      [busyboxApp, busyboxPod, true],
      [webApp, webPod, false],
    ] as const) {
      const root = mkdtempSync(join(local, 'engine-'));
      writeFileSync(join(root, 'start.txt'), 'start');
      const target = clusterSyncTarget(cluster, {
        namespace: 'demo',
        deployment: app,
        container: 'web',
        restart: async () => {},
      });
      const open = target.open.bind(target);
      target.open = (p, command) => {
        opened.push(command);
        return open(p, command);
      };
      const logs: string[] = [];
      const engine = new SyncEngine(target, {
        roots: [{ local: root, remote: '/app/engine' }],
        exclude: [],
        debounceMs: 50,
        batchSize: 100,
        batchBytes: 1 << 20,
        concurrency: 5,
        mirror: false,
        log: (m) => logs.push(m),
      });
      await engine.start();
      const afterStart = opened.length;
      for (let i = 0; i < 3; i++) {
        writeFileSync(join(root, 'edit.txt'), `edit ${i}`);
        engine.notify(join(root, 'edit.txt'));
        await engine.flush();
        assert.equal(await remote(pod, 'cat /app/engine/edit.txt'), `edit ${i}`);
      }
      assert.equal(await remote(pod, 'cat /app/engine/start.txt'), 'start');
      await engine.dispose();
      assert.equal(
        logs.filter((l) => l.includes(`pod ${pod}: the container's head and dd cannot read exact frames`)).length,
        busybox ? 1 : 0,
        'the slower path is said once, for busybox only',
      );
      assert.equal(
        opened.length - afterStart,
        busybox ? 3 : 0,
        busybox ? 'busybox: one exec per change' : 'a normal image: the shell opened at start carries every change',
      );
    }
  });
});
