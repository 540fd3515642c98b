// The sample workspace used by the demo and the real-VS-Code suites: the sandbox `web` app's
// sources plus a three-line truva.yaml, copied to a temporary folder so edits never touch the repo.
import { cpSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
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
  if (!existsSync(source)) throw new Error(`The sample app is missing: ${source} (part of the sandbox). Pull the latest main.`);
  const folder = mkdtempSync(join(tmpdir(), prefix));
  cpSync(source, folder, { recursive: true, filter: (path) => !path.includes('node_modules') });
  writeFileSync(join(folder, 'truva.yaml'), sampleTruvaYaml);
  return folder;
}
