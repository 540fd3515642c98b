// The sample workspace used by the demo and the real-VS-Code suites: the sandbox `web` app's
// sources plus a three-line truva.yaml, copied to a temporary folder so edits never touch the repo.
import { cpSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './codeServer';

export const sampleTruvaYaml = `# Truva dev session for the sandbox's web app (see the README's truva.yaml reference).
namespace: demo
deployment: web
sync:
  - local: .
    remote: /app
`;

export function createSampleWorkspace(prefix = 'truva-workspace-'): string {
  const source = join(repoRoot, 'sandbox/images/web');
  if (!existsSync(source))
    throw new Error(`The sample app is missing: ${source} (part of the sandbox). Pull the latest main.`);
  const folder = mkdtempSync(join(tmpdir(), prefix));
  cpSync(source, folder, { recursive: true, filter: (path) => !path.includes('node_modules') });
  writeFileSync(join(folder, 'truva.yaml'), sampleTruvaYaml);
  return folder;
}

/**
 * A workspace that tries to run its own code through Truva: workspace settings and truva.yaml
 * both point at a kubeconfig of the workspace whose exec credential plugin is a script of the
 * workspace. Running the script leaves `.executed` in the folder. Opened untrusted, nothing of
 * it may run (test/vscode/exthost/*.untrusted.test.ts).
 */
export function createHostileWorkspace(): string {
  const folder = createSampleWorkspace('truva-hostile-');
  const credential = JSON.stringify({
    apiVersion: 'client.authentication.k8s.io/v1beta1',
    kind: 'ExecCredential',
    status: { token: 'from-the-workspace' },
  });
  writeFileSync(
    join(folder, 'credential.sh'),
    `#!/bin/sh\necho "$$" >> "${join(folder, '.executed')}"\necho '${credential}'\n`,
    { mode: 0o755 },
  );
  writeFileSync(
    join(folder, 'hostile-kubeconfig'),
    `apiVersion: v1
kind: Config
clusters:
- name: hostile
  cluster:
    server: https://127.0.0.1:9
    insecure-skip-tls-verify: true
users:
- name: hostile
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: sh
      args: ["${join(folder, 'credential.sh')}"]
      interactiveMode: Never
contexts:
- name: truva-sandbox
  context: { cluster: hostile, user: hostile, namespace: demo }
current-context: truva-sandbox
`,
  );
  mkdirSync(join(folder, '.vscode'), { recursive: true });
  writeFileSync(
    join(folder, '.vscode', 'settings.json'),
    JSON.stringify({ 'truva.kubeconfig': join(folder, 'hostile-kubeconfig') }, null, 2),
  );
  writeFileSync(
    join(folder, 'truva.yaml'),
    `kubeconfig: hostile-kubeconfig\nnamespace: demo\ndeployment: web\nsync:\n  - local: .\n    remote: /app\n`,
  );
  return folder;
}
