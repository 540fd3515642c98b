// Where the cursor is in a truva.yaml that may be half written: read from indentation, not from
// the parse tree, because the line being typed is usually not valid YAML yet.

export interface CursorContext {
  kind: 'key' | 'value';
  /** Path of the mapping holding the key, '[]' for sequence items: [], ['logs'], ['sync', '[]']. */
  path: string[];
  /** The key whose value is being typed (kind 'value'). */
  key?: string;
  /** What is typed so far of the key or value, and where it starts on the line. */
  prefix: string;
  prefixStart: number;
}

interface LineInfo {
  indent: number;
  dashed: boolean;
  /** Column where the key starts (after "- " for items). */
  keyIndent: number;
  key?: string;
  /** The key has nothing after its colon, so its children follow on the next lines. */
  opensBlock: boolean;
  blank: boolean;
}

function info(line: string): LineInfo {
  const match = /^( *)(- +)?(?:([A-Za-z_][\w.-]*)\s*:(?:\s+(.*))?\s*$)?/.exec(line) ?? [
    '',
    '',
    undefined,
    undefined,
    undefined,
  ];
  const indent = match[1]?.length ?? 0;
  const dashed = match[2] !== undefined;
  const rest = line.slice(indent).trim();
  const blank = rest === '' || rest.startsWith('#');
  const value = match[4]?.trim() ?? '';
  return {
    indent,
    dashed,
    keyIndent: indent + (match[2]?.length ?? 0),
    key: match[3],
    opensBlock: match[3] !== undefined && (value === '' || value.startsWith('#')),
    blank,
  };
}

/** Path of the mapping that holds keys at column `column`, looking upward from line `row`. */
function containerPath(lines: string[], row: number, column: number, dashedAt?: number): string[] {
  if (dashedAt !== undefined) return [...sequenceOwner(lines, row, dashedAt), '[]'];
  for (let i = row - 1; i >= 0; i--) {
    const l = info(lines[i]);
    if (l.blank) continue;
    if (l.dashed && l.keyIndent === column) return [...sequenceOwner(lines, i, l.indent), '[]'];
    if (l.dashed && l.indent < column && column > l.keyIndent)
      return [...containerPath(lines, i, l.keyIndent, l.indent), ...(l.key ? [l.key] : [])];
    if (!l.dashed && l.indent < column) return l.key ? [...containerPath(lines, i, l.indent), l.key] : [];
    if (l.dashed && l.indent < column) return [...sequenceOwner(lines, i, l.indent), '[]'];
  }
  return [];
}

/** Path of the key whose value is the sequence with items ("- ") at column `dashIndent`. */
function sequenceOwner(lines: string[], row: number, dashIndent: number): string[] {
  for (let i = row - 1; i >= 0; i--) {
    const l = info(lines[i]);
    if (l.blank) continue;
    if (l.dashed && l.indent === dashIndent) continue;
    if (l.indent > dashIndent) continue;
    if (l.key && l.opensBlock) return [...containerPath(lines, i, l.keyIndent, l.dashed ? l.indent : undefined), l.key];
    return [];
  }
  return [];
}

export function cursorContext(text: string, line: number, character: number): CursorContext {
  const lines = text.split(/\r?\n/);
  const current = (lines[line] ?? '').slice(0, character);
  const valueMatch = /^( *)(- +)?([A-Za-z_][\w.-]*)\s*:\s*(.*)$/.exec(current);
  if (valueMatch) {
    const indent = valueMatch[1].length;
    const keyIndent = indent + (valueMatch[2]?.length ?? 0);
    const path = containerPath(lines, line, keyIndent, valueMatch[2] ? indent : undefined);
    const raw = valueMatch[4];
    const unquoted = raw.replace(/^["']/, '');
    return { kind: 'value', path, key: valueMatch[3], prefix: unquoted, prefixStart: current.length - unquoted.length };
  }
  const keyMatch = /^( *)(- +)?([A-Za-z_][\w.-]*)?$/.exec(current);
  if (keyMatch) {
    const indent = keyMatch[1].length;
    const keyIndent = indent + (keyMatch[2]?.length ?? 0);
    const path = containerPath(lines, line, keyIndent, keyMatch[2] ? indent : undefined);
    const prefix = keyMatch[3] ?? '';
    return { kind: 'key', path, prefix, prefixStart: keyIndent };
  }
  // Inside a list of values, e.g. "  - node_modules/" under exclude.
  const itemMatch = /^( *)- +(.*)$/.exec(current);
  if (itemMatch) {
    return {
      kind: 'value',
      path: sequenceOwner(lines, line, itemMatch[1].length),
      key: '[]',
      prefix: itemMatch[2],
      prefixStart: current.length - itemMatch[2].length,
    };
  }
  return { kind: 'value', path: [], prefix: '', prefixStart: character };
}
