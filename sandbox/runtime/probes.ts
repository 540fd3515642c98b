// Probe checks. tcpSocket and httpGet run inside the pod's network namespace through a tiny
// bash client (bash's /dev/tcp), which starts in a few milliseconds where node would take 50.
import { spawn } from 'node:child_process';
import type { RuntimeContainerSpec, RuntimeProbe } from './types';

export interface ProbeTiming {
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  failureThreshold: number;
  successThreshold: number;
}

export function probeTiming(p: RuntimeProbe): ProbeTiming {
  return {
    initialDelayMs: (p.initialDelaySeconds ?? 0) * 1000,
    periodMs: Math.max(0.1, p.periodSeconds ?? 10) * 1000,
    timeoutMs: Math.max(0.1, p.timeoutSeconds ?? 1) * 1000,
    failureThreshold: Math.max(1, p.failureThreshold ?? 3),
    successThreshold: Math.max(1, p.successThreshold ?? 1),
  };
}

export function resolvePort(port: number | string, spec: RuntimeContainerSpec): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const named = spec.ports?.find((p) => p.name === port);
  if (!named) throw new Error(`probe port "${port}" is not a named port of container "${spec.name}"`);
  return named.containerPort;
}

const TCP_SCRIPT = 'exec 3<>"/dev/tcp/127.0.0.1/$1"';
// HTTP/1.0 so the server closes the connection; 200..399 is success, as for kubelet.
const HTTP_SCRIPT = [
  'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1',
  'printf "GET %s HTTP/1.0\\r\\nHost: 127.0.0.1:%s\\r\\nUser-Agent: kube-probe/1.33\\r\\nAccept: */*\\r\\n\\r\\n" "$2" "$1" >&3',
  'read -r proto code rest <&3 || exit 1',
  '[ "$code" -ge 200 ] 2>/dev/null && [ "$code" -lt 400 ]',
].join('\n');

/** Runs a network probe in the pod's network namespace (nsenter `namespaceArgs`); resolves true on success. */
export function networkProbe(
  namespaceArgs: string[],
  probe: RuntimeProbe,
  spec: RuntimeContainerSpec,
  timeoutMs: number,
  track: (pid: number | undefined, alive: boolean) => void,
): Promise<boolean> {
  let args: string[];
  if (probe.httpGet) {
    const path = probe.httpGet.path ?? '/';
    args = [
      '-c',
      HTTP_SCRIPT,
      'probe',
      String(resolvePort(probe.httpGet.port, spec)),
      path.startsWith('/') ? path : `/${path}`,
    ];
  } else if (probe.tcpSocket) {
    args = ['-c', TCP_SCRIPT, 'probe', String(resolvePort(probe.tcpSocket.port, spec))];
  } else {
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    const child = spawn('nsenter', [...namespaceArgs, '/usr/bin/bash', ...args], { stdio: 'ignore' });
    track(child.pid, true);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', () => resolve(false));
    child.on('exit', (code) => {
      clearTimeout(timer);
      track(child.pid, false);
      resolve(code === 0);
    });
  });
}
