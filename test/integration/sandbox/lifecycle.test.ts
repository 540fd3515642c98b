// stop() must leave nothing running: the sandbox starts real processes on the test machine.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { startSandbox } from '../../../sandbox';
import { waitFor } from '../../helpers/sandbox';

describe('sandbox lifecycle', function () {
  this.timeout(60_000);

  function descendants(pid: number): number[] {
    const children = new Map<number, number[]>();
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const ppid = Number(
          readFileSync(`/proc/${entry}/stat`, 'utf8')
            .replace(/^.*\) /, '')
            .split(' ')[1],
        );
        children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
      } catch {}
    }
    const out: number[] = [];
    const walk = (p: number) =>
      (children.get(p) ?? []).forEach((c) => {
        out.push(c);
        walk(c);
      });
    walk(pid);
    return out;
  }

  it('stop() leaves no process behind', async () => {
    const before = new Set(descendants(process.pid));
    const sandbox = await startSandbox();
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(sandbox.kubeconfigPath);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await waitFor(
      async () =>
        (await core.listNamespacedPod({ namespace: 'demo' })).items.filter((p) => p.status?.phase === 'Running')
          .length === 3,
      20_000,
      'seeded pods running',
    );
    assert.ok(sandbox.runtime.livePids().length >= 3);
    await sandbox.stop();
    const left = descendants(process.pid).filter((p) => !before.has(p));
    const names = left.map((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ');
      } catch {
        return String(p);
      }
    });
    assert.deepEqual(
      names.filter((n) => !/esbuild|tsx/.test(n)),
      [],
    );
    assert.deepEqual(sandbox.runtime.livePids(), []);
  });
});
