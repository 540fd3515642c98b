import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigError, LoadResult } from '../../../src/core/config';

/** A temporary project folder with `src/` and `web/` sync folders and a truva.yaml path in it. */
export function tempProject(): { dir: string; file: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'truva-config-'));
  mkdirSync(join(dir, 'src'));
  mkdirSync(join(dir, 'web'));
  return { dir, file: join(dir, 'truva.yaml'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The errors of a refused file (fails the test when the file was accepted). */
export function errorsOf(result: LoadResult): ConfigError[] {
  assert.equal(result.ok, false, 'expected the file to be refused');
  return result.ok ? [] : result.errors;
}
