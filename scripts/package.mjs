// `npm run package`: a minified build, then truva-<version>.vsix with @vscode/vsce (3.x runs on
// Node 20). The .vscodeignore allow-list decides what goes in; this script checks the result
// holds nothing else and prints the sizes.
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const vsix = `truva-${pkg.version}.vsix`;
execFileSync(process.execPath, ['scripts/build.mjs', '--minify'], { stdio: 'inherit' });
execFileSync(
  process.execPath,
  [
    'node_modules/@vscode/vsce/vsce',
    'package',
    '--no-dependencies',
    '--allow-missing-repository',
    '--skip-license',
    '--out',
    vsix,
  ],
  { stdio: 'inherit' },
);

const listing = execFileSync(process.execPath, ['node_modules/@vscode/vsce/vsce', 'ls', '--no-dependencies'], {
  encoding: 'utf8',
})
  .trim()
  .split('\n')
  .filter(Boolean);
const allowed =
  /^(dist\/(extension|core|languageClient|server)\.js|dist\/webview\/(logs\.js|logs\.css|codicon\.css|codicon\.ttf)|media\/.+|schema\/truva\.schema\.json|package\.json|README\.md|CHANGELOG\.md|LICENSE)$/;
const unexpected = listing.filter((f) => !allowed.test(f));
if (unexpected.length) {
  console.error(`The package holds files it should not: ${unexpected.join(', ')}. Fix .vscodeignore.`);
  process.exit(1);
}
for (const file of listing.filter((f) => f.startsWith('dist/')))
  console.log(`${file.padEnd(32)} ${(statSync(file).size / 1024).toFixed(0)} KiB`);
console.log(`${vsix.padEnd(32)} ${(statSync(vsix).size / 1024).toFixed(0)} KiB (ext.vsix_kb)`);
