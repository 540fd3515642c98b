// Entry point VS Code calls inside its real extension host (the workbench's `extensionTestsPath`),
// as it does for `--extensionTestsPath`. test/vscode/run.ts bundles this file and every
// test/vscode/exthost/*.test.ts next to it, with a run.json saying which suites, which grep and
// where to write the results; the exit code cannot travel back through the browser, so the results
// (counts and each test with its error) go to a file the outer runner waits for.
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import Mocha from 'mocha';

interface RunConfig {
  grep?: string;
  /** The suite files (bundled .test.js names) this run loads. */
  files: string[];
  resultsFile: string;
  timeoutMs: number;
}

export interface TestRecord {
  title: string;
  state: 'passed' | 'failed';
  durationMs: number;
  error?: string;
}

export interface ExtHostResults {
  passed: number;
  failed: number;
  tests: TestRecord[];
}

export async function run(): Promise<void> {
  const config = JSON.parse(readFileSync(join(__dirname, 'run.json'), 'utf8')) as RunConfig;
  const results: ExtHostResults = { passed: 0, failed: 0, tests: [] };
  const write = () => {
    // Written whole then renamed, so the runner never reads half a file.
    writeFileSync(`${config.resultsFile}.tmp`, JSON.stringify(results, null, 2));
    renameSync(`${config.resultsFile}.tmp`, config.resultsFile);
  };
  try {
    const mocha = new Mocha({
      ui: 'bdd',
      timeout: config.timeoutMs,
      grep: config.grep,
      reporter: recordingReporter(results),
    });
    for (const file of config.files) mocha.addFile(join(__dirname, file));
    await new Promise<void>((resolve) => mocha.run(() => resolve()));
  } catch (err) {
    results.failed++;
    results.tests.push({
      title: 'loading the extension-host suites',
      state: 'failed',
      durationMs: 0,
      error: String((err as Error).stack ?? err),
    });
  }
  write();
}

function recordingReporter(results: ExtHostResults) {
  return class RecordingReporter extends Mocha.reporters.Base {
    constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
      super(runner, options);
      runner.on('pass', (test) => {
        results.passed++;
        results.tests.push({ title: test.fullTitle(), state: 'passed', durationMs: test.duration ?? 0 });
      });
      runner.on('fail', (test, err: Error) => {
        results.failed++;
        results.tests.push({
          title: test.fullTitle(),
          state: 'failed',
          durationMs: test.duration ?? 0,
          error: String(err.stack ?? err),
        });
      });
    }
  };
}
