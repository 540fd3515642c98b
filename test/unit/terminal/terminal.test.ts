// The terminal's and run-in-pods' own rules, over a scripted exec stream: how an end is told
// apart (exited, pod gone, connection lost, closed), text that never splits a character, dead
// connections noticed by pings, output kept within bounds.
import { strict as assert } from 'node:assert';
import type { ExecStream, ExecTerminal } from '../../../src/core/kube/exec';
import { ExecError } from '../../../src/core/kube/errors';
import { TerminalSession, runInPods, terminalCommand } from '../../../src/core/terminal';

class ScriptedStream implements ExecStream {
  readonly written: Buffer[] = [];
  readonly sizes: [number, number][] = [];
  protocol = 'v5.channel.k8s.io';
  closed = false;
  alive = true;
  private listeners: ((data: Buffer, stream: 'stdout' | 'stderr') => void)[] = [];
  private settle!: { resolve: (code: number) => void; reject: (err: Error) => void };
  readonly exited = new Promise<number>((resolve, reject) => (this.settle = { resolve, reject }));
  async write(chunk: Buffer) {
    this.written.push(chunk);
  }
  end() {}
  onOutput(listener: (data: Buffer, stream: 'stdout' | 'stderr') => void) {
    this.listeners.push(listener);
  }
  emit(data: Buffer, stream: 'stdout' | 'stderr' = 'stdout') {
    for (const l of this.listeners) l(data, stream);
  }
  exit(code: number) {
    this.settle.resolve(code);
  }
  fail(err: Error) {
    this.settle.reject(err);
  }
  close() {
    this.closed = true;
    this.settle.reject(new ExecError('closed'));
  }
  async ping() {
    return this.alive;
  }
  lastPongAt() {
    return 0;
  }
  hasUnconfirmedInput() {
    return false;
  }
  resize(columns: number, rows: number) {
    this.sizes.push([columns, rows]);
  }
}

function terminalOn(
  stream: ScriptedStream,
  podExists: () => Promise<boolean> = async () => true,
  pingIntervalMs?: number,
) {
  const opened: { command: string[]; terminal: ExecTerminal }[] = [];
  return {
    opened,
    session: TerminalSession.open(
      {
        open: async (command, terminal) => {
          opened.push({ command, terminal });
          return stream;
        },
        podExists,
      },
      { pod: 'web-1', cwd: '/app', columns: 80, rows: 24, pingIntervalMs, pingTimeoutMs: 50 },
    ),
  };
}

describe('terminal session', () => {
  it('starts the shell in the remote path on a terminal of the given size, and passes keys and resizes on', async () => {
    const stream = new ScriptedStream();
    const { session, opened } = terminalOn(stream);
    const t = await session;
    assert.deepEqual(opened[0], { command: terminalCommand('/app'), terminal: { columns: 80, rows: 24 } });
    assert.deepEqual(terminalCommand('/app').slice(3), ['truva-terminal', '/app']);
    t.write('ls\r');
    t.resize(120.7, 40);
    t.resize(0, 10); // a hidden panel reports 0: ignored
    assert.equal(Buffer.concat(stream.written).toString(), 'ls\r');
    assert.deepEqual(stream.sizes, [[120, 40]]);
    stream.exit(0);
    assert.deepEqual(await t.exited, {
      reason: 'exited',
      code: 0,
      message: '[truva] The shell in pod web-1 exited with code 0.',
    });
  });

  it('gives text that never splits a UTF-8 character across chunks', async () => {
    const stream = new ScriptedStream();
    const t = await terminalOn(stream).session;
    const texts: string[] = [];
    t.onText((s) => texts.push(s));
    const bytes = Buffer.from('héllo ✓');
    stream.emit(bytes.subarray(0, 2)); // "h" and half of "é"
    stream.emit(bytes.subarray(2, 8)); // the rest of "é", "llo ", half of "✓"
    stream.emit(bytes.subarray(8));
    assert.equal(texts.join(''), 'héllo ✓');
    assert.equal(texts[0], 'h');
    stream.exit(0);
  });

  it('tells the pod going away from a lost connection, and from closing it here', async () => {
    const killed = new ScriptedStream();
    const gone = await terminalOn(killed, async () => false).session;
    killed.exit(137);
    assert.equal((await gone.exited).reason, 'podGone');

    const cut = new ScriptedStream();
    const lost = await terminalOn(cut, async () => true).session;
    cut.fail(new ExecError('the connection closed before the command reported how it ended'));
    const exit = await lost.exited;
    assert.equal(exit.reason, 'connectionLost');
    assert.match(exit.message, /The connection to pod web-1 was lost \(the connection closed before/);

    const mine = new ScriptedStream();
    const closed = await terminalOn(mine, async () => false).session;
    closed.close();
    assert.equal((await closed.exited).reason, 'closed');

    const unknown = new ScriptedStream();
    const unsure = await terminalOn(unknown, async () => {
      throw new Error('API down');
    }).session;
    unknown.fail(new ExecError('gone quiet'));
    assert.equal((await unsure.exited).reason, 'connectionLost', 'a failed lookup does not claim the pod is gone');
  });

  it('closes a connection whose pings go unanswered', async () => {
    const stream = new ScriptedStream();
    stream.alive = false;
    const t = await terminalOn(stream, async () => true, 10).session;
    assert.equal((await t.exited).reason, 'connectionLost');
    assert.ok(stream.closed);
  });
});

describe('run in all pods', () => {
  it('keeps each pod its output within bounds, its exit code, and a failure to start as an error', async () => {
    const streams = new Map<string, ScriptedStream>();
    const target = {
      listPods: async () => [
        { name: 'a', incarnation: '1' },
        { name: 'b', incarnation: '1' },
        { name: 'c', incarnation: '1' },
      ],
      open: async (pod: string) => {
        if (pod === 'c') throw new ExecError('container "web" in pod "c" is not running');
        const s = new ScriptedStream();
        streams.set(pod, s);
        setImmediate(() => {
          s.emit(Buffer.from(`${pod} says hello`));
          s.emit(Buffer.from('oops'), 'stderr');
          s.exit(pod === 'a' ? 0 : 2);
        });
        return s;
      },
    };
    const results = await runInPods(target, 'echo hi', { keepBytes: 6 });
    assert.deepEqual(results, [
      { pod: 'a', exitCode: 0, stdout: 'a says', stderr: 'oops', truncatedBytes: 6 },
      { pod: 'b', exitCode: 2, stdout: 'b says', stderr: 'oops', truncatedBytes: 6 },
      { pod: 'c', stdout: '', stderr: '', truncatedBytes: 0, error: 'container "web" in pod "c" is not running' },
    ]);
  });
});
