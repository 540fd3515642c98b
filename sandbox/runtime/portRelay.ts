// Port-forward into a pod: the kubelet (through containerd) dials localhost:PORT from inside the
// pod's network namespace. Node cannot enter a namespace, so each pod that is forwarded to gets
// one small relay process started in its network namespace (lazily, on the first forward): it
// listens on a Unix socket in the pod's state folder (a path-named socket is reachable from any
// network namespace), and for each connection reads "PORT\n", dials 127.0.0.1:PORT (then [::1])
// inside the pod, answers "OK\n" or "ERR <reason>\n", and then relays bytes both ways, passing a
// half-close on in each direction. It exits when its stdin closes (the runtime is gone).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { RuntimeError } from './types';

const RELAY_SCRIPT = String.raw`
import os, socket, sys, threading

path = sys.argv[1]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(256)

def lifeline():
    sys.stdin.buffer.read()
    os._exit(0)

def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass

def dial(port):
    reasons = []
    for family, address, label in ((socket.AF_INET, '127.0.0.1', 'IPv4: dial tcp4 127.0.0.1'), (socket.AF_INET6, '::1', 'IPv6 dial tcp6 [::1]')):
        s = socket.socket(family, socket.SOCK_STREAM)
        try:
            s.connect((address, port))
            return s, None
        except OSError as e:
            s.close()
            reasons.append('%s:%d: connect: %s' % (label, port, (e.strerror or str(e)).lower()))
    return None, 'failed to connect to localhost:%d inside the pod network namespace, %s' % (port, ' '.join(reasons))

def serve(client):
    line = b''
    while not line.endswith(b'\n'):
        c = client.recv(1)
        if not c:
            client.close()
            return
        line += c
    upstream, reason = dial(int(line))
    if upstream is None:
        client.sendall(('ERR %s\n' % reason).encode())
        client.close()
        return
    client.sendall(b'OK\n')
    back = threading.Thread(target=pump, args=(upstream, client), daemon=True)
    back.start()
    pump(client, upstream)
    back.join()
    upstream.close()
    client.close()

threading.Thread(target=lifeline, daemon=True).start()
sys.stdout.write('ready\n')
sys.stdout.flush()
while True:
    conn, _ = server.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
`;

/** One pod's relay; `connect` opens a TCP connection to a port inside the pod. */
export class PortRelay {
  private child?: ChildProcess;
  private started?: Promise<void>;
  private stopped = false;

  constructor(
    /** nsenter arguments that enter the pod's network namespace. */
    private readonly namespaceArgs: () => string[],
    private readonly socketPath: string,
    /** Registers the relay's PID with the runtime (leak checks, stopAll). */
    private readonly track: (child: ChildProcess) => void,
  ) {}

  /** A connected socket to 127.0.0.1:port in the pod; rejects with the kubelet-style reason when nothing listens. */
  async connect(port: number): Promise<Duplex> {
    await this.start();
    return new Promise<Duplex>((resolve, reject) => {
      // Half-open: a pod that ends its side may still be sent to, as over TCP.
      const socket = net.connect({ path: this.socketPath, allowHalfOpen: true });
      let answer = Buffer.alloc(0);
      const fail = (err: Error) => {
        socket.destroy();
        reject(err);
      };
      const onData = (chunk: Buffer) => {
        answer = Buffer.concat([answer, chunk]);
        const end = answer.indexOf(0x0a);
        if (end < 0) return;
        socket.off('data', onData);
        socket.off('error', fail);
        socket.off('close', onEarlyClose);
        const line = answer.subarray(0, end).toString();
        const rest = answer.subarray(end + 1);
        if (!line.startsWith('OK')) return fail(new RuntimeError('BadRequest', line.replace(/^ERR /, '')));
        socket.pause();
        if (rest.length > 0) socket.unshift(rest);
        resolve(socket);
      };
      const onEarlyClose = () => reject(new RuntimeError('BadRequest', "the pod's port relay closed the connection"));
      socket.on('data', onData);
      socket.once('error', fail);
      socket.once('close', onEarlyClose);
      socket.once('connect', () => socket.write(`${port}\n`));
    });
  }

  private start(): Promise<void> {
    if (this.stopped) return Promise.reject(new RuntimeError('NotFound', 'the pod is being deleted'));
    this.started ??= new Promise<void>((resolve, reject) => {
      const child = spawn(
        'nsenter',
        [...this.namespaceArgs(), '/usr/bin/python3', '-c', RELAY_SCRIPT, this.socketPath],
        {
          stdio: ['pipe', 'pipe', 'pipe'],
        },
      );
      this.child = child;
      this.track(child);
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      child.stdout!.once('data', () => resolve());
      const failed = (why: string) => {
        this.started = undefined;
        reject(new RuntimeError('BadRequest', `cannot start the pod's port-forward relay: ${why}`));
      };
      child.once('error', (err) => failed(`${err.message}; it needs nsenter and /usr/bin/python3`));
      child.once('exit', (code) => {
        this.child = undefined;
        failed(`it exited with code ${code}: ${stderr.trim() || 'no message'}`);
      });
    });
    return this.started;
  }

  /** Ends the relay (the pod is deleted); open forwards end with it. */
  stop(): void {
    this.stopped = true;
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.stdin?.end();
      child.kill('SIGKILL');
    }
    if (existsSync(this.socketPath)) rmSync(this.socketPath, { force: true });
  }
}
