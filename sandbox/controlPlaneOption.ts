// `--control-plane sandbox|kubernetes` for the command-line tools (sandbox, demo, reliability):
// the sandbox's own API server by default; the real Kubernetes control plane is built first
// (cluster/build.sh, a no-op when it is current) when asked for.
import type { ControlPlaneKind } from './index';
import { ensureBuilt } from './kubernetes/binaries';

export function parseControlPlane(value: string | undefined): ControlPlaneKind {
  if (value === 'sandbox' || value === 'kubernetes') return value;
  throw new Error(`--control-plane must be sandbox or kubernetes, not "${value ?? ''}"`);
}

/** The value of `--control-plane` in argv (default sandbox), with the binaries built when it is kubernetes. */
export async function controlPlaneFromArgs(argv: string[]): Promise<ControlPlaneKind> {
  const i = argv.indexOf('--control-plane');
  const kind = i >= 0 ? parseControlPlane(argv[i + 1]) : 'sandbox';
  if (kind === 'kubernetes') await ensureBuilt();
  return kind;
}
