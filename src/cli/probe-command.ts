// `baton probe`: the client side of chaos experiments, as its own process
// (the lab runs it inside its client namespace). Prints one JSON event per line.
import { BatonError } from '../errors.js';
import { isIpv4 } from '../net/ipv4.js';
import type { Command } from './command.js';
import { durationFlag, intFlag, stringFlag } from './flags.js';

export interface ProbeConfig {
  interface: string;
  sourceIp: string;
  ips: string[];
  httpPort: number;
  intervalMs: number;
  timeoutMs: number;
}

export const probeCommand: Command<ProbeConfig> = {
  name: 'probe',
  summary:
    'Probes external IPs from a client on the LAN (ARP and page loads) and prints what it sees as JSON lines; used by `baton chaos`.',
  flags: [
    { name: 'interface', type: 'string', help: 'this host’s interface on the LAN (required)' },
    { name: 'source-ip', type: 'string', help: 'this host’s IPv4 address on that interface (required)' },
    { name: 'ips', type: 'string', help: 'external IPs to probe, comma-separated (required)' },
    { name: 'http-port', type: 'string', help: 'port of the page to load', default: '80' },
    { name: 'interval', type: 'string', help: 'time between probes', default: '20ms' },
    { name: 'timeout', type: 'string', help: 'a page load slower than this fails', default: '150ms' },
    { name: 'help', type: 'boolean', help: 'show this help' },
  ],
  config(v) {
    const iface = stringFlag(v, 'interface');
    const sourceIp = stringFlag(v, 'source-ip');
    const ips = (stringFlag(v, 'ips') ?? '').split(',').filter((s) => s !== '');
    if (iface === undefined || sourceIp === undefined || ips.length === 0)
      throw new BatonError('CONFIG_INVALID', '--interface, --source-ip and --ips are required');
    for (const ip of [sourceIp, ...ips]) if (!isIpv4(ip)) throw new BatonError('CONFIG_INVALID', `"${ip}" is not an IPv4 address`);
    return {
      interface: iface,
      sourceIp,
      ips,
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
