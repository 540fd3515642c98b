// Which messages reach the "Truva" output channel (pure; output.ts applies it).
import type { LogLevel } from '../core/config/types';

export type MessageLevel = 'trace' | LogLevel;
const RANK: Record<MessageLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };
/** The channel's methods that write a message at a level. */
export const LEVEL_METHODS: ReadonlySet<string> = new Set(Object.keys(RANK));

/** Whether a message of `level` is written when the least severe level wanted is `threshold`. */
export function writes(level: MessageLevel, threshold: LogLevel): boolean {
  return RANK[level] >= RANK[threshold];
}

/** The channel's threshold: the setting, or a running session's truva.yaml `logLevel` where that asks for more. */
export function outputThreshold(setting: LogLevel, sessionLevels: readonly LogLevel[]): LogLevel {
  return [setting, ...sessionLevels].reduce((a, b) => (RANK[b] < RANK[a] ? b : a));
}
