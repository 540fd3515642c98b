// The short reliability run (npm run reliability -- --soak is the long one): every fault
// scenario survives, and nothing is lost, repeated, left unrecoverable or leaked. The event
// loop's longest stall is a figure in the table (a timing target), not asserted here.
import { strict as assert } from 'node:assert';
import { formatTable, rowIsClean } from '../../../reliability/report';
import { runReliability } from '../../../reliability/run';
import { testControlPlane } from '../../helpers/sandbox';

describe('reliability (short run)', function () {
  this.timeout(15 * 60_000);

  it('every fault scenario survives (flaky API, dropped streams, pod churn, API down, crashes, concurrent edits, a hang, fuzzed config, bad cluster input, hostile logs, real-cluster behaviours under churn) and nothing is lost or leaked', async () => {
    const rows = await runReliability({ soak: false, controlPlane: testControlPlane() });
    console.log(
      formatTable(rows)
        .split('\n')
        .map((l) => `      ${l}`)
        .join('\n'),
    );
    for (const row of rows) assert.ok(rowIsClean(row), `${row.fault}: ${JSON.stringify(row)}`);
  });
});
