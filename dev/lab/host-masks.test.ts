import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cgroupMounts } from './host-masks.js';

describe('cgroup mounts of the machine', () => {
  it('reads the tmpfs, each v1 hierarchy with its subsystems, and cgroup2, parents first', () => {
    const info = [
      '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
      '31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
      '30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
      '39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd',
      '40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
      '41 30 0:38 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
      '50 22 0:40 / /sys/fs/bpf rw - bpf bpf rw',
    ].join('\n');
    assert.deepEqual(cgroupMounts(info), [
      { mountPoint: '/sys/fs/cgroup', fsType: 'tmpfs', options: ['mode=755'] },
      { mountPoint: '/sys/fs/cgroup/cpu', fsType: 'cgroup', options: ['cpu'] },
      { mountPoint: '/sys/fs/cgroup/systemd', fsType: 'cgroup', options: ['name=systemd'] },
      { mountPoint: '/sys/fs/cgroup/unified', fsType: 'cgroup2', options: [] },
      { mountPoint: '/sys/fs/cgroup/cpu,cpuacct', fsType: 'cgroup', options: ['cpu', 'cpuacct'] },
    ]);
  });
});
