import { strict as assert } from 'node:assert';
import { configToYaml, loadConfig, validateDocument } from '../../../src/core/config';
import { allForwards } from '../../../src/core/config/ports';
import { errorsOf, tempProject } from './helpers';

const BASE = 'namespace: demo\ndeployment: web\nsync: [{ local: ./src, remote: /app }]\n';

describe('config: ports and debug', () => {
  let project: ReturnType<typeof tempProject>;
  beforeEach(() => (project = tempProject()));
  afterEach(() => project.cleanup());
  const load = (extra: string) => loadConfig(BASE + extra, { filePath: project.file });

  it('resolves both forms of a port, and the three forms of debug', () => {
    const result = load(
      'ports:\n  - 8080\n  - local: 18080\n    remote: 8080\n    pods: all\n  - remote: 3000\ndebug: all\n',
    );
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.config.ports, [
      { remote: 8080, local: 8080, pods: 'first', source: 'ports[0]' },
      { remote: 8080, local: 18080, pods: 'all', source: 'ports[1]' },
      { remote: 3000, local: 3000, pods: 'first', source: 'ports[2]' },
    ]);
    assert.deepEqual(result.config.debug, {
      runtime: 'node',
      port: 9229,
      forward: { remote: 9229, local: 9229, pods: 'all', source: 'debug' },
    });
    assert.equal(allForwards(result.config).length, 4);
    const on = load('debug: true\n');
    assert.ok(on.ok);
    assert.equal(on.config.debug?.forward.pods, 'first');
    const off = load('debug: false\n');
    assert.ok(off.ok);
    assert.equal(off.config.debug, undefined);
    const go = load('debug: { runtime: go, local: 12345 }\n');
    assert.ok(go.ok);
    assert.deepEqual(go.config.debug, {
      runtime: 'go',
      port: 2345,
      forward: { remote: 2345, local: 12345, pods: 'first', source: 'debug' },
    });
  });

  it('writes back the shortest form, which loads to the same config', () => {
    const text =
      'ports: [8080, { remote: 8080, local: 18080 }, { remote: 9000, pods: all }]\ndebug: { port: 9230, pods: all }\n';
    const first = load(text);
    assert.ok(first.ok);
    const yaml = configToYaml(first.config);
    assert.match(yaml, /ports:\n {2}- 8080\n {2}- remote: 8080\n {4}local: 18080\n {2}- remote: 9000\n {4}pods: all\n/);
    assert.match(yaml, /debug:\n {2}port: 9230\n {2}pods: all\n/);
    const again = loadConfig(yaml, { filePath: project.file });
    assert.ok(again.ok);
    assert.deepEqual(again.config.ports, first.config.ports);
    assert.deepEqual(again.config.debug, first.config.debug);
    const all = load('debug: all\n');
    assert.ok(all.ok);
    assert.match(configToYaml(all.config), /\ndebug: all\n/);
  });

  it('names the entry, the key and what to do for every mistake', () => {
    const message = (extra: string) =>
      errorsOf(load(extra))
        .map((e) => `${e.line}:${e.column} ${e.message}`)
        .join(' | ');
    assert.equal(
      message('ports: [99999]\n'),
      '4:9 "ports[0]" must be a whole number from 1 to 65535 or a mapping of keys, not 99999.',
    );
    assert.equal(
      message('ports: [{ remot: 8080 }]\n'),
      '4:9 "ports[0]" is missing the required key "remote". Port the app listens on inside the container. | 4:11 Unknown key "remot" in "ports[0]". Did you mean "remote"?',
    );
    assert.equal(
      message('ports: [{ remote: 80, pods: some }]\n'),
      '4:29 "ports[0].pods" must be one of "first", "all", not "some".',
    );
    assert.equal(
      message('debug: yes\n'),
      '4:8 "debug" must be true or false or "all" or a mapping of keys, not "yes".',
    );
    assert.equal(
      message('debug: { runtime: ruby }\n'),
      '4:19 "debug.runtime" must be one of "node", "go", "python", not "ruby".',
    );
    assert.equal(
      message('ports: [8080, { remote: 80, local: 8080 }]\n'),
      '4:15 Local port 8080 is already forwarded by ports[0]: give ports[1] another `local` port.',
    );
    assert.equal(
      message('ports: [9229]\ndebug: true\n'),
      '5:8 Local port 9229 is already forwarded by ports[0]: give debug another `local` port.',
    );
  });

  it('warns about a local port that needs root, and allows 0 (any free port) more than once', () => {
    const result = load('ports: [80, { remote: 3000, local: 0 }, { remote: 3001, local: 0 }]\n');
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(
      result.warnings.map((w) => w.message),
      [
        'Local port 80 is below 1024: on Linux and macOS only root may listen there, so the forward may fail. Set `local` to a port such as 8080.',
      ],
    );
    const codes = validateDocument(BASE + 'ports: [80]\n', project.file).map((d) => [d.code, d.severity]);
    assert.deepEqual(codes, [['privileged-port', 2]]);
  });

  it('warns when debug would give the inspector to a launcher instead of the app', () => {
    const result = load('run: npm run dev\ndebug: true\n');
    assert.ok(result.ok);
    assert.deepEqual(
      result.warnings.map((w) => [w.line, w.code]),
      [[4, 'inspector-unreachable']],
    );
    assert.match(result.warnings[0].message, /starts with npm, a Node program itself/);
    const fine = load('run: [node, server.js]\ndebug: true\n');
    assert.ok(fine.ok);
    assert.deepEqual(fine.warnings, []);
    const other = load('run: npm run dev\ndebug: { runtime: python }\n');
    assert.ok(other.ok);
    assert.deepEqual(other.warnings, [], 'only the Node inspector goes through NODE_OPTIONS');
  });
});
