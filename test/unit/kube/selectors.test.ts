import { strict as assert } from 'node:assert';
import { podsOwnedBy } from '../../../src/core/kube/deploymentPods';
import { SelectorError, selectorMatcher, selectorQuery } from '../../../src/core/kube/selectors';

describe('label selectors', () => {
  const selector = {
    matchLabels: { app: 'web' },
    matchExpressions: [
      { key: 'tier', operator: 'In', values: ['front', 'api'] },
      { key: 'canary', operator: 'DoesNotExist' },
      { key: 'env', operator: 'NotIn', values: ['prod'] },
      { key: 'team', operator: 'Exists' },
    ],
  };

  it('turns matchLabels and every matchExpressions operator into the API query, keys sorted', () => {
    assert.equal(selectorQuery(selector), 'app=web,!canary,env notin (prod),team,tier in (api,front)');
    assert.equal(selectorQuery({ matchExpressions: [{ key: 'app', operator: 'In', values: ['x'] }] }), 'app=x');
  });

  it('matches labels as the API does', () => {
    const m = selectorMatcher(selector);
    assert.equal(m({ app: 'web', tier: 'api', team: 'a' }), true);
    assert.equal(m({ app: 'web', tier: 'api', team: 'a', env: 'dev' }), true);
    assert.equal(m({ app: 'web', tier: 'api', team: 'a', env: 'prod' }), false);
    assert.equal(m({ app: 'web', tier: 'api', team: 'a', canary: '' }), false);
    assert.equal(m({ app: 'web', tier: 'db', team: 'a' }), false);
    assert.equal(m({ app: 'web', tier: 'api' }), false);
    assert.equal(m(undefined), false);
  });

  it('refuses an empty selector and a malformed one with a clear message', () => {
    for (const empty of [undefined, {}, { matchLabels: {}, matchExpressions: [] }])
      assert.throws(
        () => selectorQuery(empty, 'Deployment "web"'),
        (e: Error) => e instanceof SelectorError && /Deployment "web" has an empty pod selector/.test(e.message),
      );
    assert.throws(
      () => selectorMatcher({ matchExpressions: [{ key: 'a', operator: 'Equals', values: ['b'] }] }),
      /operator "Equals"/,
    );
    assert.throws(
      () => selectorQuery({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }),
      /"a In" with no values/,
    );
  });

  it("a deployment's pods are those its selector matches that one of its ReplicaSets controls", () => {
    const owner = (uid: string, kind: string) => ({ ownerReferences: [{ uid, kind, controller: true }] });
    const deployment = { metadata: { name: 'web', uid: 'd1' }, spec: { selector: { matchLabels: { app: 'web' } } } };
    const sets = [
      { metadata: { uid: 'rs1', ...owner('d1', 'Deployment') } },
      { metadata: { uid: 'rs2', ...owner('d2', 'Deployment') } },
    ];
    const pod = (name: string, labels: Record<string, string>, rs?: string) => ({
      metadata: { name, labels, ...(rs ? owner(rs, 'ReplicaSet') : {}) },
    });
    const pods = [
      pod('mine', { app: 'web' }, 'rs1'),
      pod('other', { app: 'web' }, 'rs2'),
      pod('bare', { app: 'web' }),
      pod('relabelled', { app: 'x' }, 'rs1'),
    ];
    assert.deepEqual(
      podsOwnedBy(deployment as never, sets as never, pods as never).map((p) => p.metadata?.name),
      ['mine'],
    );
  });
});
