// The seed CLI's config.yaml (sync.debounce_duration, sync.batch_size, kubernetes.config_path,
// logging.level) supplies defaults in truva.yaml's terms; its other fields have no counterpart.
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { durationToMs } from './duration';
import type { ConfigError, ConfigSettings, LogLevel } from './types';
import { expandHome, MAX_ALIAS_COUNT, MAX_TEXT_LENGTH } from './validate';

const LEVELS: Record<string, LogLevel> = {
  debug: 'debug',
  trace: 'debug',
  info: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  fatal: 'error',
};

export interface SeedMapping {
  settings: ConfigSettings;
  /** Values present but not understood; the rest of the file still maps. */
  errors: ConfigError[];
}

function problem(message: string, line = 0, character = 0): ConfigError {
  const position = { line, character };
  return {
    message,
    line: line + 1,
    column: character + 1,
    range: { start: position, end: position },
    code: 'invalid-setting',
  };
}

/** Maps a seed config.yaml to settings; never throws. */
export function settingsFromSeedConfig(text: string, seedPath: string): SeedMapping {
  const settings: ConfigSettings = {};
  const errors: ConfigError[] = [];
  try {
    if (text.length > MAX_TEXT_LENGTH)
      return { settings, errors: [problem(`${seedPath} is too large to be a config file.`)] };
    const doc = parseDocument(text, { prettyErrors: false });
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      return {
        settings,
        errors: [
          problem(
            `${seedPath}: YAML syntax error: ${e.message.split('\n')[0]}`,
            (e.linePos?.[0].line ?? 1) - 1,
            (e.linePos?.[0].col ?? 1) - 1,
          ),
        ],
      };
    }
    const value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as Record<
      string,
      Record<string, unknown> | undefined
    > | null;
    if (!value || typeof value !== 'object') return { settings, errors };
    const sync = value.sync ?? {};
    if (sync.debounce_duration !== undefined) {
      const ms = durationToMs(sync.debounce_duration);
      if (ms === undefined || ms > 60_000)
        errors.push(
          problem(
            `${seedPath}: sync.debounce_duration ${JSON.stringify(sync.debounce_duration)} is not a duration such as "500ms" up to 60s.`,
          ),
        );
      else settings.debounce = ms;
    }
    if (sync.batch_size !== undefined) {
      const n = sync.batch_size;
      if (typeof n === 'number' && Number.isInteger(n) && n >= 1) settings.batchSize = n;
      else
        errors.push(
          problem(`${seedPath}: sync.batch_size must be a whole number of at least 1, not ${JSON.stringify(n)}.`),
        );
    }
    const configPath = value.kubernetes?.config_path;
    if (typeof configPath === 'string' && configPath.trim() !== '')
      settings.kubeconfig = resolve(dirname(seedPath), expandHome(configPath.trim()));
    const level = value.logging?.level;
    if (typeof level === 'string') {
      const mapped = LEVELS[level.toLowerCase()];
      if (mapped) settings.logLevel = mapped;
      else errors.push(problem(`${seedPath}: logging.level "${level}" is not one of debug, info, warn, error.`));
    }
  } catch (err) {
    errors.push(problem(`${seedPath} could not be read: ${(err as Error)?.message ?? String(err)}`));
  }
  return { settings, errors };
}
