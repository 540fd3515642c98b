// The heavy parts of the extension, loaded on first use rather than at activation: the core
// (src/core/api.ts: the cluster client, sessions, sync, dev mode, config, logs) and the language
// client (lspClient.ts). In the shipped extension each is a bundle of its own next to
// dist/extension.js (scripts/build.mjs points these requires at them); unbundled (tests), they
// are the source modules.
import type * as CoreModule from '../core/api';
import type * as LspModule from './lspClient';

export type Core = typeof CoreModule;
export type Lsp = typeof LspModule;

let coreModule: Core | undefined;
let lspModule: Lsp | undefined;
/** How long loading each took (ms), for the output's startup line. */
export const loadTimes: { core?: number; lsp?: number } = {};

/** The core, loaded on first call. */
export function core(): Core {
  if (!coreModule) {
    const t0 = performance.now();
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a require on first use is what keeps it out of activation
    coreModule = require('../core/api') as Core;
    loadTimes.core = performance.now() - t0;
  }
  return coreModule;
}

/** The language client, loaded on first call. */
export function lsp(): Lsp {
  if (!lspModule) {
    const t0 = performance.now();
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a require on first use is what keeps it out of activation
    lspModule = require('./lspClient') as Lsp;
    loadTimes.lsp = performance.now() - t0;
  }
  return lspModule;
}
