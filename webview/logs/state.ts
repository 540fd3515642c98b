// What the log panel's webview keeps with vscode.setState, so a reloaded panel (and VS Code's
// panel serializer) finds its target, filter and view options again. Read back through these
// sanitizers: stored state is as untrusted as any message.
import { sanitizeTarget, type LogPanelTarget } from '../../src/core/logs/protocol';
import { sanitizeFilterState, type FilterState } from './filter';

export interface ViewOptions {
  wrap: boolean;
  timestamps: boolean;
  /** 'color' renders SGR codes as colours, 'strip' removes them. */
  ansi: 'color' | 'strip';
}

export const DEFAULT_VIEW: ViewOptions = { wrap: false, timestamps: false, ansi: 'color' };

export interface PanelState {
  target: LogPanelTarget;
  filter: FilterState;
  view: ViewOptions;
}

export function sanitizeView(value: unknown): ViewOptions {
  const v = (value && typeof value === 'object' ? value : {}) as Record<string, unknown>;
  return { wrap: v.wrap === true, timestamps: v.timestamps === true, ansi: v.ansi === 'strip' ? 'strip' : 'color' };
}

export function sanitizePanelState(value: unknown): PanelState | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  const target = sanitizeTarget(v.target);
  if (!target) return undefined;
  return { target, filter: sanitizeFilterState(v.filter), view: sanitizeView(v.view) };
}
