// Builds a session's parts from a truva.yaml: dev mode on the deployment, the sync engine on the
// chosen container (restarting through the supervisor), and the log panel.
import type { TruvaConfig } from '../core/config';
import { DevMode } from '../core/devmode/devMode';
import type { Cluster } from '../core/kube/cluster';
import type { SessionParts } from '../core/session/session';
import { SyncEngine, clusterSyncTarget, type PodRun } from '../core/sync';
import type { TruvaContext } from './truvaContext';

export function createSessionParts(
  truva: TruvaContext,
  config: TruvaConfig,
  cluster: Cluster,
  namespace: string,
): SessionParts {
  const devMode = new DevMode(cluster, {
    namespace,
    deployment: config.deployment,
    container: config.container,
    run: config.run ? (config.run.kind === 'shell' ? ['sh', '-c', config.run.command] : config.run.argv) : undefined,
    keepProbes: config.devMode.keepProbes,
    replicas: config.devMode.replicas,
    rolloutTimeoutSeconds: config.devMode.rolloutTimeoutSeconds,
    remotePaths: config.sync.map((s) => s.remote),
    allowSystemPath: config.allowSystemPath,
  });
  let engine: SyncEngine | undefined;
  const log = (message: string) => truva.output.info(`[${config.deployment}] ${message}`);
  // The engine needs the pod selector and container, known only after preflight read the deployment.
  const sync: SessionParts['sync'] = {
    snapshot: () => engine?.snapshot() ?? { state: 'idle', pending: 0, filesSent: 0 },
    onDidChange: (listener) => engine?.onDidChange(listener) ?? (() => {}),
    notify: (path) => engine?.notify(path),
    async start(report, signal) {
      const deployment = await cluster.getDeployment(config.deployment, namespace);
      const container = devMode.containerOf(deployment).name;
      // `run` goes through the pod's sync shell: no exec (and process start) per restart.
      const restart = async (pod: string, run: PodRun) => {
        if (config.restart === 'process') await devMode.restartProcess(pod, run);
        else if (config.restart === 'command') {
          const r = await run(['sh', '-c', config.restartCommand!]);
          if (r.exitCode !== 0)
            throw new Error(`restartCommand exited with ${r.exitCode}: ${r.stderr.toString().trim()}`);
        }
      };
      engine = new SyncEngine(
        clusterSyncTarget(cluster, { namespace, labelSelector: devMode.selectorOf(deployment), container, restart }),
        {
          roots: config.sync.map((s) => ({ local: s.local, remote: s.remote })),
          exclude: config.exclude,
          debounceMs: config.debounceMs,
          batchSize: config.batchSize,
          batchBytes: config.batchBytes,
          concurrency: config.concurrency,
          mirror: config.mirror,
          log,
        },
      );
      engine.onDidChange(() => truva.syncChanged());
      await engine.start(report, signal);
    },
    restartAll: () => engine?.restartAll() ?? Promise.resolve(),
    pause: () => engine?.pause(),
    resume: () => engine?.resume(),
    fullSync: () => engine?.fullSync() ?? Promise.resolve(),
    dispose: () => engine?.dispose() ?? Promise.resolve(),
  };
  return {
    devMode: {
      preflight: () => devMode.preflight().then(() => undefined),
      enter: (report, signal) =>
        devMode.enter(report, signal).then(async (backup) => {
          // A copy of the backup in extension storage, in case the annotation is ever lost.
          await truva.extension.globalState.update(
            `backup/${cluster.contextName}/${namespace}/${config.deployment}`,
            backup,
          );
        }),
      restore: async (opts) => {
        await devMode.restore(opts, log);
        await truva.extension.globalState.update(
          `backup/${cluster.contextName}/${namespace}/${config.deployment}`,
          undefined,
        );
      },
    },
    sync,
    // The panel owns its aggregator: it outlives the session (logs of the restore stay readable).
    logs: {
      start: () => void truva.showLogs({ namespace, deployment: config.deployment, context: cluster.contextName }),
      stop: () => {},
    },
  };
}
