// Where two observations differ, as "path: sandbox=... kubernetes=..." lines.
export function differences(
  a: unknown,
  b: unknown,
  path = '',
): { path: string; sandbox: unknown; kubernetes: unknown }[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const bothObjects = a && b && typeof a === 'object' && typeof b === 'object';
  if (
    !bothObjects ||
    Array.isArray(a) !== Array.isArray(b) ||
    (Array.isArray(a) && a.length !== (b as unknown[]).length)
  )
    return [{ path, sandbox: a, kubernetes: b }];
  const keys = [...new Set([...Object.keys(a as object), ...Object.keys(b as object)])].sort();
  return keys.flatMap((k) => differences((a as any)[k], (b as any)[k], path ? `${path}.${k}` : k));
}
