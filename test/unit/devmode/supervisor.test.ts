// The supervisor script under a real /bin/sh (dash here, the same family as busybox ash in images).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../../helpers/net';
import { until as poll } from '../../helpers/poll';
import {
  canStartAhead,
  inspectorProblem,
  parsePid,
  readPidCommand,
  restartCommand,
  runToArgv,
  supervisedArgv,
  supervisorCommand,
  isSupervisorCommand,
} from '../../../src/core/devmode/supervisor';

interface Running {
  proc: ChildProcess;
  out: () => string;
  dir: string;
}

/** The environment without NODE_OPTIONS (how mocha was started must not change what the supervisor does). */
function withoutNodeOptions(): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _, ...env } = process.env;
  return env;
}

function startSupervisor(
  argv: string[],
  dir: string,
  backoffSeconds = 1,
  inspectPort?: number,
  env: NodeJS.ProcessEnv = withoutNodeOptions(),
): Running {
  const cmd = supervisorCommand(argv, { stateDir: dir, backoffSeconds, stopGraceTenths: 20, inspectPort });
  const proc = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  return { proc, out: () => out, dir };
}

/** The suites' polling helper, polling the supervisor's files often. */
const until = <T>(what: string, fn: () => T | undefined | false, timeoutMs = 8000) =>
  poll(what, fn, timeoutMs, 25) as Promise<T>;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function runSh(command: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(command[0], command.slice(1), { encoding: 'utf8', timeout: 15000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function readPid(dir: string): number | undefined {
  return parsePid(runSh(readPidCommand({ stateDir: dir })).stdout);
}

/**
 * The process started ahead for the supervisor in `dir` that has stopped itself (state T). One
 * that became the app keeps standby.js in its command line, but runs.
 */
function standbyOf(dir: string): { pid: number } | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(`${dir}/standby.js`)) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'T') return { pid: Number(entry) };
    } catch {}
  }
  return undefined;
}

/** The id of the Node process whose inspector answers on the port (each process has its own). */
async function inspectorTarget(port: number): Promise<string | undefined> {
  try {
    const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { id: string }[];
    return list[0]?.id;
  } catch {
    return undefined;
  }
}

describe('supervisor script (real sh)', function () {
  this.timeout(20000);
  let dir: string;
  let running: Running | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'truva-sup-'));
  });
  afterEach(async () => {
    if (running && running.proc.exitCode === null) {
      running.proc.kill('SIGTERM');
      await new Promise((r) => running!.proc.once('exit', r));
    }
    running = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts the command, records its PID and prints a start line', async () => {
    running = startSupervisor(['sleep', '300'], dir);
    const line = await until(
      'start line',
      () => /\[truva\] started pid (\d+): sleep 300/.exec(running!.out()) ?? undefined,
    );
    const pid = Number(line[1]);
    assert.equal(await until('pid file', () => readPid(dir)), pid);
    assert.ok(alive(pid));
    assert.equal(readFileSync(join(dir, 'supervisor.pid'), 'utf8').trim(), String(running.proc.pid));
  });

  it('restarts on request with a new PID, and the old process is gone', async () => {
    running = startSupervisor(['sleep', '300'], dir);
    const first = await until('first pid', () => readPid(dir));
    const r = runSh(restartCommand({ stateDir: dir }));
    assert.equal(r.status, 0, r.stderr);
    const second = parsePid(r.stdout);
    assert.ok(second && second !== first, `expected a new pid, got ${r.stdout}`);
    assert.equal(readPid(dir), second);
    await until('old process to be gone', () => !alive(first));
    // The supervisor's own output reaches us through a pipe, possibly after the restart returned.
    await until('the exit line', () => /\[truva\] exited with code \d+; restarting on request/.test(running!.out()));
    await until('the second start line', () => (running!.out().match(/\[truva\] started pid/g) ?? []).length === 2);
  });

  it('restart ends the whole process group, not only the shell that started it', async () => {
    const marker = join(dir, 'grandchild.pid');
    running = startSupervisor(runToArgv(`sleep 300 & echo $! > ${marker}; wait`), dir);
    const grandchild = await until('grandchild pid', () => existsSync(marker) && parsePid(readFileSync(marker)));
    assert.ok(alive(grandchild));
    const r = runSh(restartCommand({ stateDir: dir }));
    assert.equal(r.status, 0, r.stderr);
    await until('grandchild to be gone', () => !alive(grandchild));
  });

  it('restarts the command after it crashes, with a back-off line', async () => {
    const counter = join(dir, 'runs');
    // Crashes on the first run, stays up on the second.
    running = startSupervisor(
      runToArgv(`echo x >> ${counter}; [ $(wc -l < ${counter}) -ge 2 ] && exec sleep 300; exit 3`),
      dir,
    );
    await until('crash line', () => /\[truva\] exited with code 3; restarting in 1s/.test(running!.out()));
    await until('second start', () => (running!.out().match(/\[truva\] started pid/g) ?? []).length === 2);
    const pid = await until('pid of the second run', () => readPid(dir));
    assert.ok(alive(pid));
    assert.equal(readFileSync(counter, 'utf8').trim().split('\n').length, 2);
  });

  it('passes arguments with spaces, quotes and shell characters through untouched', async () => {
    const out = join(dir, 'args.json');
    const script = join(dir, 'args.js');
    writeFileSync(
      script,
      `require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.argv.slice(2))); setInterval(() => {}, 1000);`,
    );
    const args = [
      'two words',
      "it's",
      '"double"',
      '$HOME',
      '*',
      'back\\slash',
      '',
      '  lead',
      'semi;colon',
      'new\nline',
      '-e',
    ];
    running = startSupervisor([process.execPath, script, ...args], dir);
    const got = await until('args file', () => existsSync(out) && readFileSync(out, 'utf8'));
    assert.deepEqual(JSON.parse(got), args);
  });

  it('a string run command goes through sh -c', async () => {
    const out = join(dir, 'string.txt');
    running = startSupervisor(runToArgv(`echo "hello  world" > ${out}; sleep 300`), dir);
    await until('output', () => existsSync(out) && readFileSync(out, 'utf8') === 'hello  world\n');
  });

  it('stops the app and exits when the supervisor gets SIGTERM', async () => {
    running = startSupervisor(['sleep', '300'], dir);
    const pid = await until('pid', () => readPid(dir));
    // 'close', not 'exit': the exit can come before the last of its output has been read.
    const exited = new Promise<number | null>((r) => running!.proc.once('close', (code) => r(code)));
    running.proc.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.ok(!alive(pid));
    assert.match(running.out(), /\[truva\] stopped/);
  });

  it('the restart command fails clearly when no supervisor runs', () => {
    const r = runSh(restartCommand({ stateDir: dir }));
    assert.equal(r.status, 3);
    assert.match(r.stderr, /no Truva supervisor is running/);
  });

  it('recognises its own command and recovers the real argv', () => {
    const cmd = supervisorCommand(['node', 'server.js']);
    assert.ok(isSupervisorCommand(cmd));
    assert.deepEqual(supervisedArgv(cmd), ['node', 'server.js']);
    assert.ok(!isSupervisorCommand(['node', 'server.js']));
    assert.throws(() => supervisorCommand([]), /needs a command/);
  });

  describe('the next Node process started ahead', () => {
    /** An app that records what it loaded, and forks a child that records that it ran. */
    function writeApp(): { script: string; seen: string; forked: string; version: string } {
      const script = join(dir, 'app.js');
      const seen = join(dir, 'seen.json');
      const forked = join(dir, 'forked.txt');
      const version = join(dir, 'version.txt');
      writeFileSync(version, 'v1');
      writeFileSync(
        script,
        `const fs = require('fs');
if (process.argv[2] === 'child') { fs.writeFileSync(${JSON.stringify(forked)}, String(process.pid)); process.exit(0); }
fs.writeFileSync(${JSON.stringify(seen)}, JSON.stringify({ pid: process.pid, version: fs.readFileSync(${JSON.stringify(version)}, 'utf8'), main: require.main === module, argv: process.argv.slice(1), execArgv: process.execArgv }));
require('child_process').fork(__filename, ['child']);
setInterval(() => {}, 1000);`,
      );
      return { script, seen, forked, version };
    }
    const read = (file: string) => (existsSync(file) ? JSON.parse(readFileSync(file, 'utf8') || 'null') : undefined);

    it('is stopped before the app loads; a restart continues it, and it loads the files as they are then', async () => {
      const app = writeApp();
      running = startSupervisor(['node', app.script, 'arg'], dir);
      const first = await until('the app', () => read(app.seen)?.pid as number | undefined);
      const standby = await until('a stopped process started ahead', () => standbyOf(dir));
      writeFileSync(app.version, 'v2');
      writeFileSync(app.forked, '');
      const r = runSh(restartCommand({ stateDir: dir }));
      assert.equal(r.status, 0, r.stderr);
      assert.equal(parsePid(r.stdout), standby.pid, 'the process started ahead became the app');
      const seen = await until('the new app', () => {
        const s = read(app.seen);
        return s?.pid === standby.pid ? s : undefined;
      });
      assert.deepEqual(seen, { pid: standby.pid, version: 'v2', main: true, argv: [app.script, 'arg'], execArgv: [] });
      // The child it forked with process.execArgv ran instead of stopping too.
      await until('the forked child', () => readFileSync(app.forked, 'utf8') !== '');
      await until('the old app to be gone', () => !alive(first));
      // And the next one is started ahead again.
      await until('another process started ahead', () => (standbyOf(dir)?.pid ?? standby.pid) !== standby.pid);
    });

    it('a restart before it is ready starts the app the usual way; stopping leaves no process behind', async () => {
      const app = writeApp();
      running = startSupervisor(['node', app.script], dir);
      const first = await until('the app', () => read(app.seen)?.pid as number | undefined);
      assert.equal(runSh(restartCommand({ stateDir: dir })).status, 0);
      const second = await until('the restarted app', () => {
        const pid = read(app.seen)?.pid as number | undefined;
        return pid !== first ? pid : undefined;
      });
      const standby = await until('a stopped process started ahead', () => standbyOf(dir));
      const exited = new Promise((r) => running!.proc.once('exit', r));
      running.proc.kill('SIGTERM');
      await exited;
      await until('the app and the process started ahead to be gone', () => !alive(second) && !alive(standby.pid));
    });

    it('only for a node script without the inspector or NODE_OPTIONS preloads', async () => {
      assert.ok(canStartAhead(['node', 'server.js']));
      assert.ok(canStartAhead(['/usr/bin/node', '--max-old-space-size=512', '-r', 'ts-node/register', 'app.ts', '-e']));
      for (const argv of [
        ['node'],
        ['node', '-e', 'x()'],
        ['node', '--inspect=0.0.0.0:9229', 'server.js'],
        ['node', '--watch', 'server.js'],
        ['node', '--env-file=.env', 'server.js'],
        ['node', '--loader', './hooks.mjs', 'server.js'],
        ['npm', 'start'],
        runToArgv('node server.js'),
      ])
        assert.ok(!canStartAhead(argv), argv.join(' '));
      const app = writeApp();
      const preload = join(dir, 'preload.js');
      writeFileSync(preload, '');
      running = startSupervisor(['node', app.script], dir, 1, undefined, {
        ...withoutNodeOptions(),
        NODE_OPTIONS: `-r ${preload}`,
      });
      await until('the app', () => read(app.seen)?.pid);
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(standbyOf(dir), undefined, 'no process started ahead: a NODE_OPTIONS preload would load before it');
    });
  });

  describe('with the Node inspector (truva.yaml debug)', () => {
    const app = 'setInterval(() => {}, 1000)';

    it('puts the flag right after node, so only the app opens the port, and reopens it after each restart', async () => {
      const port = await freePorts();
      const cmd = supervisorCommand(['node', '-e', app], { inspectPort: port });
      assert.deepEqual(cmd.slice(3), ['truva-supervisor', 'node', `--inspect=127.0.0.1:${port}`, '-e', app]);
      running = startSupervisor(['node', '-e', app], dir, 1, port);
      const first = await poll('the inspector', () => inspectorTarget(port), 15000, 50);
      assert.equal(runSh(restartCommand({ stateDir: dir })).status, 0);
      const second = await poll(
        'the new process inspector',
        async () => {
          const id = await inspectorTarget(port);
          return id && id !== first ? id : undefined;
        },
        15000,
        50,
      );
      assert.notEqual(second, first);
    });

    it('passes it in NODE_OPTIONS to a command that does not start node itself', async () => {
      const port = await freePorts();
      running = startSupervisor(runToArgv(`node -e '${app}'`), dir, 1, port);
      await poll('the inspector', () => inspectorTarget(port), 15000, 50);
      assert.match(running.out(), new RegExp(`\\[truva\\] debugger: NODE_OPTIONS=--inspect=127\\.0\\.0\\.1:${port}`));
    });

    it('says why a launcher that is a Node program would take the port', () => {
      assert.match(inspectorProblem(['npm', 'start'], 9229) ?? '', /starts with npm, a Node program itself.*port 9229/);
      assert.match(inspectorProblem(runToArgv('yarn dev'), 9229) ?? '', /starts with yarn/);
      assert.equal(inspectorProblem(['node', 'server.js'], 9229), undefined);
      assert.equal(inspectorProblem(runToArgv('node server.js'), 9229), undefined);
    });
  });
});
