// The Sessions view: each session with its sync state, last sync, files sent and pods (the lines
// come from statusModel.ts); actions hang off the `session` context value.
import * as vscode from 'vscode';
import type { DevSession } from '../core/session/devSession';
import type { SessionManager } from '../core/session/sessionManager';
import { sessionDetails, type SessionDetail } from './statusModel';

type Node = { session: DevSession } | SessionDetail;

export class SessionsTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly sessions: SessionManager<DevSession>) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  getChildren(node?: Node): Node[] {
    if (!node) return this.sessions.list().map((session) => ({ session }));
    return 'session' in node ? sessionDetails(node.session.status()) : [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if ('session' in node) {
      const { session } = node;
      const item = new vscode.TreeItem(session.deployment, vscode.TreeItemCollapsibleState.Expanded);
      item.description = `${session.phase} · ${session.namespace}`;
      item.contextValue = 'session';
      item.iconPath = new vscode.ThemeIcon(session.phase === 'failed' ? 'error' : 'debug-alt');
      item.id = `session/${session.id}`;
      return item;
    }
    const item = new vscode.TreeItem(node.detail, vscode.TreeItemCollapsibleState.None);
    item.iconPath = new vscode.ThemeIcon(node.icon);
    if (node.tooltip) item.tooltip = node.tooltip;
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
