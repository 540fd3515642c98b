// Run by unprivileged.test.ts as an unprivileged user: starts a pod, execs in it (plainly and on a
// terminal), connects to its app through portForward, stops, and prints what it saw as one JSON line.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createPodRuntime } from '../../../sandbox/runtime';

async function main() {
  let running!: () => void;
  const isRunning = new Promise<void>((r) => (running = r));
  const rt = createPodRuntime({
    stateDir: mkdtempSync(join(tmpdir(), 'truva-rt-userns-')),
    imagesDir: resolve(__dirname, '../../../sandbox/images'),
    onStatus: (_uid, s) => s.containerStatuses.every((c) => c.state.running) && running(),
    userNamespaces: process.env.TRUVA_RT_FORCE_USERNS === '1' || undefined,
  });
  rt.startPod({
    metadata: { uid: 'userns-1', name: 'userns-pod', namespace: 'test' },
    spec: { containers: [{ name: 'web', image: 'web' }] },
  });
  await isRunning;
  const exec = rt.exec('userns-1', 'web', [
    'sh',
    '-c',
    'echo "$HOSTNAME $(hostname) $(pwd)"; echo x > /etc/truva-x && echo WROTE',
  ]);
  exec.stdin.end();
  let stdout = '';
  exec.stdout.on('data', (d) => (stdout += d));
  exec.stderr.resume();
  const code = await exec.exited;

  const tty = rt.exec('userns-1', 'web', ['sh', '-c', 'while read _; do stty size; done; tty'], { tty: true });
  let ttyOut = '';
  tty.stdout.on('data', (d) => (ttyOut += d));
  tty.resize?.(101, 33);
  // The resize and the input travel apart: ask for the size until the resize shows, then end with ^D.
  for (let i = 0; i < 100 && !ttyOut.includes('33 101'); i++) {
    tty.stdin.write('\n');
    await new Promise((r) => setTimeout(r, 100));
  }
  tty.stdin.write('\x04');
  await tty.exited;

  let forward = '';
  for (let i = 0; i < 100 && !forward; i++) {
    try {
      const socket = await rt.portForward('userns-1', 8080);
      socket.resume();
      socket.end('GET / HTTP/1.0\r\n\r\n');
      for await (const chunk of socket) forward += chunk;
    } catch {
      await new Promise((r) => setTimeout(r, 100)); // the app is not listening yet
    }
  }
  await rt.stopAll();
  console.log(
    JSON.stringify({
      uid: process.getuid?.(),
      stdout,
      code,
      tty: ttyOut.replace(/\r/g, '').trim().split('\n').slice(-2),
      forward: forward.split('\r\n\r\n')[1],
      live: rt.livePids(),
    }),
  );
}

main().catch((err) => {
  console.log(JSON.stringify({ error: String(err) }));
  process.exit(1);
});
