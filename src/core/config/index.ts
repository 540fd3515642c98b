// truva.yaml: loading, validation, writing. No `vscode` import.
export { loadConfig, resolveConfig, toConfigError, toTruvaYaml, type LoadOptions } from './load';
export {
  analyzeDocument,
  validateDocument,
  excludePatternProblem,
  valueRange,
  REQUIRED_KEYS,
  MAX_ALIAS_COUNT,
  MAX_DEPTH,
  MAX_TEXT_LENGTH,
  type Analysis,
  type AnalyzeOptions,
} from './validate';
export { configToYaml } from './toYaml';
export { remotePathProblem } from './paths';
export { durationToMs } from './duration';
export { keyDocumentation, keysAt, schemaAt, schemaDefault, suggestedValues, truvaSchema } from './schema';
export * from './types';
