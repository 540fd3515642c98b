import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  ChangeSet,
  IgnoreRules,
  SaveEchoes,
  batches,
  coalesce,
  fileSignature,
  insideRoot,
  relativePathProblem,
  symlinkStaysInside,
  tarOf,
} from '../../../src/core/sync';

const tmp = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

describe('change set', () => {
  it('coalesces by path: last event wins, create+delete is nothing, delete+create replaces', () => {
    const set = new ChangeSet();
    set.record('a', 'change', 10);
    set.record('a', 'change', 20);
    set.record('tmp', 'add');
    set.record('tmp', 'delete');
    set.record('gone', 'change');
    set.record('gone', 'delete');
    set.record('back', 'delete');
    set.record('back', 'add');
    const taken = set.take();
    assert.deepEqual(taken.upserts, ['a', 'back']);
    assert.deepEqual(taken.deletes, ['gone']);
    assert.equal(taken.firstAt, 10, 'latency counts from the oldest waiting change');
    assert.equal(set.size, 0);
  });

  it('a rename arrives as delete + create of two paths', () => {
    const set = new ChangeSet();
    set.record('old.txt', 'delete');
    set.record('new.txt', 'add');
    const taken = set.take();
    assert.deepEqual([taken.upserts, taken.deletes], [['new.txt'], ['old.txt']]);
  });

  it('restore puts a failed batch back without overriding newer changes', () => {
    const set = new ChangeSet();
    set.record('x', 'change');
    set.record('y', 'delete');
    const taken = set.take();
    set.record('y', 'add');
    set.restore(taken);
    const again = set.take();
    assert.deepEqual(again.upserts, ['x', 'y']);
    assert.deepEqual(again.deletes, []);
  });
});

describe('batching', () => {
  const files = (sizes: number[]) => sizes.map((size, i) => ({ path: `f${i}`, size }));

  it('bounds batches by file count', () => {
    assert.deepEqual(
      batches(files([1, 1, 1, 1, 1]), 2, 1000).map((b) => b.length),
      [2, 2, 1],
    );
  });

  it('bounds batches by bytes; a file bigger than the bound goes alone', () => {
    assert.deepEqual(
      batches(files([40, 40, 40, 500, 10]), 100, 100).map((b) => b.map((f) => f.size)),
      [[40, 40], [40], [500], [10]],
    );
  });
});

describe('ignore rules', () => {
  it('applies .gitignore (nested, relative to its folder), negation, .truvaignore and exclude; .git always', () => {
    const root = tmp('truva-ignore-');
    writeFileSync(join(root, '.gitignore'), 'node_modules/\n*.log\n!keep.log\n');
    mkdirSync(join(root, 'sub/deeper'), { recursive: true });
    writeFileSync(join(root, 'sub/.gitignore'), 'secret.txt\n/build/\n');
    writeFileSync(join(root, '.truvaignore'), 'coverage/\n');
    const rules = new IgnoreRules(root, ['*.tmp']);
    assert.equal(rules.ignores('.git', true), true);
    assert.equal(rules.ignores('.git/config'), true);
    assert.equal(rules.ignores('node_modules', true), true);
    assert.equal(rules.ignores('node_modules/x/index.js'), true);
    assert.equal(rules.ignores('debug.log'), true);
    assert.equal(rules.ignores('keep.log'), false, 'negation');
    assert.equal(rules.ignores('sub/secret.txt'), true);
    assert.equal(rules.ignores('sub/deeper/secret.txt'), true, 'nested .gitignore applies below its folder');
    assert.equal(rules.ignores('secret.txt'), false, 'but not above it');
    assert.equal(rules.ignores('sub/build', true), true);
    assert.equal(rules.ignores('build', true), false, 'anchored to its own folder');
    assert.equal(rules.ignores('coverage', true), true);
    assert.equal(rules.ignores('a.tmp'), true);
    assert.equal(rules.ignores('src/app.js'), false);
  });
});

describe('ignore rules during a walk', () => {
  it('ignoresIn (an entry of a folder that is not ignored) agrees with ignores on every entry a walk meets', () => {
    const root = tmp('truva-ignore-walk-');
    writeFileSync(join(root, '.gitignore'), 'node_modules/\n*.log\n!keep.log\nbuild/\n/top-only.txt\n');
    writeFileSync(join(root, '.truvaignore'), 'coverage/\n');
    for (const dir of ['a/b/c', 'a/node_modules/x', 'a/b/build', 'coverage', 'lib/deep/er', 'lib/keep'])
      mkdirSync(join(root, dir), { recursive: true });
    writeFileSync(join(root, 'a/.gitignore'), 'secret.txt\n/b/local-only/\n*.tmp\n');
    writeFileSync(join(root, 'lib/deep/.gitignore'), '*\n!er/\n!er/**\n');
    for (const file of [
      'top-only.txt',
      'a/top-only.txt',
      'a/secret.txt',
      'a/b/c/secret.txt',
      'a/b/c/x.tmp',
      'a/b/c/keep.log',
      'a/b/c/drop.log',
      'a/b/c/ok.js',
      'a/node_modules/x/index.js',
      'a/b/build/out.js',
      'coverage/lcov.info',
      'lib/deep/hidden.js',
      'lib/deep/er/shown.js',
      'lib/keep/k.js',
    ])
      writeFileSync(join(root, file), file);
    mkdirSync(join(root, 'a/b/local-only'));
    writeFileSync(join(root, 'a/b/local-only/f.js'), 'f');
    const rules = new IgnoreRules(root, ['*.bak']);
    let checked = 0;
    const walk = (dir: string) => {
      for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
        const rel = dir ? `${dir}/${entry.name}` : entry.name;
        const isDir = entry.isDirectory();
        assert.equal(rules.ignoresIn(dir, entry.name, isDir), rules.ignores(rel, isDir), rel);
        checked++;
        if (isDir && !rules.ignores(rel, true)) walk(rel);
      }
    };
    walk('');
    assert.ok(checked >= 25, `the walk met ${checked} entries`);
    assert.equal(rules.ignoresIn('lib/deep/er', 'shown.js', false), false, 're-included below an ignoring .gitignore');
    assert.equal(rules.ignoresIn('a/b', 'local-only', true), true, 'anchored in a nested .gitignore');
  });
});

describe('path safety', () => {
  it('refuses absolute paths, ".." segments and NUL bytes', () => {
    assert.equal(relativePathProblem('src/app.js'), undefined);
    assert.equal(relativePathProblem('-rf'), undefined, 'leading dashes are fine: commands use --');
    assert.match(relativePathProblem('/etc/passwd')!, /absolute/);
    assert.match(relativePathProblem('../outside')!, /\.\./);
    assert.match(relativePathProblem('a/../../b')!, /\.\./);
    assert.match(relativePathProblem('a\0b')!, /NUL/);
  });

  it('knows what is inside the root, and which symlinks stay inside', () => {
    const root = tmp('truva-paths-');
    writeFileSync(join(root, 'target.txt'), 'x');
    symlinkSync('target.txt', join(root, 'inside'));
    symlinkSync('/etc/passwd', join(root, 'escape'));
    symlinkSync('../../../../etc', join(root, 'escape-dir'));
    assert.equal(insideRoot(root, join(root, 'a/b')), 'a/b');
    assert.equal(insideRoot(root, join(root, '..', 'x')), undefined);
    assert.equal(symlinkStaysInside(root, join(root, 'inside')), true);
    assert.equal(symlinkStaysInside(root, join(root, 'escape')), false);
    assert.equal(symlinkStaysInside(root, join(root, 'escape-dir')), false);
  });
});

describe('tar stream', () => {
  it('builds a tar the real tar extracts: contents, exec bit, empty file, dirs, inside symlinks; escapes are skipped', async () => {
    const root = tmp('truva-tar-src-');
    mkdirSync(join(root, 'dir/nested'), { recursive: true });
    writeFileSync(join(root, 'dir/nested/file.txt'), 'hello');
    writeFileSync(join(root, 'run.sh'), '#!/bin/sh\n');
    chmodSync(join(root, 'run.sh'), 0o755);
    writeFileSync(join(root, 'empty'), '');
    const weird = 'it\'s a "name"\nwith newline';
    writeFileSync(join(root, weird), 'weird');
    writeFileSync(join(root, 'big.bin'), Buffer.alloc(3 << 20, 7));
    symlinkSync('dir/nested/file.txt', join(root, 'link'));
    symlinkSync('/etc/passwd', join(root, 'escape'));
    const { stream, skipped } = tarOf(root, [
      'dir',
      'dir/nested/file.txt',
      'run.sh',
      'empty',
      weird,
      'big.bin',
      'link',
      'escape',
      '../evil',
      'missing',
    ]);
    const archive = join(tmp('truva-tar-out-'), 'batch.tar');
    await pipeline(stream, createWriteStream(archive));
    const out = tmp('truva-tar-x-');
    execFileSync('tar', ['-xf', archive, '-C', out]);
    assert.equal(readFileSync(join(out, 'dir/nested/file.txt'), 'utf8'), 'hello');
    assert.equal(statSync(join(out, 'run.sh')).mode & 0o111, 0o111);
    assert.equal(readFileSync(join(out, 'empty'), 'utf8'), '');
    assert.equal(readFileSync(join(out, weird), 'utf8'), 'weird');
    assert.equal(statSync(join(out, 'big.bin')).size, 3 << 20);
    assert.equal(readlinkSync(join(out, 'link')), 'dir/nested/file.txt');
    const reasons = Object.fromEntries((await skipped).map((s) => [s.path, s.reason]));
    assert.match(reasons['escape'], /outside the sync root/);
    assert.match(reasons['../evil'], /\.\./);
    assert.match(reasons['missing'], /vanished/);
    const listing = execFileSync('tar', ['-tf', archive]).toString();
    assert.ok(!listing.includes('escape') && !listing.includes('evil'), listing);
  });
});

describe('tar output chunks', () => {
  const collect = async (source: AsyncIterable<Buffer>) => {
    const out: Buffer[] = [];
    for await (const chunk of source) out.push(chunk);
    return out;
  };
  async function* chunks(...sizes: number[]) {
    let n = 0;
    for (const size of sizes) yield Buffer.alloc(size, n++);
  }

  it('joins small chunks into pieces of at least the size, keeping every byte in order', async () => {
    const out = await collect(coalesce(chunks(3, 3, 3, 3, 3), 8));
    assert.deepEqual(
      out.map((b) => b.length),
      [9, 6],
    );
    assert.deepEqual([...Buffer.concat(out)], [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]);
  });

  it('passes a big chunk on as it is, and yields nothing for an empty stream', async () => {
    const out = await collect(coalesce(chunks(20, 1), 8));
    assert.deepEqual(
      out.map((b) => b.length),
      [20, 1],
    );
    assert.deepEqual(await collect(coalesce(chunks(), 8)), []);
  });
});

describe('save echoes', () => {
  it('watcher events repeating a notified save are echoes while the file keeps that version', () => {
    const echoes = new SaveEchoes();
    echoes.remember('a.js', fileSignature({ size: 3, mtimeMs: 1000.5 }));
    assert.equal(
      echoes.isEcho('a.js', () => '3:1000.5'),
      true,
    );
    assert.equal(
      echoes.isEcho('a.js', () => '3:1000.5'),
      true,
      'a second event for the same write (truncate, then write) is an echo too',
    );
    assert.equal(
      echoes.isEcho('a.js', () => '4:1002'),
      false,
      'a later write is a real change',
    );
    assert.equal(
      echoes.isEcho('a.js', () => '3:1000.5'),
      false,
      'and once the file changed, the old version is forgotten',
    );
  });

  it('a later write (other size or mtime), a deleted file or an unnotified path is not an echo', () => {
    const echoes = new SaveEchoes();
    echoes.remember('a.js', '3:1000');
    assert.equal(
      echoes.isEcho('a.js', () => '3:1001'),
      false,
    );
    echoes.remember('b.js', '3:1000');
    assert.equal(
      echoes.isEcho('b.js', () => undefined),
      false,
    );
    let read = false;
    assert.equal(
      echoes.isEcho('c.js', () => ((read = true), '1:1')),
      false,
    );
    assert.equal(read, false, 'no stat for paths that were never notified');
  });
});
