// Label and field selectors with the API's syntax: `a=b,c!=d,e in (x,y),f notin (z),g,!h`.
type Requirement = (labels: Record<string, string>) => boolean;

function splitTopLevel(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter(Boolean);
}

function requirement(term: string): Requirement {
  let m = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
  if (m) {
    const [, key, op, list] = m;
    const values = new Set(list.split(',').map((v) => v.trim()));
    return op === 'in' ? (l) => key in l && values.has(l[key]) : (l) => !(key in l) || !values.has(l[key]);
  }
  m = /^([^\s!=]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
  if (m) {
    const [, key, op, value] = m;
    return op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value;
  }
  if (term.startsWith('!')) {
    const key = term.slice(1).trim();
    return (l) => !(key in l);
  }
  if (/^[^\s!=(),]+$/.test(term)) return (l) => term in l;
  throw new Error(`unable to parse requirement: ${term}`);
}

export function labelMatcher(
  selector: string | null | undefined,
): (labels: Record<string, string> | undefined) => boolean {
  if (!selector) return () => true;
  const requirements = splitTopLevel(selector).map(requirement);
  return (labels) => requirements.every((r) => r(labels ?? {}));
}

/** Field selectors on the fields the real API supports for pods: metadata.name, metadata.namespace, status.phase, spec.nodeName. */
export function fieldMatcher(selector: string | null | undefined): (obj: any) => boolean {
  if (!selector) return () => true;
  const checks = splitTopLevel(selector).map((term) => {
    const m = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw new Error(`invalid field selector: ${term}`);
    const [, field, op, value] = m;
    const get = (obj: any) => field.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj) ?? '';
    return op === '!=' ? (obj: any) => get(obj) !== value : (obj: any) => get(obj) === value;
  });
  return (obj) => checks.every((c) => c(obj));
}

/** The selector a Deployment or ReplicaSet spec carries, as a matcher. */
export function specSelectorMatcher(
  selector:
    | {
        matchLabels?: Record<string, string>;
        matchExpressions?: { key: string; operator: string; values?: string[] }[];
      }
    | undefined,
) {
  const labels = Object.entries(selector?.matchLabels ?? {});
  const expressions = selector?.matchExpressions ?? [];
  return (objLabels: Record<string, string> | undefined) => {
    const l = objLabels ?? {};
    return (
      labels.every(([k, v]) => l[k] === v) &&
      expressions.every((e) => {
        switch (e.operator) {
          case 'In':
            return k(l, e.key) && (e.values ?? []).includes(l[e.key]);
          case 'NotIn':
            return !k(l, e.key) || !(e.values ?? []).includes(l[e.key]);
          case 'Exists':
            return k(l, e.key);
          case 'DoesNotExist':
            return !k(l, e.key);
          default:
            return false;
        }
      })
    );
  };
}

const k = (l: Record<string, string>, key: string) => Object.prototype.hasOwnProperty.call(l, key);
