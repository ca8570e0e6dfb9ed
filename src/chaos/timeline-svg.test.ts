import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyseIp } from './analysis.js';
import type { ProbeEvent } from './probe-events.js';
import { renderTimeline } from './timeline-svg.js';

const A = '02:ba:70:00:00:0b';
const B = '02:ba:70:00:00:0c';

describe('renderTimeline', () => {
  const events: ProbeEvent[] = [
    { t: 100, kind: 'arp-reply', ip: '192.0.2.200', mac: A },
    { t: 150, kind: 'http', ip: '192.0.2.200', ok: true, from: 'node-1', ms: 1 },
    { t: 1_200, kind: 'http', ip: '192.0.2.200', ok: false, from: 'timeout', ms: 150 },
    { t: 2_000, kind: 'garp', ip: '192.0.2.200', mac: B },
    { t: 2_010, kind: 'arp-reply', ip: '192.0.2.200', mac: B },
    { t: 2_020, kind: 'http', ip: '192.0.2.200', ok: true, from: 'node-2', ms: 1 },
  ];
  const svg = renderTimeline({
    title: 'kill-node on 192.0.2.200 <held by node-1>',
    subtitle: 'crash & cable out',
    startedAt: 0,
    injectedAt: 1_000,
    recoveredAt: 3_000,
    endedAt: 4_000,
    ips: [analyseIp(events, '192.0.2.200', 1_000, 4_000)],
    nodeOfMac: (m) => (m === A ? 'node-1' : m === B ? 'node-2' : undefined),
  });

  it('is a standalone SVG with the title escaped', () => {
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg, /<\/svg>$/);
    assert.match(svg, /&lt;held by node-1&gt;/);
    assert.match(svg, /crash &amp; cable out/);
  });

  it('draws a bar per holder, the outage in red, the announcement, and both markers', () => {
    assert.equal((svg.match(/answered ARP<\/title>/g) ?? []).length, 2);
    assert.match(svg, /fill="#d00"><title>page loads failed for 820 ms/);
    assert.match(svg, /gratuitous ARP from node-2/);
    assert.match(svg, />fault</);
    assert.match(svg, />undone</);
    assert.match(svg, /820 ms down/);
  });

  it('names every node in the legend with its MAC', () => {
    assert.match(svg, /node-1 02:ba:70:00:00:0b/);
    assert.match(svg, /node-2 02:ba:70:00:00:0c/);
  });

  it('widens the label column for an IPv6 address, so its label does not run into the plot', () => {
    const ip6 = '2001:db8:ba70:e::100';
    const wide = renderTimeline({
      title: 'kill-node',
      startedAt: 0,
      injectedAt: 1_000,
      recoveredAt: 3_000,
      endedAt: 4_000,
      ips: [analyseIp(events, '192.0.2.200', 1_000, 4_000), analyseIp([{ ...events[0], ip: ip6 } as ProbeEvent], ip6, 1_000, 4_000)],
      nodeOfMac: () => undefined,
    });
    assert.match(wide, />2001:db8:ba70:e::100</);
    const firstTick = (doc: string): number => Number(/<line x1="([\d.]+)" y1="\d+" x2="[\d.]+" y2="\d+" stroke="#eee"/.exec(doc)?.[1]);
    assert.equal(firstTick(svg), 140, 'IPv4 only: the usual column');
    assert.ok(firstTick(wide) >= 16 + ip6.length * 7.5, `the plot starts after the IPv6 label (${firstTick(wide)} px)`);
  });
});
