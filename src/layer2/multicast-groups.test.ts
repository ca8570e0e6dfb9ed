import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { errorCode } from '../errors.js';
import { type MembershipSocket, MulticastGroups, openDgramMembership } from './multicast-groups.js';
import { ipv6MulticastMac, solicitedNodeAddress } from './packet/ndp.js';

// Two addresses with the same low 24 bits (00:01:02), so the same group; and one in another group.
const A = '2001:db8::1:2';
const B = '2001:db8:ffff::1:2';
const C = '2001:db8::3';
const GROUP_AB = 'ff02::1:ff01:2';
const GROUP_C = 'ff02::1:ff00:3';

class FakeSocket implements MembershipSocket {
  calls: string[] = [];
  /** The errno the next addMembership throws, once. */
  failNextAdd: string | undefined;
  addMembership(group: string, ifaceSpec: string): void {
    const code = this.failNextAdd;
    this.failNextAdd = undefined;
    if (code !== undefined) throw Object.assign(new Error(`addMembership ${code}`), { code });
    this.calls.push(`add ${group} ${ifaceSpec}`);
  }
  dropMembership(group: string, ifaceSpec: string): void {
    this.calls.push(`drop ${group} ${ifaceSpec}`);
  }
  close(): void {
    this.calls.push('close');
  }
}

function setup() {
  const socket = new FakeSocket();
  const failures: string[] = [];
  let opened = 0;
  let socketError: ((err: unknown) => void) | undefined;
  const groups = new MulticastGroups({
    ifname: 'eth0',
    open: (onError) => {
      opened++;
      socketError = onError;
      return socket;
    },
    failed: (op, code, group) => failures.push(`${op} ${code} ${group ?? '-'}`),
  });
  return { socket, failures, groups, opened: () => opened, socketError: (err: unknown) => socketError?.(err) };
}

describe('MulticastGroups: solicited-node memberships counted per group', () => {
  it('two addresses of one group join it once; it is dropped with the last of them only', () => {
    assert.equal(solicitedNodeAddress(A), GROUP_AB);
    assert.equal(solicitedNodeAddress(B), GROUP_AB);
    const { socket, groups, failures } = setup();
    groups.join(A);
    groups.join(B);
    groups.join(C);
    assert.deepEqual(socket.calls, [`add ${GROUP_AB} ::%eth0`, `add ${GROUP_C} ::%eth0`]);
    groups.leave(A);
    assert.deepEqual(groups.joined(), [GROUP_AB, GROUP_C], 'B still needs the group');
    groups.leave(B);
    assert.deepEqual(socket.calls.slice(2), [`drop ${GROUP_AB} ::%eth0`]);
    assert.deepEqual(groups.joined(), [GROUP_C]);
    assert.deepEqual(failures, []);
  });

  it('counts an address once however often or however it is written', () => {
    const { socket, groups } = setup();
    groups.join(A);
    groups.join('2001:0db8:0:0:0:0:1:2');
    groups.leave(A);
    assert.deepEqual(groups.joined(), []);
    groups.leave(A);
    assert.deepEqual(socket.calls, [`add ${GROUP_AB} ::%eth0`, `drop ${GROUP_AB} ::%eth0`], 'one join, one drop');
  });

  it('ignores IPv4 (ARP needs no group) and does not even open a socket for it', () => {
    const { groups, opened } = setup();
    groups.join('192.0.2.10');
    groups.leave('192.0.2.10');
    assert.equal(opened(), 0);
    assert.deepEqual(groups.joined(), []);
  });

  it('a failed join is reported with its code, not thrown, and the next join into the group retries', () => {
    const { socket, groups, failures } = setup();
    socket.failNextAdd = 'ENOMEM';
    assert.doesNotThrow(() => groups.join(A));
    assert.deepEqual(failures, [`join ENOMEM ${GROUP_AB}`]);
    assert.deepEqual(groups.joined(), []);
    groups.join(B);
    assert.deepEqual(groups.joined(), [GROUP_AB]);
    groups.leave(A);
    groups.leave(B);
    assert.deepEqual(socket.calls, [`add ${GROUP_AB} ::%eth0`, `drop ${GROUP_AB} ::%eth0`]);
  });

  it('a group whose join failed is not dropped (the kernel never had it)', () => {
    const { socket, groups } = setup();
    socket.failNextAdd = 'EADDRINUSE';
    groups.join(C);
    groups.leave(C);
    assert.deepEqual(socket.calls, []);
  });

  it('a socket that cannot be opened is reported and tried again on the next join', () => {
    let attempts = 0;
    const failures: string[] = [];
    const socket = new FakeSocket();
    const groups = new MulticastGroups({
      ifname: 'eth0',
      open: () => {
        attempts++;
        if (attempts === 1) throw Object.assign(new Error('socket EAFNOSUPPORT'), { code: 'EAFNOSUPPORT' });
        return socket;
      },
      failed: (op, code) => failures.push(`${op} ${code}`),
    });
    groups.join(A);
    groups.join(C);
    assert.deepEqual(failures, ['open EAFNOSUPPORT']);
    assert.deepEqual(groups.joined(), [GROUP_C]);
  });

  it('reports errors the socket raises on its own, code or not', () => {
    const { groups, failures, socketError } = setup();
    groups.join(A);
    socketError(Object.assign(new Error('boom'), { code: 'EIO' }));
    socketError(new Error('no code'));
    assert.deepEqual(failures, ['socket EIO -', 'socket EUNKNOWN -']);
  });

  it('close drops every group by closing the socket, and joins nothing after', () => {
    const { socket, groups, opened } = setup();
    groups.join(A);
    groups.join(C);
    groups.close();
    assert.deepEqual(socket.calls.slice(2), ['close']);
    assert.deepEqual(groups.joined(), []);
    groups.join(B);
    groups.leave(A);
    assert.equal(opened(), 1);
    assert.deepEqual(socket.calls.slice(3), []);
  });

  it('the real socket refuses an interface name that is not the link’s ifindex (libuv would pick one)', () => {
    const failures: string[] = [];
    // An ifindex no interface has (they start at 1 and count up): the check fails before any join.
    const groups = new MulticastGroups({
      ifname: 'baton-nosuch0',
      open: openDgramMembership('baton-nosuch0', 0),
      failed: (op, code) => failures.push(`${op} ${code}`),
    });
    groups.join(A);
    groups.close();
    assert.deepEqual(failures, ['join ENODEV']);
  });
});

// The real thing, in a network namespace of its own: the kernel's view
// (`ip maddr`) of the group and its Ethernet address after each step.
describe('MulticastGroups on a real interface (root, own network namespace)', () => {
  const ns = `baton-mcg-test-${process.pid}`;
  const ifname = 'mcg0';
  const isRoot = process.getuid?.() === 0;
  let created = false;
  let setupError: string | undefined;

  before(() => {
    if (!isRoot) return;
    try {
      execFileSync('ip', ['netns', 'add', ns]);
      created = true;
      // veth, not dummy: some kernels are built without the dummy module. Both ends up: a real link.
      execFileSync('ip', ['-n', ns, 'link', 'add', ifname, 'type', 'veth', 'peer', 'name', 'mcg1']);
      execFileSync('ip', ['netns', 'exec', ns, 'sh', '-c', `echo 0 > /proc/sys/net/ipv6/conf/${ifname}/disable_ipv6`]);
      execFileSync('ip', ['-n', ns, 'link', 'set', ifname, 'up']);
      execFileSync('ip', ['-n', ns, 'link', 'set', 'mcg1', 'up']);
    } catch (err) {
      setupError = `${errorCode(err) ?? ''} ${String(err)}`;
    }
  });

  after(() => {
    if (created) spawnSync('ip', ['netns', 'del', ns]);
  });

  it('the group and 33:33:ff:… appear after the join and go with the last leave', (t) => {
    if (!isRoot) {
      t.skip('needs root');
      return;
    }
    if (setupError !== undefined) {
      t.skip(`cannot make a network namespace here: ${setupError}`);
      return;
    }
    const child = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', CHILD], {
      encoding: 'utf8',
      // Generous for a loaded CI machine; the script itself takes a few ms.
      timeout: 30_000,
      env: { ...process.env, MCG_MODULE: new URL('./multicast-groups.js', import.meta.url).href, MCG_IF: ifname, MCG_A: A, MCG_B: B },
    });
    assert.equal(child.status, 0, child.stderr);
    const { steps, failures } = JSON.parse(child.stdout) as { steps: Record<string, string>; failures: string[] };
    const inet6 = `inet6 ${GROUP_AB}`;
    const link = `link  ${ipv6MulticastMac(GROUP_AB)}`;
    const has = (step: string, line: string) => (steps[step] ?? '').split('\n').some((l) => l.trim() === line);
    assert.ok(!has('before', inet6) && !has('before', link), `not there before:\n${steps['before']}`);
    assert.ok(has('joined', inet6) && has('joined', link), `joined:\n${steps['joined']}`);
    assert.ok(has('oneLeft', inet6) && has('oneLeft', link), `kept while B holds it:\n${steps['oneLeft']}`);
    assert.ok(!has('left', inet6) && !has('left', link), `dropped with the last:\n${steps['left']}`);
    assert.deepEqual(failures, []);
  });
});

/** Runs inside the namespace: joins A and B (one group), leaves A, then B, and prints `ip maddr` after each step. */
const CHILD = `
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
const { MulticastGroups, openDgramMembership } = await import(process.env.MCG_MODULE);
const { MCG_IF: ifname, MCG_A: a, MCG_B: b } = process.env;
const ifindex = Number(readFileSync('/sys/class/net/' + ifname + '/ifindex', 'utf8'));
const failures = [];
const groups = new MulticastGroups({ ifname, open: openDgramMembership(ifname, ifindex), failed: (op, code) => failures.push(op + ' ' + code) });
const maddr = () => execFileSync('ip', ['maddr', 'show', 'dev', ifname], { encoding: 'utf8' });
const steps = { before: maddr() };
groups.join(a);
groups.join(b);
steps.joined = maddr();
groups.leave(a);
steps.oneLeft = maddr();
groups.leave(b);
steps.left = maddr();
groups.close();
console.log(JSON.stringify({ steps, failures }));
`;
