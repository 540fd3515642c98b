// The exec agent's spare connections against a real HTTPS server on 127.0.0.1 that records, for
// each request, which of its connections carried it: after warm() the next request goes over the
// connection opened ahead (no new one), and a spare that is too old or that the server closed is
// not used: the request gets a new connection and succeeds.
import { strict as assert } from 'node:assert';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import tls from 'node:tls';
import { generateTls, type SandboxTls } from '../../../sandbox/server/tls';
import { WarmAgent } from '../../../src/core/kube/warmAgent';
import { until } from '../../helpers/poll';

describe('exec agent: connections opened ahead', function () {
  this.timeout(20_000);
  let material: SandboxTls;
  let server: https.Server;
  let port: number;
  /** Server-side sockets in the order they connected, and per request the index of its socket. */
  let sockets: Socket[];
  let carriedBy: number[];
  /** Per server-side socket: did its handshake resume a session. */
  let resumed: boolean[];

  before(async () => {
    material = generateTls();
    server = https.createServer({ cert: material.certPem, key: material.keyPem }, (req, res) => {
      carriedBy.push(sockets.indexOf(req.socket));
      res.end('ok');
    });
    server.on('secureConnection', (socket) => {
      sockets.push(socket);
      resumed.push(socket.isSessionReused());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  beforeEach(() => {
    sockets = [];
    carriedBy = [];
    resumed = [];
  });
  afterEach(() => server.closeAllConnections());
  after(() => server.close());

  const agentFor = (maxAgeMs = 15_000) =>
    new WarmAgent({ secureContext: tls.createSecureContext({ ca: material.caCertPem }) }, { spares: 4, maxAgeMs });

  /** One request; the connection is closed after it, as an exec's WebSocket consumes its connection. */
  const get = (agent: WarmAgent) =>
    new Promise<string>((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => {
          req.socket?.destroy();
          resolve(body);
        });
      });
      req.on('error', reject);
      req.end();
    });

  it('after warm() the next request goes over the connection already open, with a resumed session', async () => {
    const agent = agentFor();
    assert.equal(await get(agent), 'ok');
    agent.warm();
    await until('the spare connected', () => sockets.length === 2, 10_000, 5);
    assert.equal(await get(agent), 'ok');
    assert.deepEqual(carriedBy, [0, 1], 'the second request came over the spare');
    assert.equal(sockets.length, 2, 'and no third connection was opened for it');
    assert.deepEqual(resumed, [false, true], "the spare resumed the first connection's session");
    agent.closeSpares();
  });

  it('a spare older than its age limit is closed and not used', async () => {
    const agent = agentFor(50);
    await get(agent);
    agent.warm();
    await until('the spare connected', () => sockets.length === 2, 10_000, 5);
    await until('the spare closed', () => sockets[1].destroyed, 10_000, 5);
    assert.equal(await get(agent), 'ok');
    assert.deepEqual(carriedBy, [0, 2], 'the request got a new connection');
    agent.closeSpares();
  });

  it('a spare the server closed is not used, and the request succeeds on a new connection', async () => {
    const agent = agentFor();
    await get(agent);
    agent.warm();
    await until('the spare connected', () => sockets.length === 2, 10_000, 5);
    sockets[1].destroy();
    await new Promise((r) => setTimeout(r, 50)); // the client sees the close
    assert.equal(await get(agent), 'ok');
    assert.deepEqual(carriedBy, [0, 2]);
    agent.closeSpares();
  });

  it('closeSpares() closes the spares and opens no more', async () => {
    const agent = agentFor();
    await get(agent);
    agent.warm();
    await until('the spare connected', () => sockets.length === 2, 10_000, 5);
    agent.closeSpares();
    await until('the spare closed on the server', () => sockets[1].destroyed, 10_000, 5);
    agent.warm();
    assert.equal(await get(agent), 'ok');
    assert.deepEqual(carriedBy, [0, 2]);
    assert.equal(sockets.length, 3);
  });
});
