import { strict as assert } from 'node:assert';
import {
  NODE_REATTACH,
  attachConfiguration,
  attachConfigurations,
  debuggerCommandHint,
  launchJsonSnippet,
} from '../../../src/core/debug';

const sync = [
  { local: '/home/me/shop', remote: '/app' },
  { local: '/home/me/shop/lib', remote: '/opt/lib' },
];

describe('debug attach configurations', () => {
  it("node: VS Code's JavaScript debugger on the forward, paths through the sync pairs, re-attaching after restarts", () => {
    assert.deepEqual(attachConfiguration({ runtime: 'node', pod: 'web-1', localPort: 19229, sync }), {
      type: 'node',
      request: 'attach',
      name: 'Truva: web-1',
      address: '127.0.0.1',
      port: 19229,
      localRoot: '/home/me/shop',
      remoteRoot: '/app',
      sourceMapPathOverrides: { '/opt/lib/*': '/home/me/shop/lib/*' },
      restart: NODE_REATTACH,
      skipFiles: ['<node_internals>/**'],
    });
  });

  it('go (Delve, remote mode) and python (debugpy) map the same pairs their own way', () => {
    const go = attachConfiguration({ runtime: 'go', pod: 'api-1', localPort: 2345, sync: sync.slice(0, 1) });
    assert.deepEqual(go, {
      type: 'go',
      request: 'attach',
      name: 'Truva: api-1',
      mode: 'remote',
      host: '127.0.0.1',
      port: 2345,
      substitutePath: [{ from: '/home/me/shop', to: '/app' }],
    });
    const py = attachConfiguration({ runtime: 'python', pod: 'api-1', localPort: 5678, sync: sync.slice(0, 1) });
    assert.deepEqual(py, {
      type: 'debugpy',
      request: 'attach',
      name: 'Truva: api-1',
      connect: { host: '127.0.0.1', port: 5678 },
      pathMappings: [{ localRoot: '/home/me/shop', remoteRoot: '/app' }],
      justMyCode: true,
    });
  });

  it('debug: all gives one configuration per pod, named after it, on its own port', () => {
    const configs = attachConfigurations(
      'node',
      [
        { pod: 'web-a', localPort: 9229 },
        { pod: 'web-b', localPort: 9230 },
      ],
      { sync: sync.slice(0, 1) },
    );
    assert.deepEqual(
      configs.map((c) => [c.name, c.port]),
      [
        ['Truva: web-a', 9229],
        ['Truva: web-b', 9230],
      ],
    );
  });

  it('a launch.json snippet writes local paths relative to the workspace folder', () => {
    const text = launchJsonSnippet({
      runtime: 'python',
      pod: 'api-1',
      localPort: 5678,
      sync,
      workspaceFolder: '/home/me/shop',
    });
    const parsed = JSON.parse(text);
    assert.equal(parsed.version, '0.2.0');
    assert.deepEqual(parsed.configurations[0].pathMappings, [
      { localRoot: '${workspaceFolder}', remoteRoot: '/app' },
      { localRoot: '${workspaceFolder}/lib', remoteRoot: '/opt/lib' },
    ]);
    assert.match(debuggerCommandHint('go', 2345), /dlv debug --headless --listen=127\.0\.0\.1:2345/);
    assert.match(debuggerCommandHint('python', 5678), /debugpy --listen 127\.0\.0\.1:5678/);
  });
});
