// The speaker's metrics: what it announces, what its reader threads did with
// every frame and why, how elections go, how long hand-overs take, and the
// faults it met (claims, conflicts, overruns).
import type { Counter, Gauge, Histogram } from 'prom-client';
import type { FrameVerdict } from '../layer2/link.js';
import type { ResponderMetrics } from '../layer2/responder.js';
import type { Metrics } from '../observability/metrics.js';
import type { BeatMetrics } from './beat-exchange.js';

export class SpeakerMetrics {
  readonly ipsHeld: Gauge;
  readonly healthy: Gauge;
  readonly frames: Counter<'verdict'>;
  readonly gratuitous: Counter<'ip'>;
  readonly announceRefused: Counter<'reason'>;
  readonly elections: Counter<'result'>;
  readonly handoverSeconds: Histogram<'kind'>;
  readonly foreignClaims: Counter<'ip'>;
  readonly ipConflicts: Counter<'ip'>;
  readonly overrunYields: Counter;
  readonly renewals: Counter<'result'>;
  readonly membershipFailed: Counter<'op' | 'code'>;
  readonly blind: Gauge;
  readonly beatsSent: Counter<'kind'>;
  readonly beatsReceived: Counter<'kind' | 'verdict'>;
  readonly beatsDropped: Counter<'reason'>;
  readonly beatSilences: Counter;
  readonly beatContradictions: Counter;
  readonly beatFenceLapses: Counter;
  readonly beatWatched: Gauge;
  readonly beatWatchers: Gauge;
  readonly silenceDeclarations: Counter<'value'>;
  readonly livenessReads: Counter<'result'>;
  readonly infoWrites: Counter;

  constructor(m: Metrics) {
    this.ipsHeld = m.gauge('baton_speaker_ips_held', 'External IPs this node announces now', []);
    this.healthy = m.gauge('baton_speaker_healthy', '1 while this speaker renews its liveness Lease in time', []);
    this.frames = m.counter(
      'baton_speaker_arp_frames_total',
      'ARP frames read by the reader threads, by what they did with them (answered, not-held, stale, claim, ...)',
      ['verdict'],
    );
    this.gratuitous = m.counter('baton_speaker_gratuitous_arp_total', 'Gratuitous ARP rounds sent (request and reply form each)', ['ip']);
    this.announceRefused = m.counter(
      'baton_speaker_announce_refused_total',
      'Gratuitous ARP the reader did not send: license lapsed, address yielded, or the kernel refused',
      ['reason'],
    );
    this.elections = m.counter(
      'baton_speaker_elections_total',
      'Lease writes of the IP election by effect and outcome (acquire-won, confirm-lost, ...)',
      ['result'],
    );
    // 10 ms to 10 s: a graceful hand-over is tens of ms, a crash takeover about the liveness lease duration.
    this.handoverSeconds = m.histogram(
      'baton_speaker_handover_seconds',
      'From an IP becoming free (as this speaker saw it) to this speaker announcing it',
      ['kind'],
      [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10],
    );
    this.foreignClaims = m.counter(
      'baton_speaker_foreign_claims_total',
      'Another MAC announced an IP this node answered undefended; this node yielded',
      ['ip'],
    );
    this.ipConflicts = m.counter(
      'baton_speaker_ip_conflicts_total',
      'Another MAC claimed an IP this node holds and defends; this node re-announced',
      ['ip'],
    );
    this.overrunYields = m.counter(
      'baton_speaker_overrun_yields_total',
      'Receive-buffer overruns that may have hidden a claim; undefended IPs were yielded',
      [],
    );
    this.renewals = m.counter('baton_speaker_liveness_renewals_total', 'Liveness lease renewals by result', ['result']);
    this.membershipFailed = m.counter(
      'baton_speaker_multicast_membership_failures_total',
      'Solicited-node group steps (open, join, leave) that failed, by errno: multicast NS for an IPv6 address may not arrive',
      ['op', 'code'],
    );
    this.blind = m.gauge(
      'baton_speaker_lease_watch_blind',
      '1 while the lease watch is broken or stalled (its own renewals do not echo): nobody is judged dead',
      [],
    );
    this.beatsSent = m.counter('baton_speaker_heartbeats_sent_total', 'LAN heartbeat datagrams sent, by kind (beat, ack)', ['kind']);
    this.beatsReceived = m.counter(
      'baton_speaker_heartbeats_received_total',
      'Authentic heartbeat datagrams received, by kind and what they counted for (fresh, replay, skewed, not-watched, ack)',
      ['kind', 'verdict'],
    );
    this.beatsDropped = m.counter(
      'baton_speaker_heartbeats_dropped_total',
      'Heartbeat datagrams dropped or not sent, by reason (bad-signature, truncated, own, send-failed, ...)',
      ['reason'],
    );
    this.beatSilences = m.counter(
      'baton_speaker_heartbeat_silences_total',
      'Watched holders that went silent (no fresh heartbeat for the silence window): their IPs were looked at',
      [],
    );
    this.beatContradictions = m.counter(
      'baton_speaker_heartbeat_contradictions_total',
      'Silences ended by a renewal of the holder’s liveness Lease (beats lost, holder alive): judged by its Lease since',
      [],
    );
    this.beatFenceLapses = m.counter(
      'baton_speaker_heartbeat_fence_lapses_total',
      'Times neither renewals nor heartbeat acks proved that no standby could take over: every IP confirmed again before defended',
      [],
    );
    this.beatWatched = m.gauge('baton_speaker_heartbeat_watched_holders', 'Holders this node stands by for and expects beats from', []);
    this.beatWatchers = m.gauge(
      'baton_speaker_heartbeat_watchers',
      'Nodes this node sends beats to (standbys of its IPs, and those in grace)',
      [],
    );
    this.silenceDeclarations = m.counter(
      'baton_speaker_silence_declarations_total',
      'Slow liveness: changes of what this node’s Lease declares (open: takeover on a witnessed heartbeat silence; closed: Lease expiry only)',
      ['value'],
    );
    this.livenessReads = m.counter(
      'baton_speaker_liveness_reads_total',
      'Slow liveness: reads of peers’ liveness Leases (holders no heartbeat can judge, and the check before a takeover), by result',
      ['result'],
    );
    this.infoWrites = m.counter('baton_speaker_info_writes_total', 'Slow liveness: writes of this node’s change-only info record', []);
  }

  forBeats(): BeatMetrics {
    return {
      sent: (kind) => this.beatsSent.inc({ kind }),
      received: (kind, verdict) => this.beatsReceived.inc({ kind, verdict }),
      dropped: (reason) => this.beatsDropped.inc({ reason }),
      silenced: () => this.beatSilences.inc(),
      contradicted: () => this.beatContradictions.inc(),
      watching: (holders, watchers) => {
        this.beatWatched.set(holders);
        this.beatWatchers.set(watchers);
      },
    };
  }

  forResponder(): ResponderMetrics {
    return {
      frame: (verdict: FrameVerdict) => this.frames.inc({ verdict }),
      gratuitous: (ip) => this.gratuitous.inc({ ip }),
      announceRefused: (reason) => this.announceRefused.inc({ reason }),
      membershipFailed: (op, code) => this.membershipFailed.inc({ op, code }),
    };
  }
}
