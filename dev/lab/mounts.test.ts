import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mountsUnder, unescapeMountPath } from './mounts.js';

// Lines as /proc/self/mountinfo has them (fields: id parent major:minor root mountpoint options ...).
const MOUNTINFO = [
  '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
  '300 22 0:50 / /tmp/baton-lab-a/nodes/node-1/kubelet/pods/x/volumes/kubernetes.io~projected/kube-api-access rw - tmpfs tmpfs rw',
  '301 22 0:51 / /tmp/baton-lab-a/nodes/node-1/containerd/state/io.containerd.runtime.v2.task/k8s.io/abc/rootfs rw - overlay overlay rw',
  '302 22 0:52 / /tmp/baton-lab-a/nodes/node-1/kubelet rw - none none rw',
  '303 22 0:53 / /tmp/baton-lab-ab/other rw - tmpfs tmpfs rw',
  '304 22 0:54 / /tmp/baton-lab-a/with\\040space rw - tmpfs tmpfs rw',
].join('\n');

describe('mounts under a folder', () => {
  it('lists them deepest first (then in reverse order), and only below the folder (not a sibling sharing its prefix)', async () => {
    const got = await mountsUnder('/tmp/baton-lab-a', MOUNTINFO);
    assert.deepEqual(got, [
      '/tmp/baton-lab-a/nodes/node-1/kubelet/pods/x/volumes/kubernetes.io~projected/kube-api-access',
      '/tmp/baton-lab-a/nodes/node-1/containerd/state/io.containerd.runtime.v2.task/k8s.io/abc/rootfs',
      '/tmp/baton-lab-a/nodes/node-1/kubelet',
      '/tmp/baton-lab-a/with space',
    ]);
  });

  it('reads mountinfo’s octal escapes', () => {
    assert.equal(unescapeMountPath('/a\\040b\\011c\\134d'), '/a b\tc\\d');
  });
});
