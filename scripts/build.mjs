// Bundles the three programs Truva ships: the extension (Node, CommonJS, `vscode` external),
// the truva.yaml language server (Node) and the log panel's webview script (browser).
// `--watch` rebuilds on change; `--minify` is used by `npm run package`.
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync, existsSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const minify = process.argv.includes('--minify');
const common = { bundle: true, sourcemap: !minify, minify, logLevel: 'warning', target: 'es2022' };

const builds = [
  // The banner stamps the moment the bundle starts loading, so activation time includes loading it.
  {
    ...common,
    entryPoints: ['src/extension.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    format: 'cjs',
    external: ['vscode'],
    banner: { js: 'var __truvaLoadStart = performance.now();' },
  },
  { ...common, entryPoints: ['src/server/server.ts'], outfile: 'dist/server.js', platform: 'node', format: 'cjs' },
  {
    ...common,
    entryPoints: ['webview/logs/main.ts'],
    outfile: 'dist/webview/logs.js',
    platform: 'browser',
    format: 'iife',
  },
];

mkdirSync('dist/webview', { recursive: true });
if (existsSync('webview/logs/logs.css')) cpSync('webview/logs/logs.css', 'dist/webview/logs.css');
if (existsSync('node_modules/@vscode/codicons/dist')) {
  cpSync('node_modules/@vscode/codicons/dist/codicon.css', 'dist/webview/codicon.css');
  cpSync('node_modules/@vscode/codicons/dist/codicon.ttf', 'dist/webview/codicon.ttf');
}

if (watch) {
  for (const options of builds) await (await esbuild.context(options)).watch();
} else {
  const results = await Promise.all(builds.map((options) => esbuild.build({ ...options, metafile: true })));
  for (const { metafile } of results) {
    for (const [file, { bytes }] of Object.entries(metafile.outputs)) {
      if (!file.endsWith('.map')) console.log(`built ${file} ${(bytes / 1024).toFixed(0)} KiB`);
    }
  }
}
