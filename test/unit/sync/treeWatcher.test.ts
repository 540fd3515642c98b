// The per-folder tree watcher on a real temporary folder: what it reports for files and folders
// created, changed, deleted, renamed and replaced, and what it never reports (ignored folders).
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IgnoreRules } from '../../../src/core/sync';
import { watchTree, type TreeEvent, type TreeWatcher } from '../../../src/core/sync/treeWatcher';
import { until } from '../../helpers/poll';

describe('tree watcher', () => {
  let root: string;
  let watcher: TreeWatcher | undefined;
  let events: string[];
  const errors: Error[] = [];

  function start(dirs: string[]) {
    events = [];
    watcher = watchTree(
      root,
      new IgnoreRules(root),
      (rel: string, kind: TreeEvent) => events.push(`${kind} ${rel}`),
      (err) => errors.push(err),
    );
    for (const dir of ['', ...dirs]) watcher.watch(dir);
  }

  const saw = (event: string) =>
    until(`the event "${event}" (seen: ${events.join(', ')})`, () => events.includes(event), 10_000, 10);

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'truva-watch-'));
    writeFileSync(join(root, '.gitignore'), 'node_modules/\n*.log\n');
    mkdirSync(join(root, 'src/deep'), { recursive: true });
    mkdirSync(join(root, 'node_modules/dep'), { recursive: true });
    writeFileSync(join(root, 'src/deep/a.js'), 'a');
  });

  afterEach(() => {
    watcher?.close();
    rmSync(root, { recursive: true, force: true });
    assert.deepEqual(errors, []);
  });

  it('reports files written, changed and deleted in the root and in nested folders', async () => {
    start(['src', 'src/deep']);
    writeFileSync(join(root, 'top.js'), 'new');
    await saw('change top.js');
    writeFileSync(join(root, 'src/deep/a.js'), 'edited');
    await saw('change src/deep/a.js');
    rmSync(join(root, 'src/deep/a.js'));
    await saw('delete src/deep/a.js');
  });

  it('a folder that appears is watched, and what it already holds is reported', async () => {
    start(['src', 'src/deep']);
    mkdirSync(join(root, 'lib/x/y'), { recursive: true });
    writeFileSync(join(root, 'lib/x/y/made.js'), 'made');
    await saw('change lib');
    await saw('change lib/x/y/made.js');
    events.length = 0;
    writeFileSync(join(root, 'lib/x/y/later.js'), 'later');
    await saw('change lib/x/y/later.js');
  });

  it('ignored folders are never watched, and deleting one is not reported as a deletion', async () => {
    start(['src', 'src/deep']);
    writeFileSync(join(root, 'node_modules/dep/index.js'), 'ignored');
    writeFileSync(join(root, 'debug.log'), 'ignored');
    rmSync(join(root, 'node_modules'), { recursive: true });
    writeFileSync(join(root, 'marker.js'), 'after');
    await saw('change marker.js');
    assert.deepEqual(
      events.filter((e) => /node_modules|debug\.log/.test(e)),
      [],
    );
  });

  it('a renamed folder is a deletion of the old path and every file under the new one', async () => {
    start(['src', 'src/deep']);
    renameSync(join(root, 'src'), join(root, 'source'));
    await saw('delete src');
    await saw('change source/deep/a.js');
    events.length = 0;
    writeFileSync(join(root, 'source/deep/b.js'), 'b');
    await saw('change source/deep/b.js');
  });

  it('a folder removed and made again (a build) is watched again', async () => {
    start(['src', 'src/deep']);
    rmSync(join(root, 'src/deep'), { recursive: true });
    mkdirSync(join(root, 'src/deep'));
    writeFileSync(join(root, 'src/deep/rebuilt.js'), 'rebuilt');
    await saw('change src/deep/rebuilt.js');
    events.length = 0;
    writeFileSync(join(root, 'src/deep/after.js'), 'after');
    await saw('change src/deep/after.js');
  });

  it('watch() adds a folder without reporting what it holds; close() ends all reports', async () => {
    mkdirSync(join(root, 'late'));
    writeFileSync(join(root, 'late/old.js'), 'old');
    start(['src', 'src/deep']);
    watcher!.watch('late');
    writeFileSync(join(root, 'late/x.js'), 'x');
    await saw('change late/x.js');
    assert.equal(events.includes('change late/old.js'), false, 'the caller reads the folder itself');
    watcher!.close();
    events.length = 0;
    writeFileSync(join(root, 'late/y.js'), 'y');
    writeFileSync(join(root, 'z.js'), 'z');
    // A fresh watcher sees z2.js; the closed one reported nothing meanwhile.
    start([]);
    writeFileSync(join(root, 'z2.js'), 'z2');
    await saw('change z2.js');
    assert.deepEqual(
      events.filter((e) => e !== 'change z2.js'),
      [],
    );
  });
});
