// The same kubectl and client-node flows against the sandbox's API server and the real
// Kubernetes control plane: status codes, error reasons and messages, the shapes of the objects
// Truva reads, kubectl's answers and watch events must agree. Where they do not, the sandbox is
// wrong; the differences not yet fixed are listed below with what is wrong, and the suite fails
// on any other difference, and on a listed one that has gone (so the list stays true).
import { strict as assert } from 'node:assert';
import { sandboxOn, uniqueName } from '../../helpers/sandbox';
import { differences } from './diff';
import { observe, type Observation } from './observe';

/** path prefix -> what the sandbox's API server does differently (to be fixed there); none now. */
const KNOWN: Record<string, string> = {};

describe('conformance: the sandbox API server against the real control plane', function () {
  this.timeout(300_000);
  let found: { path: string; sandbox: unknown; kubernetes: unknown }[];

  before(async () => {
    const app = uniqueName('conform');
    const observed: Record<string, Observation> = {};
    for (const controlPlane of ['kubernetes', 'sandbox'] as const)
      observed[controlPlane] = await observe(await sandboxOn(controlPlane), app);
    found = differences(observed.sandbox, observed.kubernetes);
  });

  it('differs from the real control plane only where listed', () => {
    const known = (path: string) => Object.keys(KNOWN).some((k) => path === k || path.startsWith(`${k}.`));
    const unexpected = found.filter((d) => !known(d.path));
    assert.deepEqual(
      unexpected.map(
        (d) =>
          `${d.path}:\n    sandbox:    ${JSON.stringify(d.sandbox)}\n    kubernetes: ${JSON.stringify(d.kubernetes)}`,
      ),
      [],
    );
  });

  it('every listed difference still exists (remove the fixed ones from the list)', () => {
    const gone = Object.keys(KNOWN).filter((k) => !found.some((d) => d.path === k || d.path.startsWith(`${k}.`)));
    assert.deepEqual(gone, []);
  });
});
