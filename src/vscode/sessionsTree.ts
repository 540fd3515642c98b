// The Sessions view: each session with its sync state, last sync, files sent and pods (the lines
// come from statusModel.ts), then its forwards (a click opens the local address); actions hang off
// the `session` and `forward` context values.
import * as vscode from 'vscode';
import type { DevSession } from '../core/session/devSession';
import type { ForwardView } from '../core/session/session';
import type { SessionManager } from '../core/session/sessionManager';
import { forwardText, sessionDetails, type SessionDetail } from './statusModel';

type Node = { session: DevSession } | SessionDetail | { forward: ForwardView; session: DevSession };

export class SessionsTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly sessions: SessionManager<DevSession>) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  getChildren(node?: Node): Node[] {
    if (!node) return this.sessions.list().map((session) => ({ session }));
    if ('forward' in node || !('session' in node)) return [];
    const status = node.session.status();
    return [...sessionDetails(status), ...status.forwards.map((forward) => ({ forward, session: node.session }))];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if ('forward' in node) {
      const f = node.forward;
      const item = new vscode.TreeItem(forwardText(f), vscode.TreeItemCollapsibleState.None);
      item.iconPath = new vscode.ThemeIcon(f.state === 'failed' ? 'error' : f.source === 'debug' ? 'debug' : 'plug');
      item.contextValue = f.state === 'failed' ? 'forward.failed' : 'forward';
      item.tooltip = f.error ?? `Open ${f.url}`;
      if (f.state !== 'failed')
        item.command = { command: 'truva.openForward', title: 'Open Forwarded Address', arguments: [f.url] };
      return item;
    }
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
