// Which control plane the tests run on, in one place for the mocha suites and the real-VS-Code
// harness: the real Kubernetes one (cluster/build.sh), unless TRUVA_CONTROL_PLANE=sandbox asks for
// the sandbox's own API server (starts in a second, nothing to build).
export type TestControlPlane = 'kubernetes' | 'sandbox';

export function testControlPlane(): TestControlPlane {
  const wanted = process.env.TRUVA_CONTROL_PLANE ?? 'kubernetes';
  if (wanted !== 'kubernetes' && wanted !== 'sandbox')
    throw new Error(`TRUVA_CONTROL_PLANE must be kubernetes or sandbox, not "${wanted}"`);
  return wanted;
}
