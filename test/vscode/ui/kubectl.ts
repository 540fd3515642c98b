// The real kubectl against the suites' sandbox, namespace demo: the second client the UI suites
// use to check what Truva did.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { uiContext } from './context';

const SDK_KUBECTL = '/usr/lib/google-cloud-sdk/bin/kubectl';

/** kubectl against the suites' sandbox. */
export function kubectl(...args: string[]): Promise<string> {
  return kubectlWith(uiContext().kubeconfigPath, ...args);
}

/** kubectl against the cluster of another kubeconfig (e.g. the demo's own sandbox). */
export function kubectlWith(kubeconfigPath: string, ...args: string[]): Promise<string> {
  const bin = existsSync(SDK_KUBECTL) ? SDK_KUBECTL : 'kubectl';
  return new Promise((resolve, reject) =>
    execFile(
      bin,
      [`--kubeconfig=${kubeconfigPath}`, '-n', 'demo', ...args],
      { timeout: 30_000 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout),
    ),
  );
}
