import { strict as assert } from 'node:assert';
import { PortForwardChannels, classifyPortForwardError } from '../../../src/core/ports';

describe('port-forward channel protocol (client side)', () => {
  it("strips each channel's two-byte port prefix, even split across messages, and keeps the rest", () => {
    const data: string[] = [];
    const channels = new PortForwardChannels((d) => data.push(d.toString()));
    channels.accept(0, Buffer.from([0x90]));
    channels.accept(0, Buffer.from([0x1f, ...Buffer.from('he')]));
    channels.accept(1, Buffer.from([0x90, 0x1f]));
    channels.accept(0, Buffer.from('llo'));
    channels.accept(2, Buffer.from('other port'));
    assert.deepEqual(data, ['he', 'llo']);
    assert.equal(channels.error, '');
    channels.accept(1, Buffer.from('error forwarding port 8080 to pod web, uid 1: '));
    channels.accept(1, Buffer.from('failed to connect to localhost:8080'));
    assert.equal(channels.error, 'error forwarding port 8080 to pod web, uid 1: failed to connect to localhost:8080');
  });

  it('tells "nothing listens" from "the pod is gone" in the kubelet and containerd texts', () => {
    assert.equal(
      classifyPortForwardError(
        'error forwarding port 8080 to pod abc, uid : failed to execute portforward in network namespace "/var/run/netns/cni-1": failed to connect to localhost:8080 inside namespace "abc", IPv4: dial tcp4 127.0.0.1:8080: connect: connection refused IPv6 dial tcp6 [::1]:8080: connect: connection refused',
      ),
      'refused',
    );
    assert.equal(
      classifyPortForwardError('error forwarding port 80 to pod x, uid y: pod with uid y is not running'),
      'gone',
    );
    assert.equal(classifyPortForwardError('error forwarding port 80 to pod x, uid y: something else'), 'failed');
  });
});
