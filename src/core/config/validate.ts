// One validator for truva.yaml, shared by the loader and the language server so the two can never
// disagree: YAML syntax, the JSON Schema (through ajv), then checks a schema cannot express
// (folders that exist, safe remote paths, exclude patterns that can match). The path rules
// themselves are in paths.ts, which dev mode's preflight applies too.
import Ajv, { type ErrorObject } from 'ajv';
import { statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument, type Document } from 'yaml';
import { durationToMs } from './duration';
import { LineIndex } from './lineIndex';
import { remotePathProblem, resolveLocal } from './paths';
import { inspectorProblem, runToArgv } from '../devmode/supervisor';
import { portProblems, resolveDebug } from './ports';
import { keysAt, schemaAt, truvaSchema, type SchemaNode } from './schema';
import { closestMatch } from './suggest';
import {
  Severity,
  type ConfigDiagnostic,
  type DebugEntry,
  type DiagnosticCode,
  type DiagnosticData,
  type PortEntry,
  type Range,
} from './types';
import { blockDepth, bracketDepth, firstAlias, locate, nestingDepth, nodeSpan } from './yamlAst';

/** Larger files are refused before parsing: a truva.yaml is a few hundred lines at most. */
export const MAX_TEXT_LENGTH = 2 * 1024 * 1024;
/** Deeper nesting is refused: truva.yaml never nests more than four levels. */
export const MAX_DEPTH = 64;
/** Aliases expanded while converting to plain values; stops exponential "billion laughs" growth. */
export const MAX_ALIAS_COUNT = 100;

/** More syntax errors than this add nothing: the first ones say what broke. */
const MAX_SYNTAX_ERRORS = 20;

export const REQUIRED_KEYS = ['namespace', 'deployment', 'sync'] as const;

/** First segments that mark an exclude pattern as an absolute path on this machine. */
const MACHINE_ROOTS = new Set([
  'home',
  'Users',
  'tmp',
  'var',
  'usr',
  'etc',
  'opt',
  'mnt',
  'root',
  'private',
  'Volumes',
  'workspace',
  'work',
]);

const ajv = new Ajv({ allErrors: true, strict: true });
const validateSchema = ajv.compile(truvaSchema);
const validateSettingsSchema = ajv.compile({ ...truvaSchema, $id: undefined, required: [] });

export interface Analysis {
  diagnostics: ConfigDiagnostic[];
  /** The plain value when the YAML parsed (possibly failing the schema). */
  value?: unknown;
  /** The parsed document, when parsing got that far. */
  document?: Document;
  lines: LineIndex;
}

export interface AnalyzeOptions {
  /** Skip the file-system checks (local folders), e.g. for untitled documents. */
  skipFileSystem?: boolean;
}

/** Diagnostics for a truva.yaml text; never throws. */
export function validateDocument(text: string, filePath: string, options: AnalyzeOptions = {}): ConfigDiagnostic[] {
  return analyzeDocument(text, filePath, options).diagnostics;
}

/** Parses and validates; never throws. */
export function analyzeDocument(text: string, filePath: string, options: AnalyzeOptions = {}): Analysis {
  const safeText = typeof text === 'string' ? text : '';
  const lines = new LineIndex(safeText);
  try {
    return analyze(safeText, filePath, options, lines);
  } catch (err) {
    // Last resort: a parser bug or a stack overflow on a hostile document still yields a diagnostic.
    const reason =
      err instanceof RangeError
        ? 'it is nested too deeply'
        : `the parser failed (${(err as Error)?.message ?? String(err)})`;
    return {
      lines,
      diagnostics: [diagnostic(lines.lineRange(0), `truva.yaml could not be read: ${reason}.`, 'yaml-syntax')],
    };
  }
}

/** A user's value inside a message, shortened so a huge value cannot flood the Problems view. */
function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 60)}…${value.slice(-10)}` : value);
}

function diagnostic(
  range: Range,
  text: string,
  code: DiagnosticCode,
  severity: Severity = Severity.Error,
  data?: DiagnosticData,
): ConfigDiagnostic {
  const message = text.length > 1000 ? `${text.slice(0, 999)}…` : text;
  return data
    ? { range, message, severity, code, source: 'truva', data }
    : { range, message, severity, code, source: 'truva' };
}

function analyze(text: string, filePath: string, options: AnalyzeOptions, lines: LineIndex): Analysis {
  if (text.length > MAX_TEXT_LENGTH) {
    return {
      lines,
      diagnostics: [
        diagnostic(
          lines.lineRange(0),
          `truva.yaml is too large (${text.length} characters; at most ${MAX_TEXT_LENGTH}). It should hold a few dozen lines of settings.`,
          'too-large',
        ),
      ],
    };
  }
  if (bracketDepth(text, MAX_DEPTH) > MAX_DEPTH || blockDepth(text, MAX_DEPTH) > MAX_DEPTH) {
    return {
      lines,
      diagnostics: [
        diagnostic(
          lines.lineRange(0),
          `truva.yaml is nested more than ${MAX_DEPTH} levels deep; it needs at most four.`,
          'too-deep',
        ),
      ],
    };
  }

  const document = parseDocument(text, {
    uniqueKeys: true,
    prettyErrors: false,
    strict: true,
    keepSourceTokens: false,
    logLevel: 'error',
  });
  const diagnostics: ConfigDiagnostic[] = [];
  for (const error of document.errors.slice(0, MAX_SYNTAX_ERRORS)) {
    let end = error.pos[1];
    // yaml marks only the first character of a repeated key; the whole key reads better.
    if (error.code === 'DUPLICATE_KEY')
      end = error.pos[0] + (/^[^:\r\n]*/.exec(text.slice(error.pos[0], error.pos[0] + 300))?.[0].trimEnd().length ?? 1);
    diagnostics.push(
      diagnostic(lines.range(error.pos[0], Math.max(end, error.pos[1])), yamlMessage(error.message), 'yaml-syntax'),
    );
  }
  if (diagnostics.length > 0) return { lines, diagnostics, document };
  for (const warning of document.warnings) {
    diagnostics.push(
      diagnostic(
        lines.range(warning.pos[0], warning.pos[1]),
        yamlMessage(warning.message),
        'yaml-syntax',
        Severity.Warning,
      ),
    );
  }

  if (nestingDepth(document.contents, MAX_DEPTH) > MAX_DEPTH) {
    diagnostics.push(
      diagnostic(
        lines.lineRange(0),
        `truva.yaml is nested more than ${MAX_DEPTH} levels deep; it needs at most four.`,
        'too-deep',
      ),
    );
    return { lines, diagnostics, document };
  }

  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    const alias = firstAlias(document.contents);
    const span = nodeSpan(alias);
    const range = span ? lines.range(span[0], span[1]) : lines.lineRange(0);
    const message =
      err instanceof ReferenceError && /alias/i.test(err.message)
        ? `Too many alias expansions (more than ${MAX_ALIAS_COUNT}): anchors and aliases here would expand exponentially. Write the values out instead.`
        : `truva.yaml could not be read: ${(err as Error).message}`;
    diagnostics.push(diagnostic(range, message, 'alias-limit'));
    return { lines, diagnostics, document };
  }

  if (value === null || value === undefined) {
    diagnostics.push(
      diagnostic(
        lines.lineRange(0),
        'truva.yaml is empty: add namespace, deployment and one sync pair (local folder and remote path).',
        'empty-file',
        Severity.Error,
        { missingKeys: [...REQUIRED_KEYS] },
      ),
    );
    return { lines, diagnostics, value, document };
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    const span = nodeSpan(document.contents);
    const range = span ? lines.range(span[0], span[1]) : lines.lineRange(0);
    diagnostics.push(
      diagnostic(
        range,
        'truva.yaml must be a mapping of keys such as `namespace:`, `deployment:` and `sync:`.',
        'not-a-mapping',
      ),
    );
    return { lines, diagnostics, value, document };
  }

  diagnostics.push(...schemaDiagnostics(value, document, lines));
  diagnostics.push(...semanticDiagnostics(value as Record<string, unknown>, document, lines, filePath, options));
  diagnostics.sort(
    (a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character,
  );
  return { lines, diagnostics, value, document };
}

function yamlMessage(message: string): string {
  // yaml's messages carry their own "at line x, column y" suffix; the range already says where.
  const plain = message.replace(/ at line \d+, column \d+:?[\s\S]*$/, '').trim();
  return `YAML syntax error: ${plain}`;
}

// ---------------------------------------------------------------------------------------------
// Schema errors

function parsePointer(pointer: string): (string | number)[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => {
      const unescaped = s.replace(/~1/g, '/').replace(/~0/g, '~');
      return /^\d+$/.test(unescaped) ? Number(unescaped) : unescaped;
    });
}

/** "debounce", "logs.tail", "sync[0].remote". */
export function pathLabel(path: readonly (string | number)[]): string {
  return path.reduce<string>(
    (label, s) => (typeof s === 'number' ? `${label}[${s}]` : label ? `${label}.${s}` : s),
    '',
  );
}

function schemaPathOf(path: readonly (string | number)[]): (string | number)[] {
  return path.map((s) => (typeof s === 'number' ? '[]' : s));
}

function show(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

function describeType(node: SchemaNode): string {
  const type = Array.isArray(node.type) ? node.type[0] : node.type;
  switch (type) {
    case 'integer':
      if (node.minimum !== undefined && node.maximum !== undefined)
        return `a whole number from ${node.minimum} to ${node.maximum}`;
      if (node.minimum !== undefined) return `a whole number of at least ${node.minimum}`;
      return 'a whole number';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'true or false';
    case 'array':
      return node.items?.type === 'string'
        ? 'a list of strings'
        : node.items?.type === 'object'
          ? 'a list of mappings'
          : 'a list';
    case 'object':
      return 'a mapping of keys';
    case 'string':
      return node.pattern ? 'a string' : 'a non-empty string';
    default:
      return 'a value';
  }
}

function describeOneOf(node: SchemaNode): string {
  const branches = (node.oneOf ?? []).map((branch) => {
    if (branch.enum) return branch.enum.map((v) => JSON.stringify(v)).join(' or ');
    if (branch.type === 'string' && branch.pattern) {
      const examples = (node.examples ?? []).filter((e) => typeof e === 'string').map((e) => JSON.stringify(e));
      return examples.length > 0 ? `a duration such as ${examples.join(' or ')}` : 'a string in the expected format';
    }
    if (branch.type === 'string') return 'a command string';
    return describeType(branch);
  });
  return branches.join(' or ');
}

const PATTERN_HINTS: Record<string, string> = {
  namespace:
    'a Kubernetes name: lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63 characters',
  deployment: 'a Kubernetes name: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit',
};

/** The JSON Schema type of a value, as a oneOf branch's `type` names it. */
function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/**
 * A failed oneOf whose value is a mapping, where exactly one form is a mapping: that form's own
 * errors ("unknown key", "missing remote") say more than "must be a port or a mapping", so they
 * are kept and the oneOf error is dropped. A scalar keeps the oneOf message, which names every form.
 */
function preferBranchErrors(errors: ErrorObject[], root: unknown): ErrorObject[] {
  const dropped = new Set<ErrorObject>();
  for (const oneOf of errors.filter((e) => e.keyword === 'oneOf')) {
    const path = parsePointer(oneOf.instancePath);
    const actual = jsonType(valueAt(root, path));
    const branches = (schemaAt(schemaPathOf(path))?.oneOf ?? []).map((b, i) => ({ b, i }));
    if (actual !== 'object') continue;
    const fitting = branches.filter(({ b }) => b.type === 'object');
    if (fitting.length !== 1) continue;
    const prefix = `${oneOf.schemaPath}/${fitting[0].i}/`;
    const inside = errors.filter((e) => e.schemaPath.startsWith(prefix));
    if (inside.length === 0) continue;
    dropped.add(oneOf);
    for (const e of errors)
      if (e !== oneOf && e.schemaPath.startsWith(`${oneOf.schemaPath}/`) && !e.schemaPath.startsWith(prefix))
        dropped.add(e);
  }
  return errors.filter((e) => !dropped.has(e));
}

function schemaDiagnostics(value: unknown, document: Document, lines: LineIndex): ConfigDiagnostic[] {
  if (validateSchema(value)) return [];
  const errors = preferBranchErrors((validateSchema.errors ?? []) as ErrorObject[], value);
  const oneOfPaths = new Set(errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath));
  const seen = new Set<string>();
  const out: ConfigDiagnostic[] = [];
  for (const error of errors) {
    // A failed oneOf reports each branch's failure too; one message for the value is clearer.
    if (
      error.keyword !== 'oneOf' &&
      [...oneOfPaths].some((p) => error.instancePath === p || error.instancePath.startsWith(`${p}/`))
    )
      continue;
    const made = schemaError(error, value, document, lines);
    if (!made) continue;
    const id = `${made.code}:${made.range.start.line}:${made.range.start.character}:${made.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(made);
  }
  return out;
}

function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  let current = root;
  for (const s of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[s as string];
  }
  return current;
}

/** Range of the value at `path`; for collections and missing values, the key instead (also the language server's cluster warnings). */
export function valueRange(document: Document, lines: LineIndex, path: readonly (string | number)[]): Range {
  const found = locate(document, path);
  const valueSpan = nodeSpan(found.value);
  const isCollection = found.value && typeof found.value === 'object' && 'items' in found.value;
  if (valueSpan && valueSpan[1] > valueSpan[0] && !isCollection) return lines.range(valueSpan[0], valueSpan[1]);
  const keySpan = nodeSpan(found.key);
  if (keySpan) return lines.range(keySpan[0], keySpan[1]);
  if (valueSpan) return firstLineOf(lines, valueSpan[0], valueSpan[1]);
  return lines.lineRange(0);
}

/** Range limited to the first line of a span, so a whole mapping is not underlined. */
function firstLineOf(lines: LineIndex, start: number, end: number): Range {
  const range = lines.range(start, end);
  if (range.end.line === range.start.line) return range;
  return { start: range.start, end: { line: range.start.line, character: lines.lineText(range.start.line).length } };
}

function schemaError(
  error: ErrorObject,
  root: unknown,
  document: Document,
  lines: LineIndex,
): ConfigDiagnostic | undefined {
  const path = parsePointer(error.instancePath);
  const label = pathLabel(path);
  const node = schemaAt(schemaPathOf(path)) ?? {};
  const actual = valueAt(root, path);
  const range = () => valueRange(document, lines, path);
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String((error.params as { additionalProperty: string }).additionalProperty);
      const keyNode = locate(document, [...path, key]).key;
      const span = nodeSpan(keyNode);
      const r = span ? lines.range(span[0], span[1]) : range();
      const known = keysAt(schemaPathOf(path));
      const suggestion = closestMatch(key, known);
      const where = path.length === 0 ? 'truva.yaml' : `"${label}"`;
      const message = suggestion
        ? `Unknown key ${quote(key)} in ${where}. Did you mean "${suggestion}"?`
        : `Unknown key ${quote(key)} in ${where}. Known keys: ${known.join(', ')}.`;
      return diagnostic(
        r,
        message,
        'unknown-key',
        Severity.Error,
        suggestion ? { replacement: suggestion } : undefined,
      );
    }
    case 'required': {
      const missing = String((error.params as { missingProperty: string }).missingProperty);
      const doc = schemaAt([...schemaPathOf(path), missing])?.description ?? '';
      if (path.length === 0) {
        const r = firstLineOf(lines, 0, Math.max(0, lines.offsetAt({ line: 0, character: Number.MAX_SAFE_INTEGER })));
        return diagnostic(r, `Missing required key "${missing}". ${doc}`.trim(), 'missing-key', Severity.Error, {
          missingKeys: [missing],
          path,
        });
      }
      const found = locate(document, path);
      const span = nodeSpan(found.value);
      const r = found.key && nodeSpan(found.key) ? range() : span ? firstLineOf(lines, span[0], span[1]) : range();
      return diagnostic(
        r,
        `"${label}" is missing the required key "${missing}". ${doc}`.trim(),
        'missing-key',
        Severity.Error,
        { missingKeys: [missing], path },
      );
    }
    case 'type':
      return diagnostic(range(), `"${label}" must be ${describeType(node)}, not ${show(actual)}.`, 'wrong-type');
    case 'oneOf':
      return diagnostic(
        range(),
        `"${label}" must be ${describeOneOf(node)}, not ${show(actual)}.`,
        typeof actual === 'number' ? 'out-of-range' : 'wrong-type',
      );
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return diagnostic(range(), `"${label}" must be ${describeType(node)}, not ${show(actual)}.`, 'out-of-range');
    case 'enum':
      return diagnostic(
        range(),
        `"${label}" must be one of ${(node.enum ?? []).map((v) => JSON.stringify(v)).join(', ')}, not ${show(actual)}.`,
        'bad-value',
      );
    case 'pattern': {
      const hint = PATTERN_HINTS[String(path[path.length - 1])] ?? 'in the documented format';
      return diagnostic(range(), `"${label}" must be ${hint}, not ${show(actual)}.`, 'bad-value');
    }
    case 'minLength':
      return diagnostic(range(), `"${label}" must not be empty.`, 'bad-value');
    case 'maxLength':
      return diagnostic(
        range(),
        `"${label}" is too long (at most ${(error.params as { limit: number }).limit} characters).`,
        'bad-value',
      );
    case 'minItems':
      return diagnostic(
        range(),
        label === 'sync'
          ? '"sync" needs at least one pair, for example `- local: .` with `remote: /app`.'
          : `"${label}" needs at least ${(error.params as { limit: number }).limit} item(s).`,
        'bad-value',
      );
    default:
      return diagnostic(range(), `"${label || 'truva.yaml'}": ${error.message ?? 'invalid value'}.`, 'bad-value');
  }
}

// ---------------------------------------------------------------------------------------------
// Checks the schema cannot express

/** Why an exclude pattern can never match a synced path, or undefined. */
export function excludePatternProblem(pattern: string, rootDir: string): string | undefined {
  const body = pattern.startsWith('!') ? pattern.slice(1) : pattern;
  if (pattern.startsWith('#'))
    return `Exclude pattern ${quote(pattern)} starts with "#", so it is read as a comment and never matches. Write "\\#…" to match a name starting with "#".`;
  if (body.trim() === '') return `Exclude pattern ${quote(pattern)} is blank and never matches.`;
  if (/^[A-Za-z]:[\\/]/.test(body) || body.startsWith('\\\\'))
    return `Exclude pattern ${quote(pattern)} is a Windows path; patterns are relative to the sync folder, for example "build/".`;
  if (body.startsWith('~'))
    return `Exclude pattern ${quote(pattern)} starts with "~"; patterns are relative to the sync folder, so it never matches.`;
  if (body.split(/[\\/]/).includes('..'))
    return `Exclude pattern ${quote(pattern)} contains ".."; synced paths never do, so it never matches. Patterns are relative to the sync folder.`;
  if (body.startsWith('/')) {
    const segments = body.split('/').filter(Boolean);
    const looksLikeMachinePath = rootDir !== '' && (body.startsWith(`${rootDir}/`) || body === rootDir);
    if (
      looksLikeMachinePath ||
      (segments.length >= 2 && MACHINE_ROOTS.has(segments[0]) && !isDirectory(resolve(rootDir, segments[0])))
    ) {
      return `Exclude pattern ${quote(pattern)} looks like an absolute path on this machine; patterns are relative to the sync folder (a leading "/" anchors them there), so it never matches.`;
    }
  }
  return undefined;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function pathKind(path: string): 'dir' | 'file' | 'missing' {
  try {
    return statSync(path).isDirectory() ? 'dir' : 'file';
  } catch {
    return 'missing';
  }
}

function semanticDiagnostics(
  value: Record<string, unknown>,
  document: Document,
  lines: LineIndex,
  filePath: string,
  options: AnalyzeOptions,
): ConfigDiagnostic[] {
  const out: ConfigDiagnostic[] = [];
  const rootDir = filePath && isAbsolute(filePath) ? dirname(filePath) : '';
  const allowSystemPath = value.allowSystemPath === true;

  if (Array.isArray(value.sync)) {
    value.sync.forEach((pair: unknown, index: number) => {
      if (!pair || typeof pair !== 'object') return;
      const { local, remote } = pair as Record<string, unknown>;
      if (typeof local === 'string' && local !== '' && rootDir && !options.skipFileSystem) {
        const folder = resolveLocal(rootDir, local);
        const kind = pathKind(folder);
        if (kind === 'missing') {
          out.push(
            diagnostic(
              valueRange(document, lines, ['sync', index, 'local']),
              `Local folder ${quote(local)} does not exist (looked for ${quote(folder)}).`,
              'local-missing',
              Severity.Error,
              { folder },
            ),
          );
        } else if (kind === 'file') {
          out.push(
            diagnostic(
              valueRange(document, lines, ['sync', index, 'local']),
              `${quote(local)} is a file; a sync pair's local side must be a folder.`,
              'local-not-folder',
            ),
          );
        }
      }
      if (typeof remote === 'string' && remote !== '') {
        const problem = remotePathProblem(remote, allowSystemPath);
        if (problem)
          out.push(diagnostic(valueRange(document, lines, ['sync', index, 'remote']), problem.message, problem.code));
      }
    });
  }

  if (Array.isArray(value.exclude)) {
    value.exclude.forEach((pattern: unknown, index: number) => {
      if (typeof pattern !== 'string' || pattern === '') return;
      const problem = excludePatternProblem(pattern, rootDir);
      if (problem)
        out.push(
          diagnostic(
            valueRange(document, lines, ['exclude', index]),
            problem,
            'exclude-never-matches',
            Severity.Warning,
          ),
        );
    });
  }

  if (typeof value.debounce === 'string') {
    const ms = durationToMs(value.debounce);
    const max = schemaAt(['debounce'])?.oneOf?.find((b) => b.maximum !== undefined)?.maximum ?? 60_000;
    if (ms !== undefined && ms > max) {
      out.push(
        diagnostic(
          valueRange(document, lines, ['debounce']),
          `"debounce" of ${value.debounce} is too long: at most ${max / 1000}s.`,
          'out-of-range',
        ),
      );
    }
  }

  if (portsAreValid(value.ports) && debugIsValid(value.debug)) {
    for (const problem of portProblems(value.ports as PortEntry[] | undefined, value.debug as DebugEntry | undefined)) {
      out.push(
        diagnostic(
          valueRange(document, lines, problem.path),
          problem.message,
          problem.code,
          problem.severity === 'error' ? Severity.Error : Severity.Warning,
        ),
      );
    }
  }

  const debug = debugIsValid(value.debug) ? resolveDebug(value.debug as DebugEntry | undefined) : undefined;
  const run = value.run;
  if (
    debug?.runtime === 'node' &&
    (typeof run === 'string' || (Array.isArray(run) && run.length > 0 && run.every((x) => typeof x === 'string')))
  ) {
    const problem = inspectorProblem(runToArgv(run as string | string[]), debug.port);
    if (problem)
      out.push(diagnostic(valueRange(document, lines, ['run']), problem, 'inspector-unreachable', Severity.Warning));
  }

  if (value.restart === 'command' && value.restartCommand === undefined) {
    out.push(
      diagnostic(
        valueRange(document, lines, ['restart']),
        '`restart: command` needs `restartCommand`: the shell command to run in each pod after a sync.',
        'restart-command-missing',
      ),
    );
  }
  return out;
}

const isPort = (v: unknown, min = 1) => Number.isInteger(v) && (v as number) >= min && (v as number) <= 65535;

/** `ports` passes the schema (the port checks only look at valid values; the schema reports the rest). */
function portsAreValid(ports: unknown): boolean {
  return (
    ports === undefined ||
    (Array.isArray(ports) &&
      ports.every(
        (p) =>
          isPort(p) ||
          (p &&
            typeof p === 'object' &&
            isPort((p as any).remote) &&
            ((p as any).local === undefined || isPort((p as any).local, 0))),
      ))
  );
}

function debugIsValid(debug: unknown): boolean {
  if (debug === undefined || typeof debug === 'boolean' || debug === 'all') return true;
  if (!debug || typeof debug !== 'object') return false;
  const d = debug as Record<string, unknown>;
  return (d.port === undefined || isPort(d.port)) && (d.local === undefined || isPort(d.local, 0));
}

/** Schema errors in settings that supply defaults (VS Code settings, the seed config). */
export function validateSettingsValue(settings: unknown): { path: string; message: string }[] {
  if (validateSettingsSchema(settings)) return [];
  return ((validateSettingsSchema.errors ?? []) as ErrorObject[]).map((e) => {
    const path = parsePointer(e.instancePath);
    const extra =
      e.keyword === 'additionalProperties' ? `.${(e.params as { additionalProperty: string }).additionalProperty}` : '';
    return { path: `${pathLabel(path)}${extra}`, message: e.message ?? 'invalid value' };
  });
}
