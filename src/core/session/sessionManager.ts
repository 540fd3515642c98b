// Several sessions at once (different deployments, or folders of a multi-root workspace), each
// keyed by context/namespace/deployment so the same deployment is never taken twice.
import { EventEmitter } from 'node:events';
import { Session, type SessionParts } from './session';

export function sessionId(context: string, namespace: string, deployment: string): string {
  return `${context}/${namespace}/${deployment}`;
}

export class SessionManager extends EventEmitter {
  private readonly sessions = new Map<string, Session>();

  list(): Session[] {
    return [...this.sessions.values()];
  }

  get(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  /** Creates a session; refuses a second one on the same deployment. */
  create(id: string, parts: SessionParts): Session {
    const existing = this.sessions.get(id);
    if (existing && existing.phase !== 'stopped' && existing.phase !== 'failed') {
      throw new Error(`A dev session for ${id} is already ${existing.phase}. Stop it first.`);
    }
    const session = new Session(id, parts);
    this.sessions.set(id, session);
    // A stopped session leaves the list; a failed one stays, so the UI can show why and offer a restore.
    session.on('phase', (phase) => {
      if (phase === 'stopped' && this.sessions.get(id) === session) this.sessions.delete(id);
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
}
