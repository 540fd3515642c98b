// The sandbox cluster for the real-VS-Code suites, on the control plane the tests run on, loaded at
// run time so this harness type-checks on its own.
import { join } from 'node:path';
import { testControlPlane, type TestControlPlane } from '../../helpers/controlPlane';
import { repoRoot } from './codeServer';

export interface RunningSandbox {
  kubeconfigPath: string;
  url: string;
  /** The fault endpoint's own token (POST /truva-admin/faults). */
  tokens: { faults: string };
  stop(): Promise<void>;
}

export async function startSandbox(
  options: { seed?: boolean; controlPlane?: TestControlPlane } = {},
): Promise<RunningSandbox> {
  const modulePath = join(repoRoot, 'sandbox/index.ts');
  const sandbox = (await import(modulePath)) as { startSandbox(options: object): Promise<RunningSandbox> };
  return sandbox.startSandbox({ seed: options.seed ?? true, controlPlane: options.controlPlane ?? testControlPlane() });
}
