import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  configToYaml,
  loadConfig,
  validateDocument,
  type ConfigError,
  type LoadResult,
} from '../../../src/core/config';
import { errorsOf, tempProject } from './helpers';

const THREE_LINES = 'namespace: demo\ndeployment: web\nsync: [{ local: ./src, remote: /app }]\n';

function only(result: LoadResult): ConfigError {
  const errors = errorsOf(result);
  assert.equal(errors.length, 1, JSON.stringify(errors));
  return errors[0];
}

describe('config: loadConfig', () => {
  let project: ReturnType<typeof tempProject>;
  beforeEach(() => (project = tempProject()));
  afterEach(() => project.cleanup());
  const load = (text: string, settings = {}) => loadConfig(text, { filePath: project.file, settings });

  it('accepts the three-line file and fills every default from the schema', () => {
    const result = load(THREE_LINES);
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.config, {
      filePath: project.file,
      rootDir: project.dir,
      context: undefined,
      namespace: 'demo',
      deployment: 'web',
      container: undefined,
      sync: [{ local: join(project.dir, 'src'), localAsWritten: './src', remote: '/app' }],
      exclude: [],
      run: undefined,
      restart: 'process',
      restartCommand: undefined,
      ports: [],
      debug: undefined,
      debounceMs: 500,
      batchSize: 1000,
      batchBytes: 67108864,
      concurrency: 5,
      mirror: false,
      allowSystemPath: false,
      logs: { tail: 200, buffer: 50000 },
      devMode: { keepProbes: false, replicas: undefined, rolloutTimeoutSeconds: 120, emptyDir: false },
      kubeconfig: undefined,
      logLevel: 'info',
    });
    assert.deepEqual(result.warnings, []);
  });

  it('normalises every written value: durations, paths, run forms', () => {
    const text = [
      'context: kind-dev',
      'namespace: demo',
      'deployment: web',
      'container: app',
      'sync:',
      '  - local: .',
      '    remote: /srv/app/',
      '  - local: web',
      '    remote: /www',
      'exclude: [node_modules/, "*.log"]',
      'run: npm run dev',
      'restart: command',
      'restartCommand: kill -HUP 1',
      'debounce: 1s',
      'batchSize: 50',
      'batchBytes: 2048',
      'concurrency: 2',
      'mirror: true',
      'allowSystemPath: true',
      'logs: { tail: 10, buffer: 2000 }',
      'devMode: { keepProbes: true, replicas: 1, rolloutTimeout: 30 }',
      'kubeconfig: ./kube.yaml',
      'logLevel: debug',
    ].join('\n');
    const result = load(text);
    assert.ok(result.ok, JSON.stringify(result));
    const c = result.config;
    assert.deepEqual(c.sync, [
      { local: project.dir, localAsWritten: '.', remote: '/srv/app' },
      { local: join(project.dir, 'web'), localAsWritten: 'web', remote: '/www' },
    ]);
    assert.deepEqual(c.run, { kind: 'shell', command: 'npm run dev' });
    assert.equal(c.restart, 'command');
    assert.equal(c.restartCommand, 'kill -HUP 1');
    assert.equal(c.debounceMs, 1000);
    assert.deepEqual(
      [c.batchSize, c.batchBytes, c.concurrency, c.mirror, c.allowSystemPath],
      [50, 2048, 2, true, true],
    );
    assert.deepEqual(c.logs, { tail: 10, buffer: 2000 });
    assert.deepEqual(c.devMode, { keepProbes: true, replicas: 1, rolloutTimeoutSeconds: 30, emptyDir: false });
    assert.equal(c.kubeconfig, join(project.dir, 'kube.yaml'));
    assert.deepEqual([c.context, c.container, c.logLevel], ['kind-dev', 'app', 'debug']);
  });

  it('keeps a run list as the argv and reads "500ms"', () => {
    const result = load(`${THREE_LINES}run: [node, "server.js", "--name=a b"]\ndebounce: 250ms\n`);
    assert.ok(result.ok);
    assert.deepEqual(result.config.run, { kind: 'argv', argv: ['node', 'server.js', '--name=a b'] });
    assert.equal(result.config.debounceMs, 250);
  });

  it('takes defaults from settings, and the file wins over them', () => {
    const settings = {
      debounce: '2s',
      concurrency: 9,
      logs: { tail: 5 },
      devMode: { keepProbes: true },
      namespace: 'from-settings',
      exclude: ['dist/'],
    };
    const fromSettings = load('deployment: web\nsync: [{ local: src, remote: /app }]\n', settings);
    assert.ok(fromSettings.ok, JSON.stringify(fromSettings));
    assert.equal(fromSettings.config.debounceMs, 2000);
    assert.equal(fromSettings.config.concurrency, 9);
    assert.deepEqual(fromSettings.config.logs, { tail: 5, buffer: 50000 });
    assert.equal(fromSettings.config.devMode.keepProbes, true);
    assert.equal(fromSettings.config.namespace, 'from-settings');
    assert.deepEqual(fromSettings.config.exclude, ['dist/']);

    const fileWins = load(
      `${THREE_LINES}debounce: 100\nconcurrency: 1\nlogs: { buffer: 3000 }\ndevMode: { keepProbes: false }\nexclude: []\n`,
      settings,
    );
    assert.ok(fileWins.ok);
    assert.equal(fileWins.config.debounceMs, 100);
    assert.equal(fileWins.config.concurrency, 1);
    assert.deepEqual(fileWins.config.logs, { tail: 5, buffer: 3000 }, 'nested keys merge one by one');
    assert.equal(fileWins.config.devMode.keepProbes, false);
    assert.equal(fileWins.config.namespace, 'demo');
    assert.deepEqual(fileWins.config.exclude, []);
  });

  it('refuses an invalid setting, naming it', () => {
    const error = only(load(THREE_LINES, { concurrency: 0 }));
    assert.equal(error.code, 'invalid-setting');
    assert.match(error.message, /truva\.concurrency/);
  });

  const invalid: [name: string, text: string, code: string, line: number, column: number, message: RegExp][] = [
    [
      'a YAML syntax error',
      'namespace: demo\ndeployment: web: x\n',
      'yaml-syntax',
      2,
      13,
      /YAML syntax error: Nested mappings/,
    ],
    ['a tab as indentation', 'namespace: demo\n\tdeployment: web\n', 'yaml-syntax', 2, 1, /Tabs are not allowed/],
    ['a duplicate key', `${THREE_LINES}namespace: other\n`, 'yaml-syntax', 4, 1, /unique/],
    [
      'a misspelt key',
      `${THREE_LINES}namepsace: x\n`,
      'unknown-key',
      4,
      1,
      /Unknown key "namepsace".*Did you mean "namespace"\?/,
    ],
    ['a misspelt nested key', `${THREE_LINES}logs:\n  tial: 3\n`, 'unknown-key', 5, 3, /Did you mean "tail"/],
    ['a key nothing resembles', `${THREE_LINES}colour: red\n`, 'unknown-key', 4, 1, /Known keys: context, namespace/],
    [
      'a debounce of "fast"',
      `${THREE_LINES}debounce: fast\n`,
      'wrong-type',
      4,
      11,
      /"debounce" must be .*"500ms".*not "fast"/,
    ],
    [
      'a negative concurrency',
      `${THREE_LINES}concurrency: -1\n`,
      'out-of-range',
      4,
      14,
      /"concurrency" must be a whole number from 1 to 100, not -1/,
    ],
    ['a debounce over a minute', `${THREE_LINES}debounce: 90s\n`, 'out-of-range', 4, 11, /too long/],
    [
      'a string where a number goes',
      `${THREE_LINES}batchSize: many\n`,
      'wrong-type',
      4,
      12,
      /"batchSize" must be a whole number .*not "many"/,
    ],
    [
      'an unknown restart mode',
      `${THREE_LINES}restart: always\n`,
      'bad-value',
      4,
      10,
      /one of "process", "none", "command"/,
    ],
    [
      'restart: command without its command',
      `${THREE_LINES}restart: command\n`,
      'restart-command-missing',
      4,
      10,
      /restartCommand/,
    ],
    [
      'a bad namespace name',
      'namespace: My_NS\ndeployment: web\nsync: [{ local: src, remote: /app }]\n',
      'bad-value',
      1,
      12,
      /Kubernetes name/,
    ],
    [
      'a missing deployment',
      'namespace: demo\nsync: [{ local: src, remote: /app }]\n',
      'missing-key',
      1,
      1,
      /Missing required key "deployment"/,
    ],
    [
      'a sync pair without remote',
      'namespace: demo\ndeployment: web\nsync:\n  - local: src\n',
      'missing-key',
      4,
      5,
      /"sync\[0\]" is missing the required key "remote"/,
    ],
    ['an empty sync list', 'namespace: demo\ndeployment: web\nsync: []\n', 'bad-value', 3, 1, /at least one pair/],
    [
      'a run list holding a number',
      `${THREE_LINES}run: [node, 1]\n`,
      'wrong-type',
      4,
      1,
      /"run" must be a command string or a list of strings/,
    ],
    [
      'a local folder that does not exist',
      'namespace: demo\ndeployment: web\nsync:\n  - local: ./nope\n    remote: /app\n',
      'local-missing',
      4,
      12,
      /"\.\/nope" does not exist/,
    ],
    [
      'a local path that is a file',
      'namespace: demo\ndeployment: web\nsync:\n  - local: ./file.txt\n    remote: /app\n',
      'local-not-folder',
      4,
      12,
      /is a file/,
    ],
    [
      'a relative remote path',
      'namespace: demo\ndeployment: web\nsync:\n  - local: src\n    remote: app\n',
      'remote-not-absolute',
      5,
      13,
      /must be absolute/,
    ],
    [
      'a remote path with ..',
      'namespace: demo\ndeployment: web\nsync:\n  - local: src\n    remote: /app/../etc\n',
      'remote-not-absolute',
      5,
      13,
      /must not contain "\.\."/,
    ],
    [
      'the root as remote path',
      'namespace: demo\ndeployment: web\nsync:\n  - local: src\n    remote: /\n',
      'remote-system-dir',
      5,
      13,
      /system directory/,
    ],
    [
      '/proc below as remote path',
      'namespace: demo\ndeployment: web\nsync:\n  - local: src\n    remote: /proc/1/x\n',
      'remote-system-dir',
      5,
      13,
      /system directory/,
    ],
    ['an empty file', '', 'empty-file', 1, 1, /empty/],
    ['a comment-only file', '# nothing yet\n', 'empty-file', 1, 1, /empty/],
    ['a list at the top', '- a\n- b\n', 'not-a-mapping', 1, 1, /must be a mapping/],
  ];
  for (const [name, text, code, line, column, message] of invalid) {
    it(`refuses ${name} at line ${line}, column ${column}`, () => {
      writeFileSync(join(project.dir, 'file.txt'), 'x');
      const error = only(load(text));
      assert.equal(error.code, code, error.message);
      assert.deepEqual([error.line, error.column], [line, column], error.message);
      assert.match(error.message, message);
    });
  }

  it('allows a system remote path with allowSystemPath', () => {
    assert.ok(
      load('namespace: demo\ndeployment: web\nallowSystemPath: true\nsync: [{ local: src, remote: /etc }]\n').ok,
    );
  });

  it('reports every problem at once, in file order', () => {
    const errors = errorsOf(
      load('deployment: web\nsync: [{ local: nope, remote: app }]\nconcurrency: 0\nnamspace: x\n'),
    );
    assert.deepEqual(
      errors.map((e) => [e.code, e.line]),
      [
        ['local-missing', 2],
        ['remote-not-absolute', 2],
        ['out-of-range', 3],
        ['unknown-key', 4],
      ],
    );
  });

  it('loads with warnings for exclude patterns that can never match', () => {
    const result = load(
      `${THREE_LINES}exclude:\n  - ../other\n  - ${project.dir}/src/x\n  - "# not a comment"\n  - C:\\build\n  - build/\n`,
    );
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(
      result.warnings.map((w) => [w.code, w.line, w.column]),
      [
        ['exclude-never-matches', 5, 5],
        ['exclude-never-matches', 6, 5],
        ['exclude-never-matches', 7, 5],
        ['exclude-never-matches', 8, 5],
      ],
    );
    assert.match(result.warnings[0].message, /contains "\.\."/);
    assert.match(result.warnings[1].message, /absolute path on this machine/);
  });

  it('refuses an alias bomb quickly instead of expanding it', () => {
    const bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++)
      bomb.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      );
    const error = only(load(bomb.join('\n')));
    assert.equal(error.code, 'alias-limit');
    assert.equal(error.line, 2);
    assert.equal(error.column, 8, 'points at the first alias');
  });

  it('refuses deep nesting and huge files with a typed error', () => {
    assert.equal(only(load('['.repeat(10_000))).code, 'too-deep');
    assert.equal(only(load(`${'- '.repeat(5000)}x`)).code, 'too-deep');
    assert.equal(only(load(`deployment: "${'x'.repeat(3 * 1024 * 1024)}"`)).code, 'too-large');
  });

  it('agrees with validateDocument: ok exactly when no diagnostic is an error', () => {
    for (const text of [THREE_LINES, `${THREE_LINES}exclude: [../x]\n`, `${THREE_LINES}concurrency: 0\n`, '']) {
      const diagnostics = validateDocument(text, project.file);
      assert.equal(load(text).ok, !diagnostics.some((d) => d.severity === 1), text);
    }
  });
});

describe('config: configToYaml', () => {
  let project: ReturnType<typeof tempProject>;
  beforeEach(() => (project = tempProject()));
  afterEach(() => project.cleanup());

  it('writes quick-pick answers as a loadable truva.yaml', () => {
    const text = configToYaml({
      namespace: 'demo',
      deployment: 'web',
      container: 'app',
      sync: [{ local: './src', remote: '/app' }],
      run: 'npm start',
    });
    assert.equal(
      text,
      '# Truva dev session: see the truva.yaml reference in the README.\n\nnamespace: demo\ndeployment: web\ncontainer: app\nsync:\n  - local: ./src\n    remote: /app\nrun: npm start\n',
    );
    const loaded = loadConfig(text, { filePath: project.file });
    assert.ok(loaded.ok, JSON.stringify(loaded));
  });

  it('round-trips a resolved config, leaving defaults out', () => {
    const first = loadConfig(`${THREE_LINES}debounce: 1s\nrun: [node, app.js]\nlogs: { tail: 7 }\n`, {
      filePath: project.file,
    });
    assert.ok(first.ok);
    const text = configToYaml(first.config);
    assert.doesNotMatch(text, /batchSize|concurrency|restart|buffer/);
    const second = loadConfig(text, { filePath: project.file });
    assert.ok(second.ok, text);
    assert.deepEqual(second.config, first.config);
  });
});
