import { strict as assert } from 'node:assert';
import {
  liveMeasure,
  liveText,
  podVersionText,
  sessionDetails,
  statusView,
  type SessionStatus,
  type StatusInput,
} from '../../../src/vscode/statusModel';

const now = 1_000_000;
const session = (over: Partial<SessionStatus> = {}): SessionStatus => ({
  id: 'c/demo/web',
  deployment: 'web',
  namespace: 'demo',
  phase: 'running',
  sync: 'idle',
  pending: 0,
  filesSent: 0,
  batch: 0,
  podVersions: [],
  podsReady: 2,
  podsTotal: 2,
  forwards: [],
  ...over,
});
/** The last save went live in 2 of the 3 pods' newest version; web-ghi did not take batch 12. */
const threePods: Partial<SessionStatus> = {
  batch: 12,
  lastBatch: { batch: 12, saved: true, liveMs: 43, livePods: 3, pods: 3, restarted: true },
  podVersions: [
    { pod: 'web-abc', batch: 12 },
    { pod: 'web-def', batch: 12 },
    { pod: 'web-ghi', batch: 11 },
  ],
};
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

describe('time to live and pod versions', () => {
  it('the tooltip says how long the last save took to be live in every pod, what that measures, and flags a pod behind', () => {
    const v = statusView(input({ sessions: [session({ lastSyncAt: now, ...threePods })] }));
    const lines = v.tooltip.split('\n');
    assert.ok(
      lines.includes(
        "  - last save live in all 3 pods in 43 ms (batch 12, from the save being recorded to the last pod's restart done)",
      ),
      v.tooltip,
    );
    const pods = lines.filter((l) => l.startsWith('  - web-') || l.startsWith('  - **web-'));
    assert.deepEqual(pods, [
      '  - **web-ghi: batch 11 of 12 (behind)**',
      '  - web-abc: batch 12',
      '  - web-def: batch 12',
    ]);
  });

  it('while a batch is on its way the pods not yet at it are updating, not flagged', () => {
    const p = { pod: 'web-ghi', batch: 11 };
    assert.deepEqual(podVersionText(p, 12, true), { text: 'web-ghi: batch 11 of 12 (updating)', flagged: false });
    assert.deepEqual(podVersionText(p, 12, false), { text: 'web-ghi: batch 11 of 12 (behind)', flagged: true });
    assert.deepEqual(podVersionText({ ...p, error: 'exec refused' }, 12, true), {
      text: 'web-ghi: batch 11 of 12 (behind); failing: exec refused',
      flagged: true,
    });
    assert.deepEqual(podVersionText({ pod: 'web-abc', batch: 12 }, 12, false), {
      text: 'web-abc: batch 12',
      flagged: false,
    });
  });

  it('a batch not live everywhere, a change the watcher alone saw, one pod, restart none', () => {
    const b = { batch: 3, saved: true, liveMs: 120, livePods: 2, pods: 3, restarted: true };
    assert.equal(liveText(b), 'last save live in 2 of 3 pods in 120 ms');
    assert.equal(liveText({ ...b, livePods: 0 }), 'last save not live in any of the 3 pods');
    assert.equal(liveText({ ...b, saved: false, livePods: 1, pods: 1 }), 'last change live in the pod in 120 ms');
    assert.equal(liveText({ ...b, livePods: 2, pods: 2 }), 'last save live in both pods in 120 ms');
    assert.equal(
      liveMeasure({ ...b, saved: false, restarted: false }),
      "batch 3, from the change being recorded to the last pod's files written (restart: none)",
    );
  });

  it('many pods at the newest batch are counted, the flagged ones still named', () => {
    const podVersions = [...Array(8).keys()].map((i) => ({ pod: `web-${i}`, batch: i === 5 ? 6 : 7 }));
    const v = statusView(input({ sessions: [session({ batch: 7, podVersions })] }));
    assert.match(v.tooltip, /\n {2}- \*\*web-5: batch 6 of 7 \(behind\)\*\*\n {2}- 7 pods: batch 7(\n|$)/);
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

  it("after a save: its time to live in every pod, with what it measures, and each pod's version", () => {
    const s = session({ lastSyncAt: now, ...threePods });
    const live = sessionDetails(s).find((d) => d.icon === 'rocket')!;
    assert.equal(live.detail, 'last save live in all 3 pods in 43 ms');
    assert.equal(live.tooltip, "Measured over batch 12, from the save being recorded to the last pod's restart done.");
    assert.deepEqual(
      sessionDetails(s)
        .filter((d) => d.icon === 'server-process' || d.icon === 'warning')
        .map((d) => [d.detail, d.icon]),
      [
        ['web-abc: batch 12', 'server-process'],
        ['web-def: batch 12', 'server-process'],
        ['web-ghi: batch 11 of 12 (behind)', 'warning'],
      ],
    );
  });

  it('before any batch: no time to live; the pods at their initial sync', () => {
    const s = session({ podVersions: [{ pod: 'web-abc', batch: 0 }] });
    assert.equal(line(s, 'rocket'), undefined);
    assert.equal(line(s, 'server-process'), 'web-abc: batch 0 (initial sync)');
  });

  it('before any sync: not yet; an error as its own line', () => {
    assert.equal(line(session(), 'watch'), 'last sync: not yet');
    assert.equal(line(session({ error: 'Sync failed in web-1' }), 'error'), 'Sync failed in web-1');
    assert.equal(line(session({ sync: 'paused', pending: 3 }), 'sync'), 'sync: paused (3 pending)');
  });
});
