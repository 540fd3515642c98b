// Measuring instruments for the reliability runs: the event loop's longest stall, and a search
// for a secret (the sandbox's bearer token) in every place Truva writes to.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Starts sampling the event loop; `stop()` returns the longest stall seen, in milliseconds. */
export function watchEventLoop(): { stop(): number } {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  return {
    stop() {
      histogram.disable();
      return histogram.max / 1e6;
    },
  };
}

/** Counts the files (and strings) under the given places that contain `secret`. */
export function countLeaks(secret: string, places: { files?: string[]; texts?: string[] }): number {
  let leaks = 0;
  const scan = (path: string) => {
    if (!existsSync(path)) return;
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path)) scan(join(path, name));
    } else if (readFileSync(path).includes(secret)) leaks++;
  };
  for (const file of places.files ?? []) scan(file);
  for (const text of places.texts ?? []) if (text.includes(secret)) leaks++;
  return leaks;
}
