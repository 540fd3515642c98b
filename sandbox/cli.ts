// `npm run sandbox -- [--port N] [--kubeconfig PATH] [--state-dir DIR] [--no-seed]
// [--control-plane sandbox|kubernetes]`: runs the sandbox cluster in the foreground until
// SIGINT/SIGTERM, then stops every pod process (and, on the real control plane, every
// control-plane process). `--control-plane kubernetes` runs cluster/build.sh first.
import { controlPlaneFromArgs } from './controlPlaneOption';
import { startSandbox, type Sandbox } from './index';

function parseArgs(argv: string[]) {
  const opts: { port?: number; kubeconfigPath?: string; stateDir?: string; seed: boolean } = { seed: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--port') opts.port = Number(value());
    else if (arg === '--kubeconfig') opts.kubeconfigPath = value();
    else if (arg === '--state-dir') opts.stateDir = value();
    else if (arg === '--no-seed') opts.seed = false;
    else if (arg === '--control-plane') value();
    else
      throw new Error(
        `unknown option ${arg}; use --port N, --kubeconfig PATH, --state-dir DIR, --no-seed, --control-plane sandbox|kubernetes`,
      );
  }
  if (opts.port !== undefined && !(Number.isInteger(opts.port) && opts.port >= 0 && opts.port < 65536))
    throw new Error('--port must be a number from 0 to 65535');
  return opts;
}

async function main() {
  const argv = process.argv.slice(2);
  const options = parseArgs(argv);
  // Kept as a promise, so a signal while the cluster is still starting waits for it and then
  // stops it instead of leaving processes or the state folder behind.
  const sandbox: Promise<Sandbox> = controlPlaneFromArgs(argv).then((controlPlane) =>
    startSandbox({ ...options, controlPlane }),
  );
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.error('sandbox: stopping (the pods, then the control plane)');
    await sandbox
      .then((s) => s.stop())
      .catch((err) => console.error(`sandbox: stopping failed: ${err.message ?? err}`));
    console.error('sandbox: stopped');
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  console.log(`sandbox ready: KUBECONFIG=${(await sandbox).kubeconfigPath}`);
}

main().catch((err) => {
  console.error(`sandbox: ${err.message ?? err}`);
  process.exit(1);
});
