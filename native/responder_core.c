// The reader's rules (see responder_core.h and src/layer2/link.ts): a license
// table keyed by address, one claim rule for every frame of either protocol
// (ARP for IPv4, Neighbour Discovery for IPv6), and drains judged claims
// first. Pure: no system calls, no clock reads, no globals.
//
// The table is open addressing with linear probing and backward-shift
// deletion (no tombstones), kept at most half full, so a lookup is a few
// probes whatever the number of addresses, and thousands of addresses are
// granted, yielded and revoked independently of one another.
#include "responder_core.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  rc_key key;
  uint8_t used;
  uint8_t state;  // rc_state
  uint8_t announced;  // our first announcement of this holding is on the wire: requests may be answered
  uint32_t gen;
  int64_t answer_until_ns;
  int64_t defend_until_ns;
} rc_entry;

struct rc_core {
  uint8_t mac[RC_MAC_LEN];
  int64_t alive_until_ns;  // 0 until the first heartbeat: nothing is answered before JS says it runs
  rc_entry* slots;
  size_t cap;  // 0 or a power of two
  size_t count;
  rc_stats stats;
};

// Smallest table allocated; it doubles from here.
#define RC_MIN_SLOTS 16
#define NOT_FOUND ((size_t)-1)
// Marks a frame whose verdict needs the table (decided in the claim or request pass).
#define PENDING RC_V_COUNT

static const uint8_t BROADCAST[RC_MAC_LEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t ZERO_MAC[RC_MAC_LEN] = {0};

static const char* const VERDICT_NAMES[RC_V_COUNT] = {
    "answered", "not-held",   "unlicensed", "unannounced", "yielded",   "stale",       "claim",
    "conflict", "foreign",    "own-frame",  "other-host",  "vlan",      "probe",       "malformed",
    "send-failed",
};

const char* rc_verdict_name(rc_verdict v) { return (unsigned)v < RC_V_COUNT ? VERDICT_NAMES[v] : "malformed"; }

// DropReason names of src/layer2/packet/drop-reason.ts; index RC_D_NONE has none.
static const char* const DETAIL_NAMES[RC_D_COUNT] = {
    NULL,
    "truncated-ethernet",
    "not-arp",
    "truncated-arp",
    "unsupported-hardware-type",
    "unsupported-protocol-type",
    "bad-address-length",
    "unknown-opcode",
    "truncated-ipv6",
    "bad-ip-version",
    "not-icmpv6",
    "not-ndp",
    "truncated-ndp",
    "bad-hop-limit",
    "bad-icmp-code",
    "bad-checksum",
    "multicast-source",
    "multicast-target",
    "bad-option-length",
    "bad-link-layer-option",
    "source-lla-from-unspecified",
    "bad-destination",
    "solicited-to-multicast",
};

const char* rc_detail_name(rc_detail d) { return (unsigned)d < RC_D_COUNT ? DETAIL_NAMES[d] : NULL; }

static uint16_t be16(const uint8_t* p) { return (uint16_t)(((unsigned)p[0] << 8) | p[1]); }

static void put_be16(uint8_t* p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

int64_t rc_deadline(int64_t now_ns, int64_t duration_ns) {
  if (duration_ns <= 0) return now_ns;
  if (duration_ns == RC_FOREVER || now_ns > RC_FOREVER - duration_ns) return RC_FOREVER;
  return now_ns + duration_ns;
}

// ---- Table ----

static uint64_t key_hash(const rc_key* k) {
  // FNV-1a: keys are set by JS, not by the network, so no defence against chosen collisions is needed.
  uint64_t h = 14695981039346656037ULL;
  h = (h ^ k->family) * 1099511628211ULL;
  for (size_t i = 0; i < RC_KEY_ADDR_LEN; i++) h = (h ^ k->addr[i]) * 1099511628211ULL;
  return h;
}

static int key_eq(const rc_key* a, const rc_key* b) {
  return a->family == b->family && memcmp(a->addr, b->addr, RC_KEY_ADDR_LEN) == 0;
}

static size_t home_slot(const rc_core* c, const rc_key* k) { return (size_t)key_hash(k) & (c->cap - 1); }

// Terminates: the table is never more than half full, so an empty slot is always reached.
static size_t find_index(const rc_core* c, const rc_key* k) {
  if (c->cap == 0) return NOT_FOUND;
  for (size_t i = home_slot(c, k);; i = (i + 1) & (c->cap - 1)) {
    if (!c->slots[i].used) return NOT_FOUND;
    if (key_eq(&c->slots[i].key, k)) return i;
  }
}

static rc_entry* find(rc_core* c, const rc_key* k) {
  size_t i = find_index(c, k);
  return i == NOT_FOUND ? NULL : &c->slots[i];
}

// The key must be absent and room reserved.
static rc_entry* insert(rc_core* c, const rc_key* k) {
  size_t i = home_slot(c, k);
  while (c->slots[i].used) i = (i + 1) & (c->cap - 1);
  rc_entry* e = &c->slots[i];
  memset(e, 0, sizeof *e);
  e->key = *k;
  e->used = 1;
  c->count++;
  return e;
}

// Makes room for `entries` keys at a load of at most one half. Returns 0 or ENOMEM (table unchanged).
static int reserve(rc_core* c, size_t entries) {
  size_t want = RC_MIN_SLOTS;
  while (want < 2 * entries) want *= 2;  // entries <= RC_MAX_ENTRIES: no overflow
  if (want <= c->cap) return 0;
  rc_entry* slots = calloc(want, sizeof *slots);
  if (slots == NULL) return ENOMEM;
  rc_entry* old = c->slots;
  size_t old_cap = c->cap;
  c->slots = slots;
  c->cap = want;
  c->count = 0;
  for (size_t i = 0; i < old_cap; i++) {
    if (old[i].used) *insert(c, &old[i].key) = old[i];
  }
  free(old);
  return 0;
}

// Backward-shift deletion: entries after the hole that may live there move up, so lookups never
// stop early at a hole that used to be in their probe path.
static void remove_at(rc_core* c, size_t hole) {
  size_t mask = c->cap - 1;
  for (size_t j = (hole + 1) & mask; c->slots[j].used; j = (j + 1) & mask) {
    size_t k = home_slot(c, &c->slots[j].key);
    int stays = hole <= j ? (hole < k && k <= j) : (hole < k || k <= j);  // home in the cyclic range (hole, j]
    if (!stays) {
      c->slots[hole] = c->slots[j];
      hole = j;
    }
  }
  memset(&c->slots[hole], 0, sizeof c->slots[hole]);
  c->count--;
}

rc_core* rc_create(const uint8_t mac[RC_MAC_LEN]) {
  rc_core* c = calloc(1, sizeof *c);
  if (c != NULL) memcpy(c->mac, mac, RC_MAC_LEN);
  return c;
}

void rc_destroy(rc_core* c) {
  if (c == NULL) return;
  free(c->slots);
  free(c);
}

// ---- The license ----

static int may_answer(const rc_core* c, const rc_entry* e, int64_t now_ns) {
  return e->state == RC_HELD && now_ns < c->alive_until_ns && now_ns < e->answer_until_ns;
}

static int may_defend(const rc_core* c, const rc_entry* e, int64_t now_ns) {
  return may_answer(c, e, now_ns) && now_ns < e->defend_until_ns;
}

void rc_heartbeat(rc_core* c, int64_t now_ns, int64_t alive_ns) { c->alive_until_ns = rc_deadline(now_ns, alive_ns); }

int rc_grant(rc_core* c, const rc_key* keys, const uint32_t* gens, size_t n, int64_t now_ns, int64_t answer_ns,
             int64_t defend_ns, uint8_t* refused) {
  size_t fresh = 0;  // an upper bound: a key listed twice counts twice
  for (size_t i = 0; i < n; i++) fresh += find_index(c, &keys[i]) == NOT_FOUND;
  if (fresh > RC_MAX_ENTRIES - c->count) return EMSGSIZE;
  if (reserve(c, c->count + fresh) != 0) return ENOMEM;
  int64_t answer_until = rc_deadline(now_ns, answer_ns);
  int64_t defend_until = rc_deadline(now_ns, defend_ns);
  for (size_t i = 0; i < n; i++) {
    rc_entry* e = find(c, &keys[i]);
    refused[i] = 0;
    // A yield stands until JS has re-confirmed the address (a newer generation): a grant that was
    // decided before JS learnt of the yield must not undo it.
    if (e != NULL && e->state == RC_YIELDED && e->gen >= gens[i]) {
      refused[i] = 1;
      continue;
    }
    if (e == NULL) e = insert(c, &keys[i]);
    // A holding that starts now (new, or after a yield) is silent until announced; one that goes on
    // (a renewal, a hand-over's window, a confirmation at a newer generation) keeps answering.
    if (e->state != RC_HELD) e->announced = 0;
    e->state = RC_HELD;
    e->gen = gens[i];
    e->answer_until_ns = answer_until;
    e->defend_until_ns = defend_until;
  }
  return 0;
}

void rc_revoke(rc_core* c, const rc_key* keys, size_t n) {
  for (size_t i = 0; i < n; i++) {
    size_t at = find_index(c, &keys[i]);
    if (at != NOT_FOUND) remove_at(c, at);
  }
}

// ---- Frames ----

static rc_key ipv4_key(const uint8_t* ip) {
  rc_key k;
  memset(&k, 0, sizeof k);
  k.family = RC_FAMILY_IPV4;
  memcpy(k.addr, ip, RC_IPV4_LEN);
  return k;
}

static rc_key ipv6_key(const uint8_t* ip) {
  rc_key k;
  memset(&k, 0, sizeof k);
  k.family = RC_FAMILY_IPV6;
  memcpy(k.addr, ip, RC_IPV6_LEN);
  return k;
}

static rc_verdict malformed(rc_detail* why, rc_detail d) {
  *why = d;
  return RC_V_MALFORMED;
}

static void emit(const rc_io* io, rc_event_kind kind, const rc_entry* e, rc_reason reason, const uint8_t* mac) {
  rc_event ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = kind;
  ev.key = e->key;
  ev.gen = e->gen;
  ev.reason = reason;
  if (mac != NULL) {
    ev.has_mac = 1;
    memcpy(ev.mac, mac, RC_MAC_LEN);
  }
  io->event(io->ctx, &ev);
}

// The one claim rule, for both protocols: another MAC (mac) says it has key. A held address is kept
// and reported while defended, else yielded at once. PENDING when key is not held (not a claim).
static rc_verdict claim(rc_core* c, const rc_key* key, const uint8_t* mac, int64_t now_ns, const rc_io* io) {
  rc_entry* e = find(c, key);
  if (e == NULL || e->state != RC_HELD) return PENDING;
  if (may_defend(c, e, now_ns)) {
    emit(io, RC_EV_CONFLICT, e, RC_REASON_CLAIM, mac);
    return RC_V_CONFLICT;
  }
  e->state = RC_YIELDED;
  emit(io, RC_EV_YIELDED, e, RC_REASON_CLAIM, mac);
  return RC_V_CLAIM;
}

// What every request goes through before an answer: a request that waited through a stall, or for an
// address yielded or unlicensed, is never answered. PENDING when it may be.
static rc_verdict answerable(const rc_core* c, const rc_entry* e, const rc_frame* f, int64_t now_ns) {
  if (f->age_ns < 0 || f->age_ns > RC_STALE_LIMIT_NS) return RC_V_STALE;
  if (e->state == RC_YIELDED) return RC_V_YIELDED;
  if (!may_answer(c, e, now_ns)) return RC_V_UNLICENSED;
  if (!e->announced) return RC_V_UNANNOUNCED;
  return PENDING;
}

static rc_verdict sent(rc_core* c, const rc_io* io, const uint8_t* frame, size_t len) {
  if (io->send(io->ctx, frame, len) != 0) return RC_V_SEND_FAILED;
  c->stats.replies_sent++;
  return RC_V_ANSWERED;
}

// ---- ARP ----

// One IPv4-over-Ethernet ARP frame from us, padded to the Ethernet minimum.
static void build_arp(uint8_t out[RC_ETH_MIN_FRAME], const uint8_t eth_dst[RC_MAC_LEN], const uint8_t mac[RC_MAC_LEN],
                      uint16_t op, const uint8_t spa[RC_IPV4_LEN], const uint8_t tha[RC_MAC_LEN],
                      const uint8_t tpa[RC_IPV4_LEN]) {
  memset(out, 0, RC_ETH_MIN_FRAME);
  memcpy(out + RC_ETH_OFF_DST, eth_dst, RC_MAC_LEN);
  memcpy(out + RC_ETH_OFF_SRC, mac, RC_MAC_LEN);
  put_be16(out + RC_ETH_OFF_TYPE, RC_ETHERTYPE_ARP);
  put_be16(out + RC_ARP_OFF_HTYPE, RC_ARP_HTYPE_ETHERNET);
  put_be16(out + RC_ARP_OFF_PTYPE, RC_ETHERTYPE_IPV4);
  out[RC_ARP_OFF_HLEN] = RC_MAC_LEN;
  out[RC_ARP_OFF_PLEN] = RC_IPV4_LEN;
  put_be16(out + RC_ARP_OFF_OP, op);
  memcpy(out + RC_ARP_OFF_SHA, mac, RC_MAC_LEN);
  memcpy(out + RC_ARP_OFF_SPA, spa, RC_IPV4_LEN);
  memcpy(out + RC_ARP_OFF_THA, tha, RC_MAC_LEN);
  memcpy(out + RC_ARP_OFF_TPA, tpa, RC_IPV4_LEN);
}

// The checks of decodeArp() in src/layer2/packet/arp.ts, in the same order; PENDING for well-formed
// ARP from someone else.
static rc_verdict classify_arp(const rc_core* c, const rc_frame* f, rc_detail* why) {
  if (f->len < RC_ARP_FRAME_LEN) return malformed(why, RC_D_TRUNCATED_ARP);
  const uint8_t* d = f->data;
  if (be16(d + RC_ARP_OFF_HTYPE) != RC_ARP_HTYPE_ETHERNET) return malformed(why, RC_D_UNSUPPORTED_HARDWARE_TYPE);
  if (be16(d + RC_ARP_OFF_PTYPE) != RC_ETHERTYPE_IPV4) return malformed(why, RC_D_UNSUPPORTED_PROTOCOL_TYPE);
  if (d[RC_ARP_OFF_HLEN] != RC_MAC_LEN || d[RC_ARP_OFF_PLEN] != RC_IPV4_LEN) return malformed(why, RC_D_BAD_ADDRESS_LENGTH);
  uint16_t op = be16(d + RC_ARP_OFF_OP);
  if (op != RC_ARP_OP_REQUEST && op != RC_ARP_OP_REPLY) return malformed(why, RC_D_UNKNOWN_OPCODE);
  if (memcmp(d + RC_ETH_OFF_SRC, c->mac, RC_MAC_LEN) == 0 || memcmp(d + RC_ARP_OFF_SHA, c->mac, RC_MAC_LEN) == 0)
    return RC_V_OWN_FRAME;
  return PENDING;
}

static int is_unspecified4(const uint8_t* ip) { return (ip[0] | ip[1] | ip[2] | ip[3]) == 0; }

// Another MAC uses one of our held addresses as its sender address (an announcement, a reply, or a
// request from that address).
static rc_verdict judge_claim_arp(rc_core* c, const uint8_t* d, int64_t now_ns, const rc_io* io) {
  const uint8_t* spa = d + RC_ARP_OFF_SPA;
  if (is_unspecified4(spa)) return PENDING;  // an RFC 5227 probe asks; it claims nothing
  rc_key k = ipv4_key(spa);
  return claim(c, &k, d + RC_ARP_OFF_SHA, now_ns, io);
}

static rc_verdict judge_rest_arp(rc_core* c, const rc_frame* f, int64_t now_ns, const rc_io* io) {
  const uint8_t* d = f->data;
  const uint8_t* spa = d + RC_ARP_OFF_SPA;
  const uint8_t* tpa = d + RC_ARP_OFF_TPA;
  int probe = is_unspecified4(spa);
  int request = be16(d + RC_ARP_OFF_OP) == RC_ARP_OP_REQUEST && memcmp(spa, tpa, RC_IPV4_LEN) != 0;
  if (!request) return probe ? RC_V_PROBE : RC_V_FOREIGN;  // announcements and replies of others
  rc_key k = ipv4_key(tpa);
  rc_entry* e = find(c, &k);
  // A probe for a held address is answered like any request, as the kernel answers probes for its own
  // addresses: it tells a host about to configure the address that it is taken (RFC 5227 2.1.1).
  if (e == NULL) return probe ? RC_V_PROBE : RC_V_NOT_HELD;
  rc_verdict v = answerable(c, e, f, now_ns);
  if (v != PENDING) return v;
  const uint8_t* sha = d + RC_ARP_OFF_SHA;
  uint8_t reply[RC_ETH_MIN_FRAME];
  build_arp(reply, sha, c->mac, RC_ARP_OP_REPLY, tpa, sha, spa);  // unicast to the asker, as the kernel does
  return sent(c, io, reply, sizeof reply);
}

// ---- ICMPv6 Neighbour Discovery ----

// All-nodes ff02::1 (RFC 4291 2.7.1) and its Ethernet group 33:33 + its low 32 bits (RFC 2464 7):
// where unsolicited NAs and the answer to a DAD probe go (RFC 4861 7.2.4, 7.2.6).
static const uint8_t ALL_NODES[RC_IPV6_LEN] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
static const uint8_t ALL_NODES_MAC[RC_MAC_LEN] = {0x33, 0x33, 0, 0, 0, 0x01};
// The solicited-node group of an address is ff02::1:ff00:0/104 plus the address's low 24 bits
// (RFC 4291 2.7.1): the first 13 bytes are fixed, the last 3 come from the target.
#define SOLICITED_NODE_PREFIX_LEN 13
static const uint8_t SOLICITED_NODE_PREFIX[SOLICITED_NODE_PREFIX_LEN] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
// Multicast addresses are ff00::/8 (RFC 4291 2.7).
#define IPV6_MULTICAST_BYTE 0xff

static int is_multicast6(const uint8_t* ip) { return ip[0] == IPV6_MULTICAST_BYTE; }

static int is_unspecified6(const uint8_t* ip) {
  uint8_t any = 0;
  for (size_t i = 0; i < RC_IPV6_LEN; i++) any |= ip[i];
  return any == 0;
}

static int is_solicited_node_of(const uint8_t* dst, const uint8_t* target) {
  return memcmp(dst, SOLICITED_NODE_PREFIX, SOLICITED_NODE_PREFIX_LEN) == 0 &&
         memcmp(dst + SOLICITED_NODE_PREFIX_LEN, target + SOLICITED_NODE_PREFIX_LEN, RC_IPV6_LEN - SOLICITED_NODE_PREFIX_LEN) == 0;
}

// Adds big-endian 16-bit words (RFC 1071); an odd last byte counts as if followed by a zero byte.
// 64 bits: no message length from JS can carry out of it.
static uint64_t sum_words(uint64_t acc, const uint8_t* p, size_t len) {
  size_t i = 0;
  for (; i + 1 < len; i += 2) acc += be16(p + i);
  if (i < len) acc += (uint64_t)p[i] << 8;
  return acc;
}

uint16_t rc_icmpv6_checksum(const uint8_t src[RC_IPV6_LEN], const uint8_t dst[RC_IPV6_LEN], const uint8_t* msg, size_t len) {
  uint64_t acc = sum_words(0, src, RC_IPV6_LEN);
  acc = sum_words(acc, dst, RC_IPV6_LEN);
  // The pseudo-header's 32-bit upper-layer length as two words, then three zero bytes and next header.
  acc += ((uint64_t)len >> 16) & 0xffff;
  acc += (uint64_t)len & 0xffff;
  acc += RC_IPPROTO_ICMPV6;
  acc = sum_words(acc, msg, len);
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);  // end-around carry
  return (uint16_t)~acc;
}

// One Neighbour Advertisement from us for target, with our MAC as Ethernet source and as Target
// link-layer address option (so a cache that has no entry, or an entry for another MAC, learns ours:
// RFC 4861 7.2.5; Cilium #46079 sent a Source option instead, and hosts ignored it).
static void build_na(uint8_t out[RC_NA_FRAME_LEN], const uint8_t eth_dst[RC_MAC_LEN], const uint8_t mac[RC_MAC_LEN],
                     const uint8_t src[RC_IPV6_LEN], const uint8_t dst[RC_IPV6_LEN], const uint8_t target[RC_IPV6_LEN],
                     uint8_t flags) {
  memset(out, 0, RC_NA_FRAME_LEN);  // traffic class, flow label, code, reserved bits: zero
  memcpy(out + RC_ETH_OFF_DST, eth_dst, RC_MAC_LEN);
  memcpy(out + RC_ETH_OFF_SRC, mac, RC_MAC_LEN);
  put_be16(out + RC_ETH_OFF_TYPE, RC_ETHERTYPE_IPV6);
  out[RC_IP6_OFF_VERSION] = (uint8_t)(RC_IP6_VERSION << 4);
  put_be16(out + RC_IP6_OFF_PAYLOAD_LEN, RC_NA_PAYLOAD_LEN);
  out[RC_IP6_OFF_NEXT_HEADER] = RC_IPPROTO_ICMPV6;
  out[RC_IP6_OFF_HOP_LIMIT] = RC_ND_HOP_LIMIT;
  memcpy(out + RC_IP6_OFF_SRC, src, RC_IPV6_LEN);
  memcpy(out + RC_IP6_OFF_DST, dst, RC_IPV6_LEN);
  out[RC_ICMP6_OFF_TYPE] = RC_ICMP6_NA;
  out[RC_NDP_OFF_FLAGS] = flags;
  memcpy(out + RC_NDP_OFF_TARGET, target, RC_IPV6_LEN);
  out[RC_NDP_OFF_OPTIONS] = RC_ND_OPT_TARGET_LLA;
  out[RC_NDP_OFF_OPTIONS + 1] = RC_ND_OPT_LLA_UNITS;
  memcpy(out + RC_NDP_OFF_OPTIONS + RC_ND_OPT_OFF_ADDR, mac, RC_MAC_LEN);
  put_be16(out + RC_ICMP6_OFF_CHECKSUM, rc_icmpv6_checksum(src, dst, out + RC_ICMP6_OFF, RC_NA_PAYLOAD_LEN));
}

// An NS or NA as the later passes need it; every pointer is into the frame, inside its bounds.
typedef struct {
  uint8_t type;  // RC_ICMP6_NS or RC_ICMP6_NA
  uint8_t flags;
  const uint8_t* eth_src;
  const uint8_t* src;
  const uint8_t* dst;
  const uint8_t* target;
  const uint8_t* lla;  // the MAC of the NS's Source / the NA's Target link-layer address option; NULL if none
} ndp_view;

// Validates an IPv6 frame as an NS or NA and fills v. The rules are RFC 4861 7.1.1 (NS) and 7.1.2 (NA),
// plus what the kernel's IPv6 input and ndisc also refuse (a multicast source; a link-layer option of
// the wrong size for Ethernet), plus Baton's own: an NS must be sent to its target's solicited-node group
// or, for NUD, to the target itself. decodeNdpFrame() in src/layer2/packet/ndp.ts checks the same, in
// the same order. The checksum only when check_sum: classify() verifies it once; the later passes
// re-read a frame already found well-formed.
static rc_detail parse_ndp(const rc_frame* f, int check_sum, ndp_view* v) {
  const uint8_t* d = f->data;
  if (f->len < RC_ICMP6_OFF) return RC_D_TRUNCATED_IPV6;
  if ((d[RC_IP6_OFF_VERSION] >> 4) != RC_IP6_VERSION) return RC_D_BAD_IP_VERSION;
  if (d[RC_IP6_OFF_NEXT_HEADER] != RC_IPPROTO_ICMPV6) return RC_D_NOT_ICMPV6;
  size_t payload = be16(d + RC_IP6_OFF_PAYLOAD_LEN);
  // What lies beyond the payload is Ethernet padding; a payload beyond the frame was cut (a short
  // frame, or the reader's snapshot length): its checksum cannot be verified, so it is not judged.
  if (payload > f->len - RC_ICMP6_OFF) return RC_D_TRUNCATED_IPV6;
  if (payload == 0) return RC_D_TRUNCATED_NDP;
  v->type = d[RC_ICMP6_OFF_TYPE];
  if (v->type != RC_ICMP6_NS && v->type != RC_ICMP6_NA) return RC_D_NOT_NDP;
  if (payload < RC_NDP_MIN_LEN) return RC_D_TRUNCATED_NDP;
  if (d[RC_IP6_OFF_HOP_LIMIT] != RC_ND_HOP_LIMIT) return RC_D_BAD_HOP_LIMIT;
  if (d[RC_ICMP6_OFF_CODE] != 0) return RC_D_BAD_ICMP_CODE;
  v->eth_src = d + RC_ETH_OFF_SRC;
  v->src = d + RC_IP6_OFF_SRC;
  v->dst = d + RC_IP6_OFF_DST;
  v->target = d + RC_NDP_OFF_TARGET;
  v->flags = d[RC_NDP_OFF_FLAGS];
  v->lla = NULL;
  if (check_sum && rc_icmpv6_checksum(v->src, v->dst, d + RC_ICMP6_OFF, payload) != 0) return RC_D_BAD_CHECKSUM;
  if (is_multicast6(v->src)) return RC_D_MULTICAST_SOURCE;
  if (is_multicast6(v->target)) return RC_D_MULTICAST_TARGET;
  // Every option must fit and have a length (RFC 4861 4.6: a zero length must make the packet be
  // dropped, else an option walk never ends). The first link-layer option of the kind the message
  // uses is the one that counts, as in the kernel's ndisc_parse_options(); others are ignored.
  uint8_t wanted = v->type == RC_ICMP6_NS ? RC_ND_OPT_SOURCE_LLA : RC_ND_OPT_TARGET_LLA;
  size_t end = RC_ICMP6_OFF + payload;  // <= f->len, checked above
  size_t lla_units = 0;
  for (size_t at = RC_NDP_OFF_OPTIONS; at < end;) {
    if (end - at < 2) return RC_D_BAD_OPTION_LENGTH;  // a type byte without its length byte
    size_t units = d[at + 1];
    if (units == 0 || units * RC_ND_OPT_UNIT > end - at) return RC_D_BAD_OPTION_LENGTH;
    if (d[at] == wanted && v->lla == NULL) {
      v->lla = d + at + RC_ND_OPT_OFF_ADDR;  // inside: units >= 1, so 8 bytes from at are in the frame
      lla_units = units;
    }
    at += units * RC_ND_OPT_UNIT;
  }
  if (v->lla != NULL && lla_units != RC_ND_OPT_LLA_UNITS) return RC_D_BAD_LINK_LAYER_OPTION;
  if (v->type == RC_ICMP6_NS) {
    int dad = is_unspecified6(v->src);
    if (dad && v->lla != NULL) return RC_D_SOURCE_LLA_FROM_UNSPECIFIED;
    // Multicast to the target's solicited-node group (resolution, DAD), or unicast to the target itself
    // (NUD, RFC 4861 7.3.1): answering these too is what MetalLB #2920 lacks. DAD is never unicast.
    int to_group = is_solicited_node_of(v->dst, v->target);
    int to_target = !dad && memcmp(v->dst, v->target, RC_IPV6_LEN) == 0;
    if (!to_group && !to_target) return RC_D_BAD_DESTINATION;
  } else if (is_multicast6(v->dst) && (v->flags & RC_NA_FLAG_SOLICITED)) {
    return RC_D_SOLICITED_TO_MULTICAST;
  }
  return RC_D_NONE;
}

static rc_verdict classify_ndp(const rc_core* c, const rc_frame* f, rc_detail* why) {
  ndp_view v;
  rc_detail d = parse_ndp(f, 1, &v);
  if (d != RC_D_NONE) return malformed(why, d);
  // Sent by this interface (looped back, or reflected by a bridge), or carrying our MAC as its
  // link-layer address: whatever it says points at us, so it is never a claim against us.
  if (memcmp(v.eth_src, c->mac, RC_MAC_LEN) == 0 || (v.lla != NULL && memcmp(v.lla, c->mac, RC_MAC_LEN) == 0))
    return RC_V_OWN_FRAME;
  return PENDING;
}

// An NA for a held target is another host saying it has our address (whatever its flags: a solicited
// reply or an O=0 advertisement also moves neighbours' caches or marks a duplicate). An NS from a held
// address is another host using our address as its own (its Source option updates every receiver's
// cache). A DAD NS (source ::) asks; it claims nothing. The MAC blamed: the link-layer option's, else
// the Ethernet source.
static rc_verdict judge_claim_ndp(rc_core* c, const rc_frame* f, int64_t now_ns, const rc_io* io) {
  ndp_view v;
  if (parse_ndp(f, 0, &v) != RC_D_NONE) return RC_V_MALFORMED;  // not reached: classify() accepted it
  const uint8_t* claimed = v.type == RC_ICMP6_NA ? v.target : v.src;
  if (is_unspecified6(claimed)) return PENDING;
  rc_key k = ipv6_key(claimed);
  return claim(c, &k, v.lla != NULL ? v.lla : v.eth_src, now_ns, io);
}

static rc_verdict judge_rest_ndp(rc_core* c, const rc_frame* f, int64_t now_ns, const rc_io* io) {
  ndp_view v;
  if (parse_ndp(f, 0, &v) != RC_D_NONE) return RC_V_MALFORMED;  // not reached: classify() accepted it
  if (v.type == RC_ICMP6_NA) return RC_V_FOREIGN;  // about an address we do not hold (or yielded)
  int dad = is_unspecified6(v.src);
  rc_key k = ipv6_key(v.target);
  rc_entry* e = find(c, &k);
  // A DAD probe for a held address is answered, as the kernel defends its own addresses (RFC 4862 5.4.3).
  if (e == NULL) return dad ? RC_V_PROBE : RC_V_NOT_HELD;
  rc_verdict verdict = answerable(c, e, f, now_ns);
  if (verdict != PENDING) return verdict;
  uint8_t reply[RC_NA_FRAME_LEN];
  if (dad) {
    // RFC 4861 7.2.4: a prober has no address to be answered at, so all-nodes is told, S=0; O=1 so that
    // caches holding another MAC for the address take ours.
    build_na(reply, ALL_NODES_MAC, c->mac, v.target, ALL_NODES, v.target, RC_NA_FLAG_OVERRIDE);
  } else {
    // Unicast to the asker: to its Source option's MAC, else to the frame's sender. S=1 (an answer);
    // O=1, not MetalLB's O=0: we are the owner, and a client holding the previous holder's MAC as
    // REACHABLE or STALE ignores an NA without Override (RFC 4861 7.2.5), which would defeat takeover.
    build_na(reply, v.lla != NULL ? v.lla : v.eth_src, c->mac, v.target, v.src, v.target,
             RC_NA_FLAG_SOLICITED | RC_NA_FLAG_OVERRIDE);
  }
  return sent(c, io, reply, sizeof reply);
}

// ---- Drains ----

rc_announce_result rc_announce(rc_core* c, const rc_key* key, uint32_t gen, int64_t now_ns, const rc_io* io, int* err) {
  *err = 0;
  rc_entry* e = find(c, key);
  if (e == NULL) return RC_ANNOUNCE_NOT_HELD;
  if (e->state == RC_YIELDED) return e->gen >= gen ? RC_ANNOUNCE_YIELDED : RC_ANNOUNCE_NOT_HELD;
  if (e->gen != gen) return RC_ANNOUNCE_STALE_GENERATION;
  if (!may_answer(c, e, now_ns)) return RC_ANNOUNCE_UNLICENSED;
  if (key->family == RC_FAMILY_IPV6) {
    // RFC 4861 7.2.6: unsolicited, to all-nodes, S=0, O=1 (so it replaces another holder's MAC), Target
    // link-layer address option; the source is the address itself, as Linux's ndisc_send_unsol_na does.
    // One frame: JS repeats announcements on its schedule (MAX_NEIGHBOR_ADVERTISEMENT is 3).
    uint8_t na[RC_NA_FRAME_LEN];
    build_na(na, ALL_NODES_MAC, c->mac, key->addr, ALL_NODES, key->addr, RC_NA_FLAG_OVERRIDE);
    *err = io->send(io->ctx, na, sizeof na);
    if (*err == 0) e->announced = 1;
    return *err != 0 ? RC_ANNOUNCE_SEND_FAILED : RC_ANNOUNCE_SENT;
  }
  if (key->family != RC_FAMILY_IPV4) return RC_ANNOUNCE_UNSUPPORTED;
  // RFC 5227 section 3: the request form (target MAC zero) is the recommended announcement; the reply
  // form (target MAC broadcast) is the one some older stacks only learn from.
  uint8_t frame[RC_ETH_MIN_FRAME];
  build_arp(frame, BROADCAST, c->mac, RC_ARP_OP_REQUEST, key->addr, ZERO_MAC, key->addr);
  int first = io->send(io->ctx, frame, sizeof frame);
  // The reply form is tried even if the request form failed: a full queue may have room again.
  build_arp(frame, BROADCAST, c->mac, RC_ARP_OP_REPLY, key->addr, BROADCAST, key->addr);
  int second = io->send(io->ctx, frame, sizeof frame);
  // One form on the wire is an announcement: clients of either kind have been told, or will be by the
  // next one of the burst.
  if (first == 0 || second == 0) e->announced = 1;
  *err = first != 0 ? first : second;
  return *err != 0 ? RC_ANNOUNCE_SEND_FAILED : RC_ANNOUNCE_SENT;
}

// What can be said of a frame without the table; PENDING for well-formed ARP or NDP from someone else.
static rc_verdict classify(const rc_core* c, const rc_frame* f, rc_detail* why) {
  *why = RC_D_NONE;
  if (f->pkttype == RC_PKT_OUTGOING) return RC_V_OWN_FRAME;  // this host's own transmission looped back
  if (f->data == NULL || f->len < RC_ETH_HDR_LEN) return malformed(why, RC_D_TRUNCATED_ETHERNET);
  uint16_t ethertype = be16(f->data + RC_ETH_OFF_TYPE);
  // A tagged frame belongs to a VLAN interface; answering or yielding for it here would mix segments.
  if (f->vlan_tagged || ethertype == RC_ETHERTYPE_VLAN || ethertype == RC_ETHERTYPE_QINQ) return RC_V_VLAN;
  // Not addressed to this host (a flooded unicast, or a VLAN frame whose tag the kernel stripped for
  // lack of a VLAN device): the kernel's own arp_rcv and ipv6_rcv drop these too. Unknown kinds alike.
  if (f->pkttype != RC_PKT_HOST && f->pkttype != RC_PKT_BROADCAST && f->pkttype != RC_PKT_MULTICAST) return RC_V_OTHER_HOST;
  if (ethertype == RC_ETHERTYPE_ARP) return classify_arp(c, f, why);
  if (ethertype == RC_ETHERTYPE_IPV6) return classify_ndp(c, f, why);
  return malformed(why, RC_D_NOT_ARP);
}

// Only for frames classify() left PENDING: at least an Ethernet header of ARP or IPv6.
static int is_arp(const rc_frame* f) { return be16(f->data + RC_ETH_OFF_TYPE) == RC_ETHERTYPE_ARP; }

// A receive-queue overrun may have dropped a claim: every address not defended is yielded, as it would
// have been had the claim been read.
static void yield_undefended(rc_core* c, int64_t now_ns, const rc_io* io) {
  for (size_t i = 0; i < c->cap; i++) {
    rc_entry* e = &c->slots[i];
    if (!e->used || e->state != RC_HELD || may_defend(c, e, now_ns)) continue;
    e->state = RC_YIELDED;
    emit(io, RC_EV_YIELDED, e, RC_REASON_OVERRUN, NULL);
  }
}

void rc_process_drain(rc_core* c, const rc_frame* frames, size_t n, uint64_t kernel_drops, int truncated, int64_t now_ns,
                      const rc_io* io, rc_verdict* verdicts, rc_detail* details) {
  c->stats.frames_read += n;
  c->stats.kernel_drops += kernel_drops;
  for (size_t i = 0; i < n; i++) {
    rc_detail why;
    verdicts[i] = classify(c, &frames[i], &why);
    if (details != NULL) details[i] = why;
  }
  // Claims first, over the whole drain and both protocols: a request queued before the new holder's
  // gratuitous ARP or unsolicited NA must not be answered once that has arrived, however many frames
  // came between.
  for (size_t i = 0; i < n; i++) {
    if (verdicts[i] != PENDING) continue;
    verdicts[i] = is_arp(&frames[i]) ? judge_claim_arp(c, frames[i].data, now_ns, io) : judge_claim_ndp(c, &frames[i], now_ns, io);
  }
  if (kernel_drops > 0 || truncated) yield_undefended(c, now_ns, io);
  for (size_t i = 0; i < n; i++) {
    if (verdicts[i] != PENDING) continue;
    verdicts[i] = is_arp(&frames[i]) ? judge_rest_arp(c, &frames[i], now_ns, io) : judge_rest_ndp(c, &frames[i], now_ns, io);
  }
}

void rc_get_stats(const rc_core* c, rc_stats* out) {
  *out = c->stats;
  out->entries = c->count;
}
