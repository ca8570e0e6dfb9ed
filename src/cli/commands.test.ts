import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatonError } from '../errors.js';
import { chaosCommand } from './chaos-command.js';
import { helpOf } from './command.js';
import { controllerCommand } from './controller-command.js';
import { durationFlag, intFlag, namespaceFlag, parseFlags } from './flags.js';
import { probeCommand } from './probe-command.js';
import { speakerCommand } from './speaker-command.js';

function configOf<C>(
  command: { flags: Parameters<typeof parseFlags>[1]; config: (v: ReturnType<typeof parseFlags>) => C },
  argv: string[],
): C {
  return command.config(parseFlags(argv, command.flags));
}

/** The fast design, without heartbeats: what a speaker needs to run with no key and no node address. */
const FAST = ['--heartbeats=false', '--liveness=fast'];

function refused(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof BatonError && err.code === 'CONFIG_INVALID' && message.test(err.message));
}

describe('flags', () => {
  it('reads durations in ms, s and m, and refuses anything else', () => {
    assert.equal(durationFlag({ d: '500ms' }, 'd', 0), 500);
    assert.equal(durationFlag({ d: '1.5s' }, 'd', 0), 1_500);
    assert.equal(durationFlag({ d: '2m' }, 'd', 0), 120_000);
    assert.equal(durationFlag({}, 'd', 42), 42);
    refused(() => durationFlag({ d: 'soon' }, 'd', 0), /--d: "soon" is not a duration/);
  });

  it('bounds integers', () => {
    assert.equal(intFlag({ n: '4' }, 'n', 1, 1, 8), 4);
    refused(() => intFlag({ n: '0' }, 'n', 1, 1, 8), /from 1 to 8/);
    refused(() => intFlag({ n: '2.5' }, 'n', 1, 1, 8), /integer/);
  });

  it('lets $POD_NAMESPACE replace the default namespace, never an explicit one', () => {
    process.env['POD_NAMESPACE'] = 'from-pod';
    try {
      assert.equal(namespaceFlag({}, 'baton-system'), 'from-pod');
      assert.equal(namespaceFlag({ namespace: 'baton-system' }, 'baton-system'), 'from-pod');
      assert.equal(namespaceFlag({ namespace: 'mine' }, 'baton-system'), 'mine');
    } finally {
      delete process.env['POD_NAMESPACE'];
    }
  });

  it('refuses unknown flags with the parser’s own words', () => {
    refused(() => parseFlags(['--nope'], controllerCommand.flags), /Unknown option '--nope'/);
  });
});

describe('commands', () => {
  it('gives every command a help text naming each of its flags', () => {
    for (const c of [controllerCommand, speakerCommand, chaosCommand, probeCommand]) {
      const help = helpOf(c);
      assert.match(help, new RegExp(`^Usage: baton ${c.name} \\[flags\\]`));
      for (const f of c.flags) assert.match(help, new RegExp(`--${f.name} `), `${c.name} --${f.name}`);
    }
  });

  it('controller: defaults as the chart uses them, and refuses election timings out of order', () => {
    const c = configOf(controllerCommand, ['--identity=a']);
    assert.deepEqual(
      [c.leaseDurationMs, c.renewDeadlineMs, c.retryPeriodMs, c.workers, c.loadBalancerClass],
      [15_000, 10_000, 2_000, 4, 'baton.dev/layer2'],
    );
    refused(
      () => configOf(controllerCommand, ['--lease-duration=5s', '--renew-deadline=5s']),
      /renew-deadline must be shorter than --lease-duration/,
    );
    refused(() => configOf(controllerCommand, ['--retry-period=10s']), /retry-period must be shorter/);
  });

  it('speaker: needs its node name, and refuses timings that would let two holders answer', () => {
    refused(() => configOf(speakerCommand, []), /--node-name .* is required/);
    const s = configOf(speakerCommand, ['--node-name=n1', ...FAST]);
    assert.deepEqual([s.leaseDurationMs, s.renewIntervalMs, s.renewDeadlineMs, s.outageMode], [1_500, 500, 1_000, true]);
    refused(
      () => configOf(speakerCommand, ['--node-name=n1', ...FAST, '--renew-deadline=2s']),
      /renew-interval < renew-deadline < lease-duration/,
    );
    refused(() => configOf(speakerCommand, ['--node-name=n1', ...FAST, '--outage-mode=maybe']), /not true or false/);
  });

  it('speaker: heartbeats on by default; they need a host to listen on and a key of 32 bytes or more; off, no key', () => {
    const off = configOf(speakerCommand, ['--node-name=n1', ...FAST]);
    assert.deepEqual([off.heartbeats, off.heartbeatKey], [false, undefined]);
    const on = ['--node-name=n1'];
    delete process.env['BATON_HEARTBEAT_KEY'];
    try {
      refused(() => configOf(speakerCommand, on), /--heartbeat-address: not host:port/);
      refused(
        () => configOf(speakerCommand, [...on, '--heartbeat-address=192.0.2.11:7474']),
        /BATON_HEARTBEAT_KEY of at least 32 bytes.*got 0/,
      );
      process.env['BATON_HEARTBEAT_KEY'] = 'k'.repeat(31);
      refused(() => configOf(speakerCommand, [...on, '--heartbeat-address=192.0.2.11:7474']), /got 31/);
      process.env['BATON_HEARTBEAT_KEY'] = 'k'.repeat(48);
      const s = configOf(speakerCommand, [...on, '--heartbeat-address=[2001:db8::11]:7474']);
      assert.deepEqual([s.heartbeats, s.heartbeatAddress, s.heartbeatKey?.length], [true, '[2001:db8::11]:7474', 48]);
    } finally {
      delete process.env['BATON_HEARTBEAT_KEY'];
    }
  });

  it('speaker: the slow liveness Lease is the default, and needs heartbeats (the error says how to turn both off)', () => {
    refused(
      () => configOf(speakerCommand, ['--node-name=n1', '--heartbeats=false']),
      /--liveness=slow \(the default\) needs --heartbeats=true.*set --liveness=fast/,
    );
    refused(() => configOf(speakerCommand, ['--node-name=n1', '--liveness=lazy']), /--liveness: fast or slow/);
    process.env['BATON_HEARTBEAT_KEY'] = 'k'.repeat(48);
    try {
      const s = configOf(speakerCommand, ['--node-name=n1', '--heartbeat-address=192.0.2.11:7474']);
      assert.deepEqual([s.heartbeats, s.liveness], [true, 'slow']);
      assert.equal(configOf(speakerCommand, ['--node-name=n1', '--heartbeat-address=192.0.2.11:7474', '--liveness=fast']).liveness, 'fast');
    } finally {
      delete process.env['BATON_HEARTBEAT_KEY'];
    }
  });

  it('chaos: needs the probe’s interface, runs cluster experiments only, unknown ones refused', () => {
    refused(() => configOf(chaosCommand, []), /--interface is required/);
    assert.deepEqual(configOf(chaosCommand, ['--interface=eth0']).experiments, ['delete-speaker-pod', 'cordon-drain', 'delete-lease']);
    refused(() => configOf(chaosCommand, ['--interface=eth0', '--experiments=kill-node']), /kill-node needs the local lab/);
    refused(() => configOf(chaosCommand, ['--interface=eth0', '--experiments=meteor']), /"meteor" is not one of/);
    refused(() => configOf(chaosCommand, ['--interface=eth0', '--lab']), /Unknown option '--lab'/);
    assert.equal(configOf(chaosCommand, ['--interface=eth0', '--schedule=*/5 * * * * *', '--rounds=2']).rounds, 2);
  });

  it('probe: needs an interface, and a source address of each family it probes', () => {
    refused(() => configOf(probeCommand, ['--interface=eth0']), /required/);
    refused(() => configOf(probeCommand, ['--interface=eth0', '--source-ip=192.0.2.100', '--ips=2001:db8::1']), /--source-ip6 is required/);
    refused(
      () => configOf(probeCommand, ['--interface=eth0', '--source-ip6=2001:db8::64', '--ips=192.0.2.200']),
      /--source-ip is required/,
    );
    refused(() => configOf(probeCommand, ['--interface=eth0', '--source-ip=2001:db8::64', '--ips=192.0.2.200']), /is not an IPv4 address/);
    refused(() => configOf(probeCommand, ['--interface=eth0', '--source-ip6=192.0.2.100', '--ips=2001:db8::1']), /is not an IPv6 address/);
    refused(() => configOf(probeCommand, ['--interface=eth0', '--source-ip=192.0.2.100', '--ips=192.0.2.300']), /not an IP address/);
    assert.deepEqual(configOf(probeCommand, ['--interface=eth0', '--source-ip=192.0.2.100', '--ips=192.0.2.200,192.0.2.201']).ips, [
      '192.0.2.200',
      '192.0.2.201',
    ]);
    const dual = configOf(probeCommand, [
      '--interface=eth0',
      '--source-ip=192.0.2.100',
      '--source-ip6=2001:DB8:0::64',
      '--ips=192.0.2.200,2001:db8:0:0::10',
    ]);
    assert.deepEqual(dual.ips, ['192.0.2.200', '2001:db8::10'], 'IPv6 targets in canonical form, as NA targets decode');
    assert.equal(dual.sourceIp6, '2001:db8::64');
  });
});
