// "Truva: Debug": VS Code's own debugger attached to the dev pods through the session's `debug`
// forward, with the paths mapped through the sync pairs (src/core/debug/attachConfig.ts). Node's
// configuration re-attaches by itself after each restart: the process restarts, the inspector's
// connection drops, js-debug connects again to the same local port, and the forward holds that
// attempt until the new process listens. With `debug: all` there is one child debug session per
// pod, named after it, under a parent "Truva: <deployment>" session whose Stop stops them all.
// The parent is an inline debug adapter of type `truva` that has no threads of its own.
import * as vscode from 'vscode';
import type { AttachConfiguration } from '../core/debug/attachConfig';
import type { DevSession } from '../core/session/devSession';
import { core } from './lazy';

/** The parent of `debug: all`'s sessions: answers the protocol's requests and holds no threads. */
class GroupAdapter implements vscode.DebugAdapter {
  private readonly sent = new vscode.EventEmitter<vscode.DebugProtocolMessage>();
  readonly onDidSendMessage = this.sent.event;
  private seq = 1;

  handleMessage(message: vscode.DebugProtocolMessage): void {
    const request = message as { seq: number; type: string; command: string };
    if (request.type !== 'request') return;
    const body =
      request.command === 'initialize'
        ? { supportsConfigurationDoneRequest: true, supportTerminateDebuggee: false }
        : request.command === 'threads'
          ? { threads: [] }
          : {};
    this.send({ type: 'response', request_seq: request.seq, success: true, command: request.command, body });
    if (request.command === 'initialize') this.send({ type: 'event', event: 'initialized' });
    if (request.command === 'disconnect' || request.command === 'terminate')
      this.send({ type: 'event', event: 'terminated' });
  }

  private send(message: Record<string, unknown>) {
    this.sent.fire({ seq: this.seq++, ...message } as vscode.DebugProtocolMessage);
  }

  dispose(): void {
    this.sent.dispose();
  }
}

export const GROUP_DEBUG_TYPE = 'truva';

/** The debug sessions Truva started, per dev session: stopped with it. */
export class Debuggers implements vscode.Disposable {
  private readonly started = new Map<string, vscode.DebugSession[]>();
  private readonly disposables: vscode.Disposable[] = [];
  private nextId = 1;

  constructor(private readonly log: vscode.LogOutputChannel) {
    this.disposables.push(
      vscode.debug.registerDebugAdapterDescriptorFactory(GROUP_DEBUG_TYPE, {
        createDebugAdapterDescriptor: () => new vscode.DebugAdapterInlineImplementation(new GroupAdapter()),
      }),
      vscode.debug.onDidTerminateDebugSession((s) => {
        for (const [id, sessions] of this.started) {
          const left = sessions.filter((x) => x.id !== s.id);
          if (left.length) this.started.set(id, left);
          else this.started.delete(id);
        }
      }),
    );
  }

  /** Debug sessions of a dev session that are running now (the parent first with `debug: all`). */
  sessionsOf(session: DevSession): readonly vscode.DebugSession[] {
    return this.started.get(session.id) ?? [];
  }

  /** The attach configurations for the session's debugger forwards that reach a pod now. */
  configurations(session: DevSession): AttachConfiguration[] {
    const debug = session.config.debug;
    if (!debug)
      throw new Error(
        `truva.yaml has no \`debug\` key: add \`debug: true\` (or \`debug: all\` for every pod) and start the session again, so the supervisor starts Node with its inspector.`,
      );
    const forwards = session.forwards().filter((f) => f.source === 'debug');
    const failed = forwards.find((f) => f.state === 'failed');
    if (failed) throw new Error(failed.error ?? `The debugger's forward ${failed.address} failed.`);
    const ready = forwards.filter((f) => f.pod && f.state === 'ready');
    if (ready.length === 0)
      throw new Error(`No pod of "${session.deployment}" is running yet for the debugger; try again in a moment.`);
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(session.config.rootDir));
    return core().attachConfigurations(
      debug.runtime,
      ready.map((f) => ({ pod: f.pod!, localPort: f.local })),
      {
        sync: session.config.sync.map((s) => ({ local: s.local, remote: s.remote })),
        workspaceFolder: folder?.uri.fsPath,
      },
    );
  }

  /** Attaches to the pods' debuggers; resolves with the debug sessions started (already attached: those). */
  async attach(session: DevSession): Promise<readonly vscode.DebugSession[]> {
    const running = this.sessionsOf(session);
    if (running.length > 0) return running;
    const configs = this.configurations(session);
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(session.config.rootDir));
    const sessions: vscode.DebugSession[] = [];
    const all = session.config.debug!.forward.pods === 'all';
    let parent: vscode.DebugSession | undefined;
    if (all) {
      parent = await this.start(folder, {
        type: GROUP_DEBUG_TYPE,
        request: 'attach',
        name: `Truva: ${session.deployment} (${configs.length} ${configs.length === 1 ? 'pod' : 'pods'})`,
      });
      sessions.push(parent);
    }
    for (const config of configs) {
      const child = await this.start(
        folder,
        config,
        parent ? { parentSession: parent, lifecycleManagedByParent: true, compact: false } : undefined,
      );
      sessions.push(child);
      this.log.info(`Debugger attached to pod ${config.name.replace(/^Truva: /, '')} through ${config.port ?? ''}.`);
    }
    this.started.set(session.id, sessions);
    const unsubscribe = session.onDidChange(() => {
      if (session.phase === 'running' || session.phase === 'starting') return;
      unsubscribe();
      void this.detach(session);
    });
    return sessions;
  }

  /** Stops the session's debug sessions (the dev session stopped, or the user asked). */
  async detach(session: DevSession): Promise<void> {
    const sessions = this.started.get(session.id) ?? [];
    this.started.delete(session.id);
    for (const s of [...sessions].reverse()) await vscode.debug.stopDebugging(s);
  }

  private async start(
    folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration,
    options?: vscode.DebugSessionOptions,
  ): Promise<vscode.DebugSession> {
    const marker = `truva-${process.pid}-${this.nextId++}`;
    const tagged = { ...config, __truvaDebug: marker };
    let listener: vscode.Disposable | undefined;
    const started = new Promise<vscode.DebugSession>((resolve) => {
      listener = vscode.debug.onDidStartDebugSession((s) => {
        if (s.configuration.__truvaDebug === marker) resolve(s);
      });
    });
    try {
      const ok = await vscode.debug.startDebugging(folder, tagged, options);
      if (!ok) throw new Error(`VS Code did not start the debug session "${config.name}".`);
      return await started;
    } finally {
      listener?.dispose();
    }
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
