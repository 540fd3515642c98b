// The sandbox's pod runtime: real processes in Linux namespaces behind the PodRuntime contract.
import { SandboxPodRuntime, type SandboxRuntimeOptions } from './podRuntime';
import type { PodRuntime } from './types';

export type { SandboxRuntimeOptions } from './podRuntime';
export * from './types';

export function createPodRuntime(options: SandboxRuntimeOptions): PodRuntime {
  return new SandboxPodRuntime(options);
}
