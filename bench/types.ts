export interface BenchContext {
  /** The --only prefix, so a module can skip its rows that were not asked for. */
  only?: string;
}

export interface Benchmark {
  title: string;
  /** Key prefixes this module reports, e.g. ['sandbox.'], used by --only. */
  keys: string[];
  run(ctx: BenchContext): Promise<Record<string, number>>;
}
