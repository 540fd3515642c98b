// Reads keys, types, defaults and docs out of schema/truva.schema.json, the single source the
// validator, the completion and the hover all draw from.
import schemaJson from '../../../schema/truva.schema.json';

export interface SchemaNode {
  type?: string | string[];
  description?: string;
  default?: unknown;
  examples?: unknown[];
  enum?: unknown[];
  properties?: Record<string, SchemaNode>;
  required?: string[];
  items?: SchemaNode;
  oneOf?: SchemaNode[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  minItems?: number;
  pattern?: string;
  additionalProperties?: boolean;
}

export const truvaSchema = schemaJson as unknown as SchemaNode & { required: string[] };

/** Path segments: keys, or numbers / '[]' for sequence items. */
export type SchemaPath = readonly (string | number)[];

/** A node and its oneOf branches: a value may take any of the forms (`ports: [8080, {remote: 8080}]`). */
function forms(node: SchemaNode): SchemaNode[] {
  return [node, ...(node.oneOf ?? [])];
}

/** The schema node describing the value at `path`, or undefined when the path leaves the schema. */
export function schemaAt(path: SchemaPath): SchemaNode | undefined {
  let node: SchemaNode | undefined = truvaSchema;
  for (const segment of path) {
    if (!node) return undefined;
    const branches = forms(node);
    if (typeof segment === 'number' || segment === '[]') {
      node = branches.find((b) => b.items)?.items;
    } else {
      node = branches.find((b) => b.properties?.[segment])?.properties?.[segment];
    }
  }
  return node;
}

/** Keys allowed in the mapping at `path` (empty when it is not a mapping). */
export function keysAt(path: SchemaPath): string[] {
  const node = schemaAt(path);
  return node ? forms(node).flatMap((b) => Object.keys(b.properties ?? {})) : [];
}

/** Values worth offering for the value at `path`: every enum value and true/false, across its forms. */
export function suggestedValues(path: SchemaPath): string[] {
  const node = schemaAt(path);
  if (!node) return [];
  const values = forms(node).flatMap((b) => [
    ...(b.enum ?? []).map(String),
    ...(b.type === 'boolean' ? ['true', 'false'] : []),
  ]);
  return [...new Set(values)];
}

/** Markdown documentation of a key: its description, allowed values and default. */
export function keyDocumentation(path: SchemaPath): string | undefined {
  const node = schemaAt(path);
  if (!node) return undefined;
  const parts: string[] = [];
  if (node.description) parts.push(node.description);
  if (node.enum) parts.push(`Values: ${node.enum.map((v) => `\`${String(v)}\``).join(', ')}.`);
  const range = describeRange(node);
  if (range) parts.push(range);
  if (node.default !== undefined) parts.push(`Default: \`${JSON.stringify(node.default)}\`.`);
  const required =
    path.length > 0 && (schemaAt(path.slice(0, -1))?.required ?? []).includes(String(path[path.length - 1]));
  if (required) parts.push('Required.');
  return parts.join('\n\n');
}

function describeRange(node: SchemaNode): string | undefined {
  if (node.minimum !== undefined && node.maximum !== undefined) return `From ${node.minimum} to ${node.maximum}.`;
  if (node.minimum !== undefined) return `At least ${node.minimum}.`;
  if (node.maximum !== undefined) return `At most ${node.maximum}.`;
  return undefined;
}

/** Default value declared in the schema at `path`. */
export function schemaDefault<T>(path: SchemaPath): T {
  return schemaAt(path)?.default as T;
}
