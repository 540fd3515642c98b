// Fault scenarios against the sandbox, each returning one report row. `trials` scales them:
// the always-on test runs a short version, `npm run reliability -- --soak` the long one.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sandbox } from '../sandbox';
import { loadConfig } from '../src/core/config';
import { DevMode, RestoreConflictError, findDevModeDeployments } from '../src/core/devmode/devMode';
import { Cluster } from '../src/core/kube/cluster';
import { LogAggregator } from '../src/core/logs/aggregator';
import { clusterLogSource } from '../src/core/logs/clusterSource';
import { SyncEngine, clusterSyncTarget } from '../src/core/sync';
import { createTestDeployment, kubectl, podNames, sandboxCluster, uniqueName, waitFor } from '../test/helpers/sandbox';
import { fuzzDocument, prng } from '../test/unit/config/fuzzDocs';
import { countLeaks, watchEventLoop } from './probes';
import { emptyRow, type ReliabilityRow } from './report';

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A dev-mode deployment with a sync engine on a temp folder; `edit` writes files, `check` compares them in every pod. */
export async function syncSession(
  sandbox: Sandbox,
  cluster: Cluster,
  name: string,
  opts: { existing?: boolean; batchBytes?: number } = {},
) {
  if (!opts.existing) await createTestDeployment(sandbox, { name, replicas: 2 });
  const devMode = new DevMode(cluster, { namespace: 'demo', deployment: name });
  await devMode.enter();
  const local = mkdtempSync(join(tmpdir(), 'truva-reliability-'));
  const engine = new SyncEngine(
    clusterSyncTarget(cluster, {
      namespace: 'demo',
      deployment: name,
      container: 'web',
      restart: (pod) => devMode.restartProcess(pod).then(() => undefined),
    }),
    {
      roots: [{ local, remote: '/app' }],
      exclude: [],
      debounceMs: 100,
      batchSize: 500,
      batchBytes: opts.batchBytes ?? 8 << 20,
      concurrency: 5,
      mirror: false,
      retryDelayMs: 100,
      attempts: 6,
    },
  );
  await engine.start();
  const expected = new Map<string, string>();
  return {
    devMode,
    engine,
    local,
    edit(file: string, content: string) {
      writeFileSync(join(local, file), content);
      expected.set(file, sha(content));
      engine.notify(join(local, file));
    },
    /** Edits not byte-identical in every pod once sync has settled. */
    async lostEdits(timeoutMs = 60_000): Promise<number> {
      const missing = async () => {
        let lost = 0;
        for (const pod of await podNames(sandbox, name)) {
          const r = await cluster.exec(pod, 'web', [
            'sh',
            '-c',
            'cd /app && for f in edit-*; do printf "%s %s\\n" "$f" "$(sha256sum < "$f" | cut -d" " -f1)"; done',
          ]);
          const remote = new Map(
            r.stdout
              .toString()
              .trim()
              .split('\n')
              .map((l) => l.split(' ') as [string, string]),
          );
          for (const [file, hash] of expected) if (remote.get(file) !== hash) lost++;
        }
        return lost;
      };
      try {
        await waitFor(async () => (await missing()) === 0, timeoutMs, 'every edit in every pod');
        return 0;
      } catch {
        return missing();
      }
    },
    async close() {
      await engine.dispose();
      await devMode.restore({ force: true }).catch(() => undefined);
      rmSync(local, { recursive: true, force: true });
    },
  };
}

export async function apiFlakiness(sandbox: Sandbox, edits: number): Promise<ReliabilityRow> {
  const row = emptyRow('api flakiness (30% 500/503/429)');
  const cluster = sandboxCluster(sandbox);
  const session = await syncSession(sandbox, cluster, uniqueName('flaky'));
  const stall = watchEventLoop();
  try {
    for (const status of [500, 503, 429] as const) sandbox.faults.fail({ path: '/', fraction: 0.11, status });
    for (let i = 0; i < edits; i++) {
      session.edit(`edit-${i % 20}.txt`, `edit ${i}`);
      await sleep(20);
    }
    sandbox.faults.clear();
    row.trials = edits;
    row.edits_lost = await session.lostEdits();
    row.survived = row.edits_lost === 0 ? edits : edits - row.edits_lost;
  } finally {
    sandbox.faults.clear();
    row.max_stall_ms = stall.stop();
    await session.close();
    cluster.dispose();
  }
  return row;
}

export async function droppedStreams(sandbox: Sandbox, drops: number): Promise<ReliabilityRow> {
  const row = emptyRow(`dropped streams (${drops} closes of every watch/log/exec)`);
  const cluster = sandboxCluster(sandbox);
  const name = uniqueName('drops');
  const total = 3000;
  const script = `let i=0;const t=setInterval(()=>{for(let k=0;k<5&&i<${total};k++)console.log('n '+(i++));if(i>=${total}){clearInterval(t);setInterval(()=>{},1e6)}},5)`;
  await createTestDeployment(sandbox, { name, replicas: 2, command: ['node', '-e', script] });
  // The whole log (tail above the total): on a busy machine the app may print more than a default
  // tail's worth before the aggregator attaches, which is the tail working, not a lost line.
  const aggregator = new LogAggregator({
    source: clusterLogSource(cluster),
    namespace: 'demo',
    labelSelector: `app=${name}`,
    tailLines: total + 1000,
    backoffInitialMs: 50,
    backoffMaxMs: 500,
  });
  aggregator.start();
  const stall = watchEventLoop();
  try {
    for (let i = 0; i < drops; i++) {
      await sleep(100);
      sandbox.faults.closeStreams();
    }
    const pods = await podNames(sandbox, name);
    const numbers = (pod: string) =>
      aggregator
        .lines()
        .filter((l) => l.pod === pod && /^n \d+$/.test(l.text))
        .map((l) => Number(l.text.slice(2)));
    await waitFor(() => pods.every((p) => numbers(p).includes(total - 1)), 60_000, 'the last line').catch(
      () => undefined,
    );
    row.trials = drops;
    for (const pod of pods) {
      const seen = numbers(pod);
      const unique = new Set(seen);
      row.lines_duplicated += seen.length - unique.size;
      row.lines_lost += total - unique.size;
    }
    row.survived = row.lines_lost + row.lines_duplicated === 0 ? drops : 0;
  } finally {
    row.max_stall_ms = stall.stop();
    aggregator.stop();
    await cluster.deleteDeployment(name, { namespace: 'demo' }).catch(() => undefined);
    cluster.dispose();
  }
  return row;
}

/** Drops the client at a random moment of start or stop; recovery must always find and restore. */
export async function crashSafety(sandbox: Sandbox, trials: number): Promise<ReliabilityRow> {
  const row = emptyRow('crash during start/stop');
  const setup = sandboxCluster(sandbox);
  const name = uniqueName('crash');
  const original = (await createTestDeployment(sandbox, { name, replicas: 1 })).spec.template;
  const same = (a: unknown) => JSON.stringify(a) === JSON.stringify(original);
  try {
    for (let t = 0; t < trials; t++) {
      row.trials++;
      const doomed = sandboxCluster(sandbox);
      const devMode = new DevMode(doomed, { namespace: 'demo', deployment: name });
      const during = t % 2 === 0 ? devMode.enter() : devMode.enter().then(() => devMode.restore());
      await sleep(Math.floor(Math.random() * 400));
      doomed.dispose(); // the "crash": every connection of this client is gone
      await during.catch(() => undefined);
      // A new client, as after a restart of VS Code.
      const fresh = sandboxCluster(sandbox);
      try {
        const found = (await findDevModeDeployments(fresh)).some((b) => b.deployment === name);
        if (found) await new DevMode(fresh, { namespace: 'demo', deployment: name }).restore({ force: true });
        const template = (await fresh.getDeployment(name, 'demo')).spec?.template;
        if (same(template)) row.survived++;
        else row.unrecoverable++;
      } finally {
        fresh.dispose();
      }
    }
  } finally {
    await setup.deleteDeployment(name, { namespace: 'demo' }).catch(() => undefined);
    setup.dispose();
  }
  return row;
}

export async function concurrentEdit(sandbox: Sandbox): Promise<ReliabilityRow> {
  const row = emptyRow('someone else edits during a session');
  const cluster = sandboxCluster(sandbox);
  const name = uniqueName('edited');
  await createTestDeployment(sandbox, { name, replicas: 1 });
  try {
    const devMode = new DevMode(cluster, { namespace: 'demo', deployment: name });
    await devMode.enter();
    await kubectl(sandbox, [
      'patch',
      'deploy',
      name,
      '-p',
      JSON.stringify({ spec: { template: { metadata: { labels: { edited: 'yes' } } } } }),
    ]);
    row.trials = 1;
    try {
      await devMode.restore();
    } catch (err) {
      // Survived = the conflict was reported and nothing was overwritten.
      const kept = (await cluster.getDeployment(name, 'demo')).spec?.template?.metadata?.labels?.edited === 'yes';
      if (err instanceof RestoreConflictError && kept) row.survived = 1;
    }
  } finally {
    await cluster.deleteDeployment(name, { namespace: 'demo' }).catch(() => undefined);
    cluster.dispose();
  }
  return row;
}

export async function apiHang(sandbox: Sandbox, hangMs: number): Promise<ReliabilityRow> {
  const row = emptyRow(`API hangs ${hangMs / 1000}s`);
  const cluster = new Cluster({
    kubeconfigPath: sandbox.kubeconfigPath,
    resilience: { timeoutMs: 2_000, maxAttempts: 2 },
  });
  const stall = watchEventLoop();
  try {
    sandbox.faults.hang(hangMs);
    row.trials = 1;
    const started = Date.now();
    try {
      await cluster.getDeployment('web', 'demo');
    } catch (err) {
      if (
        (err as { kind?: string }).kind === 'timeout' &&
        /timed out/i.test((err as Error).message) &&
        Date.now() - started < hangMs + 5_000
      )
        row.survived = 1;
    }
  } finally {
    sandbox.faults.clear();
    row.max_stall_ms = stall.stop();
    cluster.dispose();
  }
  return row;
}

export function configFuzz(cases: number): ReliabilityRow {
  const row = emptyRow(`truva.yaml fuzz (${cases} documents)`);
  const rand = prng(20261128);
  for (let i = 0; i < cases; i++) {
    row.trials++;
    try {
      const result = loadConfig(fuzzDocument(rand, i), { filePath: '/tmp/fuzz/truva.yaml' });
      if (result.ok || result.errors.every((e) => typeof e.message === 'string' && e.line >= 1)) row.survived++;
    } catch {
      // an exception escaping the loader is a failed trial
    }
  }
  return row;
}

/** Searches what Truva wrote during the runs (deployment annotations, logs, messages) for the token. */
export async function tokenLeaks(sandbox: Sandbox, texts: string[]): Promise<ReliabilityRow> {
  const row = emptyRow('token leaks (annotations, logs, messages)');
  const cluster = sandboxCluster(sandbox);
  try {
    const deployments = await cluster.listDeployments({ allNamespaces: true });
    const annotations = deployments.map((d) => JSON.stringify(d.metadata?.annotations ?? {}));
    row.trials = annotations.length + texts.length;
    row.token_leaks =
      countLeaks(sandbox.tokens.admin, { texts: [...annotations, ...texts] }) +
      countLeaks(sandbox.tokens.readonly, { texts: [...annotations, ...texts] });
    row.survived = row.trials - row.token_leaks;
  } finally {
    cluster.dispose();
  }
  return row;
}

/**
 * The API fully down (every request 503, open streams cut), `outages` times during one session,
 * with edits made while it is down. A trial survives when the circuit opens, a trial call while
 * still down re-opens it (half-open -> open), it closes once the API answers again, and every
 * edit made during the outage then reaches every pod.
 */
export async function apiDown(sandbox: Sandbox, outages: number): Promise<ReliabilityRow> {
  const row = emptyRow('API fully down (circuit breaker)');
  const cluster = new Cluster({
    kubeconfigPath: sandbox.kubeconfigPath,
    resilience: { breakerCooldownMs: 1_000, backoff: { initialDelayMs: 50, maxDelayMs: 200 } },
  });
  const session = await syncSession(sandbox, cluster, uniqueName('down'));
  const states: string[] = [];
  const listener = cluster.connection.onBreakerStateChange((s) => states.push(s));
  const stall = watchEventLoop();
  try {
    for (let t = 0; t < outages; t++) {
      row.trials++;
      states.length = 0;
      sandbox.faults.fail({ status: 503 });
      sandbox.faults.closeStreams();
      for (let i = 0; i < 5; i++) session.edit(`edit-${t}-${i}.txt`, `outage ${t} edit ${i}`);
      const reopened = await waitFor(
        () => states.join(' ').includes('open half-open open'),
        30_000,
        'the circuit to open and re-open',
      ).then(
        () => true,
        () => false,
      );
      sandbox.faults.clear();
      const closed = await waitFor(
        () => cluster.connection.breakerState === 'closed' && states.at(-1) === 'closed',
        30_000,
        'the circuit to close',
      ).then(
        () => true,
        () => false,
      );
      const lost = await session.lostEdits();
      row.edits_lost += lost;
      if (reopened && closed && lost === 0) row.survived++;
    }
  } finally {
    sandbox.faults.clear();
    row.max_stall_ms = stall.stop();
    listener.dispose();
    await session.close();
    cluster.dispose();
  }
  return row;
}

/**
 * Bad cluster input, each case through Truva's own client against the sandbox: a kubeconfig that
 * does not parse (with a YAML mistake right after the token), a server that refuses connections,
 * a wrong token (401), a missing namespace, a missing deployment. A trial survives when it fails
 * with its own kind of error, the message names the thing and says what to do, and no deployment
 * changed; any 16-character piece of a token in a message is a leak.
 */
export async function badClusterInput(sandbox: Sandbox): Promise<ReliabilityRow> {
  const row = emptyRow('bad cluster input (kubeconfig, refused, 401, missing ns/deployment)');
  const dir = mkdtempSync(join(tmpdir(), 'truva-bad-input-'));
  const admin = sandboxCluster(sandbox);
  const kubeconfig = readFileSync(sandbox.kubeconfigPath, 'utf8');
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const snapshot = async () =>
    JSON.stringify(
      (await admin.listDeployments({ allNamespaces: true })).map((d) => [
        d.metadata?.name,
        d.metadata?.generation,
        d.metadata?.annotations,
        d.spec,
      ]),
    );
  const fast = { maxAttempts: 2, backoff: { initialDelayMs: 10, maxDelayMs: 20 } };
  const preflight = (kubeconfigPath: string, namespace: string, deployment: string) => async () => {
    const cluster = new Cluster({ kubeconfigPath, resilience: fast });
    try {
      await new DevMode(cluster, { namespace, deployment }).preflight();
    } finally {
      cluster.dispose();
    }
  };
  const refusedPort = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
  const cases: [string, () => Promise<unknown>, string, RegExp][] = [
    [
      'parse',
      async () =>
        new Cluster({
          kubeconfigPath: write('broken', kubeconfig.replace(/token: (\S+)/, 'token: $1\n    extra: [unclosed')),
        }),
      'config',
      /not valid YAML \(.* at line \d+, column \d+\)\. Fix the file/,
    ],
    [
      'refused',
      preflight(write('refused', kubeconfig.replace(sandbox.url, `https://127.0.0.1:${refusedPort}`)), 'demo', 'web'),
      'unreachable',
      /Cannot reach the Kubernetes API at https:\/\/127\.0\.0\.1:\d+ .*ECONNREFUSED\. Check that the cluster is running/,
    ],
    [
      '401',
      preflight(write('expired', kubeconfig.replace(/token: \S+/g, 'token: expired-token')), 'demo', 'web'),
      'unauthorized',
      /rejected the credentials of user ".*" \(context ".*"\) \(401 Unauthorized\).*Log in again/,
    ],
    [
      'namespace',
      preflight(sandbox.kubeconfigPath, 'no-such-ns', 'web'),
      'notFound',
      /Namespace "no-such-ns" does not exist .*Set "namespace" in truva\.yaml/,
    ],
    [
      'deployment',
      preflight(sandbox.kubeconfigPath, 'demo', 'no-such-app'),
      'notFound',
      /Deployment "no-such-app" was not found in namespace "demo".*Set "deployment" in truva\.yaml/,
    ],
  ];
  const tokens = [sandbox.tokens.admin, sandbox.tokens.readonly];
  const pieces = tokens.flatMap((t) => Array.from({ length: t.length - 15 }, (_, i) => t.slice(i, i + 16)));
  try {
    for (const [, run, kind, message] of cases) {
      row.trials++;
      const before = await snapshot();
      const err = await run().then(
        () => undefined,
        (e) => e as { kind?: string; message?: string; stack?: string },
      );
      const text = `${err?.message ?? ''}\n${err?.stack ?? ''}`;
      if (pieces.some((p) => text.includes(p))) row.token_leaks++;
      if (err?.kind === kind && message.test(err.message ?? '') && (await snapshot()) === before) row.survived++;
    }
  } finally {
    admin.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  return row;
}

/**
 * Pods deleted and containers killed while edits flow. A replacement pod, or a container that
 * restarts with a fresh filesystem, must get a full sync before its process runs; afterwards
 * every edit is in every pod and a new edit still arrives (the session survived).
 */
export async function podChurn(sandbox: Sandbox, trials: number): Promise<ReliabilityRow> {
  const row = emptyRow('pod churn (pods deleted, containers killed)');
  const cluster = sandboxCluster(sandbox);
  const name = uniqueName('churn');
  const session = await syncSession(sandbox, cluster, name);
  const stall = watchEventLoop();
  try {
    for (let i = 0; i < trials; i++) {
      session.edit(`edit-${i}.txt`, `churn ${i}`);
      await sleep(150);
      const pods = await podNames(sandbox, name);
      const victim = pods[i % pods.length];
      if (!victim) continue;
      if (i % 2 === 0)
        await cluster.deletePod(victim, { namespace: 'demo', gracePeriodSeconds: 0 }).catch(() => undefined);
      else {
        try {
          sandbox.faults.killContainer('demo', victim, 'web');
        } catch {
          // Still restarting from an earlier kill: nothing to kill this round.
        }
      }
      await sleep(350);
    }
    session.edit('edit-after-churn.txt', 'the session still syncs');
    row.trials = trials;
    row.edits_lost = await session.lostEdits(90_000);
    row.survived = row.edits_lost === 0 ? trials : Math.max(0, trials - row.edits_lost);
  } finally {
    row.max_stall_ms = stall.stop();
    await session.close();
    await cluster.deleteDeployment(name, { namespace: 'demo' }).catch(() => undefined);
    cluster.dispose();
  }
  return row;
}
