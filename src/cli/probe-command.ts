// `baton probe`: the client side of chaos experiments, as its own process
// (the lab runs it inside its client namespace). Prints one JSON event per line.
import { BatonError } from '../errors.js';
import { canonicalIp, parseIp } from '../net/ip.js';
import type { Command } from './command.js';
import { durationFlag, intFlag, stringFlag } from './flags.js';

export interface ProbeConfig {
  interface: string;
  sourceIp: string | undefined;
  sourceIp6: string | undefined;
  ips: string[];
  httpPort: number;
  intervalMs: number;
  timeoutMs: number;
}

export const probeCommand: Command<ProbeConfig> = {
  name: 'probe',
  summary:
    'Probes external IPs from a client on the LAN (ARP or NDP, and page loads) and prints what it sees as JSON lines; used by `baton chaos`.',
  flags: [
    { name: 'interface', type: 'string', help: 'this host’s interface on the LAN (required)' },
    { name: 'source-ip', type: 'string', help: 'this host’s IPv4 address on that interface (required for IPv4 targets)' },
    { name: 'source-ip6', type: 'string', help: 'this host’s IPv6 address on that interface (required for IPv6 targets)' },
    { name: 'ips', type: 'string', help: 'external IPs to probe, IPv4 or IPv6, comma-separated (required)' },
    { name: 'http-port', type: 'string', help: 'port of the page to load', default: '80' },
    { name: 'interval', type: 'string', help: 'time between probes', default: '20ms' },
    { name: 'timeout', type: 'string', help: 'a page load slower than this fails', default: '150ms' },
    { name: 'help', type: 'boolean', help: 'show this help' },
  ],
  config(v) {
    const iface = stringFlag(v, 'interface');
    const sourceIp = stringFlag(v, 'source-ip');
    const sourceIp6 = stringFlag(v, 'source-ip6');
    const ips = (stringFlag(v, 'ips') ?? '').split(',').filter((s) => s !== '');
    if (iface === undefined || ips.length === 0) throw new BatonError('CONFIG_INVALID', '--interface and --ips are required');
    const family = (ip: string): 4 | 6 | undefined => parseIp(ip)?.family;
    if (sourceIp !== undefined && family(sourceIp) !== 4)
      throw new BatonError('CONFIG_INVALID', `--source-ip "${sourceIp}" is not an IPv4 address`);
    if (sourceIp6 !== undefined && family(sourceIp6) !== 6)
      throw new BatonError('CONFIG_INVALID', `--source-ip6 "${sourceIp6}" is not an IPv6 address`);
    for (const ip of ips) {
      const f = family(ip);
      if (f === undefined) throw new BatonError('CONFIG_INVALID', `"${ip}" is not an IP address`);
      if (f === 4 && sourceIp === undefined) throw new BatonError('CONFIG_INVALID', `--source-ip is required to probe ${ip}`);
      if (f === 6 && sourceIp6 === undefined) throw new BatonError('CONFIG_INVALID', `--source-ip6 is required to probe ${ip}`);
    }
    return {
      interface: iface,
      sourceIp,
      sourceIp6: sourceIp6 === undefined ? undefined : canonicalIp(sourceIp6),
      ips: ips.map((ip) => canonicalIp(ip) ?? ip),
      httpPort: intFlag(v, 'http-port', 80, 1, 65535),
      intervalMs: durationFlag(v, 'interval', 20),
      timeoutMs: durationFlag(v, 'timeout', 150),
    };
  },
  async run(config) {
    const { ClientProbe } = await import('../chaos/probe.js');
    const { encodeEvent } = await import('../chaos/probe-events.js');
    const probe = new ClientProbe({ ...config, emit: (e) => process.stdout.write(`${encodeEvent(e)}\n`) });
    probe.start();
    await new Promise<void>((resolve) => {
      for (const s of ['SIGTERM', 'SIGINT'] as const) process.once(s, () => resolve());
    });
    probe.stop();
  },
};
