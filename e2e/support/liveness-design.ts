// What the end-to-end cases need to know of the liveness design under test
// (BATON_E2E_LIVENESS, or the shipped one). Chiefly, a holder cut off from
// the control plane, as each design must meet it. Fast: its standbys see its Lease stop and take over within about
// the Lease duration. Slow: a holder still heard on the LAN keeps its IPs
// (its standbys' heartbeat acks prove that none of them may take over), so
// the cut is checked to move nothing for a while, and then its heartbeats
// are blocked too: its standbys judge it by its Lease and take over at Lease
// speed, while it answers (undefended, outage mode) until the heir's claim.
import assert from 'node:assert/strict';
import { lab } from '../../dev/lab/current.js';
import { SLOW_LIVENESS } from '../../src/election/liveness-mode.js';
import { E2E_LIVENESS } from './baton-process.js';
import { blockBeats, unblockBeats } from './beat-firewall.js';
import { type ClientProbe, longestOutage } from './client-probe.js';
import { ipLeaseHolder } from './cluster-objects.js';

/** The speakers under test run the slow liveness Lease (BATON_E2E_LIVENESS, or the shipped design). */
export const SLOW = E2E_LIVENESS === 'slow';

/**
 * How long after a holder takes an IP its standbys have surely heard it (slow design): both sides' beat plans
 * follow a Lease change at their next tick (beat-exchange.ts replan) and the first beat comes 100 ms after;
 * the Lease event's watch hop and a loaded machine fit well within 2 s. A holder that crashes before then is replaced at Lease speed, not by silence (README, "How it
 * works"): a case about something else lets it be heard first.
 */
export const FIRST_HEARD_MS = 2_000;

/** Slow design: waits until the standbys of IPs just taken have heard their holders (FIRST_HEARD_MS). */
export async function untilHeard(): Promise<void> {
  if (SLOW) await new Promise((r) => setTimeout(r, FIRST_HEARD_MS));
}

/** How long the slow design's cut-off holder is watched keeping its IP before its heartbeats are blocked too. */
export const KEPT_CHECK_MS = 5_000;

/**
 * How long a takeover of a cut-off holder may take. Fast: about the Lease duration (1.5 s), with room. Slow,
 * with no heartbeat heard: the Lease's duration after its last renewal, plus a poll (liveness-mode.ts), plus
 * 10 s of room for a loaded machine.
 */
export const CUT_OFF_TAKEOVER_MS = SLOW ? SLOW_LIVENESS.leaseDurationMs + SLOW_LIVENESS.pollIntervalMs + 10_000 : 20_000;

/**
 * Cuts `holder` off from the control plane (and, slow, checks it keeps `ip`, then blocks its heartbeats).
 * Resolves once the fault is in place, with the client's longest outage while the holder kept the IP
 * (slow, with a probe). Undo with restoreCutOff, also when the test fails.
 */
export async function cutOff(holder: string, ip: string, probe?: ClientProbe): Promise<{ keptOutageMs: number | undefined }> {
  const host = lab().lan.node(holder);
  const cutAt = Date.now();
  await lab().lan.cutControlPlane(host);
  if (!SLOW) return { keptOutageMs: undefined };
  await new Promise((r) => setTimeout(r, KEPT_CHECK_MS));
  assert.equal(await ipLeaseHolder(ip), holder, 'cut from the API server but heard on the LAN, the holder kept its IP');
  const keptOutageMs = probe === undefined ? undefined : longestOutage(probe.snapshot(), cutAt).ms;
  await blockBeats(host);
  return { keptOutageMs };
}

export async function restoreCutOff(holder: string): Promise<void> {
  const host = lab().lan.node(holder);
  await lab().lan.restoreControlPlane(host);
  await unblockBeats(host);
}
