// Several sessions at once (different deployments, or folders of a multi-root workspace), each
// keyed by context/namespace/deployment so the same deployment is never taken twice. The manager
// owns the sessions it holds: one that stopped leaves the list and is disposed (its cluster
// lease given back); a failed one stays, so the UI can show why and offer a restore, until it is
// stopped or replaced.
import { EventEmitter } from 'node:events';
import type { SessionPhase } from './session';

export interface ManagedSession {
  readonly id: string;
  readonly phase: SessionPhase;
  onDidChange(listener: () => void): () => void;
  stop(): Promise<void>;
  dispose(): void;
}

export class SessionManager<S extends ManagedSession> extends EventEmitter {
  private readonly sessions = new Map<string, S>();

  list(): S[] {
    return [...this.sessions.values()];
  }

  get(id: string): S | undefined {
    return this.sessions.get(id);
  }

  /** Takes the session over; refuses (and disposes) it while another one of the same deployment is live. */
  add(session: S): S {
    const existing = this.sessions.get(session.id);
    if (existing && existing.phase !== 'stopped' && existing.phase !== 'failed') {
      session.dispose();
      throw new Error(`A dev session for ${session.id} is already ${existing.phase}. Stop it first.`);
    }
    existing?.dispose();
    this.sessions.set(session.id, session);
    session.onDidChange(() => {
      if (session.phase === 'stopped' && this.sessions.get(session.id) === session) {
        this.sessions.delete(session.id);
        session.dispose();
      }
      this.emit('changed');
    });
    this.emit('changed');
    return session;
  }

  /** Stops every session (window closing); collects failures instead of stopping at the first. */
  async stopAll(): Promise<Error[]> {
    const results = await Promise.allSettled(this.list().map((s) => s.stop()));
    return results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
  }

  /** Disposes every session left (failed ones, or all of them when restoring on exit is off). */
  dispose(): void {
    for (const s of this.list()) s.dispose();
    this.sessions.clear();
  }
}
