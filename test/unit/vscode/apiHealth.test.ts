import { strict as assert } from 'node:assert';
import { ApiHealth, type BreakerSource } from '../../../src/vscode/apiHealth';
import type { BreakerState } from '../../../src/core/kube/resilience';

/** A cluster client's circuit, switched by hand. */
function source(server: string): BreakerSource & { set(state: BreakerState): void } {
  const listeners = new Set<(s: BreakerState) => void>();
  let state: BreakerState = 'closed';
  return {
    server,
    contextName: 'ctx',
    get breakerState() {
      return state;
    },
    onBreakerStateChange(listener) {
      listeners.add(listener);
      return { dispose: () => void listeners.delete(listener) };
    },
    set(next) {
      state = next;
      for (const l of listeners) l(next);
    },
  };
}

describe('API health over several cluster clients', () => {
  it('announces an outage once however often the circuit re-opens, and its end once when every circuit is closed', () => {
    const said: string[] = [];
    const health = new ApiHealth(
      { warn: (m) => said.push(`warn ${m}`), info: (m) => said.push(`info ${m}`) },
      () => undefined,
    );
    const sidebar = source('https://a');
    const session = source('https://a');
    health.track(sidebar);
    health.track(session);
    assert.equal(health.state, 'closed');
    sidebar.set('open');
    session.set('open');
    assert.equal(health.state, 'open');
    for (let i = 0; i < 5; i++) {
      sidebar.set('half-open');
      sidebar.set('open');
    }
    sidebar.set('half-open');
    session.set('half-open');
    assert.equal(health.state, 'half-open');
    sidebar.set('closed');
    assert.equal(said.length, 1, 'still down for the session: nothing new said');
    session.set('closed');
    assert.equal(health.state, 'closed');
    assert.equal(said.length, 2);
    assert.match(
      said[0],
      /^warn The Kubernetes API at https:\/\/a \(context "ctx"\) is down: .*Saved changes wait and are synced when it answers/,
    );
    assert.match(said[1], /^info The Kubernetes API at https:\/\/a \(context "ctx"\) answers again/);
  });

  it('an untracked (disposed) client no longer counts', () => {
    const said: string[] = [];
    const health = new ApiHealth({ warn: (m) => said.push(m), info: (m) => said.push(m) }, () => undefined);
    const old = source('https://old');
    health.track(old);
    old.set('open');
    health.untrack(old);
    assert.equal(health.state, 'closed');
    old.set('half-open');
    assert.equal(said.length, 2, 'down, then over once the client is gone');
  });
});
