// The one polling helper of the test suites. Dependency-free, so the extension-host suites
// (bundled into VS Code's extension host) can use it as well as the Node-side suites.

/** Polls until fn returns something truthy (a throw counts as "not yet"), or fails naming `what` and the last error. */
export async function until<T>(
  what: string,
  fn: () => T | Promise<T>,
  timeoutMs = 60_000,
  intervalMs = 200,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await fn();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
