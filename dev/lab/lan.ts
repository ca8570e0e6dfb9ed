// A virtual Ethernet segment: one Linux bridge in the host namespace (which
// also carries the control plane's address), one network namespace per node
// and one for the client, each joined by a veth pair. Speakers run inside
// node namespaces as they would with hostNetwork on a real node. Dual stack:
// every host of the LAN also has an address of LAN_IPV6_PREFIX (the
// documentation prefix 2001:db8::/32), inside its namespace only; the bridge
// (in the machine's own namespace) gets none, so no IPv6 route of the
// machine changes.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LabError } from './errors.js';
import { run, runInNetns, waitFor } from './exec.js';
import { ManagedProcess, type SpawnOptions } from './managed-process.js';
import { OWNED_PREFIX, PARTITION_TABLE } from './owned-names.js';

export interface LanHost {
  /** Short name used in logs and as the Kubernetes node name: node-1, client. */
  name: string;
  netns: string;
  ip: string;
  /** The host's IPv6 address on the LAN (LAN_IPV6_PREFIX; the same last byte as its IPv4 address). */
  ip6: string;
  mac: string;
  /** Interface name inside the namespace. */
  iface: 'eth0';
  /** Host-side end of the veth pair, a port of the bridge. */
  hostVeth: string;
}

export interface LanOptions {
  nodeCount: number;
  /** First three octets of the LAN's /24 (a documentation range). */
  subnet: '192.0.2' | '198.51.100' | '203.0.113';
  /** Folder for process logs and nft scripts. */
  workDir: string;
}

/** Host (bridge and control plane) .1, nodes from .11, client .100: far apart so a glance at a capture tells who is who. */
const HOST_OCTET = 1;
const FIRST_NODE_OCTET = 11;
const CLIENT_OCTET = 100;
/** Locally administered, unicast (02:...) and recognisable: the last byte is the host's last octet in hex. */
const MAC_PREFIX = '02:ba:70:00:00';
/** The LAN's IPv6 /64, inside 2001:db8::/32 ("ba70" for Baton, as in the MACs); a host's interface ID is its octet in hex. */
export const LAN_IPV6_PREFIX = '2001:db8:ba70::';
export const LAN_IPV6_PREFIX_LENGTH = 64;

function hostIp6(octet: number): string {
  return `${LAN_IPV6_PREFIX}${octet.toString(16)}`;
}

/**
 * Per-namespace IPv6 settings of every LAN host. No router advertisements
 * are accepted (nothing on the LAN is a router, and a stray one must not
 * add addresses or routes), and no router solicitations are sent (they
 * would only add noise to the NDP captures). The addresses are added with
 * nodad, so they are usable at once instead of after DAD's second.
 */
const IPV6_SYSCTLS = [
  'net.ipv6.conf.all.accept_ra=0',
  'net.ipv6.conf.default.accept_ra=0',
  'net.ipv6.conf.all.router_solicitations=0',
  'net.ipv6.conf.default.router_solicitations=0',
] as const;

export class Lan {
  readonly bridge = `${OWNED_PREFIX}br0`;
  readonly hostAddress: string;
  readonly prefixLength = 24;
  readonly nodes: readonly LanHost[];
  readonly client: LanHost;
  private readonly workDir: string;
  private readonly processes = new Set<ManagedProcess>();
  /** Hosts joined later (addForeignHost): not nodes, not the client; removed at teardown like the rest. */
  private readonly extras: LanHost[] = [];

  private constructor(opts: LanOptions) {
    this.workDir = opts.workDir;
    this.hostAddress = `${opts.subnet}.${HOST_OCTET}`;
    const host = (name: string, octet: number): LanHost => ({
      name,
      netns: `${OWNED_PREFIX}${name}`,
      ip: `${opts.subnet}.${octet}`,
      ip6: hostIp6(octet),
      mac: `${MAC_PREFIX}:${octet.toString(16).padStart(2, '0')}`,
      iface: 'eth0',
      hostVeth: `${OWNED_PREFIX}${name}`,
    });
    this.nodes = Array.from({ length: opts.nodeCount }, (_, i) => host(`node-${i + 1}`, FIRST_NODE_OCTET + i));
    this.client = host('client', CLIENT_OCTET);
  }

  static async create(opts: LanOptions): Promise<Lan> {
    if (opts.nodeCount < 1 || FIRST_NODE_OCTET + opts.nodeCount > CLIENT_OCTET) {
      throw new LabError('LAB_COMMAND_FAILED', `nodeCount must be 1..${CLIENT_OCTET - FIRST_NODE_OCTET}`);
    }
    const lan = new Lan(opts);
    try {
      await run('ip', ['link', 'add', lan.bridge, 'type', 'bridge']);
      await run('ip', ['addr', 'add', `${lan.hostAddress}/${lan.prefixLength}`, 'dev', lan.bridge]);
      await run('ip', ['link', 'set', lan.bridge, 'up']);
      for (const h of lan.hosts()) await lan.attach(h);
    } catch (err) {
      await lan.destroy();
      throw err;
    }
    return lan;
  }

  hosts(): LanHost[] {
    return [...this.nodes, this.client];
  }

  node(name: string): LanHost {
    const n = this.nodes.find((h) => h.name === name);
    if (n === undefined) throw new LabError('LAB_NOT_STARTED', `no LAN node ${name}`);
    return n;
  }

  /** Starts a process inside a host's namespace; the LAN stops it at teardown if the test did not. */
  spawn(
    host: LanHost,
    name: string,
    cmd: string,
    args: readonly string[],
    options: Omit<SpawnOptions, 'netns' | 'logFile'> & { logFile?: string } = {},
  ): ManagedProcess {
    const proc = ManagedProcess.spawn(`${host.name}/${name}`, cmd, args, {
      ...options,
      netns: host.netns,
      logFile: options.logFile ?? join(this.workDir, `${host.name}-${name}.log`),
    });
    this.processes.add(proc);
    void proc.waitForExit().then(() => this.processes.delete(proc));
    return proc;
  }

  /** Pulls the node's cable: its end of the link loses carrier, so it is cut from the LAN and the control plane alike. */
  async cutLink(host: LanHost): Promise<void> {
    await run('ip', ['link', 'set', host.hostVeth, 'down']);
  }

  async restoreLink(host: LanHost): Promise<void> {
    await run('ip', ['link', 'set', host.hostVeth, 'up']);
  }

  /**
   * Silently drops every packet between the node and the control plane's
   * address while the rest of the LAN, ARP included, still works: a
   * partition, not a refusal, so clients time out as they would for real.
   */
  async cutControlPlane(host: LanHost): Promise<void> {
    const script = join(this.workDir, `partition-${host.name}.nft`);
    await writeFile(
      script,
      [
        `table inet ${PARTITION_TABLE} {`,
        '  chain in {',
        '    type filter hook input priority 0; policy accept;',
        `    ip saddr ${this.hostAddress} drop`,
        '  }',
        '  chain out {',
        '    type filter hook output priority 0; policy accept;',
        `    ip daddr ${this.hostAddress} drop`,
        '  }',
        '}',
        '',
      ].join('\n'),
    );
    await runInNetns(host.netns, 'nft', ['-f', script]);
  }

  async restoreControlPlane(host: LanHost): Promise<void> {
    await runInNetns(host.netns, 'nft', ['delete', 'table', 'inet', PARTITION_TABLE], { allowFailure: true });
  }

  /**
   * Joins another host to the LAN, one that is neither a node nor the
   * client: a foreign machine that sends what the test makes it send (a
   * duplicate address, a leftover speaker). Its MAC follows the LAN's rule
   * (02:ba:70:00:00:<octet in hex>), so the octet must not be a node's or
   * the client's.
   */
  async addForeignHost(name: string, octet: number): Promise<LanHost> {
    const taken = [
      HOST_OCTET,
      CLIENT_OCTET,
      ...this.nodes.map((n) => Number(n.ip.split('.')[3])),
      ...this.extras.map((h) => Number(h.ip.split('.')[3])),
    ];
    if (!Number.isInteger(octet) || octet < 2 || octet > 254 || taken.includes(octet))
      throw new LabError('LAB_COMMAND_FAILED', `octet ${octet} is taken or out of range for a foreign host`);
    const subnet = this.hostAddress.split('.').slice(0, 3).join('.');
    const h: LanHost = {
      name,
      netns: `${OWNED_PREFIX}${name}`,
      ip: `${subnet}.${octet}`,
      ip6: hostIp6(octet),
      mac: `${MAC_PREFIX}:${octet.toString(16).padStart(2, '0')}`,
      iface: 'eth0',
      hostVeth: `${OWNED_PREFIX}${name}`,
    };
    this.extras.push(h);
    await this.attach(h);
    return h;
  }

  /** Removes a host added with addForeignHost (its processes first). */
  async removeForeignHost(host: LanHost): Promise<void> {
    const i = this.extras.indexOf(host);
    if (i === -1) return;
    await Promise.all([...this.processes].filter((p) => p.name.startsWith(`${host.name}/`)).map((p) => p.stop('SIGTERM', 3_000)));
    await removeNetworkObjects([host.netns], [host.hostVeth]);
    this.extras.splice(i, 1);
  }

  /** Changes the MAC of a host's LAN interface while it stays up (as NetworkManager's cloned MAC or a bond fail-over would). */
  async setMac(host: LanHost, mac: string): Promise<void> {
    await runInNetns(host.netns, 'ip', ['link', 'set', 'dev', host.iface, 'address', mac]);
  }

  /** The MAC a host's LAN interface has now (it differs from host.mac after setMac). */
  async currentMac(host: LanHost): Promise<string> {
    const res = await runInNetns(host.netns, 'ip', ['-j', 'link', 'show', 'dev', host.iface]);
    const [link] = JSON.parse(res.stdout) as Array<{ address: string }>;
    if (link === undefined) throw new LabError('LAB_COMMAND_FAILED', `no ${host.iface} in ${host.netns}`);
    return link.address.toLowerCase();
  }

  /**
   * Deletes the host's LAN interface and makes it again with the same name,
   * MAC and address (a netplan re-apply, a driver reset): the interface
   * gets a new index, so sockets bound to the old one are dead.
   * Returns the old and new interface index.
   */
  async recreateInterface(host: LanHost, mac = host.mac): Promise<{ before: number; after: number }> {
    const before = await this.ifindex(host);
    // Deleting one end of a veth pair deletes the other (the bridge port) too.
    await runInNetns(host.netns, 'ip', ['link', 'delete', 'dev', host.iface]);
    await waitFor(
      `${host.hostVeth} to go`,
      async () => ((await run('ip', ['link', 'show', 'dev', host.hostVeth], { allowFailure: true })).exitCode !== 0 ? true : undefined),
      { timeoutMs: 5_000, intervalMs: 10 },
    );
    await this.plug({ ...host, mac });
    return { before, after: await this.ifindex(host) };
  }

  /** Stops every process started here, then removes namespaces, veths and the bridge. Safe to call twice. */
  async destroy(): Promise<void> {
    await Promise.all([...this.processes].map((p) => p.stop('SIGTERM', 3_000)));
    const all = [...this.hosts(), ...this.extras];
    await removeNetworkObjects([...all.map((h) => h.netns)], [this.bridge, ...all.map((h) => h.hostVeth)]);
  }

  private async ifindex(host: LanHost): Promise<number> {
    const res = await runInNetns(host.netns, 'ip', ['-j', 'link', 'show', 'dev', host.iface]);
    const [link] = JSON.parse(res.stdout) as Array<{ ifindex: number }>;
    if (link === undefined) throw new LabError('LAB_COMMAND_FAILED', `no ${host.iface} in ${host.netns}`);
    return link.ifindex;
  }

  private async attach(h: LanHost): Promise<void> {
    await run('ip', ['netns', 'add', h.netns]);
    await runInNetns(h.netns, 'ip', ['link', 'set', 'lo', 'up']);
    await runInNetns(h.netns, 'sysctl', ['-q', '-w', ...IPV6_SYSCTLS]);
    await this.plug(h);
  }

  /** The host's cable: a veth pair from the bridge into its namespace, with its MAC and address. */
  private async plug(h: LanHost): Promise<void> {
    await run('ip', ['link', 'add', h.hostVeth, 'type', 'veth', 'peer', 'name', h.iface, 'netns', h.netns]);
    await run('ip', ['link', 'set', h.hostVeth, 'master', this.bridge, 'up']);
    await runInNetns(h.netns, 'ip', ['link', 'set', h.iface, 'address', h.mac]);
    await runInNetns(h.netns, 'ip', ['addr', 'add', `${h.ip}/${this.prefixLength}`, 'dev', h.iface]);
    await runInNetns(h.netns, 'ip', ['-6', 'addr', 'add', `${h.ip6}/${LAN_IPV6_PREFIX_LENGTH}`, 'dev', h.iface, 'nodad']);
    await runInNetns(h.netns, 'ip', ['link', 'set', h.iface, 'up']);
  }
}

/**
 * Kills what runs in each namespace, deletes the namespaces and links, and
 * waits until the kernel has really removed them (veth deletion completes
 * asynchronously after its namespace goes).
 */
export async function removeNetworkObjects(namespaces: readonly string[], links: readonly string[]): Promise<void> {
  for (const ns of namespaces) {
    const pids = await run('ip', ['netns', 'pids', ns], { allowFailure: true });
    for (const pid of pids.stdout.split(/\s+/).filter((p) => /^\d+$/.test(p))) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await run('ip', ['netns', 'delete', ns], { allowFailure: true });
  }
  for (const link of links) await run('ip', ['link', 'delete', link], { allowFailure: true });
  await waitFor(
    `removal of ${[...namespaces, ...links].join(', ')}`,
    async () => {
      const left = await listOwnedNetworkObjects();
      const stuck = [...left.namespaces.filter((n) => namespaces.includes(n)), ...left.links.filter((l) => links.includes(l))];
      return stuck.length === 0 ? true : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 100 },
  );
}

/** Namespaces and links of ours that exist now (for sweeping and for the leak check). */
export async function listOwnedNetworkObjects(): Promise<{ namespaces: string[]; links: string[] }> {
  const ns = await run('ip', ['netns', 'list'], { allowFailure: true });
  const namespaces = ns.stdout
    .split('\n')
    .map((l) => l.split(/\s+/)[0] ?? '')
    .filter((n) => n.startsWith(OWNED_PREFIX));
  const links = await run('ip', ['-j', 'link', 'show'], { allowFailure: true });
  const parsed = links.stdout.trim() === '' ? [] : (JSON.parse(links.stdout) as Array<{ ifname: string }>);
  return { namespaces, links: parsed.map((l) => l.ifname).filter((n) => n.startsWith(OWNED_PREFIX)) };
}
