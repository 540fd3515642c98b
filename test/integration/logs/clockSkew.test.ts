// The log panel decides per pod whether to show its whole log (a pod that started after the
// panel) or a tail (one that ran before): that compares the pod's creationTimestamp, written
// by the server's clock, with the moment the panel started. With the laptop's clock 30 s off
// the cluster's, either way, the decision must still be right.
import { strict as assert } from 'node:assert';
import { startSandbox, type Sandbox } from '../../../sandbox';
import { webDeployment } from '../../../sandbox/seed';
import { Cluster } from '../../../src/core/kube/cluster';
import { LogAggregator } from '../../../src/core/logs/aggregator';
import { clusterLogSource } from '../../../src/core/logs/clusterSource';
import { waitFor, waitForRollout } from '../../helpers/sandbox';

const LINES = 40;
const TAIL = 5;

function printer(name: string, replicas: number): any {
  const d = webDeployment(name, replicas);
  const c = d.spec.template.spec.containers[0];
  c.command = ['sh', '-c', `i=0; while [ $i -lt ${LINES} ]; do echo "line $i"; i=$((i+1)); done; exec sleep 100000`];
  delete c.readinessProbe;
  delete c.livenessProbe;
  return d;
}

for (const skewMs of [30_000, -30_000]) {
  describe(`logs with the cluster clock ${skewMs > 0 ? 'ahead of' : 'behind'} the local one by ${Math.abs(skewMs) / 1000} s`, function () {
    this.timeout(120_000);
    let sandbox: Sandbox;
    let cluster: Cluster;

    before(async () => {
      // Pinned to the sandbox control plane: only its API server and node can run on a skewed
      // clock (kube-apiserver and etcd take this machine's time, and nothing here may change it).
      sandbox = await startSandbox({
        controlPlane: 'sandbox',
        seed: false,
        restartBackoffMs: 500,
        clockSkewMs: skewMs,
      });
      cluster = new Cluster({ kubeconfigPath: sandbox.kubeconfigPath });
    });
    after(async () => {
      cluster.dispose();
      await sandbox.stop();
    });

    it('a pod that ran before the panel shows a tail, one started after it its whole log', async () => {
      await cluster.createDeployment(printer('before', 1), { namespace: 'demo' });
      await waitForRollout(sandbox, 'before');
      const aggregator = new LogAggregator({
        source: clusterLogSource(cluster),
        namespace: 'demo',
        labelSelector: 'app in (before,after)',
        tailLines: TAIL,
      });
      const lines = (app: string) => aggregator.lines().filter((l) => l.kind === 'log' && l.pod.startsWith(`${app}-`));
      try {
        // The old pod has written everything before the panel starts.
        await waitFor(
          async () => {
            const pod = (await cluster.listPods('app=before', 'demo'))[0];
            const log = await cluster.followLogs(
              pod.metadata!.name!,
              'web',
              { follow: false },
              new AbortController().signal,
              'demo',
            );
            let text = '';
            for await (const chunk of log) text += chunk.toString();
            return text.includes(`line ${LINES - 1}`);
          },
          20_000,
          'the old pod to print its lines',
        );
        // creationTimestamp has whole seconds and the decision allows one: be clearly older than that.
        await new Promise((r) => setTimeout(r, 2_500));
        aggregator.start();
        await waitFor(() => lines('before').length >= TAIL, 20_000, 'the tail of the old pod');
        await cluster.createDeployment(printer('after', 1), { namespace: 'demo' });
        await waitFor(() => lines('after').length >= LINES, 20_000, 'the whole log of the new pod');
        await new Promise((r) => setTimeout(r, 500));
        assert.equal(lines('before').length, TAIL, 'the old pod: only the tail');
        assert.equal(lines('after').length, LINES, 'the new pod: every line');
      } finally {
        aggregator.stop();
      }
    });
  });
}
