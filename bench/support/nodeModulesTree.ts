// A synthetic tree shaped like a node_modules folder, for the sync benchmark's scale rows: many
// packages (some scoped, some with nested node_modules), each with package.json, README, LICENSE,
// an entry point, lib/ and dist/ sources, type declarations and source maps, most files a few KB
// and a few large bundles, about 10 KB per file on average, with text that compresses as real
// code does. A .gitignore at the root leaves out the source maps and a .cache folder, so the
// ignores are really applied (about a tenth of the files and a seventh of the bytes). The same
// seed gives the same tree, so every size and run is alike.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface TreeInfo {
  files: number;
  bytes: number;
  /** Files and bytes the .gitignore leaves out. */
  ignoredFiles: number;
  ignoredBytes: number;
  dirs: number;
}

/** A small deterministic PRNG (mulberry32), so trees do not depend on Math.random. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * About 8 MB of text shaped like JavaScript (statements over a vocabulary of 300 generated
 * identifiers, common ones more often), from which every file takes a slice. It compresses as
 * real code does: the 2,000-file tree's tar shrinks 3.4x with gzip -1, where this project's
 * node_modules gives 3.7x and the typescript package 4.2x (files repeating one line, as before,
 * shrank 80x and would flatter any compression). Slices at random offsets keep the generation
 * cheap for a 200 MB tree.
 */
function corpus(rnd: () => number): Buffer {
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  const syllables = ['ka', 'lo', 'mi', 're', 'tor', 'an', 'ex', 'pro', 'val', 'get', 'set', 'on', 'de', 'ul', 'ra'];
  const word = () => Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => pick(syllables)).join('');
  const vocabulary = Array.from({ length: 300 }, () => (rnd() < 0.5 ? word() : word() + word().toUpperCase()));
  const id = () => vocabulary[Math.floor(rnd() ** 2 * vocabulary.length)];
  const num = (max: number) => Math.floor(rnd() * max);
  const statements = [
    () => `const ${id()} = require('./${id()}');`,
    () => `function ${id()}(${id()}, ${id()}) {`,
    () => `  if (${id()}.${id()} !== ${id()}) return ${id()};`,
    () => `  ${id()}.${id()}(${id()}, ${num(1000)});`,
    () => `  var ${id()} = ${id()}[${id()}] || '${id()} ${id()}';`,
    () => '}',
    () => `  for (let i = 0; i < ${id()}.length; i++) ${id()}.push(${id()}[i]);`,
    () => `  // ${id()} ${id()} ${id()} ${id()} ${id()}`,
    () => `module.exports.${id()} = ${id()};`,
    () => `  return { ${id()}: ${id()}, ${id()}: ${num(100_000)} };`,
    () => `    throw new TypeError('${id()} ${id()} must be a ${id()}');`,
  ];
  const lines: string[] = [];
  for (let bytes = 0; bytes < 8_000_000;) {
    const line = `${pick(statements)()}\n`;
    lines.push(line);
    bytes += line.length;
  }
  return Buffer.from(lines.join(''));
}

/** File content of `size` bytes: a numbered first line, then a slice of the corpus. */
function content(text: Buffer, rnd: () => number, size: number, n: number): Buffer {
  const head = Buffer.from(`// ${n}\n`);
  const body = Math.max(0, size - head.length);
  const at = Math.floor(rnd() * (text.length - body));
  return Buffer.concat([head, text.subarray(at, at + body)]);
}

/** Writes a tree of exactly `files` files under `root` (created); returns what it holds. */
export function writeNodeModulesTree(root: string, files: number, seed = 17): TreeInfo {
  const rnd = random(seed);
  // Text from a generator of its own, so the tree's shape (names, sizes) is the same as before it.
  const textRnd = random(seed ^ 0x5bd1e995);
  const text = corpus(textRnd);
  const info: TreeInfo = { files: 0, bytes: 0, ignoredFiles: 0, ignoredBytes: 0, dirs: 0 };
  const made = new Set<string>();
  const write = (rel: string, size: number, ignored = false) => {
    const dir = dirname(rel);
    if (!made.has(dir)) {
      mkdirSync(join(root, dir), { recursive: true });
      made.add(dir);
    }
    writeFileSync(join(root, rel), content(text, textRnd, size, info.files));
    info.files++;
    info.bytes += size;
    if (ignored) {
      info.ignoredFiles++;
      info.ignoredBytes += size;
    }
  };
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, '.gitignore'), '*.map\n.cache/\n');
  info.files++;
  // Sizes: mostly small sources, a long tail of bundles (mean about 10 KB).
  const small = () => 400 + Math.floor(rnd() * 5000);
  const source = () => (rnd() < 0.1 ? 40_000 + Math.floor(rnd() * 120_000) : small());
  let pkg = 0;
  while (info.files < files) {
    const scoped = rnd() < 0.2;
    const name = scoped ? `@scope${pkg % 13}/pkg-${pkg}` : `pkg-${pkg}`;
    const nested = pkg % 7 === 3 ? `node_modules/pkg-${pkg - 1}/` : '';
    const base = `node_modules/${nested}${name}`;
    pkg++;
    const left = () => files - info.files;
    const entries: [string, number, boolean][] = [
      [`${base}/package.json`, 600 + Math.floor(rnd() * 1500), false],
      [`${base}/README.md`, 1000 + Math.floor(rnd() * 6000), false],
      [`${base}/LICENSE`, 1070, false],
      [`${base}/index.js`, small(), false],
    ];
    const libFiles = 2 + Math.floor(rnd() * 12);
    for (let i = 0; i < libFiles; i++) entries.push([`${base}/lib/${i % 3 ? '' : 'util/'}m${i}.js`, source(), false]);
    const distFiles = Math.floor(rnd() * 4);
    for (let i = 0; i < distFiles; i++) {
      const size = source();
      entries.push([`${base}/dist/b${i}.js`, size, false]);
      entries.push([`${base}/dist/b${i}.js.map`, size, true]);
    }
    for (let i = 0; i < Math.floor(rnd() * 3); i++) entries.push([`${base}/types/t${i}.d.ts`, small(), false]);
    if (pkg % 25 === 0) entries.push([`${base}/.cache/build-${pkg}.bin`, 20_000, true]);
    for (const [rel, size, ignored] of entries) if (left() > 0) write(rel, size, ignored);
  }
  info.dirs = made.size;
  return info;
}
