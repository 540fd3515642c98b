// The quick-pick's container order (src/vscode/startSession.ts): without `container` in
// truva.yaml, the container kubectl would pick (the default-container annotation) is offered first.
import { strict as assert } from 'node:assert';
import { containersDefaultFirst } from '../../../src/core/devmode/defaultContainer';

const template = (annotation?: string) => ({
  metadata: annotation ? { annotations: { 'kubectl.kubernetes.io/default-container': annotation } } : {},
  spec: { containers: [{ name: 'proxy' }, { name: 'app' }, { name: 'metrics' }] },
});
const names = (t: ReturnType<typeof template>) => containersDefaultFirst(t).containers.map((c) => c.name);

describe('containers in the quick-pick: the default container first', () => {
  it('puts the annotated container first and keeps the others in their declared order', () => {
    assert.deepEqual(names(template('metrics')), ['metrics', 'proxy', 'app']);
    assert.equal(containersDefaultFirst(template('metrics')).annotated, 'metrics');
  });

  it('keeps the declared order without the annotation, or when it names no container', () => {
    assert.deepEqual(names(template()), ['proxy', 'app', 'metrics']);
    assert.deepEqual(names(template('gone')), ['proxy', 'app', 'metrics']);
  });

  it('has no containers for a template without any', () => {
    assert.deepEqual(containersDefaultFirst(undefined).containers, []);
  });
});
