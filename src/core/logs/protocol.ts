// The one message protocol between the log panel's host (extension) and its webview. Both
// bundles import this file; everything arriving from the webview goes through
// parseWebviewMessage, which drops anything malformed or unknown. What the webview keeps for
// itself (filter and view options, webview/logs/state.ts) is not part of it.
import type { LogLine } from './types';
import type { PodSummary } from './aggregator';

export const LOG_PANEL_VIEW_TYPE = 'truvaLogs';

/** What a panel shows; persisted in webview state so the serializer can reopen it after a reload. */
export interface LogPanelTarget {
  namespace: string;
  deployment?: string;
  pod?: string;
  /** kubeconfig context, when not the current one. */
  context?: string;
}

export type HostMessage =
  | {
      type: 'init';
      title: string;
      target: LogPanelTarget;
      lines: LogLine[];
      dropped: number;
      pods: PodSummary[];
      maxLines: number;
    }
  | { type: 'lines'; lines: LogLine[]; dropped: number }
  | { type: 'pods'; pods: PodSummary[] }
  | { type: 'cleared' };

export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'clear' }
  | { type: 'copy'; text: string }
  | { type: 'export'; text: string; suggestedName: string };

const MAX_TEXT = 256 * 1024 * 1024;

/** The webview's check on what reaches its window: only the host's message shapes are acted on. */
export function isHostMessage(value: unknown): value is HostMessage {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  switch (v.type) {
    case 'init':
      return (
        Array.isArray(v.lines) &&
        Array.isArray(v.pods) &&
        typeof v.maxLines === 'number' &&
        v.maxLines > 0 &&
        typeof v.title === 'string' &&
        sanitizeTarget(v.target) !== undefined
      );
    case 'lines':
      return Array.isArray(v.lines);
    case 'pods':
      return Array.isArray(v.pods);
    case 'cleared':
      return true;
    default:
      return false;
  }
}

function str(value: unknown, max = 10_000): string | undefined {
  return typeof value === 'string' && value.length <= max ? value : undefined;
}

export function sanitizeTarget(value: unknown): LogPanelTarget | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  const namespace = str(v.namespace, 253);
  if (!namespace) return undefined;
  const target: LogPanelTarget = { namespace };
  for (const key of ['deployment', 'pod', 'context'] as const) {
    const s = str(v[key], 253);
    if (s) target[key] = s;
  }
  if (!target.deployment && !target.pod) return undefined;
  return target;
}

/** The webview is not trusted: returns a well-formed message or undefined. */
export function parseWebviewMessage(value: unknown): WebviewMessage | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  switch (v.type) {
    case 'ready':
    case 'clear':
      return { type: v.type };
    case 'copy': {
      const text = str(v.text, MAX_TEXT);
      return text === undefined ? undefined : { type: 'copy', text };
    }
    case 'export': {
      const text = str(v.text, MAX_TEXT);
      const name = str(v.suggestedName, 200);
      if (text === undefined) return undefined;
      // Only a plain file name is accepted as a suggestion, never a path.
      const suggestedName = name && /^[\w.-]+$/.test(name) ? name : 'logs.txt';
      return { type: 'export', text, suggestedName };
    }
    default:
      return undefined;
  }
}
