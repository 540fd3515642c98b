// The node of the real control plane: a kubelet in TypeScript whose container runtime is the
// sandbox's (pods are real processes in Linux namespaces). It registers the Node and renews its
// Lease, runs the pods the scheduler binds to it, reports their status, honours deletion, and
// serves the kubelet API (logs, exec, attach, port-forward) that kube-apiserver calls.
import { appendFileSync } from 'node:fs';
import { createPodRuntime, type PodRuntime } from '../../runtime';
import { ApiClient } from '../apiClient';
import { KubeletServer } from './kubeletServer';
import { NodeHeartbeat, nodeStatus } from './nodeObject';
import { PodWorkers } from './podWorkers';

export interface NodeAgentOptions {
  apiserverUrl: string;
  nodeName: string;
  kubeletVersion: string;
  ca: string;
  client: { cert: string; key: string };
  serving: { cert: string; key: string };
  stateDir: string;
  imagesDir: string;
  /** Where the agent writes what went wrong (a file next to the control plane's logs). */
  logFile: string;
  restartBackoffMs?: number;
}

export class NodeAgent {
  private constructor(
    readonly runtime: PodRuntime,
    private readonly api: ApiClient,
    private readonly server: KubeletServer,
    private readonly heartbeat: NodeHeartbeat,
    private readonly workers: PodWorkers,
    private readonly log: (line: string) => void,
  ) {}

  static async start(options: NodeAgentOptions): Promise<NodeAgent> {
    const api = new ApiClient(
      options.apiserverUrl,
      { ca: options.ca, ...options.client },
      `kubelet/${options.kubeletVersion} (truva node agent)`,
    );
    // The runtime reports to the pod workers, which need the runtime: break the cycle late.
    const late: { workers?: PodWorkers } = {};
    const runtime = createPodRuntime({
      stateDir: options.stateDir,
      imagesDir: options.imagesDir,
      onStatus: (uid, status) => late.workers?.onRuntimeStatus(uid, status),
      ...(options.restartBackoffMs !== undefined ? { backoffBaseMs: options.restartBackoffMs } : {}),
    });
    const server = new KubeletServer({
      ...options.serving,
      ca: options.ca,
      runtime,
      findPod: (namespace, name) => late.workers?.find(namespace, name),
    });
    const kubeletPort = await server.listen();
    const id = { name: options.nodeName, kubeletPort, kubeletVersion: options.kubeletVersion };
    const log = (line: string) => appendFileSync(options.logFile, `${new Date().toISOString()} ${line}\n`);
    const workers = (late.workers = new PodWorkers(
      api,
      runtime,
      options.nodeName,
      '127.0.0.1',
      nodeStatus(id, '').allocatable,
      log,
    ));
    const heartbeat = new NodeHeartbeat(api, id);
    const agent = new NodeAgent(runtime, api, server, heartbeat, workers, log);
    try {
      await heartbeat.register();
      await workers.start();
    } catch (err) {
      await agent.stop();
      throw err;
    }
    return agent;
  }

  /** The killContainer fault: the container's main process dies, its restartPolicy decides what follows. */
  killContainer(namespace: string, pod: string, container: string): void {
    const found = this.workers.find(namespace, pod);
    if (!found) throw new Error(`pod ${namespace}/${pod} does not run on this node`);
    this.runtime.killContainer(found.metadata.uid, container);
  }

  /** Each step is logged: a stop that hangs says where. */
  async stop(): Promise<void> {
    this.heartbeat.stop();
    this.log(`stopping: the pod watch and ${this.runtime.livePids().length} pod processes`);
    await this.workers.stop();
    this.log('stopping: the kubelet API server');
    await this.server.close();
    this.api.close();
    this.log('stopped');
  }
}
