// The sandbox cluster for the real-VS-Code suites and the benchmarks, seeded with demo/web and
// demo/worker unless asked not to be.
import { startSandbox as start, type Sandbox } from '../../../sandbox';

export function startSandbox(options: { seed?: boolean } = {}): Promise<Sandbox> {
  return start({ seed: options.seed ?? true });
}
