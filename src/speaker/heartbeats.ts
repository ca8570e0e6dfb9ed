// Wiring of the LAN heartbeats (docs/heartbeats.md) into a speaker: the
// socket, the exchange and its plan. Kept apart from the composition root so
// it reads as one thing; the decisions are in election/beat-exchange.ts.
import type { Clock } from '../clock.js';
import { BeatExchange, type BeatMetrics, type BeatTransport } from '../election/beat-exchange.js';
import { type BeatPlanSources, beatPlan } from '../election/beat-plan.js';
import { errorCode } from '../errors.js';
import { formatUdpEndpoint, type UdpEndpoint } from '../net/udp-socket.js';
import type { Logger } from '../observability/logger.js';

export interface HeartbeatDeps {
  /** The cluster's heartbeat key (the chart's Secret). */
  key: Buffer;
  /** Where this speaker takes beats: the node's address, advertised on its liveness Lease. */
  address: UdpEndpoint;
  open: (
    at: UdpEndpoint,
    onMessage: (datagram: Buffer, from: UdpEndpoint) => void,
    onError: (err: Error) => void,
  ) => Promise<BeatTransport>;
}

export interface RunningHeartbeats {
  exchange: BeatExchange;
  socket: BeatTransport;
}

/**
 * Opens the socket and starts beating. A socket that cannot open (the port
 * taken, the address not on this node) is logged with its code and the
 * speaker runs on without heartbeats: its peers judge it by its Lease, as
 * they judge a speaker of a version without heartbeats.
 */
export async function startHeartbeats(
  hb: HeartbeatDeps,
  o: { clock: Clock; log: Logger; metrics: BeatMetrics; sources: BeatPlanSources; onChange: (holder: string, silent: boolean) => void },
): Promise<RunningHeartbeats | undefined> {
  let exchange: BeatExchange | undefined;
  let socket: BeatTransport;
  try {
    socket = await hb.open(
      hb.address,
      (datagram, from) => exchange?.received(datagram, from),
      (err) => o.log.warn({ err, code: errorCode(err) }, 'heartbeat socket error'),
    );
  } catch (err) {
    o.log.error(
      { err, code: errorCode(err), address: formatUdpEndpoint(hb.address) },
      'cannot open the heartbeat socket: running without heartbeats (peers judge this node by its Lease)',
    );
    return undefined;
  }
  exchange = new BeatExchange({
    me: o.sources.me,
    clock: o.clock,
    log: o.log,
    key: hb.key,
    transport: socket,
    metrics: o.metrics,
    plan: beatPlan(o.sources),
    onChange: o.onChange,
  });
  exchange.start();
  o.log.info({ address: formatUdpEndpoint(hb.address) }, 'heartbeats on');
  return { exchange, socket };
}
