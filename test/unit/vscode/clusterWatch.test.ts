import { strict as assert } from 'node:assert';
import { KubeError } from '../../../src/core/kube/errors';
import type { Deployment, Pod, WatchEvent } from '../../../src/core/kube/types';
import { ClusterWatch, type WatchedCluster } from '../../../src/vscode/clusterWatch';

type OnError = (error: KubeError, info: { retrying: boolean }) => void;

/** A cluster whose watch events, watch errors and list answer the test hands out itself. */
function fakeCluster() {
  const list: { resolve?: () => void; reject?: (e: unknown) => void } = {};
  const handlers: { deployments?: (e: WatchEvent<Deployment>) => void; pods?: (e: WatchEvent<Pod>) => void } = {};
  const errors: OnError[] = [];
  let stopped = 0;
  const cluster: WatchedCluster = {
    watchDeployments: (_selector, onEvent, onError) => {
      handlers.deployments = onEvent;
      errors.push(onError);
      return { stop: () => void stopped++ };
    },
    watchPods: (_selector, onEvent, onError) => {
      handlers.pods = onEvent;
      errors.push(onError);
      return { stop: () => void stopped++ };
    },
    watchReplicaSets: (_selector, _onEvent, onError) => {
      errors.push(onError);
      return { stop: () => void stopped++ };
    },
    listDeployments: () =>
      new Promise((resolve, reject) => {
        list.resolve = () => resolve([]);
        list.reject = reject;
      }),
  };
  return {
    cluster,
    list,
    handlers,
    errors,
    get stopped() {
      return stopped;
    },
  };
}

const unreachable = () => new KubeError('unreachable', 'Cannot reach the Kubernetes API at https://127.0.0.1:1');
const web: Deployment = { metadata: { name: 'web' } } as Deployment;

describe('ClusterWatch (the Cluster view’s state)', () => {
  const log = { warnings: [] as string[], warn: (m: string) => log.warnings.push(m), debug: () => {} };

  it('a late failure of the cluster followed before does not change the state of the current one', async () => {
    const watch = new ClusterWatch(log, () => {});
    const refused = fakeCluster();
    watch.follow(refused.cluster);
    refused.errors[0](unreachable(), { retrying: true });
    assert.equal(watch.state, 'unreachable');

    const sandbox = fakeCluster();
    watch.follow(sandbox.cluster);
    assert.equal(refused.stopped, 3, 'the watches of the cluster before are stopped');
    sandbox.handlers.deployments!({ type: 'ADDED', object: web });
    assert.equal(watch.state, 'ok');
    // The first cluster's list was still retrying when the view switched; it fails now.
    refused.list.reject!(unreachable());
    refused.errors[1](unreachable(), { retrying: true });
    refused.handlers.pods!({ type: 'ADDED', object: { metadata: { name: 'stale' } } as Pod });
    await new Promise((r) => setImmediate(r));
    assert.equal(watch.state, 'ok');
    assert.deepEqual([...watch.deployments.keys()], ['web']);
    assert.deepEqual([...watch.pods.keys()], []);
  });

  it('says each distinct problem once until the cluster answers, then says it again', () => {
    log.warnings.length = 0;
    const watch = new ClusterWatch(log, () => {});
    const c = fakeCluster();
    watch.follow(c.cluster);
    for (let i = 0; i < 3; i++) c.errors[0](unreachable(), { retrying: true });
    assert.equal(log.warnings.length, 1);
    c.handlers.deployments!({ type: 'ADDED', object: web });
    c.errors[0](unreachable(), { retrying: true });
    assert.equal(log.warnings.length, 2);
  });

  it('reports state changes apart from object changes, and forbidden as its own state', async () => {
    const changes: boolean[] = [];
    const watch = new ClusterWatch(log, (stateChanged) => changes.push(stateChanged));
    const c = fakeCluster();
    watch.follow(c.cluster);
    c.list.resolve!();
    await new Promise((r) => setImmediate(r));
    assert.equal(watch.state, 'ok');
    c.handlers.pods!({ type: 'ADDED', object: { metadata: { name: 'web-1' } } as Pod });
    c.errors[1](new KubeError('forbidden', 'RBAC refused'), { retrying: false });
    assert.equal(watch.state, 'forbidden');
    assert.deepEqual(changes, [false, true, false, true], 'follow, the list answers, a pod, forbidden');
    watch.follow(undefined);
    assert.equal(watch.state, 'noKubeconfig');
    assert.equal(watch.pods.size, 0);
  });
});
