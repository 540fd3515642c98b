// The forward manager's rules with a scripted pod source and dialer (local sockets are real,
// on 127.0.0.1): which pod a slot points at, replacement, waiting, retry with replay, and when
// a connection is given up.
import { strict as assert } from 'node:assert';
import net from 'node:net';
import { Duplex } from 'node:stream';
import type { PortForwardSpec } from '../../../src/core/config';
import { ForbiddenError } from '../../../src/core/kube/errors';
import { ForwardManager, PodPortError, REPLAY_LIMIT, type PodDialer } from '../../../src/core/ports';
import type { PodRef } from '../../../src/core/sync';
import { freePorts } from '../../helpers/net';
import { until } from '../../helpers/poll';

/** Pods the test sets; watchers are told of every change. */
class ScriptedPods {
  private pods: string[] = [];
  private listeners = new Set<() => void>();
  set(...pods: string[]) {
    this.pods = pods;
    for (const l of this.listeners) l();
  }
  async listPods(): Promise<PodRef[]> {
    return this.pods.map((name) => ({ name, incarnation: name }));
  }
  watchPods(onChange: () => void) {
    this.listeners.add(onChange);
    return { stop: () => void this.listeners.delete(onChange) };
  }
}

/** A pod connection: answers every chunk with "<pod>:<chunk>" unless the script says otherwise. */
class FakePodStream extends Duplex {
  readonly received: Buffer[] = [];
  constructor(
    readonly pod: string,
    private readonly onWrite?: (stream: FakePodStream, chunk: Buffer) => void,
  ) {
    super({ allowHalfOpen: true });
  }
  override _read() {}
  override _write(chunk: Buffer, _e: BufferEncoding, cb: () => void) {
    this.received.push(chunk);
    if (this.onWrite) this.onWrite(this, chunk);
    else this.push(`${this.pod}:${chunk}`);
    cb();
  }
}

const refused = () => new PodPortError('error forwarding port 80 to pod p: connect: connection refused', 'refused');

function scriptedDialer(script: (pod: string, attempt: number) => FakePodStream | Error) {
  const opened: string[] = [];
  const dialer: PodDialer = {
    async open(pod) {
      opened.push(pod);
      const result = script(pod, opened.length);
      if (result instanceof Error) throw result;
      return result;
    },
  };
  return { dialer, opened };
}

/** Sends `text` to the local port and resolves with the first answer (or rejects if closed first). */
function ask(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    socket.once('data', (d) => {
      socket.destroy();
      resolve(d.toString());
    });
    socket.once('close', () => reject(new Error('closed without an answer')));
    socket.on('error', () => {});
  });
}

const spec = (local: number, pods: 'first' | 'all' = 'first', source = 'ports[0]'): PortForwardSpec => ({
  source,
  remote: 80,
  local,
  pods,
});

describe('port-forward manager', () => {
  let manager: ForwardManager | undefined;
  const logs: string[] = [];
  afterEach(async () => {
    await manager?.dispose();
    manager = undefined;
    logs.length = 0;
  });
  const make = (forwards: PortForwardSpec[], pods: ScriptedPods, dialer: PodDialer, connectTimeoutMs = 10_000) =>
    (manager = new ForwardManager({
      forwards,
      pods,
      dialer,
      connectTimeoutMs,
      retryIntervalMs: 10,
      log: (m) => logs.push(m),
    }));

  it('pods: first sticks to its pod while it runs, moves when it goes, waits when none runs', async () => {
    const pods = new ScriptedPods();
    pods.set('a', 'b');
    const { dialer } = scriptedDialer((pod) => new FakePodStream(pod));
    const port = await freePorts();
    const m = make([spec(port)], pods, dialer);
    assert.deepEqual(
      (await m.start()).map((s) => [s.pod, s.state, s.local]),
      [['a', 'ready', port]],
    );
    pods.set('c', 'a', 'b');
    await m.refresh();
    assert.equal(m.snapshot()[0].pod, 'a', 'a new pod first in the list does not take over');
    assert.equal(await ask(port, 'hi'), 'a:hi');
    const seen: (string | undefined)[] = [];
    const unsubscribe = m.onDidChange(() => seen.push(m.snapshot()[0].pod));
    pods.set('c', 'b');
    await until('the move', () => m.snapshot()[0].pod === 'c', 5000, 5);
    assert.ok(seen.includes('c'), `listeners hear of the move (the Sessions view redraws): ${seen.join(', ')}`);
    unsubscribe();
    assert.equal(await ask(port, 'hi'), 'c:hi');
    assert.ok(logs.includes(`ports[0]: 127.0.0.1:${port} now forwards to pod c (a is gone).`), logs.join('\n'));
    pods.set();
    await until('waiting', () => m.snapshot()[0].state === 'waiting', 5000, 5);
    assert.equal(m.snapshot()[0].pod, undefined);
  });

  it('pods: all gives each pod a slot on local+N; a replacement takes the slot its predecessor left', async () => {
    const pods = new ScriptedPods();
    pods.set('a', 'b');
    const { dialer } = scriptedDialer((pod) => new FakePodStream(pod));
    const base = await freePorts(3);
    const m = make([spec(base, 'all')], pods, dialer);
    const first = await m.start();
    assert.deepEqual(
      first.map((s) => [s.slot, s.local, s.pod]),
      [
        [0, base, 'a'],
        [1, base + 1, 'b'],
      ],
    );
    pods.set('b', 'a2');
    await until('the replacement', () => m.snapshot()[0].pod === 'a2', 5000, 5);
    assert.equal(await ask(base, 'x'), 'a2:x');
    assert.equal(await ask(base + 1, 'x'), 'b:x');
    pods.set('b', 'a2', 'c');
    await until('a third slot', () => m.snapshot().length === 3 && m.snapshot()[2].state === 'ready', 5000, 5);
    assert.deepEqual(m.snapshot()[2], {
      source: 'ports[0]',
      remote: 80,
      local: base + 2,
      slot: 2,
      address: `127.0.0.1:${base + 2}`,
      url: `http://127.0.0.1:${base + 2}`,
      pod: 'c',
      state: 'ready',
      error: undefined,
      connections: 0,
    });
    assert.equal(m.localPortFor('ports[0]', 'c'), base + 2);
  });

  it('a connection made while no pod runs waits, and what it sent reaches the pod that comes', async () => {
    const pods = new ScriptedPods();
    const { dialer } = scriptedDialer((pod) => new FakePodStream(pod));
    const port = await freePorts();
    const m = make([spec(port)], pods, dialer);
    await m.start();
    const answer = ask(port, 'early');
    await until('the waiting connection', () => m.snapshot()[0].connections === 1, 5000, 5);
    pods.set('late');
    assert.equal(await answer, 'late:early');
  });

  it('while the app does not listen, the connection is tried again and replays what it sent, once', async () => {
    const pods = new ScriptedPods();
    pods.set('a');
    const streams: FakePodStream[] = [];
    const { dialer, opened } = scriptedDialer((pod, attempt) => {
      const stream = new FakePodStream(pod, (s, chunk) => {
        // The first two attempts find nothing listening, as during a restart.
        if (attempt <= 2) setImmediate(() => s.destroy(refused()));
        else s.push(`${pod}:${chunk}`);
      });
      streams.push(stream);
      return stream;
    });
    const port = await freePorts();
    const m = make([spec(port)], pods, dialer);
    await m.start();
    assert.equal(await ask(port, 'request'), 'a:request');
    assert.equal(opened.length, 3);
    assert.deepEqual(streams[2].received.map(String), ['request'], 'the last attempt got the request once');
  });

  it('a failure after the pod answered ends the connection: nothing is replayed', async () => {
    const pods = new ScriptedPods();
    pods.set('a');
    const { dialer, opened } = scriptedDialer(
      (pod) =>
        new FakePodStream(pod, (s, chunk) => {
          s.push(`${pod}:${chunk}`);
          setImmediate(() => s.destroy(refused()));
        }),
    );
    const port = await freePorts();
    const m = make([spec(port)], pods, dialer);
    await m.start();
    const closed = await new Promise<string>((resolve) => {
      let got = '';
      const socket = net.connect(port, '127.0.0.1', () => socket.write('once'));
      socket.on('data', (d) => (got += d));
      socket.on('close', () => resolve(got));
      socket.on('error', () => {});
    });
    assert.equal(closed, 'a:once');
    assert.equal(opened.length, 1);
  });

  it('a connection that broke off after carrying bytes is not replayed (the app may have them); one that carried none is', async () => {
    const pods = new ScriptedPods();
    pods.set('a');
    const lost = () => new PodPortError('The connection to pod "a" broke off (WebSocket 1006).', 'lost');
    const { dialer, opened } = scriptedDialer(
      (pod) => new FakePodStream(pod, (s) => setImmediate(() => s.destroy(lost()))),
    );
    const port = await freePorts();
    const m = make([spec(port)], pods, dialer);
    await m.start();
    await assert.rejects(ask(port, 'POST /order'), /closed without an answer/);
    assert.equal(opened.length, 1);

    let attempts = 0;
    const quiet = scriptedDialer((pod) => {
      const stream = new FakePodStream(pod);
      // The first connection breaks off before the local side sent anything.
      if (++attempts === 1) setImmediate(() => stream.destroy(lost()));
      return stream;
    });
    await m.dispose();
    const port2 = await freePorts();
    const m2 = make([spec(port2)], pods, quiet.dialer);
    await m2.start();
    const socket = net.connect(port2, '127.0.0.1');
    const answer = new Promise<string>((resolve, reject) => {
      socket.once('data', (d) => {
        socket.destroy();
        resolve(d.toString());
      });
      socket.once('close', () => reject(new Error('closed')));
    });
    // Nothing is sent until the second connection is there: the first one carried no bytes.
    await until('the second attempt', () => quiet.opened.length === 2, 5000, 5);
    socket.write('late');
    assert.equal(await answer, 'a:late');
    assert.equal(quiet.opened.length, 2);
  });

  it('more than the replay limit before the pod answers is still delivered, but not replayed', async () => {
    const pods = new ScriptedPods();
    pods.set('a');
    let delivered = 0;
    const { dialer, opened } = scriptedDialer(
      (pod) =>
        new FakePodStream(pod, (s, chunk) => {
          delivered += chunk.length;
          // Everything arrived, past the limit; then the pod side fails as if nothing listened.
          if (delivered >= REPLAY_LIMIT + 4096) setImmediate(() => s.destroy(refused()));
        }),
    );
    const port = await freePorts();
    const m = make([spec(port)], pods, dialer);
    await m.start();
    await new Promise<void>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write(Buffer.alloc(REPLAY_LIMIT + 4096)));
      socket.on('close', () => resolve());
      socket.on('error', () => {});
    });
    assert.equal(delivered, REPLAY_LIMIT + 4096);
    assert.equal(opened.length, 1, 'too much to replay: no second attempt');
  });

  it('a refusal by the API (403) is not retried; the connection closes with a message', async () => {
    const pods = new ScriptedPods();
    pods.set('a');
    const { dialer, opened } = scriptedDialer(
      () => new ForbiddenError('RBAC refused: user "dev" may not create pods/portforward in namespace "demo".'),
    );
    const port = await freePorts();
    const m = make([spec(port)], pods, dialer);
    await m.start();
    await assert.rejects(ask(port, 'x'), /closed without an answer/);
    assert.equal(opened.length, 1);
    assert.match(logs.join('\n'), /found no pod answering on port 80 within 10 s \(RBAC refused/);
  });

  it('a pod reported gone is passed over for a running one', async () => {
    const pods = new ScriptedPods();
    pods.set('old', 'new');
    const { dialer, opened } = scriptedDialer((pod) =>
      pod === 'old' ? new PodPortError('pod with uid 1 is not running', 'gone') : new FakePodStream(pod),
    );
    const port = await freePorts();
    const m = make([spec(port)], pods, dialer);
    await m.start();
    const answer = ask(port, 'x');
    await until('the first attempt', () => opened.length >= 1, 5000, 5);
    pods.set('new');
    assert.equal(await answer, 'new:x');
    assert.equal(opened[0], 'old');
  });

  it('local: 0 takes a free port; a slot past 65535 fails with what to do', async () => {
    const pods = new ScriptedPods();
    pods.set('a', 'b');
    const { dialer } = scriptedDialer((pod) => new FakePodStream(pod));
    const m = make([spec(0, 'first', 'ports[0]'), spec(65535, 'all', 'ports[1]')], pods, dialer);
    const statuses = await m.start();
    assert.ok(statuses[0].local > 0 && statuses[0].state === 'ready');
    assert.equal(await ask(statuses[0].local, 'x'), 'a:x');
    const past = statuses.find((s) => s.source === 'ports[1]' && s.slot === 1)!;
    assert.equal(past.state, 'failed');
    assert.equal(
      past.error,
      'ports[1] (local 65535 to port 80 in the pod): pod 2 would get local port 65536, past 65535. Set a lower `local` port.',
    );
  });
});
