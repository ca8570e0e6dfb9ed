// The speaker's promise under adversarial faults, on the real LAN: for each
// external IP, at every moment at most one MAC answers, and the IP is never
// left unanswered for longer than a takeover. Each case makes fresh
// Services on a pool off the LAN's subnet (198.51.100.0/24, on-link for the
// client), watches the client's wire (every ARP frame) and loads pages with
// the product's probe, injects one fault of the speaker-safety review
// (/work/shared/reviews/speaker-safety.md, F1-F14), recovers, and asserts:
//   1. zero two-MAC moments (a foreign host's own frames excluded);
//   2. a bounded unanswered time (page loads and ARP).
// Every case prints one line with both numbers:
//   [faults] <case>: two-MAC moments N, longest outage M ms, ... holder before X after Y

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { blockLeaseUpdates, unblockLeaseUpdates } from '../dev/lab/admission-policy.js';
import { ArpCapture, announcers, arping, firstAnnouncement, neighbours } from '../dev/lab/arp-client.js';
import { type AuditedRequest, AuditLog } from '../dev/lab/audit-log.js';
import { lab } from '../dev/lab/current.js';
import { startDataPlane } from '../dev/lab/dataplane.js';
import { runInNetns, waitFor } from '../dev/lab/exec.js';
import { claimFrame, requestFrame, sendFrames, startSending, tagged } from '../dev/lab/foreign-frames.js';
import type { LanHost } from '../dev/lab/lan.js';
import { schedulingState } from '../dev/lab/managed-process.js';
import { busiestStream, releaseStall, stallConnection } from '../dev/lab/tcp-stall.js';
import { rank } from '../src/election/rendezvous.js';
import {
  AUDIENCE_LABEL,
  audienceOf,
  ipLeaseName,
  LEASE_IP_ANNOTATION,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  speakerLeaseName,
} from '../src/k8s/lease-names.js';
import type { Lease, List, Service } from '../src/k8s/types.js';
import { type BatonProcess, metricValue, startController, startSpeaker } from './support/baton-process.js';
import { longestOutage } from './support/client-probe.js';
import { ensureNode, ipLeaseHolder } from './support/cluster-objects.js';
import { arpSilence, claimsBy, gratuitousCount, Observation, report, type Seen, twoMacMoments } from './support/fault-observations.js';
import {
  createEip,
  createNamespace,
  createService,
  deleteEip,
  deleteNamespace,
  ensureBatonBasics,
  ingressOf,
  kube,
  waitForEipCondition,
  waitForEvent,
} from './support/kube.js';
import { untilHeard } from './support/liveness-design.js';

const POOL_NAME = 'fault-pool';
const POOL = { 'eip.openelb.kubesphere.io/v1alpha2': POOL_NAME };
const NAMESPACE = 'baton-system';
const LEASES = `/apis/coordination.k8s.io/v1/namespaces/${NAMESPACE}/leases`;
/** The foreign host: 192.0.2.66, MAC 02:ba:70:00:00:42 (a duplicate address, a leftover OpenELB speaker). */
const FOREIGN_OCTET = 66;
/** Made-up senders of frames tagged for VLAN 200. */
const VLAN_ID = 200;
const VLAN_ASKER_MAC = '02:ba:70:00:00:c8';
const VLAN_CLAIMANT_MAC = '02:ba:70:00:00:c9';
/** The MAC a holder's interface is changed to (F7). */
const CHANGED_MAC = '02:ba:70:00:00:99';

// Bounds of the unanswered time, per kind of fault.
/**
 * Nothing should move and nobody should notice: at most one lost page load (its 150 ms timeout, or a connection
 * reset by a hand-over, plus the probe's next tick on a busy 2-CPU machine).
 */
const NO_OUTAGE_MS = 250;
/** The holder is frozen or its interface changes: a takeover (1.5 s lease) or a re-announce, with margin. */
const TAKEOVER_MS = 2_500;
/** A foreign claim: the holder defends at once; the client's entry flips back at the latest after its 1 s locktime. */
const DEFEND_MS = 1_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const sleepUntil = (t: number): Promise<void> => sleep(Math.max(0, t - Date.now()));

/**
 * Writes a Lease that only `node`'s lease watch selects (its audience, no kind: every speaker ignores it)
 * every 50 ms until stopped, then deletes it.
 */
function leaseTraffic(node: string): { stop(): Promise<void> } {
  const name = 'baton-e2e-watch-traffic';
  const labels = { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [AUDIENCE_LABEL]: audienceOf(node) };
  let running = true;
  const loop = (async () => {
    let n = 0;
    await kube()
      .api.create(LEASES, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, labels }, spec: {} })
      .catch(() => undefined);
    while (running) {
      await kube()
        .api.patch(`${LEASES}/${name}`, { spec: { holderIdentity: `traffic-${n++}` } })
        .catch(() => undefined);
      await sleep(50);
    }
    await kube()
      .api.delete(`${LEASES}/${name}`)
      .catch(() => undefined);
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

describe('speaker under faults', { timeout: 900_000 }, () => {
  let controller: BatonProcess | undefined;
  const speakers = new Map<string, BatonProcess>();
  const caseNamespaces: string[] = [];
  let intruder: LanHost;
  let serial = 0;

  const nodeNames = (): string[] => lab().lan.nodes.map((n) => n.name);
  const host = (name: string): LanHost => lab().lan.node(name);
  const macOf = (name: string): string => host(name).mac;
  const speaker = (name: string): BatonProcess => {
    const s = speakers.get(name);
    assert.ok(s !== undefined, `a speaker on ${name}`);
    return s;
  };
  /** Node names for MACs, for the printed lines. */
  const whoIs = (mac: string | undefined): string =>
    mac === undefined
      ? 'nobody'
      : (lab().lan.nodes.find((n) => n.mac === mac)?.name ??
        (mac === intruder.mac ? 'intruder' : mac === CHANGED_MAC ? 'changed-mac' : mac));

  async function ensureController(): Promise<void> {
    if (controller?.proc.running !== true) controller = await startController({ fastElection: true });
  }

  /** Every node has a running speaker (a case that stopped or killed one may leave it down). */
  async function ensureSpeakers(): Promise<void> {
    for (const n of nodeNames()) {
      const s = speakers.get(n);
      if (s?.proc.running === true && s.proc.schedulingState() !== 'T') continue;
      if (s?.proc.running === true) s.proc.signal('SIGCONT');
      else speakers.set(n, await startSpeaker(n));
    }
  }

  async function stopSpeakers(names: readonly string[]): Promise<void> {
    await Promise.all(names.map(async (n) => speakers.get(n)?.proc.stop('SIGTERM')));
  }

  /** Holders of the IPs, from their Leases (one list). */
  async function holdersOf(ips: readonly string[]): Promise<Map<string, string>> {
    const list = await kube().api.list<List<Lease>>(LEASES, { labelSelector: 'baton.dev/lease-kind=ip' });
    const out = new Map<string, string>();
    for (const l of list.items) {
      const ip = l.metadata.annotations?.[LEASE_IP_ANNOTATION];
      if (ip !== undefined && ips.includes(ip) && (l.spec?.holderIdentity ?? '') !== '') out.set(ip, l.spec?.holderIdentity as string);
    }
    return out;
  }

  function countByNode(holders: ReadonlyMap<string, string>): Record<string, number> {
    const out: Record<string, number> = Object.fromEntries(nodeNames().map((n) => [n, 0]));
    for (const h of holders.values()) out[h] = (out[h] ?? 0) + 1;
    return out;
  }

  /** A fresh namespace with `count` Services on the fault pool; resolves with their IPs once the controller gave them addresses. */
  async function newServices(
    count: number,
    options: { waitForHolders?: boolean; placed?: boolean } = {},
  ): Promise<{ ns: string; ips: string[]; holders: Map<string, string> }> {
    await ensureController();
    if (options.waitForHolders !== false) await ensureSpeakers();
    const ns = `flt-${++serial}`;
    await createNamespace(ns);
    caseNamespaces.push(ns);
    for (let i = 0; i < count; i++) await createService(ns, `web-${i}`, { annotations: POOL });
    const ips = await waitFor(
      `${count} Services in ${ns} to get an address`,
      async () => {
        const list = await kube().api.list<List<Service>>(`/api/v1/namespaces/${ns}/services`);
        const got = list.items.flatMap((s) => ingressOf(s));
        return got.length === count ? got : undefined;
      },
      { timeoutMs: 30_000 + count * 200, intervalMs: 200 },
    );
    if (options.waitForHolders === false) return { ns, ips, holders: new Map() };
    const holders = await waitFor(
      `holders for ${count} IPs`,
      async () => {
        const h = await holdersOf(ips);
        return h.size === ips.length ? h : undefined;
      },
      { timeoutMs: 20_000 + count * 200, intervalMs: 100 },
    );
    await untilHeard();
    if (options.placed !== true) return { ns, ips, holders };
    // A case that asserts nothing moves starts from where rebalancing would leave every IP: its best-ranked
    // node. An IP taken by another (a peer just back from the last case was not a candidate yet) is handed
    // over once the settle time (10 s) has passed, and that hand-over is not the fault's doing.
    const placed = await waitFor(
      `${count} IPs on their best-ranked nodes`,
      async () => {
        const h = await holdersOf(ips);
        return ips.every((ip) => h.get(ip) === rank(ip, nodeNames())[0]) ? h : undefined;
      },
      { timeoutMs: 40_000, intervalMs: 200 },
    );
    return { ns, ips, holders: placed };
  }

  /** Waits until every IP's Lease names one of `accept`; resolves with the holders. */
  async function waitForHolders(
    ips: readonly string[],
    accept: (holder: string) => boolean,
    timeoutMs: number,
  ): Promise<Map<string, string>> {
    return waitFor(
      `holders of ${ips.length} IPs to settle`,
      async () => {
        const h = await holdersOf(ips);
        return ips.every((ip) => accept(h.get(ip) ?? '')) ? h : undefined;
      },
      { timeoutMs, intervalMs: 200 },
    );
  }

  function assertNoTwoMacs(seen: Seen, ips: readonly string[], ignore: readonly string[] = []): void {
    for (const ip of ips) {
      const m = twoMacMoments(seen.claimFrames, ip, ignore);
      assert.deepEqual(
        m.map((x) => ({ at: new Date(x.timeMs).toISOString(), macs: x.macs })),
        [],
        `never two MACs for ${ip} (times are the client's capture)`,
      );
    }
  }

  const twoMacTotal = (seen: Seen, ips: readonly string[], ignore: readonly string[] = []): number =>
    ips.reduce((n, ip) => n + twoMacMoments(seen.claimFrames, ip, ignore).length, 0);

  before(async () => {
    await ensureBatonBasics();
    for (const n of nodeNames()) await ensureNode(n);
    await startDataPlane(lab().lan, lab().workDir);
    await ensureController();
    await createEip(POOL_NAME, { address: '198.51.100.10-198.51.100.250', protocol: 'layer2', interface: 'eth0' });
    await waitForEipCondition(POOL_NAME, 'Ready', 'True');
    intruder = await lab().lan.addForeignHost('intruder', FOREIGN_OCTET);
    await ensureSpeakers();
  });

  afterEach(async () => {
    // Whatever a case did, the next one starts with every speaker running and none of its Services left.
    await ensureSpeakers();
    await ensureController();
    for (const ns of caseNamespaces.splice(0)) await deleteNamespace(ns, 120_000);
  });

  after(async () => {
    await stopSpeakers(nodeNames());
    try {
      await ensureController();
      await deleteEip(POOL_NAME);
    } finally {
      // Whatever failed above: a controller left running would keep the leadership from the next suite's.
      await controller?.proc.stop('SIGTERM');
      if (intruder !== undefined) await lab().lan.removeForeignHost(intruder);
    }
  });

  // --- F1: a foreign claim ------------------------------------------------------------------

  it('F1: a foreign gratuitous ARP for the holder’s IP: the holder defends it within a second, keeps answering, and raises IPConflict', async () => {
    const { ns, ips, holders } = await newServices(1);
    const ip = ips[0] as string;
    const holder = holders.get(ip) as string;
    const conflictsBefore = await metricValue(speaker(holder), 'baton_speaker_ip_conflicts_total');
    const obs = await Observation.start(`f1-garp-${ip}`, [ip]);
    const [claimAt] = (await sendFrames(intruder, [claimFrame(ip, intruder.mac)])) as [number];
    await sleep(10_000);
    const arp = await arping(lab().lan.client, ip, { seconds: 2 });
    const seen = await obs.stop();
    const after = await ipLeaseHolder(ip);
    const defendedAt = firstAnnouncement(seen.frames, ip, macOf(holder), claimAt);
    const outage = longestOutage(seen.samples, claimAt).ms;
    const silence = arpSilence(seen.events, ip, claimAt, seen.endedAt, [intruder.mac]);
    const settledSilence = arpSilence(seen.events, ip, claimAt + DEFEND_MS, seen.endedAt, [intruder.mac]);
    const conflicts = await metricValue(speaker(holder), 'baton_speaker_ip_conflicts_total');
    report('F1 foreign GARP', {
      twoMac: twoMacTotal(seen, [ip], [intruder.mac]),
      outageMs: outage,
      arpSilenceMs: silence,
      before: holder,
      after: after ?? 'none',
      extra: `holder re-announced after ${defendedAt === undefined ? 'never' : `${Math.round(defendedAt - claimAt)} ms`}, ARP unanswered after the first second ${settledSilence} ms, ip_conflicts ${conflictsBefore} -> ${conflicts}, arping ${arp.macs.map(whoIs).join(',') || 'no reply'}`,
    });
    assert.ok(
      seen.frames.some((f) => f.senderMac === intruder.mac && f.senderIp === ip),
      'the claim was on the wire',
    );
    assertNoTwoMacs(seen, [ip], [intruder.mac]);
    assert.equal(after, holder, 'the Lease still names the holder');
    assert.ok(defendedAt !== undefined && defendedAt - claimAt < DEFEND_MS, 'the holder re-announced the IP within a second of the claim');
    assert.ok(silence < DEFEND_MS, `ARP answered again within a second (unanswered ${silence} ms)`);
    assert.ok(settledSilence < 500, `never unanswered in the 10 s after (longest ${settledSilence} ms)`);
    assert.ok(outage < DEFEND_MS, `page loads back within a second (outage ${outage} ms)`);
    assert.deepEqual(arp.macs, [macOf(holder)], 'broadcast arping answered by the holder alone');
    const event = await waitForEvent(ns, 'web-0', 'Service', 'IPConflict', 10_000);
    assert.equal(event.type, 'Warning');
    assert.ok(event.message.includes(intruder.mac), `the Event names the foreign MAC: ${event.message}`);
    assert.ok(conflicts > conflictsBefore, 'baton_speaker_ip_conflicts_total counts it');
  });

  it('F1: a persistent foreign claimant (one gratuitous ARP a second for 10 s): no write storm, no GARP storm, the holder keeps answering', async () => {
    const { ips, holders } = await newServices(1);
    const ip = ips[0] as string;
    const holder = holders.get(ip) as string;
    const audit = new AuditLog(lab().controlPlane.auditLogPath);
    const mark = await audit.mark();
    const electionsBefore = await Promise.all(nodeNames().map((n) => metricValue(speaker(n), 'baton_speaker_elections_total')));
    const obs = await Observation.start(`f1-persistent-${ip}`, [ip]);
    const times = await sendFrames(intruder, [claimFrame(ip, intruder.mac)], { rounds: 10, intervalMs: 1_000 });
    const [first, last] = [times[0] as number, times.at(-1) as number];
    await sleep(2_000);
    const arp = await arping(lab().lan.client, ip, { seconds: 2 });
    const seen = await obs.stop();
    const after = await ipLeaseHolder(ip);
    const writes = await audit.writesTo(mark, 'leases', NAMESPACE, ipLeaseName(ip));
    const electionsAfter = await Promise.all(nodeNames().map((n) => metricValue(speaker(n), 'baton_speaker_elections_total')));
    const elections = electionsAfter.reduce((s, v, i) => s + v - (electionsBefore[i] ?? 0), 0);
    const garps = gratuitousCount(seen.frames, ip, macOf(holder), first, last + 1_000);
    const silence = arpSilence(seen.events, ip, first, seen.endedAt, [intruder.mac]);
    const outage = longestOutage(seen.samples, first).ms;
    const outageAfter = longestOutage(seen.samples, last + 1_500).ms;
    report('F1 persistent claimant', {
      twoMac: twoMacTotal(seen, [ip], [intruder.mac]),
      outageMs: outage,
      arpSilenceMs: silence,
      before: holder,
      after: after ?? 'none',
      extra: `${times.length} claims; lease writes ${writes.length} (${writes.map((w) => `${w.verb}:${w.code}`).join(' ') || '-'}), election writes ${elections}, holder GARP frames ${garps}, outage once the claimant stopped ${outageAfter} ms, arping ${arp.macs.map(whoIs).join(',') || 'no reply'}`,
    });
    assert.equal(times.length, 10, 'ten claims sent');
    assertNoTwoMacs(seen, [ip], [intruder.mac]);
    assert.equal(after, holder);
    assert.ok(writes.length <= 2, `no write storm on the IP's Lease: ${writes.length} writes`);
    assert.ok(elections <= 2, `no election storm: ${elections} election writes`);
    // 10 claims x 3 rounds x 2 forms would be 60; a backed-off defence is a handful.
    assert.ok(garps <= 16, `no GARP storm: ${garps} gratuitous frames from the holder`);
    assert.ok(silence < DEFEND_MS, `the holder kept answering ARP (unanswered ${silence} ms)`);
    assert.ok(outageAfter < 500, `page loads back once the claimant stopped (outage ${outageAfter} ms)`);
    assert.deepEqual(arp.macs, [macOf(holder)]);
  });

  // --- F2: a frozen holder --------------------------------------------------------------------

  async function freezeHolder(name: string, freezeMs: number, cutControlPlane: boolean): Promise<void> {
    const { ips, holders } = await newServices(1);
    const ip = ips[0] as string;
    const holder = holders.get(ip) as string;
    const sp = speaker(holder);
    const client = lab().lan.client;
    const obs = await Observation.start(`f2-${name}-${ip}`, [ip]);
    const stoppedAt = Date.now();
    sp.proc.signal('SIGSTOP');
    let contAt = 0;
    let stateWhileFrozen: string | undefined;
    let burst: Promise<unknown> = Promise.resolve();
    try {
      await waitFor('the speaker to be stopped', async () => (sp.proc.schedulingState() === 'T' ? true : undefined), {
        timeoutMs: 2_000,
        intervalMs: 5,
      });
      // More than a read batch of requests queued on the frozen holder's socket before the heir's announcement.
      burst = runInNetns(client.netns, 'arping', ['-b', '-I', client.iface, '-i', '0.05', '-c', '30', ip], {
        allowFailure: true,
        timeoutMs: 30_000,
      });
      if (cutControlPlane) {
        await sleepUntil(stoppedAt + freezeMs - 1_000);
        await lab().lan.cutControlPlane(host(holder));
      }
      await sleepUntil(stoppedAt + freezeMs - 50);
      stateWhileFrozen = sp.proc.schedulingState();
      await sleepUntil(stoppedAt + freezeMs);
    } finally {
      contAt = Date.now();
      sp.proc.signal('SIGCONT');
    }
    await burst;
    const entries: Array<string | undefined> = [];
    for (const d of [100, 500, 1_000, 2_000, 3_000]) {
      await sleepUntil(contAt + d);
      entries.push((await neighbours(client)).find((e) => e.ip === ip)?.mac);
    }
    if (cutControlPlane) {
      await sleepUntil(contAt + 5_000);
      await lab().lan.restoreControlPlane(host(holder));
      await sleep(2_500);
    }
    const after = await ipLeaseHolder(ip);
    const arp = await arping(client, ip, { seconds: 1 });
    const seen = await obs.stop();
    const heirMac = after === undefined ? undefined : macOf(after);
    const heirAnnouncedAt = heirMac === undefined ? undefined : firstAnnouncement(seen.frames, ip, heirMac, stoppedAt);
    const stale = heirAnnouncedAt === undefined ? [] : claimsBy(seen.frames, ip, macOf(holder), heirAnnouncedAt);
    const outage = longestOutage(seen.samples, stoppedAt).ms;
    const silence = arpSilence(seen.events, ip, stoppedAt, seen.endedAt);
    report(`F2 ${name}`, {
      twoMac: twoMacTotal(seen, [ip]),
      outageMs: outage,
      arpSilenceMs: silence,
      before: holder,
      after: after ?? 'none',
      extra: `state while frozen ${stateWhileFrozen}, heir announced ${heirAnnouncedAt === undefined ? 'never' : `${Math.round(heirAnnouncedAt - stoppedAt)} ms after SIGSTOP`}, old MAC claims after it ${stale.length}${stale.length > 0 ? ` (first ${Math.round((stale[0] as { timeMs: number }).timeMs - contAt)} ms after SIGCONT)` : ''}, client entry after SIGCONT ${entries.map(whoIs).join(' ')}`,
    });
    assert.equal(stateWhileFrozen, 'T', 'the speaker really was stopped');
    assert.notEqual(sp.proc.schedulingState(), 'T', 'and runs again');
    assert.ok(after !== undefined && after !== holder, `the heir took over the frozen holder's IP (Lease names ${after})`);
    assert.ok(heirAnnouncedAt !== undefined && heirAnnouncedAt < contAt, 'the heir announced itself while the holder was frozen');
    assert.deepEqual(
      stale.map((f) => `${f.operation}${f.gratuitous ? ' (gratuitous)' : ''} at SIGCONT+${Math.round(f.timeMs - contAt)} ms`),
      [],
      'no reply or announcement from the old holder after the heir’s',
    );
    assertNoTwoMacs(seen, [ip]);
    for (const e of entries) assert.equal(e, heirMac, 'the client’s neighbour entry stays on the heir');
    assert.ok(silence < TAKEOVER_MS, `ARP unanswered ${silence} ms`);
    assert.ok(outage < TAKEOVER_MS, `page-load outage ${outage} ms`);
    assert.deepEqual(arp.macs, [heirMac], 'answered by the heir alone');
  }

  // Frozen 2 s: the holder's license lapsed within 0.4 s (no heartbeat), its peers saw its liveness expire within
  // 1.5 s and the heir took over before SIGCONT. After SIGCONT it must neither answer the requests queued on its
  // socket nor announce: the heir's gratuitous ARPs are queued there too.
  it('F2: holder’s speaker SIGSTOPped 2 s: the heir takes over before SIGCONT; afterwards the old holder stays silent', async () => {
    await freezeHolder('SIGSTOP 2 s', 2_000, false);
  });

  it('F2: holder’s speaker SIGSTOPped 10 s under a burst of ARP requests: after SIGCONT no stale reply, the client stays on the heir', async () => {
    await freezeHolder('SIGSTOP 10 s', 10_000, false);
  });

  it('F2: holder SIGSTOPped 10 s and cut from the control plane before SIGCONT: it stays silent though it cannot learn of the takeover', async () => {
    await freezeHolder('SIGSTOP 10 s + control-plane cut', 10_000, true);
  });

  // --- F3, F4: control-plane faults that must move nothing -------------------------------------

  it('F3: etcd frozen 3 s (writes fail, watches stay open): no IP moves, nobody notices', async () => {
    const { ips, holders: before } = await newServices(6, { placed: true });
    const obs = await Observation.start('f3-etcd', ips);
    const pausedAt = Date.now();
    const pid = lab().controlPlane.signalEtcd('SIGSTOP');
    let frozen: string | undefined;
    let writeFailed = false;
    const probeName = `baton-etcd-check-${pausedAt}`;
    try {
      // The stop takes effect asynchronously: look until the kernel shows it (or give up and let the check below fail).
      frozen = await waitFor('etcd to be stopped', async () => (schedulingState(pid) === 'T' ? 'T' : undefined), {
        timeoutMs: 1_000,
        intervalMs: 5,
      }).catch(() => schedulingState(pid));
      writeFailed = await kube()
        .api.request({
          verb: 'create',
          path: '/api/v1/namespaces/default/configmaps',
          body: { metadata: { name: probeName } },
          timeoutMs: 1_000,
        })
        .then(
          () => false,
          () => true,
        );
      await sleepUntil(pausedAt + 3_000);
    } finally {
      lab().controlPlane.signalEtcd('SIGCONT');
    }
    const resumedAt = Date.now();
    await sleep(6_000);
    const after = await holdersOf(ips);
    const seen = await obs.stop();
    await kube()
      .api.delete(`/api/v1/namespaces/default/configmaps/${probeName}`)
      .catch(() => undefined);
    const moved = ips.filter((ip) => after.get(ip) !== before.get(ip));
    const outage = longestOutage(seen.samples, pausedAt).ms;
    const silence = Math.max(...ips.map((ip) => arpSilence(seen.events, ip, pausedAt, seen.endedAt)));
    report('F3 etcd frozen 3 s', {
      twoMac: twoMacTotal(seen, ips),
      outageMs: outage,
      arpSilenceMs: silence,
      before: JSON.stringify(countByNode(before)),
      after: JSON.stringify(countByNode(after)),
      extra: `etcd state ${frozen}, a write during the freeze ${writeFailed ? 'failed' : 'went through'}, resumed after ${resumedAt - pausedAt} ms, moved ${moved.length}`,
    });
    assert.equal(frozen, 'T', 'etcd really was stopped');
    assert.ok(writeFailed, 'writes failed meanwhile');
    assert.deepEqual(moved, [], 'no IP moved');
    for (const ip of ips) {
      const others = announcers(seen.frames, ip, pausedAt).filter((m) => m !== macOf(before.get(ip) as string));
      assert.deepEqual(others.map(whoIs), [], `${ip}: nobody but its holder announced it`);
    }
    assertNoTwoMacs(seen, ips);
    assert.ok(outage <= NO_OUTAGE_MS, `no outage (${outage} ms)`);
  });

  it('F4: one speaker’s lease watch stalled 4 s while its writes work: it takes no IP, nothing moves', async () => {
    const { ips, holders: before } = await newServices(6, { placed: true });
    const counts = countByNode(before);
    const staller = nodeNames().sort((a, b) => (counts[a] ?? 0) - (counts[b] ?? 0))[0] as string;
    const sp = speaker(staller);
    // The slow liveness Lease's watch is quiet (IP Leases and the speaker's own echo every 10 s): a Lease only
    // the staller's watch selects, written 20 times a second, makes it the busiest stream to find, and keeps
    // packets coming while it is stalled. Speakers ignore a Lease that is neither a speaker's nor an IP's.
    const traffic = leaseTraffic(staller);
    let dropped = 0;
    let blind = 0;
    let stalledAt = Date.now();
    let obs: Observation | undefined;
    let watch: Awaited<ReturnType<typeof busiestStream>>;
    try {
      watch = await busiestStream(host(staller), sp.proc.pid as number, `${lab().lan.hostAddress}:6443`);
      obs = await Observation.start('f4-watch-stall', ips);
      stalledAt = Date.now();
      await stallConnection(host(staller), watch.connection.localPort, 6443, lab().workDir);
      try {
        while (Date.now() < stalledAt + 4_000) {
          blind = Math.max(blind, await metricValue(sp, 'baton_speaker_lease_watch_blind').catch(() => 0));
          await sleep(200);
        }
      } finally {
        dropped = await releaseStall(host(staller));
      }
    } finally {
      await traffic.stop();
    }
    await sleep(5_000);
    const after = await holdersOf(ips);
    const seen = await obs.stop();
    const moved = ips.filter((ip) => after.get(ip) !== before.get(ip));
    const outage = longestOutage(seen.samples, stalledAt).ms;
    const silence = Math.max(...ips.map((ip) => arpSilence(seen.events, ip, stalledAt, seen.endedAt)));
    report('F4 lease watch stalled 4 s', {
      twoMac: twoMacTotal(seen, ips),
      outageMs: outage,
      arpSilenceMs: silence,
      before: JSON.stringify(counts),
      after: JSON.stringify(countByNode(after)),
      extra: `stalled ${staller}'s connection :${watch.connection.localPort} (${Math.round(watch.receivedPerSecond)} B/s in, ${Math.round(watch.sentPerSecond)} B/s out), ${dropped} packets dropped, blind metric seen ${blind}, moved ${moved.length}`,
    });
    assert.ok(dropped > 0, 'the stall really dropped the watch’s packets');
    assert.deepEqual(moved, [], 'no IP moved');
    for (const ip of ips)
      if (before.get(ip) !== staller)
        assert.equal(gratuitousCount(seen.frames, ip, macOf(staller), stalledAt), 0, `${staller} did not announce ${ip}`);
    assertNoTwoMacs(seen, ips);
    assert.ok(outage <= NO_OUTAGE_MS, `no outage (${outage} ms)`);
  });

  // --- F10: Lease lifecycle -------------------------------------------------------------------

  it('F10: the IP Lease’s managed-by label removed: the holder keeps answering, nothing moves, the label comes back', async () => {
    const { ips, holders } = await newServices(1);
    const ip = ips[0] as string;
    const holder = holders.get(ip) as string;
    const obs = await Observation.start(`f10-label-${ip}`, [ip]);
    const path = `${LEASES}/${ipLeaseName(ip)}`;
    const removedAt = Date.now();
    const patched = await kube().api.patch<Lease>(path, { metadata: { labels: { [MANAGED_BY_LABEL]: null } } });
    const restoredAt = await waitFor(
      'the label to come back',
      async () => ((await kube().api.get<Lease>(path)).metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE ? Date.now() : undefined),
      { timeoutMs: 25_000, intervalMs: 100 },
    ).catch(() => undefined);
    await sleep(2_000);
    const after = await ipLeaseHolder(ip);
    const arp = await arping(lab().lan.client, ip, { seconds: 1 });
    const seen = await obs.stop();
    const outage = longestOutage(seen.samples, removedAt).ms;
    const silence = arpSilence(seen.events, ip, removedAt, seen.endedAt);
    report('F10 IP lease label removed', {
      twoMac: twoMacTotal(seen, [ip]),
      outageMs: outage,
      arpSilenceMs: silence,
      before: holder,
      after: after ?? 'none',
      extra: `label back after ${restoredAt === undefined ? 'never (25 s)' : `${restoredAt - removedAt} ms`}, arping ${arp.macs.map(whoIs).join(',') || 'no reply'}`,
    });
    assert.equal(patched.metadata.labels?.[MANAGED_BY_LABEL], undefined, 'the label was removed');
    assertNoTwoMacs(seen, [ip]);
    assert.equal(after, holder, 'nothing moved');
    assert.deepEqual(
      announcers(seen.frames, ip, removedAt)
        .filter((m) => m !== macOf(holder))
        .map(whoIs),
      [],
      'nobody else announced it',
    );
    assert.ok(silence < 500, `the holder kept answering (unanswered ${silence} ms)`);
    assert.ok(outage <= NO_OUTAGE_MS, `no outage (${outage} ms)`);
    assert.deepEqual(arp.macs, [macOf(holder)]);
    assert.ok(restoredAt !== undefined, 'the holder restored the label');
  });

  it('F10: a speaker’s liveness Lease deleted: nothing moves', async () => {
    const { ips, holders: before } = await newServices(3);
    const counts = countByNode(before);
    const victim = nodeNames().sort((a, b) => (counts[b] ?? 0) - (counts[a] ?? 0))[0] as string;
    const obs = await Observation.start('f10-liveness', ips);
    const path = `${LEASES}/${speakerLeaseName(victim)}`;
    const oldUid = (await kube().api.get<Lease>(path)).metadata.uid;
    const deletedAt = Date.now();
    await kube().api.delete(path);
    const recreatedAt = await waitFor(
      'the liveness Lease to be back',
      async () => {
        const l = await kube()
          .api.get<Lease>(path)
          .catch(() => undefined);
        return l !== undefined && l.metadata.uid !== oldUid ? Date.now() : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    ).catch(() => undefined);
    await sleep(5_000);
    const after = await holdersOf(ips);
    const seen = await obs.stop();
    const moved = ips.filter((ip) => after.get(ip) !== before.get(ip));
    const outage = longestOutage(seen.samples, deletedAt).ms;
    const silence = Math.max(...ips.map((ip) => arpSilence(seen.events, ip, deletedAt, seen.endedAt)));
    report('F10 liveness lease deleted', {
      twoMac: twoMacTotal(seen, ips),
      outageMs: outage,
      arpSilenceMs: silence,
      before: JSON.stringify(counts),
      after: JSON.stringify(countByNode(after)),
      extra: `deleted ${speakerLeaseName(victim)} (holding ${counts[victim]}), re-created after ${recreatedAt === undefined ? 'never' : `${recreatedAt - deletedAt} ms`}, moved ${moved.length}`,
    });
    assert.ok(recreatedAt !== undefined, 'the speaker re-created its liveness Lease');
    assert.deepEqual(moved, [], 'no IP moved');
    for (const ip of ips)
      assert.deepEqual(
        announcers(seen.frames, ip, deletedAt)
          .filter((m) => m !== macOf(before.get(ip) as string))
          .map(whoIs),
        [],
        `${ip}: nobody else announced it`,
      );
    assertNoTwoMacs(seen, ips);
    assert.ok(outage <= NO_OUTAGE_MS, `no outage (${outage} ms)`);
  });

  // --- F7: the holder's interface changes under it --------------------------------------------

  it('F7: the holder’s MAC changed, then changed back: answered again with the interface’s MAC within seconds, one MAC at a time', async () => {
    const { ips, holders } = await newServices(1);
    const ip = ips[0] as string;
    const holder = holders.get(ip) as string;
    const h = host(holder);
    const others = nodeNames().filter((n) => n !== holder);
    const obs = await Observation.start(`f7-mac-${ip}`, [ip]);
    const changedAt = Date.now();
    let answeredAt: number | undefined;
    let restoredAt = 0;
    try {
      await lab().lan.setMac(h, CHANGED_MAC);
      assert.equal(await lab().lan.currentMac(h), CHANGED_MAC);
      answeredAt = await obs.firstReplyFrom(ip, new Set([CHANGED_MAC, ...others.map(macOf)]), Date.now(), 10_000);
      await sleep(2_000);
    } finally {
      restoredAt = Date.now();
      await lab().lan.setMac(h, h.mac);
    }
    const answeredBackAt = await obs.firstReplyFrom(ip, new Set(nodeNames().map(macOf)), Date.now(), 10_000);
    await sleep(2_000);
    const after = await ipLeaseHolder(ip);
    const arp = await arping(lab().lan.client, ip, { seconds: 1 });
    const seen = await obs.stop();
    const outage = longestOutage(seen.samples, changedAt).ms;
    const silence = arpSilence(seen.events, ip, changedAt, seen.endedAt);
    const announcedNew = firstAnnouncement(seen.frames, ip, CHANGED_MAC, changedAt);
    report('F7 MAC changed and back', {
      twoMac: twoMacTotal(seen, [ip]),
      outageMs: outage,
      arpSilenceMs: silence,
      before: holder,
      after: after ?? 'none',
      extra: `answered by a live MAC ${answeredAt === undefined ? 'never' : `${answeredAt - changedAt} ms`} after the change (new-MAC GARP ${announcedNew === undefined ? 'none' : `${Math.round(announcedNew - changedAt)} ms`}), ${answeredBackAt === undefined ? 'never' : `${answeredBackAt - restoredAt} ms`} after changing back; announcers ${announcers(seen.frames, ip, changedAt).map(whoIs).join(' -> ')}`,
    });
    assertNoTwoMacs(seen, [ip]);
    assert.ok(answeredAt !== undefined && answeredAt - changedAt < TAKEOVER_MS, 'answered by a live MAC within seconds of the change');
    assert.ok(answeredBackAt !== undefined && answeredBackAt - restoredAt < TAKEOVER_MS, 'and again after changing back');
    assert.ok(outage < TAKEOVER_MS, `page-load outage ${outage} ms`);
    assert.ok(after !== undefined);
    assert.deepEqual(arp.macs, [macOf(after)], 'answered by the holder’s current MAC alone');
  });

  it('F7: the holder’s interface deleted and re-created (same name, MAC, address): answered again within seconds', async () => {
    const { ips, holders } = await newServices(1);
    const ip = ips[0] as string;
    const holder = holders.get(ip) as string;
    const obs = await Observation.start(`f7-recreate-${ip}`, [ip]);
    const recreatedAt = Date.now();
    const index = await lab().lan.recreateInterface(host(holder));
    const plugged = Date.now();
    const answeredAt = await obs.firstReplyFrom(ip, new Set(nodeNames().map(macOf)), plugged, 10_000);
    await sleep(2_000);
    const after = await ipLeaseHolder(ip);
    const arp = await arping(lab().lan.client, ip, { seconds: 1 });
    const seen = await obs.stop();
    const outage = longestOutage(seen.samples, recreatedAt).ms;
    const silence = arpSilence(seen.events, ip, recreatedAt, seen.endedAt);
    report('F7 interface re-created', {
      twoMac: twoMacTotal(seen, [ip]),
      outageMs: outage,
      arpSilenceMs: silence,
      before: holder,
      after: after ?? 'none',
      extra: `ifindex ${index.before} -> ${index.after}, re-created in ${plugged - recreatedAt} ms, answered ${answeredAt === undefined ? 'never' : `${answeredAt - plugged} ms`} after`,
    });
    assert.notEqual(index.after, index.before, 'a new interface');
    assertNoTwoMacs(seen, [ip]);
    assert.ok(answeredAt !== undefined && answeredAt - plugged < TAKEOVER_MS, 'answered again within seconds');
    assert.ok(outage < TAKEOVER_MS + (plugged - recreatedAt), `page-load outage ${outage} ms`);
    assert.ok(after !== undefined);
    assert.deepEqual(arp.macs, [macOf(after)]);
  });

  // --- F11: another VLAN ------------------------------------------------------------------------

  it('F11: ARP tagged for another VLAN: the holder neither yields to a claim there nor answers a request from there', async () => {
    const { ips, holders } = await newServices(1);
    const ip = ips[0] as string;
    const holder = holders.get(ip) as string;
    const { lan, workDir } = lab();
    const obs = await Observation.start(`f11-vlan-${ip}`, [ip]);
    // Seen from another host on the LAN: proof the tagged frames were on the wire.
    const wire = await ArpCapture.start(lan, intruder, `vlan${VLAN_ID}`, workDir, { filter: `vlan ${VLAN_ID} and arp` });
    let firstClaim = 0;
    let taggedCount = 0;
    try {
      [firstClaim] = (await sendFrames(lan.client, [tagged(claimFrame(ip, VLAN_CLAIMANT_MAC), VLAN_ID)], {
        rounds: 3,
        intervalMs: 300,
      })) as [number];
      await sendFrames(lan.client, [tagged(requestFrame(ip, VLAN_ASKER_MAC, lan.client.ip), VLAN_ID)], { rounds: 5, intervalMs: 200 });
      await sleep(3_000);
    } finally {
      taggedCount = await wire.frameCount();
      await wire.stop();
    }
    const after = await ipLeaseHolder(ip);
    const arp = await arping(lan.client, ip, { seconds: 1 });
    const seen = await obs.stop();
    const answeredAcross = seen.frames.filter((f) => f.operation === 'reply' && f.targetMac === VLAN_ASKER_MAC);
    const outage = longestOutage(seen.samples, firstClaim).ms;
    const silence = arpSilence(seen.events, ip, firstClaim, seen.endedAt);
    report('F11 foreign VLAN', {
      twoMac: twoMacTotal(seen, [ip], [VLAN_CLAIMANT_MAC, VLAN_ASKER_MAC]),
      outageMs: outage,
      arpSilenceMs: silence,
      before: holder,
      after: after ?? 'none',
      extra: `${taggedCount} frames tagged ${VLAN_ID} on the wire, untagged replies to the VLAN's asker ${answeredAcross.length}, holder GARP frames after the claim ${gratuitousCount(seen.frames, ip, macOf(holder), firstClaim)}`,
    });
    assert.ok(taggedCount >= 8, `the tagged frames were on the wire (${taggedCount} seen)`);
    assert.deepEqual(
      answeredAcross.map((f) => whoIs(f.senderMac)),
      [],
      'nobody answered the other VLAN’s request on the untagged LAN',
    );
    assertNoTwoMacs(seen, [ip], [VLAN_CLAIMANT_MAC, VLAN_ASKER_MAC]);
    assert.equal(after, holder);
    assert.ok(silence < 300, `the holder did not yield (ARP unanswered ${silence} ms)`);
    assert.ok(outage <= NO_OUTAGE_MS, `no outage (${outage} ms)`);
    assert.deepEqual(arp.macs, [macOf(holder)]);
  });

  // --- F6: a big hand-over ------------------------------------------------------------------------

  it('F6: SIGTERM of a node holding 110 IPs: every IP handed over with no two-MAC moment and no outage on probed IPs', async () => {
    const holder = 'node-2';
    const others = nodeNames().filter((n) => n !== holder);
    await ensureSpeakers();
    await stopSpeakers(others);
    const { ips } = await newServices(110, { waitForHolders: false });
    const before = await waitForHolders(ips, (h) => h === holder, 60_000);
    for (const n of others) speakers.set(n, await startSpeaker(n));
    const sample = [...ips.slice(0, 3), ...ips.slice(-2)];
    const obs = await Observation.start('f6-sigterm-110', sample);
    const client = lab().lan.client;
    // Every IP asked for every 500 ms, so that a second MAC answering any of them shows in the capture.
    const asker = startSending(
      lab().lan,
      client,
      'ask-110',
      ips.map((ip) => requestFrame(ip, client.mac, client.ip)),
      { intervalMs: 500 },
    );
    // F6's reproduction: requests every 10 ms for a few of the IPs while the hand-over happens.
    const bursts = sample.slice(0, 3).map((ip) =>
      runInNetns(client.netns, 'arping', ['-b', '-I', client.iface, '-i', '0.01', '-c', '300', ip], {
        allowFailure: true,
        timeoutMs: 30_000,
      }),
    );
    await sleep(500);
    const termAt = Date.now();
    await speaker(holder).proc.stop('SIGTERM');
    const exitedAt = Date.now();
    const after = await waitForHolders(ips, (h) => h !== '' && h !== holder, 30_000).catch(async () => holdersOf(ips));
    await Promise.all(bursts);
    await sleep(1_000);
    await asker.stop('SIGTERM');
    const seen = await obs.stop();
    const moments = twoMacTotal(seen, ips);
    const outage = longestOutage(seen.samples, termAt).ms;
    const silence = Math.max(...sample.map((ip) => arpSilence(seen.events, ip, termAt, seen.endedAt)));
    const stillOld = ips.filter((ip) => after.get(ip) === holder || after.get(ip) === undefined);
    report('F6 SIGTERM with 110 IPs', {
      twoMac: moments,
      outageMs: outage,
      arpSilenceMs: silence,
      before: `${holder} x${countByNode(before)[holder]}`,
      after: JSON.stringify(countByNode(after)),
      extra: `speaker exited ${exitedAt - termAt} ms after SIGTERM, not handed over ${stillOld.length}`,
    });
    assert.equal(countByNode(before)[holder], 110, 'all 110 on one node before');
    assert.deepEqual(stillOld, [], 'every IP handed over');
    assertNoTwoMacs(seen, ips);
    assert.ok(outage <= NO_OUTAGE_MS, `no outage on the probed IPs (${outage} ms)`);
    // The leaving holder answers until its successor announces: at the ARP level too, not only for clients whose entry is fresh.
    assert.ok(silence < 1_000, `probed IPs answered throughout the hand-over (ARP unanswered ${silence} ms)`);
  });

  // --- F5: a confirmation that fails after a quick restart ----------------------------------------

  it('F5: confirm refused for 3 s after a quick restart of the holder: the IP is answered again within seconds after', async () => {
    const { ips, holders } = await newServices(1);
    const ip = ips[0] as string;
    const holder = holders.get(ip) as string;
    const obs = await Observation.start(`f5-confirm-${ip}`, [ip]);
    const audit = new AuditLog(lab().controlPlane.auditLogPath);
    const mark = await audit.mark();
    const block = await blockLeaseUpdates(kube().api, NAMESPACE, 'baton-ip-');
    let killedAt = 0;
    let unblockedAt = 0;
    let restarted: Promise<BatonProcess> | undefined;
    let readyAt = 0;
    try {
      killedAt = Date.now();
      await speaker(holder).proc.stop('SIGKILL');
      restarted = startSpeaker(holder).then((s) => {
        readyAt = Date.now();
        return s;
      });
      await sleepUntil(killedAt + 3_000);
    } finally {
      await unblockLeaseUpdates(kube().api, block);
      unblockedAt = Date.now();
    }
    if (restarted !== undefined) speakers.set(holder, await restarted);
    const answeredAt = await obs.firstReplyFrom(ip, new Set(nodeNames().map(macOf)), unblockedAt, 15_000);
    await sleep(2_000);
    const after = await ipLeaseHolder(ip);
    const arp = await arping(lab().lan.client, ip, { seconds: 1 });
    const seen = await obs.stop();
    const denied = (await audit.writesTo(mark, 'leases', NAMESPACE, ipLeaseName(ip))).filter((w: AuditedRequest) => w.code === 403);
    const outage = longestOutage(seen.samples, killedAt).ms;
    const silence = arpSilence(seen.events, ip, killedAt, seen.endedAt);
    report('F5 confirm refused after a quick restart', {
      twoMac: twoMacTotal(seen, [ip]),
      outageMs: outage,
      arpSilenceMs: silence,
      before: holder,
      after: after ?? 'none',
      extra: `restarted speaker ready ${readyAt - killedAt} ms after kill -9, ${denied.length} lease updates refused, policy lifted ${unblockedAt - killedAt} ms after the kill, answered ${answeredAt === undefined ? 'never (15 s)' : `${answeredAt - unblockedAt} ms`} after`,
    });
    assert.ok(denied.length > 0, 'the policy refused the speakers’ lease updates');
    assertNoTwoMacs(seen, [ip]);
    assert.ok(answeredAt !== undefined && answeredAt - unblockedAt < 5_000, 'answered again within seconds of the policy going');
    assert.ok(after !== undefined);
    assert.deepEqual(arp.macs, [macOf(after)]);
  });

  // --- F14: bootstrap concentration ------------------------------------------------------------------

  it('F14: speakers started 300 ms apart with 30 existing Services: the IPs end up spread over the nodes, one MAC at a time', async () => {
    await stopSpeakers(nodeNames());
    const { ips } = await newServices(30, { waitForHolders: false });
    const expected = countByNode(new Map(ips.map((ip) => [ip, rank(ip, nodeNames())[0] as string])));
    const sample = ips.slice(0, 5);
    const obs = await Observation.start('f14-bootstrap', sample, { waitForPages: false });
    const client = lab().lan.client;
    // Every IP asked for every 100 ms: a hand-over that lets two MACs answer shows for any of the 30.
    const asker = startSending(
      lab().lan,
      client,
      'ask-30',
      ips.map((ip) => requestFrame(ip, client.mac, client.ip)),
      { intervalMs: 100 },
    );
    const startedAt = Date.now();
    let spreadAt: number | undefined;
    let convergedAt: number | undefined;
    let first = new Map<string, string>();
    let last = new Map<string, string>();
    let heldAt = startedAt;
    const want = (n: string): number => Math.min(5, expected[n] ?? 0);
    try {
      const starting: Array<Promise<void>> = [];
      for (const n of nodeNames()) {
        starting.push(startSpeaker(n).then((s) => void speakers.set(n, s)));
        await sleep(300);
      }
      await Promise.all(starting);
      first = await waitForHolders(ips, (h) => h !== '', 20_000);
      heldAt = Date.now();
      await obs.waitForPages(sample, heldAt);
      // Spread (the issue's bar: every node holds at least 5), then on until the rendezvous order is reached, 60 s at most.
      while (Date.now() < startedAt + 60_000) {
        last = await holdersOf(ips);
        const c = countByNode(last);
        if (spreadAt === undefined && last.size === ips.length && nodeNames().every((n) => (c[n] ?? 0) >= want(n))) spreadAt = Date.now();
        if (nodeNames().every((n) => c[n] === expected[n])) {
          convergedAt = Date.now();
          break;
        }
        await sleep(1_000);
      }
      await sleep(2_000);
      last = await holdersOf(ips);
    } finally {
      await asker.stop('SIGTERM');
    }
    const seen = await obs.stop();
    const outage = longestOutage(seen.samples, heldAt + 1_000).ms;
    const affected = ips.filter((ip) => twoMacMoments(seen.claimFrames, ip).length > 0);
    const secs = (t: number | undefined): string => (t === undefined ? 'never' : `${Math.round((t - startedAt) / 1000)} s`);
    report('F14 staggered start with 30 Services', {
      twoMac: twoMacTotal(seen, ips),
      outageMs: outage,
      arpSilenceMs: Math.max(...sample.map((ip) => arpSilence(seen.events, ip, heldAt + 1_000, seen.endedAt))),
      before: JSON.stringify(countByNode(first)),
      after: JSON.stringify(countByNode(last)),
      extra: `rendezvous wants ${JSON.stringify(expected)}; spread (each >= 5) after ${secs(spreadAt)}, rendezvous order after ${secs(convergedAt)}; IPs with two MACs ${affected.length}${affected.length > 0 ? ` (${affected.join(' ')})` : ''}; capture dropped ${seen.captureDropped ?? '?'} frames`,
    });
    assertNoTwoMacs(seen, ips);
    assert.ok(outage < 1_000, `rebalancing hand-overs lose no traffic (outage ${outage} ms)`);
    assert.ok(
      spreadAt !== undefined,
      `IPs spread over the nodes (each at least ${JSON.stringify(Object.fromEntries(nodeNames().map((n) => [n, want(n)])))}): ${JSON.stringify(countByNode(last))}`,
    );
  });
});
