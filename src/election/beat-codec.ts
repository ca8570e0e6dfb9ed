// The heartbeat datagram of the LAN heartbeats (docs/heartbeats.md):
// a holder tells the ranked standbys of the IPs it holds that it is alive,
// every 100 ms over UDP, instead of renewing a Lease twice a second that
// every speaker watches (beat-exchange.ts sends and reads them). This is
// its wire format, kept pure (bytes in, bytes out, the key passed in).
//
// Layout (network byte order), 94 bytes plus the node name:
//   0   4  magic "BTN" and format version 1 (0x42 0x54 0x4e 0x01)
//   4   1  kind: 1 beat (holder to standby), 2 ack (standby to holder),
//            3 query and 4 witness (standby to standby, slow liveness mode: beat-witness.ts)
//   5   1  length n of the sender's node name (1..253, a DNS-1123 subdomain)
//   6   n  sender's node name, ASCII
//   6+n 8  boot id: random per speaker process, so a restart's sequence 0 is not a replay
//   14+n 8 sequence: per boot, +1 per datagram sent; an ack carries the beat's
//   22+n 8 sent at: the sender's wall clock, ms since the epoch (bounds replays of an old boot)
//   30+n 8 digest of the sender's held IPs (heldDigest): a standby notices a view that drifted
//   38+n 8 an ack: the boot id of the beat it acknowledges (ackOf), so an ack of a holder's previous
//          process can never count for the current one; a query or witness: the boot id of the holder
//          it is about; a beat: zero
//   46+n 8 a query or witness: digest of the holder's name (nameDigest); a beat or an ack: its flags
//          in the first byte (bit 0: "judge me by my Lease", a slow-mode speaker that cannot renew),
//          then zero
//   54+n 8 a query or witness: the query's nonce (random), which its witness echoes; else zero
//   62+n.. HMAC-SHA256 over every byte before it, with the cluster's heartbeat key
//
// Authentication, not secrecy: a host on the LAN without the key can neither
// keep a dead holder "alive" nor make a live one look dead by forging beats.
// Replays are the tracker's business (beat-tracker.ts).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const BEAT_MAGIC = Buffer.from([0x42, 0x54, 0x4e, 0x01]);
const OFFSET_KIND = 4;
const OFFSET_NAME_LENGTH = 5;
const OFFSET_NAME = 6;
/**
 * Once zero bytes after the fields, room for a later field without a new version: the query and
 * witness of the slow liveness mode use them (a holder's name digest, a nonce); beats and acks leave
 * them zero, and a version-1 reader of beats and acks never looked at them.
 */
const RESERVED_LENGTH = 16;
/** boot id, sequence, sent at, digest, acked boot id (8 bytes each), then the reserved bytes. */
const FIXED_AFTER_NAME = 5 * 8 + RESERVED_LENGTH;
const NO_BOOT = '0000000000000000';
/** HMAC-SHA256's output. */
export const BEAT_MAC_LENGTH = 32;
/** Kubernetes node names are DNS-1123 subdomains: at most 253 characters. */
const MAX_NAME_LENGTH = 253;
const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** RFC 2104 section 3: a key shorter than the hash output (32 bytes) weakens HMAC; the chart's Secret holds 32 random bytes. */
export const MIN_KEY_LENGTH = 32;

export type BeatKind = 'beat' | 'ack' | 'query' | 'witness';
const KIND_CODE: Record<BeatKind, number> = { beat: 1, ack: 2, query: 3, witness: 4 };
const KIND_OF = new Map(Object.entries(KIND_CODE).map(([k, v]) => [v, k as BeatKind]));

/** What a query or witness is about: a holder (by name digest and boot) and the query's nonce. */
export interface BeatSubject {
  /** nameDigest of the holder, 8 bytes hex. */
  holder: string;
  /** The holder's boot id, 8 bytes hex. */
  bootId: string;
  /** 8 random bytes, hex: a witness answers one query, and only that query. */
  nonce: string;
}

export interface Beat {
  kind: BeatKind;
  sender: string;
  /** 8 bytes, hex. */
  bootId: string;
  sequence: bigint;
  sentAtMs: number;
  /** 8 bytes, hex (heldDigest). */
  heldDigest: string;
  /** An ack: the boot id (8 bytes, hex) of the beat it acknowledges; absent on a beat. */
  ackOf?: string;
  /** A query or a witness: what it is about; absent otherwise. */
  about?: BeatSubject;
  /**
   * A beat or ack of a slow-mode speaker whose liveness Lease renewals are failing past its deadline: it runs,
   * but its standbys should read its Lease (lease-poller.ts), which a Lease-speed takeover needs, and no holder
   * should hand it an IP. Absent: false.
   */
  leaseOnly?: boolean;
}

const FLAG_LEASE_ONLY = 0x01;

export type BeatDropReason = 'truncated' | 'bad-magic' | 'unknown-kind' | 'bad-name' | 'bad-signature';
export type DecodedBeat = { ok: true; value: Beat } | { ok: false; reason: BeatDropReason };

/** The first 8 bytes of SHA-256 over a node name: how a query or witness names the holder it is about. */
export function nameDigest(node: string): string {
  return createHash('sha256').update(node).digest().subarray(0, 8).toString('hex');
}

/** The first 8 bytes of SHA-256 over the sorted IPs, one per line: equal sets give equal digests. */
export function heldDigest(ips: Iterable<string>): string {
  return createHash('sha256')
    .update([...new Set(ips)].sort().join('\n'))
    .digest()
    .subarray(0, 8)
    .toString('hex');
}

export function encodeBeat(beat: Beat, key: Buffer): Buffer {
  checkKey(key);
  const name = Buffer.from(beat.sender, 'ascii');
  if (!NODE_NAME.test(beat.sender) || name.length > MAX_NAME_LENGTH)
    throw new RangeError(`not a node name: ${JSON.stringify(beat.sender)}`);
  const body = Buffer.alloc(OFFSET_NAME + name.length + FIXED_AFTER_NAME);
  BEAT_MAGIC.copy(body, 0);
  body[OFFSET_KIND] = KIND_CODE[beat.kind];
  body[OFFSET_NAME_LENGTH] = name.length;
  name.copy(body, OFFSET_NAME);
  let at = OFFSET_NAME + name.length;
  at = putHex8(body, at, beat.bootId, 'bootId');
  body.writeBigUInt64BE(beat.sequence, at);
  at += 8;
  body.writeBigUInt64BE(BigInt(Math.trunc(beat.sentAtMs)), at);
  at += 8;
  at = putHex8(body, at, beat.heldDigest, 'heldDigest');
  if ((beat.kind === 'ack') !== (beat.ackOf !== undefined)) throw new RangeError('an ack, and only an ack, names the boot it acknowledges');
  const aboutHolder = beat.kind === 'query' || beat.kind === 'witness';
  if (aboutHolder !== (beat.about !== undefined))
    throw new RangeError('a query or a witness, and only they, name the holder they are about');
  at = putHex8(body, at, beat.ackOf ?? beat.about?.bootId ?? NO_BOOT, beat.about === undefined ? 'ackOf' : 'about.bootId');
  if (beat.about !== undefined) {
    at = putHex8(body, at, beat.about.holder, 'about.holder');
    putHex8(body, at, beat.about.nonce, 'about.nonce');
  }
  if (beat.leaseOnly === true) {
    if (beat.kind !== 'beat' && beat.kind !== 'ack') throw new RangeError('only a beat or an ack carries flags');
    body[at] = FLAG_LEASE_ONLY;
  }
  return Buffer.concat([body, mac(key, body)]);
}

export function decodeBeat(datagram: Buffer, key: Buffer): DecodedBeat {
  checkKey(key);
  if (datagram.length < OFFSET_NAME) return { ok: false, reason: 'truncated' };
  if (!datagram.subarray(0, BEAT_MAGIC.length).equals(BEAT_MAGIC)) return { ok: false, reason: 'bad-magic' };
  const n = datagram[OFFSET_NAME_LENGTH] as number;
  const bodyLength = OFFSET_NAME + n + FIXED_AFTER_NAME;
  if (datagram.length !== bodyLength + BEAT_MAC_LENGTH) return { ok: false, reason: 'truncated' };
  // The signature first: nothing from an unauthenticated datagram is interpreted beyond its length.
  const body = datagram.subarray(0, bodyLength);
  if (!timingSafeEqual(datagram.subarray(bodyLength), mac(key, body))) return { ok: false, reason: 'bad-signature' };
  const kind = KIND_OF.get(datagram[OFFSET_KIND] as number);
  if (kind === undefined) return { ok: false, reason: 'unknown-kind' };
  const sender = datagram.subarray(OFFSET_NAME, OFFSET_NAME + n).toString('latin1');
  if (n === 0 || !NODE_NAME.test(sender)) return { ok: false, reason: 'bad-name' };
  let at = OFFSET_NAME + n;
  const bootId = datagram.subarray(at, at + 8).toString('hex');
  at += 8;
  const sequence = datagram.readBigUInt64BE(at);
  at += 8;
  const sentAtMs = Number(datagram.readBigUInt64BE(at));
  at += 8;
  const digest = datagram.subarray(at, at + 8).toString('hex');
  at += 8;
  const value: Beat = { kind, sender, bootId, sequence, sentAtMs, heldDigest: digest };
  const hex8 = (i: number): string => datagram.subarray(at + 8 * i, at + 8 * (i + 1)).toString('hex');
  if (kind === 'ack') value.ackOf = hex8(0);
  if (kind === 'query' || kind === 'witness') value.about = { bootId: hex8(0), holder: hex8(1), nonce: hex8(2) };
  if ((kind === 'beat' || kind === 'ack') && ((datagram[at + 8] as number) & FLAG_LEASE_ONLY) !== 0) value.leaseOnly = true;
  return { ok: true, value };
}

function mac(key: Buffer, body: Buffer): Buffer {
  return createHmac('sha256', key).update(body).digest();
}

function checkKey(key: Buffer): void {
  if (key.length < MIN_KEY_LENGTH) throw new RangeError(`heartbeat key of ${key.length} bytes; at least ${MIN_KEY_LENGTH} required`);
}

function putHex8(out: Buffer, at: number, hex: string, what: string): number {
  if (!/^[0-9a-f]{16}$/.test(hex)) throw new RangeError(`${what} must be 8 bytes of lower-case hex, got ${JSON.stringify(hex)}`);
  Buffer.from(hex, 'hex').copy(out, at);
  return at + 8;
}
