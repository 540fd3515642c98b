// Finding nodes in a parsed truva.yaml by path, so every problem points at the exact key or value.
import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type Node, type Pair } from 'yaml';

export interface Located {
  /** The key node of the pair holding the value (absent for sequence items and the root). */
  key?: Node;
  /** The value node (absent when the key has no value). */
  value?: Node | null;
}

function keyText(pair: Pair): string | undefined {
  const key = pair.key;
  if (isScalar(key)) return String(key.value);
  if (key === null || key === undefined) return undefined;
  return typeof key === 'object' ? undefined : String(key);
}

/** The map pair whose key is `name`, or undefined. */
export function findPair(map: unknown, name: string): Pair | undefined {
  if (!isMap(map)) return undefined;
  return map.items.find((item) => keyText(item) === name);
}

/** Walks from the document root along `path`; stops (returning what it found) at aliases and misses. */
export function locate(doc: Document, path: readonly (string | number)[]): Located {
  let current: Located = { value: doc.contents as Node | null };
  for (const segment of path) {
    const node = current.value;
    if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      if (!item) return current;
      current = { value: item as Node };
    } else if (isMap(node)) {
      const pair = findPair(node, String(segment));
      if (!pair) return current;
      current = { key: pair.key as Node, value: pair.value as Node | null };
    } else {
      return current;
    }
  }
  return current;
}

/** [start, end] offsets of a node, or undefined when the node has none. */
export function nodeSpan(node: unknown): [number, number] | undefined {
  const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
  if (!range) return undefined;
  return [range[0], range[1]];
}

/**
 * The deepest nesting of collections, counted without recursion so a hostile document cannot
 * overflow the stack; stops counting past `limit`.
 */
export function nestingDepth(root: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (isMap(node) || isSeq(node)) {
      deepest = Math.max(deepest, depth);
      if (deepest > limit) return deepest;
      for (const item of node.items as unknown[]) {
        if (isPair(item)) {
          stack.push([item.key, depth + 1], [item.value, depth + 1]);
        } else {
          stack.push([item, depth + 1]);
        }
      }
    } else if (isPair(node)) {
      stack.push([node.key, depth], [node.value, depth]);
    }
  }
  return deepest;
}

/** The first alias node, used to point at an alias bomb. */
export function firstAlias(root: unknown): Node | undefined {
  const stack: unknown[] = [root];
  let visited = 0;
  while (stack.length > 0 && visited++ < 100_000) {
    const node = stack.pop();
    if (isAlias(node)) return node;
    if (isMap(node) || isSeq(node)) stack.push(...(node.items as unknown[]).slice().reverse());
    else if (isPair(node)) stack.push(node.value, node.key);
  }
  return undefined;
}

/** Cheap pre-parse guard: the deepest `[`/`{` nesting, over-counting inside quoted strings. */
export function bracketDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 91 || c === 123) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if ((c === 93 || c === 125) && depth > 0) {
      depth--;
    }
  }
  return deepest;
}

/**
 * Cheap pre-parse guard for block nesting: a stack of indentation levels plus compact
 * "- - -" indicators on one line, so the parser never recurses past what a config needs.
 */
export function blockDepth(text: string, limit: number): number {
  const indents: number[] = [];
  let deepest = 0;
  let lineStart = 0;
  while (lineStart <= text.length) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd === -1) lineEnd = text.length;
    let i = lineStart;
    while (i < lineEnd && text.charCodeAt(i) === 32) i++;
    const indent = i - lineStart;
    if (i < lineEnd && text.charCodeAt(i) !== 35 && text.charCodeAt(i) !== 13) {
      while (indents.length > 0 && indents[indents.length - 1] >= indent) indents.pop();
      indents.push(indent);
      let compact = 0;
      while (
        i + 1 < lineEnd &&
        (text.charCodeAt(i) === 45 || text.charCodeAt(i) === 63) &&
        text.charCodeAt(i + 1) === 32
      ) {
        compact++;
        i += 2;
        while (i < lineEnd && text.charCodeAt(i) === 32) i++;
      }
      deepest = Math.max(deepest, indents.length + compact);
      if (deepest > limit) return deepest;
    }
    lineStart = lineEnd + 1;
  }
  return deepest;
}
