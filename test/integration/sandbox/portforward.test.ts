// The sandbox's pods/portforward and TTY exec through the real clients: client-node's PortForward
// (the WebSocket channel protocol), every kubectl the SDK ships (SPDY/3.1 before 1.30, the
// SPDY-over-WebSocket tunnel from 1.31, 1.30 when asked), and `kubectl exec -it` on a real
// terminal.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { KubeConfig, PortForward } from '@kubernetes/client-node';
import type { Sandbox } from '../../../sandbox';
import { READONLY_CONTEXT } from '../../../sandbox';
import { ptyArgv, resizeLine } from '../../../sandbox/runtime/ptyHelper';
import { createForwardDeployment } from '../../helpers/forwardApp';
import { echoRoundTrip, echoThrough, httpGet, sha256 } from '../../helpers/net';
import { kubectl, kubectlPath, podNames, sandboxOn, uniqueName, waitFor } from '../../helpers/sandbox';

const TUNNEL = 'SPDY/3.1+portforward.k8s.io';
const SPDY = 'SPDY/3.1';

interface KubectlForward {
  port: number;
  output(): string;
  exited: Promise<number>;
  stop(): Promise<void>;
}

function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  return exited.then(() => undefined);
}

/** `kubectl port-forward TARGET :REMOTE`, resolved once it listens (on a port it picked). */
async function kubectlForward(
  sandbox: Sandbox,
  target: string,
  remote: number,
  opts: { binary?: string; env?: Record<string, string> } = {},
): Promise<KubectlForward> {
  const child = spawn(
    opts.binary ?? kubectlPath()!,
    [`--kubeconfig=${sandbox.kubeconfigPath}`, 'port-forward', '--address=127.0.0.1', target, `:${remote}`],
    { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number>((r) => child.once('exit', (code) => r(code ?? 1)));
  const listening = await Promise.race([
    waitFor(() => /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out), 30_000, `kubectl port-forward to listen (${out})`),
    exited.then((code) => {
      throw new Error(`kubectl port-forward exited with ${code}: ${out}`);
    }),
  ]);
  return { port: Number(listening[1]), output: () => out, exited, stop: () => stopChild(child, exited) };
}

describe('sandbox port-forward and TTY exec through the real clients', function () {
  this.timeout(120_000);
  let sandbox: Sandbox;
  let app: string;
  let pod: string;
  const counted = (protocol: string) => sandbox.portForwardProtocols?.[protocol] ?? 0;

  before(async () => {
    // The sandbox's API server's own port-forward (its three protocols, counted by it): on the
    // real control plane kube-apiserver serves these and the node agent only the kubelet's side.
    sandbox = await sandboxOn('sandbox');
    app = uniqueName('pf');
    await createForwardDeployment(sandbox, app);
    [pod] = await podNames(sandbox, app);
  });

  it('client-node PortForward (WebSocket channel protocol) carries 4 MiB both ways', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(sandbox.kubeconfigPath);
    const forward = new PortForward(kc);
    const before = counted('v4.channel.k8s.io');
    const server = net.createServer((socket) => {
      void forward.portForward('demo', pod, [9000], socket, null, socket).catch(() => socket.destroy());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const payload = randomBytes(4 << 20);
      // client-node closes the WebSocket when the local side ends: read the echo before ending.
      const back = await echoRoundTrip(port, payload);
      assert.equal(sha256(back), sha256(payload));
      assert.equal(counted('v4.channel.k8s.io'), before + 1);
    } finally {
      server.close();
    }
  });

  // Which protocol each kubectl speaks by default; 1.30 has the tunnel behind an environment variable.
  const versions: { version: string; env?: Record<string, string>; protocol: string; heavy?: boolean }[] = [
    { version: '1.27', protocol: SPDY },
    { version: '1.28', protocol: SPDY },
    { version: '1.29', protocol: SPDY, heavy: true },
    { version: '1.30', protocol: SPDY },
    { version: '1.30', env: { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'true' }, protocol: TUNNEL },
    { version: '1.31', protocol: TUNNEL },
    { version: '1.32', protocol: TUNNEL },
    { version: '1.33', protocol: TUNNEL, heavy: true },
  ];
  for (const { version, env, protocol, heavy } of versions) {
    it(`kubectl ${version}${env ? ' with KUBECTL_PORT_FORWARD_WEBSOCKETS' : ''}: port-forward over ${protocol}${heavy ? ', 3 MiB both ways and 20 connections at once' : ''}`, async () => {
      const binary = kubectlPath(version);
      assert.ok(binary, `kubectl ${version} is missing from /usr/lib/google-cloud-sdk/bin`);
      const before = counted(protocol);
      const http = await kubectlForward(sandbox, `deploy/${app}`, 8080, { binary, env });
      const echo = await kubectlForward(sandbox, `pod/${pod}`, 9000, { binary, env });
      try {
        assert.match(await httpGet(http.port), new RegExp(`^${pod} \\d+\\n$`));
        const payload = randomBytes(heavy ? 3 << 20 : 64 << 10);
        assert.equal(sha256(await echoThrough(echo.port, payload)), sha256(payload));
        if (heavy) {
          const answers = await Promise.all(Array.from({ length: 20 }, () => httpGet(http.port)));
          assert.ok(
            answers.every((a) => a.startsWith(pod)),
            answers.join(''),
          );
        }
        // kubectl opens its connection when it starts: one per kubectl process, over the expected protocol.
        assert.equal(counted(protocol), before + 2, JSON.stringify(sandbox.portForwardProtocols));
      } finally {
        await http.stop();
        await echo.stop();
      }
    });
  }

  it("a port nothing listens on: kubectl shows the kubelet's message", async () => {
    const forward = await kubectlForward(sandbox, `pod/${pod}`, 9999);
    try {
      await fetch(`http://127.0.0.1:${forward.port}/`).catch(() => undefined);
      await waitFor(() => /error forwarding port 9999/.test(forward.output()), 20_000, 'the error');
      assert.match(
        forward.output(),
        new RegExp(
          `error forwarding port 9999 to pod ${pod}, uid [0-9a-f-]+: failed to connect to localhost:9999 inside the pod network namespace, IPv4: dial tcp4 127\\.0\\.0\\.1:9999: connect: connection refused`,
        ),
      );
    } finally {
      await forward.stop();
    }
  });

  it('the read-only user may not port-forward (403: get pods/portforward over WebSocket, create over SPDY)', async () => {
    // kubectl dials when it starts: the refusal ends it at once.
    const r = await kubectl(sandbox, ['port-forward', `pod/${pod}`, ':8080'], { context: READONLY_CONTEXT });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /error upgrading connection: pods "[^"]+" is forbidden: User "readonly" cannot (get|create) resource "pods\/portforward" in API group "" in the namespace "demo"/,
    );
  });

  it('kubectl exec -it gets a terminal in the container the size of its own, and follows a resize', async () => {
    // kubectl only asks for a TTY when its own stdin is one: give it a terminal on this side too.
    const [python, ...args] = ptyArgv(
      [kubectlPath()!, `--kubeconfig=${sandbox.kubeconfigPath}`, 'exec', '-it', pod, '--', 'sh'],
      100,
      30,
    );
    const child = spawn(python, args, { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number>((r) => child.once('exit', (code) => r(code ?? 1)));
    try {
      child.stdin!.write('echo "S=$(stty size) T=$(tty)"\n');
      const first = await waitFor(() => /S=(\d+ \d+) T=(\S+)/.exec(out), 30_000, `stty size (${out})`);
      assert.equal(first[1], '30 100');
      assert.match(first[2], /^\/dev\/pts\/\d+$/);
      (child.stdio[3] as NodeJS.WritableStream).write(resizeLine(120, 40));
      // The resize reaches the container asynchronously: ask until it shows.
      const resized = await waitFor(
        async () => {
          child.stdin!.write('echo "R=$(stty size)"\n');
          await new Promise((r) => setTimeout(r, 200));
          return /R=40 120/.test(out);
        },
        30_000,
        `stty size after the resize (${out})`,
      );
      assert.ok(resized);
      child.stdin!.write('exit 3\n');
      assert.equal(await exited, 3, out);
    } finally {
      await stopChild(child, exited);
    }
  });
});
