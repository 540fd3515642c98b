// Runs every mocha suite in one process, then the real-VS-Code suites (code-server), and
// prints one closing line "N passed, N failed". Options: --suite unit|lsp|webview|integration|vscode
// (repeatable; default all), --grep PATTERN.
import Mocha from 'mocha';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { mochaHooks } from '../test/helpers/sandbox';

const args = process.argv.slice(2);
const suites = args.flatMap((a, i) => (a === '--suite' ? [args[i + 1]] : []));
const grep = args.flatMap((a, i) => (a === '--grep' ? [args[i + 1]] : []))[0];
const wanted = (name: string) => suites.length === 0 || suites.includes(name);

function testFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return testFiles(path);
      return name.endsWith('.test.ts') ? [path] : [];
    });
}

async function runMocha(): Promise<{ passed: number; failed: number }> {
  // The root hooks stop the shared sandbox cluster once every suite has run.
  const mocha = new Mocha({ reporter: 'spec', timeout: 30_000, grep, rootHooks: mochaHooks });
  // webview: the built log panel bundle in headless Chromium (after the build step of npm test).
  for (const suite of ['unit', 'lsp', 'webview', 'integration']) {
    if (wanted(suite)) testFiles(join('test', suite)).forEach((f) => mocha.addFile(f));
  }
  if (mocha.files.length === 0) return { passed: 0, failed: 0 };
  return new Promise((resolve) => {
    const runner = mocha.run(() => resolve({ passed: runner.stats?.passes ?? 0, failed: runner.stats?.failures ?? 0 }));
  });
}

async function main() {
  const totals = await runMocha();
  const vscodeRunner = join(process.cwd(), 'test/vscode/run.ts');
  if (wanted('vscode') && existsSync(vscodeRunner)) {
    // Loaded only when these suites run: the harness pulls in esbuild and playwright.
    const { runVsCodeSuites } = await import(vscodeRunner);
    const result = await runVsCodeSuites({ grep });
    totals.passed += result.passed;
    totals.failed += result.failed;
  }
  console.log(`\n${totals.passed} passed, ${totals.failed} failed`);
  process.exit(totals.failed > 0 || totals.passed === 0 ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
