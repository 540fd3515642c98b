// etcd, kube-apiserver, kube-controller-manager and kube-scheduler as built by cluster/build.sh,
// on 127.0.0.1 with free ports. The flags follow envtest, hack/local-up-cluster.sh and kubeadm:
// RBAC plus the Node authorizer and NodeRestriction (the node agent has a real node identity),
// static bearer tokens for the sandbox's two users, and each controller on its own service
// account, as kubeadm runs them.
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { binaryPath } from './binaries';
import type { ControlPlanePki, KeyPair } from './pki';
import { ControlPlaneProcess } from './process';

export interface ControlPlaneUsers {
  admin: string;
  readonly: string;
}

export interface ControlPlane {
  /** kube-apiserver itself (the front proxy stands between it and the tests' clients). */
  apiserverUrl: string;
  /** Start of kube-apiserver to its /readyz answering 200, in seconds. */
  apiserverReadySeconds: number;
  processes: ControlPlaneProcess[];
  stop(): Promise<void>;
}

export const SERVICE_CIDR = '10.96.0.0/16';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A kubeconfig for a component that authenticates with a client certificate. */
export function certKubeconfig(server: string, caFile: string, pair: KeyPair): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: ${server}
    certificate-authority: ${caFile}
users:
- name: local
  user:
    client-certificate: ${pair.certFile}
    client-key: ${pair.keyFile}
contexts:
- name: local
  context:
    cluster: local
    user: local
current-context: local
`;
}

/** A port picked free can be taken by someone else before the process binds it: try again a few times. */
async function startOnFreePorts(
  start: (ports: number[]) => { proc: ControlPlaneProcess; url: string; ready: Promise<void> },
  portCount: number,
  attempts = 3,
): Promise<string> {
  for (let i = 1; ; i++) {
    const ports: number[] = [];
    for (let n = 0; n < portCount; n++) ports.push(await freePort());
    const { proc, url, ready } = start(ports);
    try {
      await ready;
      return url;
    } catch (err) {
      await proc.stop(0);
      if (i >= attempts || !/address already in use/.test(proc.tail(40))) throw err;
    }
  }
}

export async function startControlPlane(
  dir: string,
  pki: ControlPlanePki,
  users: ControlPlaneUsers,
): Promise<ControlPlane> {
  const logs = join(dir, 'logs');
  mkdirSync(logs, { recursive: true });
  const processes: ControlPlaneProcess[] = [];
  const stop = async () => {
    // etcd last: the others would log errors, and kube-apiserver's shutdown waits, without it.
    await Promise.all(processes.filter((p) => p.name !== 'etcd').map((p) => p.stop()));
    await Promise.all(processes.filter((p) => p.name === 'etcd').map((p) => p.stop()));
  };
  try {
    const etcdUrl = await startOnFreePorts(([client, peer]) => {
      const url = `http://127.0.0.1:${client}`;
      const proc = new ControlPlaneProcess(
        'etcd',
        binaryPath('etcd'),
        [
          '--name=truva',
          `--data-dir=${join(dir, 'etcd')}`,
          `--listen-client-urls=http://127.0.0.1:${client}`,
          `--advertise-client-urls=http://127.0.0.1:${client}`,
          `--listen-peer-urls=http://127.0.0.1:${peer}`,
          `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
          `--initial-cluster=truva=http://127.0.0.1:${peer}`,
          // The data is thrown away with the sandbox; fsync only costs time on a shared disk.
          '--unsafe-no-fsync',
          '--log-level=warn',
        ],
        join(logs, 'etcd.log'),
      );
      processes.push(proc);
      return { proc, url, ready: proc.waitReady(`${url}/health`, { ca: pki.caCertPem }) };
    }, 2);

    const tokens = join(dir, 'tokens.csv');
    writeFileSync(tokens, `${users.admin},admin,admin,system:masters\n${users.readonly},readonly,readonly\n`, {
      mode: 0o600,
    });
    let readySeconds = 0;
    const apiserverUrl = await startOnFreePorts(([port]) => {
      const url = `https://127.0.0.1:${port}`;
      const started = Date.now();
      const proc = new ControlPlaneProcess(
        'kube-apiserver',
        binaryPath('kube-apiserver'),
        [
          `--etcd-servers=${etcdUrl}`,
          '--bind-address=127.0.0.1',
          '--advertise-address=127.0.0.1',
          `--secure-port=${port}`,
          `--tls-cert-file=${pki.serving.certFile}`,
          `--tls-private-key-file=${pki.serving.keyFile}`,
          `--client-ca-file=${pki.caFile}`,
          `--token-auth-file=${tokens}`,
          '--authorization-mode=Node,RBAC',
          '--enable-admission-plugins=NodeRestriction',
          `--service-cluster-ip-range=${SERVICE_CIDR}`,
          '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
          `--service-account-key-file=${pki.serviceAccountPubFile}`,
          `--service-account-signing-key-file=${pki.serviceAccountKeyFile}`,
          `--kubelet-client-certificate=${pki.apiserverKubeletClient.certFile}`,
          `--kubelet-client-key=${pki.apiserverKubeletClient.keyFile}`,
          `--kubelet-certificate-authority=${pki.caFile}`,
          '--kubelet-preferred-address-types=InternalIP',
          '--allow-privileged=true',
          '--profiling=false',
          `--cert-dir=${join(dir, 'apiserver-certs')}`,
        ],
        join(logs, 'kube-apiserver.log'),
      );
      processes.push(proc);
      const ready = proc.waitReady(`${url}/readyz`, { ca: pki.caCertPem }, 120_000).then(() => {
        readySeconds = (Date.now() - started) / 1000;
      });
      return { proc, url, ready };
    }, 1);

    const kubeconfig = (name: string, pair: KeyPair) => {
      const path = join(dir, `${name}.kubeconfig`);
      writeFileSync(path, certKubeconfig(apiserverUrl, pki.caFile, pair), { mode: 0o600 });
      return path;
    };
    processes.push(
      new ControlPlaneProcess(
        'kube-controller-manager',
        binaryPath('kube-controller-manager'),
        [
          `--kubeconfig=${kubeconfig('controller-manager', pki.controllerManager)}`,
          '--leader-elect=false',
          '--secure-port=0',
          '--use-service-account-credentials=true',
          `--service-account-private-key-file=${pki.serviceAccountKeyFile}`,
          `--root-ca-file=${pki.caFile}`,
          `--service-cluster-ip-range=${SERVICE_CIDR}`,
          '--profiling=false',
        ],
        join(logs, 'kube-controller-manager.log'),
      ),
      new ControlPlaneProcess(
        'kube-scheduler',
        binaryPath('kube-scheduler'),
        [
          `--kubeconfig=${kubeconfig('scheduler', pki.scheduler)}`,
          '--leader-elect=false',
          '--secure-port=0',
          '--profiling=false',
        ],
        join(logs, 'kube-scheduler.log'),
      ),
    );
    return { apiserverUrl, apiserverReadySeconds: readySeconds, processes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
