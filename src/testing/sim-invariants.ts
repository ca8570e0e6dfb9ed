// The promises Baton makes, checked on what crossed the simulated LAN (the
// wire's log) against who owned each IP in the API server at each moment:
// - one MAC: once a node announces an IP it owns, no other node puts a
//   claim for it on the wire (a reply or a gratuitous ARP) until a newer
//   owner announces it;
// - answered: the client's requests get an answer again within a bound once
//   the faults are over (and while some eligible node is healthy).

import { ipLeaseName } from '../k8s/lease-names.js';
import { arpOf } from './sim-wire.js';
import type { Simulation } from './speaker-simulation.js';

export interface Violation {
  t: number;
  ip: string;
  mac: string;
  why: string;
}

/** Claims for ip by nodes that were not its latest announced owner at the time. */
export function oneMacViolations(sim: Simulation, ip: string): Violation[] {
  const lease = ipLeaseName(ip);
  const out: Violation[] = [];
  let owner: string | undefined;
  for (const f of sim.wire.framesAbout(ip)) {
    if (!f.from.startsWith('node-')) continue;
    const a = arpOf(f);
    if (a === undefined) continue;
    const gratuitous = a.senderIp === a.targetIp;
    if (gratuitous && sim.api.holderAt(lease, f.seq) === f.from) {
      owner = f.from;
      continue;
    }
    if (owner !== undefined && f.from !== owner) {
      out.push({ t: f.t, ip, mac: a.senderMac, why: `${f.from} ${gratuitous ? 'announced' : 'answered'} after ${owner} announced it` });
    }
  }
  return out;
}

/** The longest stretch in [from, to] during which the client asked about ip every interval and nobody answered. */
export function longestUnanswered(sim: Simulation, ip: string, from: number, to: number): number {
  const replies = sim.client.sightings.filter((s) => s.kind === 'reply' && s.ip === ip && s.t >= from && s.t <= to).map((s) => s.t);
  let worst = 0;
  let last = from;
  for (const t of replies) {
    worst = Math.max(worst, t - last);
    last = t;
  }
  return Math.max(worst, to - last);
}

/** How long after `from` the client first got an answer for ip (Infinity: never, up to `to`). */
export function answeredAfter(sim: Simulation, ip: string, from: number, to: number): number {
  const first = sim.client.sightings.find((s) => s.kind === 'reply' && s.ip === ip && s.t >= from && s.t <= to);
  return first === undefined ? Number.POSITIVE_INFINITY : first.t - from;
}
