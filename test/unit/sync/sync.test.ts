import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ChangeSet,
  IgnoreRules,
  SaveEchoes,
  batches,
  Chunk,
  ChunkPool,
  fileSignature,
  insideRoot,
  relativePathProblem,
  symlinkStaysInside,
  tarOf,
} from '../../../src/core/sync';

const tmp = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

/** A batch's archive in one file (each chunk copied before the next is asked for: see TarBatch). */
async function archiveOf(root: string, paths: string[], sizes: number[] = []) {
  const tar = tarOf(root, paths);
  const parts: Buffer[] = [];
  for await (const chunk of tar.chunks) {
    sizes.push(chunk.length);
    parts.push(Buffer.from(chunk.bytes));
  }
  const archive = join(tmp('truva-tar-out-'), 'batch.tar');
  writeFileSync(archive, Buffer.concat(parts));
  assert.equal(statSync(archive).size, tar.bytes, 'the archive is as long as announced');
  return { archive, tar };
}

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
    const { archive, tar } = await archiveOf(root, [
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
    const out = tmp('truva-tar-x-');
    execFileSync('tar', ['-xf', archive, '-C', out]);
    assert.equal(readFileSync(join(out, 'dir/nested/file.txt'), 'utf8'), 'hello');
    assert.equal(statSync(join(out, 'run.sh')).mode & 0o111, 0o111);
    assert.equal(readFileSync(join(out, 'empty'), 'utf8'), '');
    assert.equal(readFileSync(join(out, weird), 'utf8'), 'weird');
    assert.equal(statSync(join(out, 'big.bin')).size, 3 << 20);
    assert.equal(readlinkSync(join(out, 'link')), 'dir/nested/file.txt');
    assert.ok(tar.ended);
    const reasons = Object.fromEntries(tar.skipped.map((s) => [s.path, s.reason]));
    assert.match(reasons['escape'], /outside the sync root/);
    assert.match(reasons['../evil'], /\.\./);
    assert.match(reasons['missing'], /vanished/);
    const listing = execFileSync('tar', ['-tf', archive]).toString();
    assert.ok(!listing.includes('escape') && !listing.includes('evil'), listing);
  });
});

describe('tar chunks', () => {
  it('holds what ustar cannot (long paths and link targets, as pax), names in UTF-8, and a file bigger than a chunk, as GNU tar reads them', async () => {
    const root = tmp('truva-tar-long-');
    const deep = `${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(60)}`; // 182 bytes: ustar's prefix and name
    const long = `${'g'.repeat(120)}/${'h'.repeat(150)}.txt`; // a name part over 100 bytes: pax
    const unicode = 'café/naïve-日本語.txt';
    mkdirSync(join(root, deep), { recursive: true });
    mkdirSync(join(root, 'g'.repeat(120)));
    mkdirSync(join(root, 'café'));
    writeFileSync(join(root, deep, 'file.txt'), 'deep');
    writeFileSync(join(root, long), 'long');
    writeFileSync(join(root, unicode), 'unicode');
    symlinkSync(`${deep}/file.txt`, join(root, 'far-link'));
    const huge = Buffer.alloc(9 << 20);
    for (let i = 0; i < huge.length; i += 4096) huge.writeUInt32BE(i, i);
    writeFileSync(join(root, 'huge.bin'), huge);
    const sizes: number[] = [];
    const paths = [deep, `${deep}/file.txt`, 'g'.repeat(120), long, 'café', unicode, 'far-link', 'huge.bin'];
    const { archive } = await archiveOf(root, paths, sizes);
    const out = tmp('truva-tar-long-x-');
    execFileSync('tar', ['-xf', archive, '-C', out]);
    assert.equal(readFileSync(join(out, deep, 'file.txt'), 'utf8'), 'deep');
    assert.equal(readFileSync(join(out, long), 'utf8'), 'long');
    assert.equal(readFileSync(join(out, unicode), 'utf8'), 'unicode');
    assert.equal(readlinkSync(join(out, 'far-link')), `${deep}/file.txt`);
    assert.ok(readFileSync(join(out, 'huge.bin')).equals(huge), 'a file across chunks arrives whole');
    // GNU tar's own listing has the same entries, and no warning on stderr.
    const listed = spawnSync('tar', ['-tf', archive], { encoding: 'utf8' });
    assert.equal(listed.stderr, '');
    assert.deepEqual(
      listed.stdout
        .trim()
        .split('\n')
        .map((p) => p.replace(/\/$/, '')),
      paths,
    );
    // The first chunk is small (a small batch goes at once); the next ones grow, up to 1 MiB.
    assert.ok(sizes[0] <= 256 << 10, `first chunk ${sizes[0]}`);
    assert.ok(Math.max(...sizes) <= 1 << 20);
    const full = sizes.filter((size) => size > (1 << 20) - 4096).length;
    assert.ok(full >= 7, `9 MiB in chunks of ${sizes.join(', ')}`);
  });

  it('packs exactly the length it announced when files change after they were looked at: each at the size it was seen with', async () => {
    const root = tmp('truva-tar-changing-');
    const big = 600 << 10; // read asynchronously, in pieces
    for (const name of ['grew', 'shrank', 'vanished']) writeFileSync(join(root, name), 'x'.repeat(100));
    writeFileSync(join(root, 'big.bin'), Buffer.alloc(big, 1));
    const tar = tarOf(root, ['grew', 'shrank', 'vanished', 'big.bin']);
    writeFileSync(join(root, 'grew'), 'y'.repeat(300));
    writeFileSync(join(root, 'shrank'), 'z'.repeat(10));
    rmSync(join(root, 'vanished'));
    writeFileSync(join(root, 'big.bin'), Buffer.alloc(100 << 10, 2));
    const parts: Buffer[] = [];
    for await (const chunk of tar.chunks) parts.push(Buffer.from(chunk.bytes));
    assert.equal(Buffer.concat(parts).length, tar.bytes);
    const archive = join(tmp('truva-tar-changing-out-'), 'batch.tar');
    writeFileSync(archive, Buffer.concat(parts));
    const out = tmp('truva-tar-changing-x-');
    execFileSync('tar', ['-xf', archive, '-C', out]);
    assert.equal(readFileSync(join(out, 'grew'), 'utf8'), 'y'.repeat(100));
    assert.equal(readFileSync(join(out, 'shrank'), 'utf8'), 'z'.repeat(10) + '\0'.repeat(90));
    assert.equal(readFileSync(join(out, 'vanished'), 'utf8'), '\0'.repeat(100));
    const bigOut = readFileSync(join(out, 'big.bin'));
    assert.equal(bigOut.length, big);
    assert.ok(bigOut.subarray(0, 100 << 10).every((b) => b === 2) && bigOut.subarray(100 << 10).every((b) => b === 0));
  });

  it("a pool's buffer is lent again only once its batch is past it and no connection holds it", () => {
    const pool = new ChunkPool();
    const slot = pool.take(1000);
    const release = slot.hold();
    slot.retire();
    assert.notEqual(pool.take(1000).buffer, slot.buffer, 'a connection still sends from it');
    release();
    assert.equal(pool.take(1000).buffer, slot.buffer, 'free again, and reused');
    const unretired = pool.take(1000);
    assert.notEqual(pool.take(1000).buffer, unretired.buffer, 'its batch may still write into it');
  });

  it('builds the stdin message once per header, in the room in front of the chunk; another header gets a copy', () => {
    const chunk = Chunk.of(Buffer.from('data'));
    const framed = chunk.message('C 4\n');
    assert.equal(chunk.message('C 4\n'), framed, 'every pod shares one message');
    assert.deepEqual([...framed.bytes], [0, ...Buffer.from('C 4\ndata')]);
    const raw = chunk.message('');
    assert.deepEqual([...raw.bytes], [0, ...Buffer.from('data')]);
    assert.deepEqual([...framed.bytes], [0, ...Buffer.from('C 4\ndata')], 'the copy left the first message as it was');
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
