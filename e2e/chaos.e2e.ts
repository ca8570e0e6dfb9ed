// `baton chaos` in the local lab: every experiment kind against Baton as the
// chart installs it on real nodes (a kill-node crashes a whole node: kubelet,
// containerd and every pod), with the client's view checked from the report: the
// downtime stays within the speaker's bounds and two MACs never answer at once.
// Then a soak on a cron schedule with a bounded number of rounds.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LabEnvironment } from '../dev/chaos/lab-environment.js';
import { ArpCapture } from '../dev/lab/arp-client.js';
import { type BatonLab, chartLivenessFromEnv, installBaton, SHIPPED_LIVENESS } from '../dev/lab/baton-lab.js';
import { lab } from '../dev/lab/current.js';
import { runInNetns } from '../dev/lab/exec.js';
import { type CapturedRecord, framesAround } from '../dev/lab/frame-log.js';
import { ICMP_DESTINATION_UNREACHABLE, ICMP_REDIRECT, icmpMessages } from '../dev/lab/icmp-capture.js';
import type { LanHost } from '../dev/lab/lan.js';
import { ICMPV6_DESTINATION_UNREACHABLE, ICMPV6_REDIRECT, icmpv6Messages, NDP_CAPTURE_FILTER } from '../dev/lab/ndp-client.js';
import { applySeed, createLabPool, createLabService, serveLabPages, waitForAddresses, waitForPages } from '../dev/lab/workload.js';
import { EXPERIMENTS, type ExperimentKind } from '../src/chaos/experiments.js';
import type { ChaosReport } from '../src/chaos/runner.js';
import { runSession } from '../src/chaos/session.js';
import { HANDOVER_WINDOW_MS } from '../src/election/ip-state.js';
import { SPEAKER_DEFAULTS } from '../src/speaker/config.js';

// Frames shown around a two-MAC moment when the test fails: a request, both answers and the
// announcements that bracket them (the probe asks every 20 ms).
const FRAMES_AROUND_MS = { beforeMs: 60, afterMs: 40 };

// A restarted speaker's start-up (about 2 s in the lab) before its settle time begins.
const REBALANCE_MARGIN_MS = 2_000;

// The liveness design the chart runs here: BATON_E2E_LIVENESS, or the chart's defaults (the same as the
// speaker's, src/cli/defaults.test.ts).
const LIVENESS = chartLivenessFromEnv() ?? SHIPPED_LIVENESS;

// Client-visible bounds (ms). A crash or a cut: about the liveness lease duration (1.5 s) in the fast design,
// about half a second on heartbeats; the margin absorbs a loaded CI machine. Graceful kinds: the client must
// barely notice; so must it a holder cut from the API server that keeps its IPs (the slow design).
const BOUND_MS: Record<ExperimentKind, number> = {
  'kill-node': 2_500,
  'cut-link': 2_500,
  'cut-control-plane': LIVENESS === 'slow' ? 500 : 2_500,
  'delete-speaker-pod': 500,
  'cordon-drain': 500,
  'delete-lease': 500,
  'stop-api-server': 500,
};

describe('baton chaos in the lab', { timeout: 900_000 }, () => {
  let baton: Omit<BatonLab, 'stop'>;
  let env: LabEnvironment;
  const outDir = (): string => join(lab().workDir, 'chaos');

  before(async () => {
    baton = await installBaton(lab(), 'baton-chaos', (l) => console.log(l), { liveness: chartLivenessFromEnv() });
    await applySeed(baton.api, 'chaos-demo', (l) => console.log(l));
    await serveLabPages(baton.api, 'chaos-demo', lab().lan.nodes.length);
    await createLabPool(baton.api, { ipv6: true });
    await createLabService(baton.api, 'chaos-demo', 'second');
    await createLabService(baton.api, 'chaos-demo', 'third-v6', 'IPv6');
    await waitForPages(lab().lan, [...(await waitForAddresses(baton.api, 'chaos-demo', 3)).values()]);
    env = new LabEnvironment(baton);
  });

  after(async () => {
    await baton?.release.uninstall();
  });

  it('stale traffic to a node that no longer holds an address is served by that node’s kube-proxy: no Redirect, no unreachable', async () => {
    const { lan } = lab();
    const client = lan.client;
    const ips = await env.externalIps();
    const targets = [ips.find((ip) => !ip.includes(':')), ips.find((ip) => ip.includes(':'))] as [string, string];
    /** Runs `load` with the client's cache naming a node that does not hold `ip` (it held it before a failover). */
    const viaStaleNode = async (ip: string, load: (other: LanHost) => Promise<void>): Promise<void> => {
      const holder = (await env.holderOf(ip)) as string;
      const other = lan.nodes.find((n) => n.name !== holder) as LanHost;
      const family = ip.includes(':') ? ['-6'] : [];
      await runInNetns(client.netns, 'ip', [
        ...family,
        'neigh',
        'replace',
        ip,
        'lladdr',
        other.mac,
        'dev',
        client.iface,
        'nud',
        'permanent',
      ]);
      try {
        await load(other);
      } finally {
        await runInNetns(client.netns, 'ip', [...family, 'neigh', 'del', ip, 'dev', client.iface], { allowFailure: true });
      }
    };
    // The Services were made moments ago (before()), and a stale cache is from before a failover, long after
    // every node's kube-proxy programmed them. One CI run caught a node still forwarding the address instead
    // of serving it, its rules not yet in place: a page through each stale node first, not captured.
    for (const ip of targets) await viaStaleNode(ip, async () => void (await pageFrom(ip)));
    const capture = await ArpCapture.start(lan, client, 'stale-traffic', lab().workDir, { filter: 'icmp or icmp6' });
    const served: string[] = [];
    try {
      for (const ip of targets)
        await viaStaleNode(ip, async (other) => {
          for (let i = 0; i < 5; i++) served.push(`${ip} via ${other.name}: ${await pageFrom(ip)}`);
        });
    } finally {
      await capture.halt();
    }
    console.log(`[chaos] stale traffic served: ${served.join('; ')}`);
    assert.equal(served.length, 10, 'every page loaded through a node that does not hold the address');
    const nodeMacs = new Set(lan.nodes.map((n) => n.mac));
    const fromNodes = [
      ...(await icmpMessages(capture)).filter(
        (m) => nodeMacs.has(m.ethernetSource) && (m.type === ICMP_REDIRECT || m.type === ICMP_DESTINATION_UNREACHABLE),
      ),
      ...(await icmpv6Messages(capture)).filter(
        (m) => nodeMacs.has(m.ethernetSource) && (m.type === ICMPV6_REDIRECT || m.type === ICMPV6_DESTINATION_UNREACHABLE),
      ),
    ];
    assert.deepEqual(fromNodes, [], 'no node sent a Redirect or an unreachable about the addresses');
  });

  it('runs every experiment kind; the report shows downtime within bounds and no moment with two MACs', async () => {
    const kinds = Object.keys(EXPERIMENTS) as ExperimentKind[];
    // The client's wire, kept beside the probe: a failure shows the frames of its moment, not only the verdict.
    const wire = await ArpCapture.start(lab().lan, lab().lan.client, 'chaos', lab().workDir, {
      filter: `arp or ( ${NDP_CAPTURE_FILTER} )`,
    });
    let report: ChaosReport;
    try {
      report = await runSession(env, {
        experiments: kinds,
        // Long enough that the controller loses and regains its leadership (lease 15 s in the chart).
        holdMs: undefined,
        // Each experiment watches what follows the fault too: a restarted speaker settles in (10 s), then
        // rebalancing hands IPs back (one a second, each after the 1 s hand-over window). Seen here, a
        // rebalance is checked like the fault (no two MACs, no downtime) and cannot land in the next experiment.
        settleMs: SPEAKER_DEFAULTS.rebalanceSettleMs + 3 * SPEAKER_DEFAULTS.rebalanceIntervalMs + HANDOVER_WINDOW_MS + REBALANCE_MARGIN_MS,
        outDir: outDir(),
        rounds: 1,
        progress: (l) => {
          if (l.endsWith('\n')) process.stdout.write(l);
        },
      });
    } finally {
      await wire.halt();
    }
    const records: CapturedRecord[] = await wire.records();
    const nodeOf = (mac: string): string => env.nodeOfMac(mac) ?? (mac === lab().lan.client.mac ? 'client' : mac);
    const written = JSON.parse(await readFile(join(outDir(), 'report.json'), 'utf8')) as ChaosReport;
    assert.deepEqual(
      written.summary.map((s) => s.kind),
      kinds,
      'every kind ran, in order',
    );
    assert.equal(written.environment, 'lab');
    for (const e of report.experiments) {
      for (const ip of e.ips) {
        const wireAt = (t: number): string =>
          framesAround(records, ip.ip, Date.parse(e.startedAt) + t, FRAMES_AROUND_MS, nodeOf).join('\n    ');
        assert.deepEqual(
          ip.twoMacMoments,
          [],
          `${e.kind} ${ip.ip}: no two MACs at once; on the client's wire:\n${ip.twoMacMoments.map((m) => `  at ${m.t} ms:\n    ${wireAt(m.t)}`).join('\n')}`,
        );
        assert.ok(
          ip.downtimeMs <= BOUND_MS[e.kind],
          `${e.kind} ${ip.ip}: client downtime ${ip.downtimeMs} ms (bound ${BOUND_MS[e.kind]} ms)`,
        );
        assert.ok(ip.pageLoads.ok > 0, `${e.kind} ${ip.ip}: the probe loaded pages`);
      }
      const target = e.ips.find((i) => i.ip === e.ip);
      // In the slow design a holder cut from the API server but heard on the LAN keeps answering (its standbys'
      // acks prove none may take over, docs/heartbeats.md "The fence"); the IP may still move by a rebalancing
      // hand-over begun just before the cut (a rerun saw one land 0.9 s in), so there only the client's view
      // counts: the graceful bound (BOUND_MS) and one MAC, checked above.
      const mustMove = e.kind === 'kill-node' || e.kind === 'cut-link' || (e.kind === 'cut-control-plane' && LIVENESS !== 'slow');
      if (mustMove) {
        // The IP moved (it may have moved back by the end: rebalancing returns it to its best-ranked node).
        assert.ok(
          target?.holders.some((h) => h.fromMs >= e.injectedAtMs && h.node !== e.holderBefore),
          `${e.kind}: the IP moved`,
        );
        assert.ok(
          target?.newHolderAfterMs !== undefined && target.newHolderAfterMs <= BOUND_MS[e.kind],
          `${e.kind}: new holder after ${target?.newHolderAfterMs} ms`,
        );
        assert.ok((target?.garps.length ?? 0) > 0, `${e.kind}: the client saw the new holder's gratuitous ARP`);
      }
      if (e.kind === 'stop-api-server' || e.kind === 'delete-lease')
        assert.equal(e.holderAfter, e.holderBefore, `${e.kind}: nothing moved`);
      const svg = await readFile(e.picture, 'utf8');
      assert.match(svg, /^<svg /);
      assert.match(svg, new RegExp(e.ip.replaceAll('.', '\\.')));
      // The IPv6 Service is probed in every experiment (NS and page loads over IPv6) and drawn in its picture.
      const v6 = e.ips.filter((i) => i.ip.includes(':'));
      assert.equal(v6.length, 1, `${e.kind}: the IPv6 address is among the probed ones`);
      for (const i of v6) {
        assert.ok(i.pageLoads.ok > 0 && i.holders.length > 0, `${e.kind} ${i.ip}: pages loaded and NAs seen over IPv6`);
        assert.ok(svg.includes(`>${i.ip}<`), `${e.kind}: the picture shows ${i.ip}`);
      }
    }
    assert.match(await readFile(join(outDir(), 'index.html'), 'utf8'), /Baton chaos report/);
  });

  it('soaks on a cron schedule for a bounded number of rounds', async () => {
    const started = Date.now();
    const report = await runSession(env, {
      experiments: ['delete-lease'],
      outDir: join(outDir(), 'soak'),
      schedule: '*/2 * * * * *',
      rounds: 2,
      progress: () => undefined,
    });
    assert.equal(report.experiments.length, 2, 'two rounds, then it stops');
    assert.ok(Date.now() - started >= 2 * 7_500, 'each round ran in full');
    for (const e of report.experiments) for (const ip of e.ips) assert.deepEqual(ip.twoMacMoments, []);
  });
});

/** The page an external IP serves (the name of the node whose web pod answered), loaded from the client. */
async function pageFrom(ip: string): Promise<string> {
  const url = ip.includes(':') ? `http://[${ip}]/` : `http://${ip}/`;
  const r = await runInNetns(lab().lan.client.netns, 'node', [
    '-e',
    `fetch('${url}', { signal: AbortSignal.timeout(2000) }).then(r => r.text()).then(t => console.log(t), e => { console.error(String(e)); process.exit(1); })`,
  ]);
  return r.stdout.trim();
}
