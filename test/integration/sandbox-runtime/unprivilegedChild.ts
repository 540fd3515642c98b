// Run by unprivileged.test.ts as an unprivileged user: starts a pod, execs in it, stops,
// and prints what it saw as one JSON line.
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
  await rt.stopAll();
  console.log(JSON.stringify({ uid: process.getuid?.(), stdout, code, live: rt.livePids() }));
}

main().catch((err) => {
  console.log(JSON.stringify({ error: String(err) }));
  process.exit(1);
});
