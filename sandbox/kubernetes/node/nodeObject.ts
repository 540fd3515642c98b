// The Node the agent registers and keeps alive, as a kubelet does: Ready with the kubelet's own
// condition reasons, InternalIP 127.0.0.1, the kubelet API's port, capacity, nodeInfo, and
// status.declaredFeatures with ExtendWebSocketsToKubelet, which makes kube-apiserver hand exec,
// attach and port-forward WebSockets straight to the node (no SPDY towards the node). A Lease in
// kube-node-lease renewed every 10 s is the heartbeat the node lifecycle controller reads.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { ApiClient } from '../apiClient';
import { ApiStatusError } from '../apiClient';

export const LEASE_DURATION_SECONDS = 40;
export const LEASE_RENEW_MS = 10_000;
/** How often the node status is posted although nothing changed (kubelet: nodeStatusReportFrequency). */
const STATUS_REPORT_MS = 60_000;

export const DECLARED_FEATURES = ['ExtendWebSocketsToKubelet'];

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
/** metav1.MicroTime, as Lease.spec.renewTime carries it. */
const microNow = () => new Date().toISOString().replace(/Z$/, '000Z');

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return fallback;
  }
}

function osImage(): string {
  const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readOr('/etc/os-release', ''));
  return m?.[1] ?? 'Linux';
}

export interface NodeIdentity {
  name: string;
  kubeletPort: number;
  kubeletVersion: string;
}

function condition(type: string, status: string, reason: string, message: string, since: string) {
  return { type, status, reason, message, lastHeartbeatTime: now(), lastTransitionTime: since };
}

export function nodeStatus(id: NodeIdentity, since: string) {
  const capacity = {
    cpu: String(os.cpus().length),
    memory: `${Math.floor(os.totalmem() / 1024)}Ki`,
    pods: '250',
    'ephemeral-storage': '100Gi',
    'hugepages-2Mi': '0',
  };
  return {
    capacity,
    allocatable: capacity,
    conditions: [
      condition(
        'MemoryPressure',
        'False',
        'KubeletHasSufficientMemory',
        'kubelet has sufficient memory available',
        since,
      ),
      condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure', since),
      condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available', since),
      condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status', since),
    ],
    addresses: [
      { type: 'InternalIP', address: '127.0.0.1' },
      { type: 'Hostname', address: id.name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: id.kubeletPort } },
    declaredFeatures: DECLARED_FEATURES,
    nodeInfo: {
      machineID: readOr('/etc/machine-id', 'truva-node'),
      systemUUID: readOr('/sys/class/dmi/id/product_uuid', 'truva-node'),
      bootID: readOr('/proc/sys/kernel/random/boot_id', 'truva-node'),
      kernelVersion: os.release(),
      osImage: osImage(),
      containerRuntimeVersion: 'sandbox://0.1.0',
      kubeletVersion: id.kubeletVersion,
      operatingSystem: 'linux',
      architecture: process.arch === 'x64' ? 'amd64' : process.arch,
    },
  };
}

export function nodeObject(id: NodeIdentity, since: string) {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: id.name,
      labels: {
        'kubernetes.io/hostname': id.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': process.arch === 'x64' ? 'amd64' : process.arch,
        'beta.kubernetes.io/os': 'linux',
        'beta.kubernetes.io/arch': process.arch === 'x64' ? 'amd64' : process.arch,
      },
    },
    spec: {},
    status: nodeStatus(id, since),
  };
}

/** Registers the Node and keeps it and its Lease fresh until stop(). */
export class NodeHeartbeat {
  private timers: NodeJS.Timeout[] = [];
  private readonly since = now();

  constructor(
    private readonly api: ApiClient,
    private readonly id: NodeIdentity,
  ) {}

  async register(): Promise<void> {
    try {
      await this.api.request('POST', '/api/v1/nodes', nodeObject(this.id, this.since));
    } catch (err) {
      if (!(err instanceof ApiStatusError && err.code === 409)) throw err;
      await this.postStatus();
    }
    await this.renewLease();
    this.timers.push(
      setInterval(() => void this.renewLease().catch(() => {}), LEASE_RENEW_MS),
      setInterval(() => void this.postStatus().catch(() => {}), STATUS_REPORT_MS),
    );
    for (const t of this.timers) t.unref();
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  private postStatus() {
    return this.api.request(
      'PATCH',
      `/api/v1/nodes/${this.id.name}/status`,
      { status: nodeStatus(this.id, this.since) },
      'application/strategic-merge-patch+json',
    );
  }

  private async renewLease(): Promise<void> {
    const path = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${this.id.name}`;
    const spec = {
      holderIdentity: this.id.name,
      leaseDurationSeconds: LEASE_DURATION_SECONDS,
      renewTime: microNow(),
    };
    try {
      const lease = await this.api.request('GET', path);
      await this.api.request('PUT', path, { ...lease, spec: { ...lease.spec, ...spec } });
    } catch (err) {
      if (!(err instanceof ApiStatusError && err.code === 404)) throw err;
      const node = await this.api.request('GET', `/api/v1/nodes/${this.id.name}`);
      await this.api.request('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: {
          name: this.id.name,
          namespace: 'kube-node-lease',
          ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: this.id.name, uid: node.metadata.uid }],
        },
        spec,
      });
    }
  }
}
