// A firewall rule on the heartbeat port of one lab node: the fault that
// leaves a speaker alive and on the LAN but unable to prove it by
// heartbeats, so its standbys fall back to judging it by its Lease.
import { runInNetns } from '../../dev/lab/exec.js';
import type { LanHost } from '../../dev/lab/lan.js';
import { HEARTBEAT_PORT } from './baton-process.js';

const TABLE = 'baton-e2e-beats';

/** Drops every heartbeat datagram into and out of a node (both directions, so beats and acks are lost). */
export async function blockBeats(host: LanHost): Promise<void> {
  const rules = [
    `add table inet ${TABLE}`,
    `add chain inet ${TABLE} in { type filter hook input priority 0 ; }`,
    `add chain inet ${TABLE} out { type filter hook output priority 0 ; }`,
    `add rule inet ${TABLE} in udp dport ${HEARTBEAT_PORT} drop`,
    `add rule inet ${TABLE} out udp dport ${HEARTBEAT_PORT} drop`,
  ];
  for (const r of rules) await runInNetns(host.netns, 'nft', r.split(' '));
}

/** Removes the rule (nothing to do when there is none). */
export async function unblockBeats(host: LanHost): Promise<void> {
  await runInNetns(host.netns, 'nft', ['delete', 'table', 'inet', TABLE]).catch(() => undefined);
}
