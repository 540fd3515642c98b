// A LabelSelector (matchLabels and matchExpressions) as the API's query string and as a matcher,
// with the semantics of apimachinery's LabelSelectorAsSelector. Every place that finds a
// deployment's pods goes through here: reading only matchLabels turns a selector made of
// expressions into "" (every pod of the namespace).

export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/** The selector cannot be used: empty (it would select every pod) or malformed. */
export class SelectorError extends Error {
  override name = 'SelectorError';
}

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

function requirements(selector: LabelSelector | undefined, owner: string): LabelSelectorRequirement[] {
  const reqs: LabelSelectorRequirement[] = Object.entries(selector?.matchLabels ?? {}).map(([key, value]) => ({
    key,
    operator: 'In',
    values: [value],
  }));
  for (const e of selector?.matchExpressions ?? []) {
    if (!OPERATORS.includes(e.operator))
      throw new SelectorError(
        `The selector of ${owner} has the operator "${e.operator}" for key "${e.key}", which is not a label selector operator (In, NotIn, Exists, DoesNotExist).`,
      );
    const values = e.values ?? [];
    if ((e.operator === 'In' || e.operator === 'NotIn') && values.length === 0)
      throw new SelectorError(`The selector of ${owner} has "${e.key} ${e.operator}" with no values.`);
    reqs.push({ key: e.key, operator: e.operator, values });
  }
  if (reqs.length === 0)
    throw new SelectorError(
      `${owner} has an empty pod selector, which would select every pod in its namespace; Truva refuses to sync into or restart pods it cannot tell apart. Give the deployment a spec.selector (matchLabels or matchExpressions).`,
    );
  return reqs;
}

/** The `labelSelector` query parameter: `a=b,c in (x,y),d notin (z),e,!f` (keys sorted, as the API prints it). */
export function selectorQuery(selector: LabelSelector | undefined, owner = 'The deployment'): string {
  return requirements(selector, owner)
    .sort((a, b) => a.key.localeCompare(b.key))
    .map((r) => {
      const values = [...(r.values ?? [])].sort();
      switch (r.operator) {
        case 'In':
          return values.length === 1 ? `${r.key}=${values[0]}` : `${r.key} in (${values.join(',')})`;
        case 'NotIn':
          return `${r.key} notin (${values.join(',')})`;
        case 'Exists':
          return r.key;
        default:
          return `!${r.key}`;
      }
    })
    .join(',');
}

/** A matcher for objects' labels; throws SelectorError like selectorQuery. */
export function selectorMatcher(
  selector: LabelSelector | undefined,
  owner = 'The deployment',
): (labels: Record<string, string> | undefined) => boolean {
  const reqs = requirements(selector, owner);
  return (labels) => {
    const l = labels ?? {};
    return reqs.every((r) => {
      const has = Object.prototype.hasOwnProperty.call(l, r.key);
      switch (r.operator) {
        case 'In':
          return has && r.values!.includes(l[r.key]);
        case 'NotIn':
          return !has || !r.values!.includes(l[r.key]);
        case 'Exists':
          return has;
        default:
          return !has;
      }
    });
  };
}
