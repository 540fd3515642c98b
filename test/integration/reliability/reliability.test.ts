// The short reliability run (npm run reliability -- --soak is the long one): every fault
// scenario survives, and nothing is lost, repeated, left unrecoverable or leaked.
import { strict as assert } from 'node:assert';
import { formatTable, rowIsClean } from '../../../reliability/report';
import { runReliability } from '../../../reliability/run';

describe('reliability (short run)', function () {
  this.timeout(15 * 60_000);

  it('survives API flakiness, dropped streams, crashes, concurrent edits, a hang and fuzzed config; leaks nothing', async () => {
    const rows = await runReliability({ soak: false });
    console.log(formatTable(rows).split('\n').map((l) => `      ${l}`).join('\n'));
    for (const row of rows) assert.ok(rowIsClean(row), `${row.fault}: ${JSON.stringify(row)}`);
    assert.ok(rows.find((r) => r.fault.startsWith('API hangs'))!.max_stall_ms < 100, 'the event loop never stalled for 100 ms during the hang');
  });
});
