// The picture of one experiment, readable at a glance: one row per external
// IP, time running left to right; a coloured bar per node for who answered
// ARP, red below it where the client's page loads failed, a tick for each
// gratuitous ARP, dashed lines where the fault was injected and undone, and
// a black mark wherever two MACs answered at once. Plain SVG, no scripts.
import type { IpAnalysis } from './analysis.js';

export interface TimelineInput {
  title: string;
  /** A second, smaller line under the title. */
  subtitle?: string;
  startedAt: number;
  injectedAt: number;
  recoveredAt: number | undefined;
  endedAt: number;
  ips: readonly IpAnalysis[];
  /** Node name for a MAC, for the legend and labels. */
  nodeOfMac: (mac: string) => string | undefined;
}

// Colour-blind-safe palette (Okabe-Ito), one per node in order of appearance.
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#999999'];
const WIDTH = 1000;
/** The label column at least: room for an IPv4 address in bold and "NNNN ms down". */
const LEFT_MIN = 140;
/** Width of one bold 12 px sans-serif character, generously (digits and colons are narrower): an IPv6 label widens the column. */
const LABEL_CHAR_PX = 7.5;
/** Space left and right of a label in its column. */
const LABEL_PAD_PX = 16;
const RIGHT = 20;
const ROW = 46;
const TOP = 72;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function renderTimeline(input: TimelineInput): string {
  const span = Math.max(1, input.endedAt - input.startedAt);
  const LEFT = Math.max(LEFT_MIN, Math.ceil(LABEL_PAD_PX + LABEL_CHAR_PX * Math.max(0, ...input.ips.map((ip) => ip.ip.length))));
  const plot = WIDTH - LEFT - RIGHT;
  const x = (t: number): number => LEFT + ((Math.min(Math.max(t, input.startedAt), input.endedAt) - input.startedAt) / span) * plot;
  const colours = new Map<string, string>();
  const colour = (mac: string): string => {
    let c = colours.get(mac);
    if (c === undefined) {
      c = PALETTE[colours.size % PALETTE.length] as string;
      colours.set(mac, c);
    }
    return c;
  };
  const height = TOP + input.ips.length * ROW + 70;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
  );
  parts.push(`<rect width="100%" height="100%" fill="white"/>`);
  parts.push(`<text x="8" y="22" font-size="15" font-weight="bold">${esc(input.title)}</text>`);
  if (input.subtitle !== undefined) parts.push(`<text x="8" y="40" fill="#555">${esc(input.subtitle)}</text>`);

  // Time axis: a tick per second (or per 10 s for long runs).
  const step = span > 30_000 ? 10_000 : 1_000;
  for (let t = 0; t <= span; t += step) {
    const px = x(input.startedAt + t);
    parts.push(`<line x1="${px}" y1="${TOP - 8}" x2="${px}" y2="${TOP + input.ips.length * ROW}" stroke="#eee"/>`);
    parts.push(`<text x="${px}" y="${TOP - 12}" text-anchor="middle" fill="#666">${(t / 1000).toFixed(0)}s</text>`);
  }
  const marker = (t: number | undefined, label: string): void => {
    if (t === undefined) return;
    const px = x(t);
    parts.push(`<line x1="${px}" y1="${TOP - 8}" x2="${px}" y2="${TOP + input.ips.length * ROW}" stroke="#333" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${px + 3}" y="${TOP + input.ips.length * ROW + 14}" fill="#333">${esc(label)}</text>`);
  };
  marker(input.injectedAt, 'fault');
  marker(input.recoveredAt, 'undone');

  input.ips.forEach((ip, i) => {
    const y = TOP + i * ROW;
    const downtime = ip.downtimeMs > 0 ? `${ip.downtimeMs} ms down` : 'no downtime';
    parts.push(`<text x="8" y="${y + 16}" font-weight="bold">${esc(ip.ip)}</text>`);
    parts.push(`<text x="8" y="${y + 31}" fill="${ip.downtimeMs > 0 ? '#b00' : '#070'}">${esc(downtime)}</text>`);
    for (const h of ip.holders) {
      const w = Math.max(2, x(h.to) - x(h.from));
      const node = input.nodeOfMac(h.mac) ?? h.mac;
      parts.push(
        `<rect x="${x(h.from)}" y="${y + 4}" width="${w}" height="18" fill="${colour(h.mac)}"><title>${esc(`${node} (${h.mac}) answered ARP`)}</title></rect>`,
      );
    }
    for (const o of ip.outages) {
      parts.push(
        `<rect x="${x(o.from)}" y="${y + 25}" width="${Math.max(2, x(o.to) - x(o.from))}" height="8" fill="#d00"><title>${esc(`page loads failed for ${Math.round(o.to - o.from)} ms`)}</title></rect>`,
      );
    }
    for (const g of ip.garps)
      parts.push(
        `<path d="M ${x(g.t)} ${y} l -4 -6 h 8 z" fill="${colour(g.mac)}" stroke="#000" stroke-width="0.5"><title>gratuitous ARP from ${esc(input.nodeOfMac(g.mac) ?? g.mac)}</title></path>`,
      );
    for (const m of ip.twoMacMoments)
      parts.push(
        `<rect x="${x(m.t) - 3}" y="${y + 2}" width="6" height="32" fill="black"><title>two MACs answered: ${esc(m.macs.join(', '))}</title></rect>`,
      );
  });

  // Legend.
  let lx = LEFT;
  const ly = height - 22;
  for (const [mac, c] of colours) {
    const label = `${input.nodeOfMac(mac) ?? '?'} ${mac}`;
    parts.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${c}"/><text x="${lx + 16}" y="${ly}">${esc(label)}</text>`);
    lx += 20 + label.length * 7;
  }
  parts.push(
    `<rect x="${lx}" y="${ly - 6}" width="12" height="6" fill="#d00"/><text x="${lx + 16}" y="${ly}">client page loads failing</text>`,
  );
  parts.push('</svg>');
  return parts.join('\n');
}
