// The kubelet's WebSocket port-forward protocol (what client-node's PortForward speaks): for the
// i-th requested port, channel 2i carries the data and 2i+1 the errors, and each channel starts
// with the port as two little-endian bytes. Each port gets one TCP connection to 127.0.0.1:port
// inside the pod's network namespace, made by a small node program exec'd in the pod (the pod has
// no address the host can reach). The connection ends when the pod's side closes it.
import type { WebSocket } from 'ws';
import type { ExecProcess, PodRuntime } from '../../runtime/types';

export const PORT_FORWARD_PROTOCOLS = ['v4.channel.k8s.io'];

const CONNECT = [
  "const s = require('net').connect(Number(process.argv[1]), '127.0.0.1');",
  'process.stdin.pipe(s); s.pipe(process.stdout);',
  // The kubelet's words (Go's net errors): 'connect: connection refused', not Node's ECONNREFUSED.
  "const why = (e) => e.code === 'ECONNREFUSED' ? 'connect: connection refused' : e.message;",
  "s.on('error', (e) => { const p = process.argv[1]; process.stderr.write(`failed to connect to localhost:${p} inside the pod network namespace, IPv4: dial tcp4 127.0.0.1:${p}: ${why(e)}`); process.exit(1); });",
  "s.on('close', () => process.exit(0));",
].join('\n');

function connectInPod(runtime: PodRuntime, pod: any, port: number): ExecProcess {
  let last: unknown;
  for (const c of pod.spec.containers ?? []) {
    try {
      return runtime.exec(pod.metadata.uid, c.name, ['node', '-e', CONNECT, String(port)]);
    } catch (err) {
      last = err;
    }
  }
  throw last ?? new Error('the pod has no container');
}

export function forwardPorts(ws: WebSocket, runtime: PodRuntime, pod: any, ports: number[]): void {
  const send = (channel: number, data: Buffer) =>
    ws.readyState === ws.OPEN && ws.send(Buffer.concat([Buffer.from([channel]), data]));
  const portBytes = (port: number) => Buffer.from([port & 0xff, port >> 8]);
  let open = ports.length;
  const procs: ExecProcess[] = [];
  const done = () => {
    if (--open === 0 && ws.readyState === ws.OPEN) ws.close(1000);
  };
  ports.forEach((port, i) => {
    send(2 * i, portBytes(port));
    send(2 * i + 1, portBytes(port));
    const fail = (message: string) => {
      send(
        2 * i + 1,
        Buffer.from(`error forwarding port ${port} to pod ${pod.metadata.name}, uid ${pod.metadata.uid}: ${message}`),
      );
      done();
    };
    let proc: ExecProcess;
    try {
      proc = connectInPod(runtime, pod, port);
    } catch (err) {
      return fail((err as Error).message);
    }
    procs[i] = proc;
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => send(2 * i, d));
    proc.stderr.on('data', (d: Buffer) => (stderr += d));
    void proc.exited.then((code) => (code === 0 ? done() : fail(stderr.trim() || `exit code ${code}`)));
  });
  ws.on('message', (data: Buffer) => {
    if (data.length === 0) return;
    const proc = procs[data[0] / 2];
    if (data[0] % 2 === 0 && proc) proc.stdin.write(data.subarray(1));
  });
  ws.on('close', () => {
    for (const p of procs) {
      p?.stdin.end();
      p?.kill('SIGKILL');
    }
  });
}
