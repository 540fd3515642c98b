// `npm run reliability [-- --soak] [--json PATH] [--control-plane sandbox|kubernetes]`: runs every
// fault scenario against a fresh sandbox (its own API server, or the real Kubernetes control
// plane) and prints one row per fault. The short version also runs in `npm test`
// (test/integration/reliability); --soak uses the full counts (200 edits, 50 drops, 20
// pod churn and crash trials, a 30 s hang, 2,000 fuzzed documents).
import { writeFileSync } from 'node:fs';
import { READONLY_CONTEXT, startSandbox, type ControlPlaneKind } from '../sandbox';
import { controlPlaneFromArgs } from '../sandbox/controlPlaneOption';
import { Cluster } from '../src/core/kube/cluster';
import { formatTable, rowIsClean, type ReliabilityRow } from './report';
import {
  apiDown,
  apiFlakiness,
  apiHang,
  badClusterInput,
  concurrentEdit,
  configFuzz,
  crashSafety,
  droppedStreams,
  podChurn,
  tokenLeaks,
} from './scenarios';
// Its own file: it needs a browser.
import { hostileLogs } from './hostileLogs';
import { realClusterBehaviours } from './realCluster';

export interface ReliabilityOptions {
  soak?: boolean;
  /** Default: the sandbox's own API server. */
  controlPlane?: ControlPlaneKind;
  log?: (row: ReliabilityRow) => void;
}

export async function runReliability(options: ReliabilityOptions = {}): Promise<ReliabilityRow[]> {
  const soak = options.soak ?? false;
  const sandbox = await startSandbox({ restartBackoffMs: 500, controlPlane: options.controlPlane });
  const rows: ReliabilityRow[] = [];
  const add = (row: ReliabilityRow) => {
    rows.push(row);
    options.log?.(row);
  };
  try {
    add(await apiFlakiness(sandbox, soak ? 200 : 40));
    add(await droppedStreams(sandbox, soak ? 50 : 20));
    add(await podChurn(sandbox, soak ? 20 : 6));
    add(await apiDown(sandbox, soak ? 10 : 2));
    add(await crashSafety(sandbox, soak ? 20 : 6));
    add(await concurrentEdit(sandbox));
    add(await apiHang(sandbox, soak ? 30_000 : 5_000));
    add(configFuzz(2000));
    add(await hostileLogs(sandbox, soak ? 10 : 2));
    add(await badClusterInput(sandbox));
    add(await realClusterBehaviours(sandbox, soak ? 12 : 3));
    // Error messages a user would see, gathered to be searched for the token.
    const messages: string[] = [];
    const readonly = new Cluster({ kubeconfigPath: sandbox.kubeconfigPath, context: READONLY_CONTEXT });
    await readonly
      .patchDeployment('web', { metadata: { labels: { x: 'y' } } }, 'merge', { namespace: 'demo' })
      .catch((err) => messages.push(String(err.message)));
    readonly.dispose();
    add(await tokenLeaks(sandbox, messages));
  } finally {
    await sandbox.stop();
  }
  return rows;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const jsonIndex = args.indexOf('--json');
  controlPlaneFromArgs(args)
    .then((controlPlane) =>
      runReliability({ soak: args.includes('--soak'), controlPlane, log: (row) => console.log(`done: ${row.fault}`) }),
    )
    .then((rows) => {
      console.log(`\n${formatTable(rows)}`);
      if (jsonIndex >= 0) writeFileSync(args[jsonIndex + 1], JSON.stringify(rows, null, 2) + '\n');
      process.exit(rows.every(rowIsClean) ? 0 : 1);
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
