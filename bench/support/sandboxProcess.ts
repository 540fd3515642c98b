// The sandbox in its own process (`npm run sandbox`), so a benchmark's process holds only what it
// measures: the sandbox's API server, exec plumbing and pod runtime no longer share its event
// loop or count in its memory.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export interface SandboxProcess {
  kubeconfigPath: string;
  stop(): Promise<void>;
}

export function startSandboxProcess(args: string[] = ['--no-seed']): Promise<SandboxProcess> {
  const root = join(__dirname, '..', '..');
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'sandbox', 'cli.ts'), ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d;
      const m = /sandbox ready: KUBECONFIG=(\S+)/.exec(out);
      if (!m) return;
      child.stdout!.off('data', onData);
      child.stdout!.resume(); // keep draining, the sandbox may print more
      resolve({
        kubeconfigPath: m[1],
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the sandbox exited (code ${code}) before it was ready: ${out}`)));
  });
}
