// "Truva: Open Terminal": a VS Code terminal whose Pseudoterminal carries a shell on a real
// terminal in the dev container (src/core/terminal), starting in the sync pair's remote path and
// resized with the panel. When the shell ends for a reason the user did not choose (the pod went
// away, the connection was lost) it says so in the terminal and closes at the next key press, so
// the sentence can be read; an `exit` closes it at once.
import * as vscode from 'vscode';
import type { Cluster } from '../core/kube/cluster';
import type { ClusterTerminalPlace, TerminalSession } from '../core/terminal';
import { core } from './lazy';

/** What the terminal shows and keeps of its output (tests read `transcript`). */
const TRANSCRIPT_LIMIT = 64 * 1024;

export class PodTerminal implements vscode.Pseudoterminal {
  private readonly written = new vscode.EventEmitter<string>();
  private readonly closed = new vscode.EventEmitter<number | void>();
  readonly onDidWrite = this.written.event;
  readonly onDidClose = this.closed.event;
  /** The last 64 KiB the terminal showed. */
  transcript = '';
  state: 'opening' | 'open' | 'ended' | 'closed' = 'opening';
  /** The size the panel gave, last. */
  size?: { columns: number; rows: number };
  private shell?: TerminalSession;
  /** Keys typed before the shell was there: a user types as soon as the terminal shows. */
  private readonly typedWhileOpening: string[] = [];

  constructor(
    private readonly cluster: Cluster,
    readonly place: ClusterTerminalPlace,
    private readonly cwd: string | undefined,
  ) {}

  async open(dimensions: vscode.TerminalDimensions | undefined): Promise<void> {
    const opening = dimensions ? { columns: dimensions.columns, rows: dimensions.rows } : { columns: 80, rows: 24 };
    this.size = opening;
    try {
      this.shell = await core().openTerminal(this.cluster, this.place, { cwd: this.cwd, ...opening });
    } catch (err) {
      this.show(`[truva] Could not open a terminal in pod ${this.place.pod}: ${(err as Error).message}\r\n`);
      return this.ended();
    }
    if (this.state === 'closed') return this.shell.close();
    this.state = 'open';
    this.shell.onText((text) => this.show(text));
    // What came while the shell was starting: a size change, then the keys typed meanwhile.
    if (this.size !== opening) this.shell.resize(this.size.columns, this.size.rows);
    for (const data of this.typedWhileOpening.splice(0)) this.shell.write(data);
    const exit = await this.shell.exited;
    if (exit.reason === 'closed') return;
    if (exit.reason === 'exited') {
      this.state = 'closed';
      return this.closed.fire(exit.code ?? 0);
    }
    this.show(`\r\n${exit.message}\r\n`);
    this.ended();
  }

  /** The pty is kept open so the reason can be read; the next key closes it. */
  private ended(): void {
    this.state = 'ended';
    this.show('[truva] Press any key to close this terminal.\r\n');
  }

  handleInput(data: string): void {
    if (this.state === 'ended') {
      this.state = 'closed';
      return this.closed.fire(1);
    }
    if (this.shell) this.shell.write(data);
    else if (this.state === 'opening') this.typedWhileOpening.push(data);
  }

  setDimensions(dimensions: vscode.TerminalDimensions): void {
    this.size = { columns: dimensions.columns, rows: dimensions.rows };
    this.shell?.resize(dimensions.columns, dimensions.rows);
  }

  close(): void {
    this.state = 'closed';
    this.shell?.close();
  }

  private show(text: string): void {
    this.transcript = (this.transcript + text).slice(-TRANSCRIPT_LIMIT);
    this.written.fire(text);
  }
}
