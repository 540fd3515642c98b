// One row per fault scenario, in the field names `npm run reliability -- --json` promises.
export interface ReliabilityRow {
  fault: string;
  trials: number;
  survived: number;
  lines_lost: number;
  lines_duplicated: number;
  edits_lost: number;
  unrecoverable: number;
  token_leaks: number;
  scripts_executed: number;
  max_stall_ms: number;
}

export function emptyRow(fault: string): ReliabilityRow {
  return {
    fault,
    trials: 0,
    survived: 0,
    lines_lost: 0,
    lines_duplicated: 0,
    edits_lost: 0,
    unrecoverable: 0,
    token_leaks: 0,
    scripts_executed: 0,
    max_stall_ms: 0,
  };
}

/** A row is clean when every trial survived and every loss/leak counter is zero. */
export function rowIsClean(row: ReliabilityRow): boolean {
  return (
    row.trials > 0 &&
    row.survived === row.trials &&
    row.lines_lost +
      row.lines_duplicated +
      row.edits_lost +
      row.unrecoverable +
      row.token_leaks +
      row.scripts_executed ===
      0
  );
}

export function formatTable(rows: ReliabilityRow[]): string {
  const columns = Object.keys(emptyRow('')) as (keyof ReliabilityRow)[];
  const cells = [
    columns.map(String),
    ...rows.map((r) =>
      columns.map((c) => (typeof r[c] === 'number' ? String(Math.round(r[c] as number)) : String(r[c]))),
    ),
  ];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  return cells
    .map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  '))
    .join('\n');
}
