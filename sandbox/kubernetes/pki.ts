// The real control plane's certificates, made fresh for every start: one CA, serving certificates
// for 127.0.0.1, client certificates whose subjects are the identities Kubernetes' own RBAC
// bootstrap policy knows (system:kube-controller-manager, system:node:<name>...), and the
// service-account signing key. ECDSA P-256 through Debian's openssl: about 10 ms a certificate,
// where RSA keys from Node would cost a quarter of a second each.
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface KeyPair {
  certFile: string;
  keyFile: string;
  certPem: string;
  keyPem: string;
}

export interface ControlPlanePki {
  dir: string;
  caFile: string;
  caCertPem: string;
  /** kube-apiserver's and the front proxy's serving certificate (127.0.0.1, localhost). */
  serving: KeyPair;
  /** What kube-apiserver presents to the node's kubelet API. */
  apiserverKubeletClient: KeyPair;
  controllerManager: KeyPair;
  scheduler: KeyPair;
  /** The node agent: client (system:node:<name> in system:nodes) and the kubelet API's serving certificate. */
  nodeClient: KeyPair;
  nodeServing: KeyPair;
  serviceAccountKeyFile: string;
  serviceAccountPubFile: string;
}

interface Subject {
  cn: string;
  o?: string;
  server?: boolean;
  client?: boolean;
}

function subjectArg(s: Subject): string {
  return `${s.o ? `/O=${s.o}` : ''}/CN=${s.cn}`;
}

async function issue(dir: string, name: string, s: Subject, ca?: { certFile: string; keyFile: string }) {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  const usages = [s.server ? 'serverAuth' : '', s.client ? 'clientAuth' : ''].filter(Boolean).join(',');
  const extensions = ca
    ? [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        `extendedKeyUsage=${usages}`,
        ...(s.server ? ['subjectAltName=IP:127.0.0.1,DNS:localhost'] : []),
      ]
    : ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature'];
  await run('openssl', [
    'req',
    '-x509',
    ...(ca ? ['-CA', ca.certFile, '-CAkey', ca.keyFile] : []),
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-subj',
    subjectArg(s),
    '-days',
    '30',
    ...extensions.flatMap((e) => ['-addext', e]),
  ]);
  return { certFile, keyFile, certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') };
}

export async function generatePki(dir: string, nodeName: string): Promise<ControlPlanePki> {
  mkdirSync(dir, { recursive: true });
  const ca = await issue(dir, 'ca', { cn: 'truva-kubernetes-ca' });
  const [serving, apiserverKubeletClient, controllerManager, scheduler, nodeClient, nodeServing] = await Promise.all([
    issue(dir, 'serving', { cn: 'kube-apiserver', server: true }, ca),
    issue(dir, 'apiserver-kubelet-client', { cn: 'kube-apiserver-kubelet-client', client: true }, ca),
    issue(dir, 'controller-manager', { cn: 'system:kube-controller-manager', client: true }, ca),
    issue(dir, 'scheduler', { cn: 'system:kube-scheduler', client: true }, ca),
    issue(dir, 'node-client', { cn: `system:node:${nodeName}`, o: 'system:nodes', client: true }, ca),
    issue(dir, 'node-serving', { cn: nodeName, server: true }, ca),
  ]);
  const sa = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const serviceAccountKeyFile = join(dir, 'sa.key');
  const serviceAccountPubFile = join(dir, 'sa.pub');
  writeFileSync(serviceAccountKeyFile, sa.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(serviceAccountPubFile, sa.publicKey.export({ type: 'spki', format: 'pem' }));
  return {
    dir,
    caFile: ca.certFile,
    caCertPem: ca.certPem,
    serving,
    apiserverKubeletClient,
    controllerManager,
    scheduler,
    nodeClient,
    nodeServing,
    serviceAccountKeyFile,
    serviceAccountPubFile,
  };
}
