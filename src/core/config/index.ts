// truva.yaml: loading, validation, writing, and the seed config mapping. No `vscode` import.
export { loadConfig, resolveConfig, toConfigError, toTruvaYaml, type LoadOptions } from './load';
export {
  analyzeDocument,
  validateDocument,
  excludePatternProblem,
  remotePathProblem,
  REQUIRED_KEYS,
  MAX_ALIAS_COUNT,
  MAX_DEPTH,
  MAX_TEXT_LENGTH,
  type Analysis,
  type AnalyzeOptions,
} from './validate';
export { configToYaml } from './toYaml';
export { settingsFromSeedConfig, type SeedMapping } from './seed';
export { durationToMs } from './duration';
export { keyDocumentation, keysAt, schemaAt, schemaDefault, suggestedValues, truvaSchema } from './schema';
export * from './types';
