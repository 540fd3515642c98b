// The log line as the aggregator emits it and the webview shows it.
import type { Level } from './levels';

export type LineKind = 'log' | 'event';

export interface LogLine {
  /** Increasing per aggregator: the order in which lines entered its buffer. */
  seq: number;
  pod: string;
  container: string;
  /** RFC 3339 from the API server ('' when unknown). */
  timestamp: string;
  level: Level;
  /** 'event' lines are written by Truva: a pod started, stopped or a container restarted. */
  kind: LineKind;
  /** The raw text as the container wrote it (ANSI codes included). */
  text: string;
}
