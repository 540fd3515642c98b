// Hover: a key's documentation from the schema; on the deployment's name, what the cluster says
// of it (replicas, ready, containers).
import { MarkupKind, type Hover } from 'vscode-languageserver';
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import { keyDocumentation } from '../core/config';
import type { ServerParts } from './serverParts';

export function registerHover({ connection, documents, states, cluster }: ServerParts): void {
  connection.onHover(async (params): Promise<Hover | null> => {
    const state = states.get(params.textDocument.uri);
    const document = documents.get(params.textDocument.uri);
    if (!state?.analysis.document || !document) return null;
    const offset = document.offsetAt(params.position);
    const target = hoverTarget(state.analysis.document.contents as Node | null, offset);
    if (!target) return null;
    const schemaPath = target.path.map((s) => (typeof s === 'number' ? '[]' : s));
    const lines = state.analysis.lines;
    if (
      target.onValue &&
      schemaPath.length === 1 &&
      schemaPath[0] === 'deployment' &&
      typeof target.value === 'string'
    ) {
      const info = await cluster.for(state);
      const deployment = info?.deployments?.find((d) => d.name === target.value);
      if (deployment) {
        const ready = deployment.readyReplicas !== undefined ? ` (${deployment.readyReplicas} ready)` : '';
        return {
          contents: {
            kind: MarkupKind.Markdown,
            value: `**${deployment.name}** in \`${info!.namespace}\`\n\nReplicas: ${deployment.replicas}${ready}\n\nContainers: ${deployment.containers.map((c) => `\`${c}\``).join(', ')}`,
          },
          range: lines.range(target.span[0], target.span[1]),
        };
      }
    }
    const docs = keyDocumentation(schemaPath.filter((s, i) => !(s === '[]' && i === schemaPath.length - 1)));
    if (!docs) return null;
    return {
      contents: {
        kind: MarkupKind.Markdown,
        value: `**${target.path.filter((s) => typeof s === 'string').join('.')}**\n\n${docs}`,
      },
      range: lines.range(target.span[0], target.span[1]),
    };
  });
}

interface HoverTarget {
  path: (string | number)[];
  span: [number, number];
  onValue: boolean;
  value?: unknown;
}

/** The key or scalar value under `offset`, with its path; bounded depth, no recursion on hostile input. */
function hoverTarget(root: Node | null, offset: number): HoverTarget | undefined {
  let node: unknown = root;
  const path: (string | number)[] = [];
  for (let depth = 0; depth < 16; depth++) {
    if (isMap(node)) {
      const pair = node.items.find((p) => {
        const k = (p.key as Node | null)?.range;
        const v = (p.value as Node | null)?.range;
        return (k && offset >= k[0] && offset <= k[1]) || (v && offset >= v[0] && offset <= v[2]);
      });
      if (!pair || !isScalar(pair.key)) return undefined;
      const k = pair.key.range!;
      path.push(String(pair.key.value));
      if (offset >= k[0] && offset <= k[1]) return { path, span: [k[0], k[1]], onValue: false };
      node = pair.value;
    } else if (isSeq(node)) {
      const index = node.items.findIndex((item) => {
        const r = (item as Node | null)?.range;
        return r && offset >= r[0] && offset <= r[2];
      });
      if (index < 0) return undefined;
      path.push(index);
      node = node.items[index];
    } else if (isScalar(node) && node.range) {
      return { path, span: [node.range[0], node.range[1]], onValue: true, value: node.value };
    } else {
      return undefined;
    }
  }
  return undefined;
}
