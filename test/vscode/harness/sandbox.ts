// The sandbox cluster for the real-VS-Code suites and the benchmarks, seeded with demo/web and
// demo/worker unless asked not to be, on the control plane the tests run on unless asked for one.
import { startSandbox as start, type Sandbox } from '../../../sandbox';
import { testControlPlane, type TestControlPlane } from '../../helpers/controlPlane';

export function startSandbox(options: { seed?: boolean; controlPlane?: TestControlPlane } = {}): Promise<Sandbox> {
  return start({ seed: options.seed ?? true, controlPlane: options.controlPlane ?? testControlPlane() });
}
