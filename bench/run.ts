// `npm run bench [-- --json PATH] [--only PREFIX]`: runs every benchmark module in bench/
// (files named *.bench.ts, each exporting a default `Benchmark`), prints a table of figures,
// and writes them as one flat JSON object of numbers with --json (README: the two commands).
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Benchmark } from './types';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const jsonPath = flag('--json');
const only = flag('--only');

async function main() {
  const files = readdirSync(__dirname)
    .filter((f) => f.endsWith('.bench.ts'))
    .sort();
  const figures: Record<string, number> = {};
  const failed: string[] = [];
  for (const file of files) {
    const bench: Benchmark = (await import(join(__dirname, file))).default;
    if (only && !bench.keys.some((k) => k.startsWith(only) || only.startsWith(k))) continue;
    console.log(`== ${bench.title}`);
    try {
      const result = await bench.run({ only });
      for (const [key, value] of Object.entries(result)) {
        figures[key] = value;
        console.log(`${key.padEnd(40)} ${Number.isInteger(value) ? value : value.toFixed(2)}`);
      }
    } catch (err) {
      // One broken benchmark must not hide the figures of the others.
      failed.push(file);
      console.error(`${file} failed: ${(err as Error).stack ?? err}`);
    }
  }
  if (jsonPath) writeFileSync(jsonPath, JSON.stringify(figures, null, 2) + '\n');
  if (failed.length) throw new Error(`benchmarks failed: ${failed.join(', ')}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
