// The speaker's metrics: what it announces, what it answers, what it drops
// and why, how elections go and how long hand-overs take.
import type { Counter, Gauge, Histogram } from 'prom-client';
import type { DropReason } from '../layer2/packet/drop-reason.js';
import type { ResponderMetrics } from '../layer2/responder.js';
import type { Metrics } from '../observability/metrics.js';

export class SpeakerMetrics {
  readonly ipsHeld: Gauge;
  readonly healthy: Gauge;
  readonly arpRequests: Counter<'ip'>;
  readonly arpReplies: Counter<'ip'>;
  readonly gratuitous: Counter<'ip'>;
  readonly dropped: Counter<'reason'>;
  readonly sendFailures: Counter<'code'>;
  readonly elections: Counter<'result'>;
  readonly handoverSeconds: Histogram<'kind'>;
  readonly foreignClaims: Counter<'ip'>;
  readonly renewals: Counter<'result'>;

  constructor(m: Metrics) {
    this.ipsHeld = m.gauge('baton_speaker_ips_held', 'External IPs this node announces now', []);
    this.healthy = m.gauge('baton_speaker_healthy', '1 while this speaker renews its liveness Lease in time', []);
    this.arpRequests = m.counter('baton_speaker_arp_requests_total', 'ARP requests received for an IP this node announces', ['ip']);
    this.arpReplies = m.counter('baton_speaker_arp_replies_total', 'ARP replies sent', ['ip']);
    this.gratuitous = m.counter('baton_speaker_gratuitous_arp_total', 'Gratuitous ARP rounds sent (request and reply form each)', ['ip']);
    this.dropped = m.counter('baton_speaker_arp_dropped_total', 'ARP frames not acted on, by reason', ['reason']);
    this.sendFailures = m.counter('baton_speaker_send_failures_total', 'Frames the link refused to send, by errno', ['code']);
    this.elections = m.counter('baton_speaker_elections_total', 'Attempts to take an IP: won, or lost to another speaker', ['result']);
    // 10 ms to 10 s: a graceful hand-over is tens of ms, a crash takeover about the liveness lease duration.
    this.handoverSeconds = m.histogram(
      'baton_speaker_handover_seconds',
      'From an IP becoming free (as this speaker saw it) to this speaker announcing it',
      ['kind'],
      [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10],
    );
    this.foreignClaims = m.counter(
      'baton_speaker_foreign_claims_total',
      'Another MAC announced an IP this node announced; this node yielded',
      ['ip'],
    );
    this.renewals = m.counter('baton_speaker_liveness_renewals_total', 'Liveness lease renewals by result', ['result']);
  }

  forResponder(): ResponderMetrics {
    return {
      request: (ip) => this.arpRequests.inc({ ip }),
      reply: (ip) => this.arpReplies.inc({ ip }),
      gratuitous: (ip) => this.gratuitous.inc({ ip }),
      dropped: (reason: DropReason) => this.dropped.inc({ reason }),
      sendFailed: (code) => this.sendFailures.inc({ code }),
    };
  }
}
