// Bundles the programs Truva ships: the extension (Node, CommonJS, `vscode` external) as three
// bundles, the truva.yaml language server (Node) and the log panel's webview script (browser).
// The extension's bundles: dist/extension.js, what activation loads (the views, commands, status
// bar), and the two src/vscode/lazy.ts requires on first use, dist/core.js (src/core/api.ts: the
// cluster client, sessions, sync, dev mode, config, logs) and dist/languageClient.js
// (vscode-languageclient). CommonJS bundles and a plain require, not esbuild's code splitting:
// that needs ESM output, which the extension host of VS Code 1.100 does not load.
// `--watch` rebuilds on change; `--minify` is used by `npm run package`.
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';

const watch = process.argv.includes('--watch');
const minify = process.argv.includes('--minify');
const common = { bundle: true, sourcemap: !minify, minify, logLevel: 'warning', target: 'es2022' };

/** The lazy modules (as lazy.ts requires them) and the bundle each becomes, next to extension.js. */
const lazyBundles = { 'src/core/api': 'core.js', 'src/vscode/lspClient': 'languageClient.js' };
const lazyRequires = {
  name: 'lazy-requires',
  setup(build) {
    build.onResolve({ filter: /^\./ }, (args) => {
      if (!/[\\/]src[\\/]vscode[\\/]lazy\.ts$/.test(args.importer)) return undefined;
      const target = Object.entries(lazyBundles).find(([src]) => resolve(args.resolveDir, args.path) === resolve(src));
      return target ? { path: `./${target[1]}`, external: true } : undefined;
    });
  },
};
/** Packages that must never be in what activation loads (the build fails if they are). */
const notAtActivation = [
  'node_modules/@kubernetes/client-node/',
  'node_modules/vscode-languageclient/',
  'src/core/kube/',
];

const extensionBundle = { ...common, platform: 'node', format: 'cjs', external: ['vscode'] };
const builds = [
  // The banner stamps the moment the bundle starts loading, so activation time includes loading it.
  {
    ...extensionBundle,
    entryPoints: ['src/extension.ts'],
    outfile: 'dist/extension.js',
    plugins: [lazyRequires],
    banner: { js: 'var __truvaLoadStart = performance.now();' },
    footer: { js: 'var __truvaLoadEnd = performance.now();' },
  },
  { ...extensionBundle, entryPoints: ['src/core/api.ts'], outfile: 'dist/core.js' },
  { ...extensionBundle, entryPoints: ['src/vscode/lspClient.ts'], outfile: 'dist/languageClient.js' },
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
  const atActivation = Object.keys(results[0].metafile.inputs).filter((input) =>
    notAtActivation.some((p) => input.includes(p)),
  );
  if (atActivation.length) {
    console.error(
      `dist/extension.js (what activation loads) holds ${atActivation.slice(0, 5).join(', ')}${atActivation.length > 5 ? ', ...' : ''}: import it through src/vscode/lazy.ts.`,
    );
    process.exit(1);
  }
}
