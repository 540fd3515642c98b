// Generated and mutated truva.yaml documents for the fuzz tests of the loader and the server:
// random bytes, truncated and mutated YAML, deep nesting, huge strings, alias bombs.
// A seeded generator keeps every run identical, so a failure can be replayed.

export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VALID = [
  'namespace: demo\ndeployment: web\nsync:\n  - local: ./src\n    remote: /app\n',
  'context: kind-dev\nnamespace: demo\ndeployment: web\ncontainer: app\nsync:\n  - local: .\n    remote: /app\nexclude:\n  - node_modules/\n  - "*.log"\nrun: [node, server.js]\nrestart: process\ndebounce: 500ms\nbatchSize: 100\nconcurrency: 3\nlogs:\n  tail: 100\n  buffer: 5000\ndevMode:\n  keepProbes: true\n  replicas: 2\n',
  'deployment: api\nsync: [{ local: ./a, remote: /srv }, { local: ./b, remote: /srv/b }]\nrestart: command\nrestartCommand: kill -HUP 1\n',
  'deployment: web\nsync:\n  - local: .\n    remote: /app\nports:\n  - 8080\n  - local: 18080\n    remote: 8080\n    pods: all\ndebug:\n  port: 9229\n  pods: all\n',
];
const TOKENS = [
  ':',
  '- ',
  '[',
  ']',
  '{',
  '}',
  '&a ',
  '*a',
  '!!str ',
  '!!binary ',
  '|',
  '>',
  '"',
  "'",
  '#',
  '\n',
  '\t',
  '  ',
  '? ',
  '---\n',
  '...\n',
  '%YAML 1.2\n',
  '\\u0000',
  '\u2028',
  '\uFEFF',
  '😀',
  'null',
  '~',
  '-1',
  '1e309',
  '0x1F',
  '.inf',
  'namespace',
  'sync',
  'local',
  'remote',
  'debounce: ',
  'ports',
  'debug: all',
  '<<: *a\n',
];
const KEYS = [
  'context',
  'namespace',
  'deployment',
  'container',
  'sync',
  'exclude',
  'run',
  'restart',
  'restartCommand',
  'debounce',
  'batchSize',
  'batchBytes',
  'concurrency',
  'mirror',
  'allowSystemPath',
  'logs',
  'devMode',
  'kubeconfig',
  'logLevel',
  'namspace',
  'Deployment',
  '',
];

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)];
}

function randomScalar(rand: () => number): string {
  return pick(rand, [
    'web',
    '"quoted"',
    "'single'",
    '500ms',
    'fast',
    '-1',
    '0',
    '99999999999',
    'true',
    'null',
    '~',
    '/app',
    '../x',
    '/etc',
    '[]',
    '{}',
    '""',
    '*nope',
    '&x 1',
    'C:\\x',
    '#c',
    `"${'x'.repeat(Math.floor(rand() * 200))}"`,
  ]);
}

function randomStructure(rand: () => number, depth: number): string {
  const lines: string[] = [];
  const count = 1 + Math.floor(rand() * 8);
  for (let i = 0; i < count; i++) {
    const key = pick(rand, KEYS);
    const roll = rand();
    if (roll < 0.5 || depth > 3) lines.push(`${key}: ${randomScalar(rand)}`);
    else if (roll < 0.75)
      lines.push(
        `${key}:`,
        ...randomStructure(rand, depth + 1)
          .split('\n')
          .map((l) => `  ${l}`),
      );
    else
      lines.push(
        `${key}:`,
        ...Array.from(
          { length: 1 + Math.floor(rand() * 3) },
          () =>
            `  - ${rand() < 0.5 ? randomScalar(rand) : `local: ${randomScalar(rand)}\n    remote: ${randomScalar(rand)}`}`,
        ),
      );
  }
  return lines.join('\n');
}

function aliasBomb(rand: () => number): string {
  const levels = 5 + Math.floor(rand() * 6);
  const out = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < levels; i++)
    out.push(
      `a${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(',')}]`,
    );
  if (rand() < 0.5) out.push(`deployment: *a${levels - 1}`);
  return out.join('\n');
}

function mutate(rand: () => number, text: string): string {
  let out = text;
  const edits = 1 + Math.floor(rand() * 6);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(rand() * (out.length + 1));
    const roll = rand();
    if (roll < 0.4) out = out.slice(0, at) + pick(rand, TOKENS) + out.slice(at);
    else if (roll < 0.7) out = out.slice(0, at) + out.slice(at + 1 + Math.floor(rand() * 5));
    else out = out.slice(0, at) + String.fromCharCode(Math.floor(rand() * 0x3000)) + out.slice(at);
  }
  return out;
}

/** The i-th document of a seeded run; kinds cycle so every kind is represented. */
export function fuzzDocument(rand: () => number, i: number): string {
  switch (i % 10) {
    case 0: {
      const bytes = Array.from({ length: Math.floor(rand() * 400) }, () => Math.floor(rand() * 256));
      return Buffer.from(bytes).toString(rand() < 0.5 ? 'utf8' : 'latin1');
    }
    case 1: {
      const base = pick(rand, VALID);
      return base.slice(0, Math.floor(rand() * base.length));
    }
    case 2:
    case 3:
      return mutate(rand, pick(rand, VALID));
    case 4:
      return randomStructure(rand, 0);
    case 5: {
      const depth = 10 + Math.floor(rand() * 3000);
      const kind = Math.floor(rand() * 3);
      if (kind === 0) return `deployment: ${'['.repeat(depth)}${']'.repeat(Math.floor(rand() * depth))}`;
      if (kind === 1) return `${'- '.repeat(depth)}x`;
      return Array.from({ length: Math.min(depth, 300) }, (_, d) => `${' '.repeat(d)}k${d}:`).join('\n');
    }
    case 6:
      return `namespace: demo\ndeployment: "${'w'.repeat(Math.floor(rand() * 100_000))}"\nsync:\n  - local: ${'a/'.repeat(Math.floor(rand() * 2000))}\n    remote: /app\n`;
    case 7:
      return aliasBomb(rand);
    case 8:
      return mutate(rand, randomStructure(rand, 0));
    default:
      return Array.from({ length: 1 + Math.floor(rand() * 20) }, () => pick(rand, TOKENS)).join('');
  }
}
