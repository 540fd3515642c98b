// Pure functions from what Truva knows to what the status bar and the Sessions view show, so both
// can be tested without VS Code and always tell the same truth.
import type { ForwardView, LiveReport, PodVersion, SessionStatus } from '../core/session/session';

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

/** "last save live in all 3 pods in 43 ms" (or "... in 2 of 3 pods ...", "... in none of the 3 pods"). */
export function liveText(b: LiveReport): string {
  const what = b.saved ? 'last save' : 'last change';
  if (b.livePods === 0) return `${what} not live in ${b.pods === 1 ? 'the pod' : `any of the ${b.pods} pods`}`;
  const where =
    b.livePods < b.pods
      ? `in ${b.livePods} of ${b.pods} pods`
      : b.pods === 1
        ? 'in the pod'
        : b.pods === 2
          ? 'in both pods'
          : `in all ${b.pods} pods`;
  return `${what} live ${where} in ${b.liveMs} ms`;
}

/** What liveText's time measures. */
export function liveMeasure(b: LiveReport): string {
  return `batch ${b.batch}, from the ${b.saved ? 'save' : 'change'} being recorded to the ${b.restarted ? "last pod's restart done" : "last pod's files written (restart: none)"}`;
}

/**
 * One pod's code version: "web-abc: batch 12"; one behind the newest batch is flagged, "batch 11 of
 * 12 (behind)", or "(updating)" while that batch is on its way; a failing pod says why.
 */
export function podVersionText(p: PodVersion, newest: number, inFlight: boolean): { text: string; flagged: boolean } {
  const label = (n: number) => (n === 0 ? 'batch 0 (initial sync)' : `batch ${n}`);
  const behind = p.batch < newest;
  const text = behind
    ? `${p.pod}: ${label(p.batch)} of ${newest} (${inFlight && !p.error ? 'updating' : 'behind'})`
    : `${p.pod}: ${label(p.batch)}`;
  return { text: p.error ? `${text}; failing: ${p.error}` : text, flagged: (behind && !inFlight) || !!p.error };
}

const inFlight = (s: SessionStatus) => s.sync === 'syncing' || s.sync === 'restarting';

/** The pods' versions for the tooltip: each flagged pod, and the others one by one or, past five, counted. */
function podVersionLines(s: SessionStatus): string[] {
  const all = s.podVersions.map((p) => ({ p, ...podVersionText(p, s.batch, inFlight(s)) }));
  const flagged = all.filter((v) => v.flagged);
  const rest = all.filter((v) => !v.flagged);
  const restLines =
    rest.length > 5 && rest.every((v) => v.p.batch === rest[0].p.batch)
      ? [`${rest.length} pods: batch ${rest[0].p.batch}`]
      : rest.map((v) => v.text);
  return [...flagged.map((v) => `**${v.text}**`), ...restLines];
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
      `- **${s.deployment}**: ${syncText(s, input.now).replace(/\$\([^)]*\) ?/g, '')}; pods ready ${s.podsReady}/${s.podsTotal}${s.error ? `; ${s.error}` : ''}`,
    );
    if (s.lastBatch) lines.push(`  - ${liveText(s.lastBatch)} (${liveMeasure(s.lastBatch)})`);
    for (const line of podVersionLines(s)) lines.push(`  - ${line}`);
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

/** One line of the Sessions view under a session. */
export interface SessionDetail {
  detail: string;
  icon: string;
  tooltip?: string;
}

/** A session's detail lines in the Sessions view. */
export function sessionDetails(s: SessionStatus): SessionDetail[] {
  // The initial sync counts as a sync: it is what put the files sent into the pods. Only a batch
  // of changes has a time to live.
  const lastSync = s.lastSyncAt ? `at ${new Date(s.lastSyncAt).toLocaleTimeString()}` : 'not yet';
  return [
    { detail: `sync: ${s.sync}${s.pending ? ` (${s.pending} pending)` : ''}`, icon: 'sync' },
    { detail: `last sync: ${lastSync}`, icon: 'watch' },
    ...(s.lastBatch
      ? [{ detail: liveText(s.lastBatch), icon: 'rocket', tooltip: `Measured over ${liveMeasure(s.lastBatch)}.` }]
      : []),
    { detail: `files sent: ${s.filesSent}`, icon: 'files' },
    { detail: `pods ready: ${s.podsReady}/${s.podsTotal}`, icon: 'server' },
    ...s.podVersions.map((p) => {
      const v = podVersionText(p, s.batch, inFlight(s));
      return {
        detail: v.text,
        icon: v.flagged ? 'warning' : 'server-process',
        tooltip: `The newest batch of changes live in ${p.pod} (batches are numbered as they are sent; 0 is its full sync).`,
      };
    }),
    ...(s.error ? [{ detail: s.error, icon: 'error' }] : []),
  ];
}
