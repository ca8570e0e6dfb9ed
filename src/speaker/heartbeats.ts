// The LAN heartbeats of one speaker (docs/heartbeats.md), as the composition
// root uses them: the socket, the exchange and its plan, and the fence that
// bounds how long this node may defend what it holds. Kept apart from
// speaker.ts so that it reads as one thing; the decisions are in
// election/beat-exchange.ts (who is silent), election/beat-acks.ts and
// election/silence-fence.ts (how long nobody can take over by silence).
import type { Clock } from '../clock.js';
import { BeatExchange, type BeatMetrics, type BeatTransport } from '../election/beat-exchange.js';
import { type BeatPlanSources, beatPlan } from '../election/beat-plan.js';
import { type FenceEvents, SilenceFence } from '../election/silence-fence.js';
import { errorCode } from '../errors.js';
import { HEARTBEAT_ANNOTATION, QUIET_ANNOTATION } from '../k8s/lease-names.js';
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

export interface SpeakerHeartbeatsOptions {
  clock: Clock;
  log: Logger;
  metrics: BeatMetrics;
  sources: BeatPlanSources;
  /** How long this node's Lease must go unrenewed before its standbys may act on its silence (declared on the Lease). */
  quietMs: number;
  /** Send time of this node's last successful liveness renewal. */
  renewedAt: () => number;
  /** A watched holder went silent, or is no longer silent. */
  onSilence: (holder: string, silent: boolean) => void;
  fence: FenceEvents;
}

export class SpeakerHeartbeats {
  readonly fence: SilenceFence;
  private exchange: BeatExchange | undefined;
  private socket: BeatTransport | undefined;

  constructor(
    private readonly hb: HeartbeatDeps,
    private readonly o: SpeakerHeartbeatsOptions,
  ) {
    this.fence = new SilenceFence(
      o.clock,
      {
        renewedAt: o.renewedAt,
        quietMs: o.quietMs,
        // No exchange (not started yet, or its socket would not open): acks prove nothing.
        ackHorizon: () => this.exchange?.ackHorizon() ?? Number.NEGATIVE_INFINITY,
      },
      o.fence,
    );
  }

  /**
   * Opens the socket and starts beating. A socket that cannot open (the port
   * taken, the address not on this node) is logged with its code and the
   * speaker runs on without heartbeats: it advertises no endpoint, so its
   * peers judge it by its Lease, as they judge a speaker without heartbeats.
   */
  async start(): Promise<void> {
    const { log } = this.o;
    try {
      this.socket = await this.hb.open(
        this.hb.address,
        (datagram, from) => this.exchange?.received(datagram, from),
        (err) => log.warn({ err, code: errorCode(err) }, 'heartbeat socket error'),
      );
    } catch (err) {
      log.error(
        { err, code: errorCode(err), address: formatUdpEndpoint(this.hb.address) },
        'cannot open the heartbeat socket: running without heartbeats (peers judge this node by its Lease)',
      );
      return;
    }
    this.exchange = new BeatExchange({
      me: this.o.sources.me,
      clock: this.o.clock,
      log,
      key: this.hb.key,
      transport: this.socket,
      metrics: this.o.metrics,
      plan: beatPlan(this.o.sources),
      onChange: this.o.onSilence,
    });
    this.exchange.start();
    log.info({ address: formatUdpEndpoint(this.hb.address) }, 'heartbeats on');
  }

  stop(): void {
    this.exchange?.stop();
    this.socket?.close();
    this.fence.stop();
  }

  /** What this node's liveness Lease says of its heartbeats: where it takes them, and its quiet time. None before they run. */
  annotations(): Record<string, string> {
    if (this.exchange === undefined) return {};
    return { [HEARTBEAT_ANNOTATION]: formatUdpEndpoint(this.hb.address), [QUIET_ANNOTATION]: String(this.o.quietMs) };
  }

  isSilent(node: string): boolean {
    return this.exchange?.isSilent(node) === true;
  }

  renewalSeen(node: string): void {
    this.exchange?.renewalSeen(node);
  }

  /** Who holds what may have changed. */
  replan(): void {
    this.exchange?.replan();
  }
}
