// A shell in the dev container on a terminal of its own (exec with tty=true), for a VS Code
// Pseudoterminal: keystrokes in, text out, resized with the panel. It starts in the remote path
// of the sync pair, with bash when the image has it. It ends with a reason and a sentence to show:
// the shell exited, the pod went away (deleted or replaced), the connection was lost, or it was
// closed here. A connection that dies without closing is noticed by WebSocket pings.
import { StringDecoder } from 'node:string_decoder';
import { KubeError } from '../kube/errors';
import type { ExecStream, ExecTerminal } from '../kube/exec';

/** How the shell is started: the exec the terminal runs over. */
export interface TerminalExec {
  open(command: string[], terminal: ExecTerminal): Promise<ExecStream>;
  /** False when the pod no longer exists or is terminating (asked after the connection ended). */
  podExists(): Promise<boolean>;
}

export interface TerminalOptions {
  pod: string;
  /** Folder the shell starts in: the sync pair's remote path. Default: the container's working directory. */
  cwd?: string;
  columns: number;
  rows: number;
  /** Between pings of the connection. Default 15 s. */
  pingIntervalMs?: number;
  /** A ping unanswered this long means the connection is dead. Default 10 s. */
  pingTimeoutMs?: number;
}

export type TerminalEnd =
  /** The shell exited; `code` is its exit code. */
  | 'exited'
  /** The pod was deleted or replaced. */
  | 'podGone'
  /** The connection to the API server broke off while the pod still runs. */
  | 'connectionLost'
  /** close() was called. */
  | 'closed';

export interface TerminalExit {
  reason: TerminalEnd;
  code?: number;
  /** One line for the terminal, e.g. "Pod web-1 went away (deleted or replaced); this terminal is closed." */
  message: string;
}

/** The shell script: cd into the remote path, TERM for a real terminal, bash if there is one. */
const SHELL_SCRIPT = [
  'if [ -n "$1" ]; then cd -- "$1" 2>/dev/null || echo "[truva] $1 does not exist in the container; the shell starts in $(pwd)."; fi',
  'export TERM="${TERM:-xterm-256color}"',
  'if command -v bash >/dev/null 2>&1; then exec bash; fi',
  'exec sh',
].join('\n');

export function terminalCommand(cwd?: string): string[] {
  return ['sh', '-c', SHELL_SCRIPT, 'truva-terminal', cwd ?? ''];
}

export class TerminalSession {
  /** Resolves once, when the terminal has ended, with why. */
  readonly exited: Promise<TerminalExit>;
  private readonly listeners = new Set<(data: Buffer) => void>();
  private closedHere = false;
  private timer?: NodeJS.Timeout;

  private constructor(
    private readonly stream: ExecStream,
    private readonly exec: TerminalExec,
    private readonly options: TerminalOptions,
  ) {
    stream.onOutput((data) => {
      for (const listener of this.listeners) listener(data);
    });
    this.exited = this.watch();
    this.heartbeat();
  }

  /** Starts the shell; rejects as the exec failed (pod not running, RBAC...). */
  static async open(exec: TerminalExec, options: TerminalOptions): Promise<TerminalSession> {
    const stream = await exec.open(terminalCommand(options.cwd), { columns: options.columns, rows: options.rows });
    return new TerminalSession(stream, exec, options);
  }

  /** Keystrokes (VS Code's Pseudoterminal handleInput strings) or bytes. */
  write(data: string | Buffer): void {
    void this.stream.write(typeof data === 'string' ? Buffer.from(data, 'utf8') : data).catch(() => {});
  }

  resize(columns: number, rows: number): void {
    if (columns > 0 && rows > 0) this.stream.resize(Math.floor(columns), Math.floor(rows));
  }

  /** The terminal's output as it arrives; returns the unsubscribe. */
  onData(listener: (data: Buffer) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The output as text, never splitting a UTF-8 character between calls (for Pseudoterminal.onDidWrite). */
  onText(listener: (text: string) => void): () => void {
    const decoder = new StringDecoder('utf8');
    return this.onData((data) => {
      const text = decoder.write(data);
      if (text) listener(text);
    });
  }

  /** Ends the shell (the connection closes; the container sends it SIGHUP). */
  close(): void {
    this.closedHere = true;
    this.stream.close();
  }

  private heartbeat(): void {
    const interval = this.options.pingIntervalMs ?? 15_000;
    const timeout = this.options.pingTimeoutMs ?? 10_000;
    const beat = async () => {
      if (!(await this.stream.ping(timeout))) return this.stream.close();
      this.timer = setTimeout(() => void beat(), interval);
    };
    this.timer = setTimeout(() => void beat(), interval);
  }

  private async watch(): Promise<TerminalExit> {
    let code: number | undefined;
    let failure: unknown;
    try {
      code = await this.stream.exited;
    } catch (err) {
      failure = err;
    } finally {
      clearTimeout(this.timer);
    }
    const pod = this.options.pod;
    if (this.closedHere) return { reason: 'closed', code, message: `[truva] Terminal on pod ${pod} closed.` };
    // A shell killed with its container (137) and a connection cut with the pod look alike: ask.
    const gone = (failure !== undefined || code === 137 || code === 143) && !(await this.podStillThere());
    if (gone)
      return {
        reason: 'podGone',
        code,
        message: `[truva] Pod ${pod} went away (deleted or replaced); this terminal is closed. Open a new one on a running pod.`,
      };
    if (failure !== undefined)
      return {
        reason: 'connectionLost',
        message: `[truva] The connection to pod ${pod} was lost (${failure instanceof KubeError || failure instanceof Error ? failure.message : String(failure)}); this terminal is closed. Open it again.`,
      };
    return { reason: 'exited', code, message: `[truva] The shell in pod ${pod} exited with code ${code}.` };
  }

  private async podStillThere(): Promise<boolean> {
    try {
      return await this.exec.podExists();
    } catch {
      return true; // cannot tell: say what we know (the connection ended), not that the pod is gone
    }
  }
}
