import { strict as assert } from 'node:assert';
import { sessionDetails, statusView, type SessionStatus, type StatusInput } from '../../../src/vscode/statusModel';

const now = 1_000_000;
const session = (over: Partial<SessionStatus> = {}): SessionStatus => ({
  id: 'c/demo/web',
  deployment: 'web',
  namespace: 'demo',
  phase: 'running',
  sync: 'idle',
  pending: 0,
  filesSent: 0,
  podsReady: 2,
  podsTotal: 2,
  forwards: [],
  ...over,
});
const input = (over: Partial<StatusInput> = {}): StatusInput => ({
  sessions: [],
  breaker: 'closed',
  apiReachable: true,
  now,
  ...over,
});

describe('status bar model', () => {
  it('without a session: Truva and health; a click starts a session', () => {
    const v = statusView(input({ context: 'truva-sandbox' }));
    assert.equal(v.text, '$(rocket) Truva');
    assert.equal(v.command, 'truva.startSession');
    assert.equal(v.background, undefined);
    assert.match(v.tooltip, /command:truva.startSession/);
    assert.match(v.tooltip, /truva-sandbox/);
  });

  it('health problems colour it: open circuit is an error, half-open a warning', () => {
    assert.equal(statusView(input({ breaker: 'open' })).background, 'error');
    assert.match(statusView(input({ breaker: 'open' })).text, /API down/);
    assert.equal(statusView(input({ breaker: 'half-open' })).background, 'warning');
    assert.equal(statusView(input({ apiReachable: false })).background, 'error');
  });

  it('during a session: each sync state, pods ready, and a click toggles sync', () => {
    assert.equal(
      statusView(input({ sessions: [session({ sync: 'syncing', pending: 3 })] })).text,
      'Truva $(sync~spin) syncing 3 · 2/2 pods',
    );
    assert.equal(
      statusView(input({ sessions: [session({ lastSyncAt: now - 5000 })] })).text,
      'Truva $(check) synced 5s ago · 2/2 pods',
    );
    assert.match(statusView(input({ sessions: [session({ sync: 'restarting' })] })).text, /restarting/);
    const paused = statusView(input({ sessions: [session({ sync: 'paused', pending: 2 })] }));
    assert.match(paused.text, /paused \(2 waiting\)/);
    assert.equal(paused.background, 'warning');
    assert.match(paused.tooltip, /Resume Sync\]\(command:truva.toggleSync\)/);
    const error = statusView(input({ sessions: [session({ sync: 'error', error: 'pod web-1: exec failed' })] }));
    assert.equal(error.background, 'error');
    assert.match(error.tooltip, /pod web-1: exec failed/);
    assert.equal(statusView(input({ sessions: [session()] })).command, 'truva.toggleSync');
    assert.equal(statusView(input({ sessions: [session({ podsReady: 1 })] })).background, 'warning');
  });

  it('several sessions are each named', () => {
    const v = statusView(
      input({ sessions: [session(), session({ id: 'c/demo/api', deployment: 'api', sync: 'syncing' })] }),
    );
    assert.match(v.text, /web: .*api: /);
  });

  it('the tooltip lists each forward: a link to its local address, its pod, or why it does not forward', () => {
    const forwards = [
      {
        source: 'ports[0]',
        address: '127.0.0.1:18080',
        url: 'http://127.0.0.1:18080',
        remote: 8080,
        pod: 'web-a',
        state: 'ready' as const,
      },
      {
        source: 'debug',
        address: '127.0.0.1:9229',
        url: 'http://127.0.0.1:9229',
        remote: 9229,
        state: 'waiting' as const,
      },
      {
        source: 'ports[1]',
        address: '127.0.0.1:3000',
        url: 'http://127.0.0.1:3000',
        remote: 3000,
        state: 'failed' as const,
        error: 'Local port 3000 is in use.',
      },
    ];
    const v = statusView(input({ sessions: [session({ forwards })] }));
    assert.match(v.tooltip, /\[127\.0\.0\.1:18080\]\(http:\/\/127\.0\.0\.1:18080\) → web-a:8080 \(ports\[0\]\)/);
    assert.match(
      v.tooltip,
      /127\.0\.0\.1:9229\]\(http:\/\/127\.0\.0\.1:9229\) → port 9229 \(waiting for a running pod\) \(debugger\)/,
    );
    assert.match(v.tooltip, /127\.0\.0\.1:3000 not forwarded \(ports\[1\]\): Local port 3000 is in use\./);
    assert.doesNotMatch(v.tooltip, /\[127\.0\.0\.1:3000\]/, 'a failed forward is no link');
  });
});

describe('Sessions view lines', () => {
  const line = (s: SessionStatus, icon: string) => sessionDetails(s).find((d) => d.icon === icon)?.detail;

  it('after the initial sync alone: a last sync with its time, beside the files it sent', () => {
    const at = new Date(2026, 11, 1, 9, 41, 7).getTime();
    const s = session({ filesSent: 8, lastSyncAt: at });
    assert.equal(line(s, 'files'), 'files sent: 8');
    assert.equal(line(s, 'watch'), `last sync: at ${new Date(at).toLocaleTimeString()}`);
  });

  it('after a save: the latency too; before any sync: not yet; an error as its own line', () => {
    assert.match(line(session({ lastSyncAt: now, lastLatencyMs: 140 }), 'watch')!, /, 140 ms after the save$/);
    assert.equal(line(session(), 'watch'), 'last sync: not yet');
    assert.equal(line(session({ error: 'Sync failed in web-1' }), 'error'), 'Sync failed in web-1');
    assert.equal(line(session({ sync: 'paused', pending: 3 }), 'sync'), 'sync: paused (3 pending)');
  });
});
