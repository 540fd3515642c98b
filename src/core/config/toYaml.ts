// Writes a truva.yaml, e.g. from the answers of the quick-pick flow, in the schema's key order.
import { Document } from 'yaml';
import { toTruvaYaml } from './load';
import { truvaSchema } from './schema';
import type { TruvaConfig, TruvaYaml } from './types';

const KEY_ORDER = Object.keys(truvaSchema.properties ?? {});

function isResolved(config: TruvaYaml | TruvaConfig): config is TruvaConfig {
  return 'debounceMs' in config && 'rootDir' in config;
}

/** YAML text for a config: a resolved TruvaConfig (defaults left out) or truva.yaml-shaped answers. */
export function configToYaml(config: TruvaYaml | TruvaConfig): string {
  const raw = isResolved(config) ? toTruvaYaml(config) : config;
  const ordered: Record<string, unknown> = {};
  for (const key of KEY_ORDER) {
    const value = (raw as Record<string, unknown>)[key];
    if (value !== undefined) ordered[key] = value;
  }
  const doc = new Document(ordered);
  doc.commentBefore = ' Truva dev session: see the truva.yaml reference in the README.';
  return doc.toString({ lineWidth: 0 });
}
