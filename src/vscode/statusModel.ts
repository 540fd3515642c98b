// Pure functions from what Truva knows to what the status bar and the Sessions view show, so both
// can be tested without VS Code and always tell the same truth.
import type { ForwardView, SessionStatus } from '../core/session/session';

export type { SessionStatus } from '../core/session/session';

export interface StatusInput {
  sessions: SessionStatus[];
  breaker: 'closed' | 'open' | 'half-open';
  /** undefined: not known yet. */
  apiReachable?: boolean;
  context?: string;
  now: number;
}

export interface StatusView {
  text: string;
  tooltip: string;
  background?: 'warning' | 'error';
  command: 'truva.startSession' | 'truva.toggleSync';
}

/** `127.0.0.1:18080 → web-7d9f-abcde:8080 (ports[0])`, or why it does not forward. */
export function forwardText(f: ForwardView): string {
  const where = f.pod ? `${f.pod}:${f.remote}` : `port ${f.remote} (waiting for a running pod)`;
  if (f.state === 'failed') return `${f.address} not forwarded (${f.source}): ${f.error ?? 'failed'}`;
  return `${f.address} → ${where} (${f.source === 'debug' ? 'debugger' : f.source})`;
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? `${s}s ago` : `${Math.round(s / 60)}m ago`;
}

function health(input: StatusInput): { text: string; problem?: 'warning' | 'error'; detail: string } {
  if (input.breaker === 'open')
    return {
      text: '$(circle-slash) API down',
      problem: 'error',
      detail: 'The Kubernetes API failed repeatedly; Truva is waiting before trying again (circuit open).',
    };
  if (input.breaker === 'half-open')
    return {
      text: '$(pulse) API retrying',
      problem: 'warning',
      detail: 'Trying the Kubernetes API again after failures (circuit half-open).',
    };
  if (input.apiReachable === false)
    return {
      text: '$(debug-disconnect) API unreachable',
      problem: 'error',
      detail: 'The Kubernetes API cannot be reached.',
    };
  return { text: '', detail: input.apiReachable ? 'Kubernetes API reachable.' : 'Kubernetes API not checked yet.' };
}

function syncText(s: SessionStatus, now: number): string {
  if (s.phase === 'starting') return '$(loading~spin) starting';
  if (s.phase === 'stopping') return '$(loading~spin) restoring';
  if (s.phase === 'failed') return '$(error) failed';
  switch (s.sync) {
    case 'syncing':
      return `$(sync~spin) syncing${s.pending ? ` ${s.pending}` : ''}`;
    case 'restarting':
      return '$(debug-restart) restarting';
    case 'paused':
      return `$(debug-pause) paused${s.pending ? ` (${s.pending} waiting)` : ''}`;
    case 'error':
      return '$(error) sync error';
    default:
      return s.lastSyncAt ? `$(check) synced ${ago(now - s.lastSyncAt)}` : '$(check) synced';
  }
}

export function statusView(input: StatusInput): StatusView {
  const h = health(input);
  const lines: string[] = [];
  if (input.sessions.length === 0) {
    lines.push(
      `**Truva**${input.context ? ` — context \`${input.context}\`` : ''}`,
      '',
      h.detail,
      '',
      '[$(play) Start Dev Session](command:truva.startSession) · [$(list-flat) Show Output](command:truva.showOutput)',
    );
    return {
      text: `$(rocket) Truva${h.text ? ` ${h.text}` : ''}`,
      tooltip: lines.join('\n'),
      background: h.problem,
      command: 'truva.startSession',
    };
  }
  const parts = input.sessions.map(
    (s) =>
      `${input.sessions.length > 1 ? `${s.deployment}: ` : ''}${syncText(s, input.now)} · ${s.podsReady}/${s.podsTotal} pods`,
  );
  const problem = input.sessions.some((s) => s.phase === 'failed' || s.sync === 'error')
    ? 'error'
    : (h.problem ??
      (input.sessions.some((s) => s.podsReady < s.podsTotal || s.sync === 'paused') ? 'warning' : undefined));
  lines.push('**Truva dev sessions**', '');
  for (const s of input.sessions) {
    lines.push(
      `- **${s.deployment}**: ${syncText(s, input.now).replace(/\$\([^)]*\) ?/g, '')}; pods ready ${s.podsReady}/${s.podsTotal}${s.lastLatencyMs !== undefined ? `; last sync ${s.lastLatencyMs} ms` : ''}${s.error ? `; ${s.error}` : ''}`,
    );
    for (const f of s.forwards)
      lines.push(
        `  - ${f.state === 'failed' ? forwardText(f) : forwardText(f).replace(f.address, `[${f.address}](${f.url})`)}`,
      );
  }
  const paused = input.sessions.every((s) => s.sync === 'paused');
  lines.push(
    '',
    h.detail,
    '',
    `[${paused ? '$(debug-continue) Resume Sync' : '$(debug-pause) Pause Sync'}](command:truva.toggleSync) · [$(sync) Sync Now](command:truva.syncNow) · [$(output) Logs](command:truva.showLogs) · [$(debug-stop) Stop](command:truva.stopSession)`,
  );
  return {
    text: `Truva ${parts.join('  ')}${h.text ? `  ${h.text}` : ''}`,
    tooltip: lines.join('\n'),
    background: problem,
    command: 'truva.toggleSync',
  };
}

/** A session's detail lines in the Sessions view. */
export function sessionDetails(s: SessionStatus): { detail: string; icon: string }[] {
  // The initial sync counts as a sync: it is what put the files sent into the pods. Latency is
  // save-to-synced, so only a batch of changes has one.
  const lastSync = s.lastSyncAt
    ? `at ${new Date(s.lastSyncAt).toLocaleTimeString()}${s.lastLatencyMs !== undefined ? `, ${s.lastLatencyMs} ms after the save` : ''}`
    : 'not yet';
  return [
    { detail: `sync: ${s.sync}${s.pending ? ` (${s.pending} pending)` : ''}`, icon: 'sync' },
    { detail: `last sync: ${lastSync}`, icon: 'watch' },
    { detail: `files sent: ${s.filesSent}`, icon: 'files' },
    { detail: `pods ready: ${s.podsReady}/${s.podsTotal}`, icon: 'server' },
    ...(s.error ? [{ detail: s.error, icon: 'error' }] : []),
  ];
}
