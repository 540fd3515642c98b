// The Sessions view: each running session with its sync state, last sync latency, files sent and
// pods; actions hang off the `session` context value.
import * as vscode from 'vscode';
import type { Session, SyncSnapshot } from '../core/session/session';
import type { SessionManager } from '../core/session/sessionManager';

export interface SessionInfo {
  deployment: string;
  namespace: string;
  pods: () => { ready: number; total: number };
}

type Node = { session: Session } | { detail: string; icon: string };

export class SessionsTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(
    private readonly manager: SessionManager,
    private readonly info: (session: Session) => SessionInfo | undefined,
  ) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  getChildren(node?: Node): Node[] {
    if (!node) return this.manager.list().map((session) => ({ session }));
    if (!('session' in node)) return [];
    const snap: SyncSnapshot = node.session.parts.sync.snapshot();
    const pods = this.info(node.session)?.pods() ?? { ready: 0, total: 0 };
    return [
      { detail: `sync: ${snap.state}${snap.pending ? ` (${snap.pending} pending)` : ''}`, icon: 'sync' },
      {
        detail: `last sync: ${snap.lastLatencyMs !== undefined ? `${snap.lastLatencyMs} ms` : 'not yet'}`,
        icon: 'watch',
      },
      { detail: `files sent: ${snap.filesSent}`, icon: 'files' },
      { detail: `pods ready: ${pods.ready}/${pods.total}`, icon: 'server' },
      ...(snap.error || node.session.error
        ? [{ detail: snap.error ?? node.session.error!.message, icon: 'error' }]
        : []),
    ];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if ('session' in node) {
      const info = this.info(node.session);
      const item = new vscode.TreeItem(info?.deployment ?? node.session.id, vscode.TreeItemCollapsibleState.Expanded);
      item.description = `${node.session.phase} · ${info?.namespace ?? ''}`;
      item.contextValue = 'session';
      item.iconPath = new vscode.ThemeIcon(node.session.phase === 'failed' ? 'error' : 'debug-alt');
      item.id = `session/${node.session.id}`;
      return item;
    }
    const item = new vscode.TreeItem(node.detail, vscode.TreeItemCollapsibleState.None);
    item.iconPath = new vscode.ThemeIcon(node.icon);
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
