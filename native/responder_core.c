// The reader's rules (see responder_core.h and src/layer2/link.ts): a license
// table keyed by address, one claim predicate for every frame, and drains
// judged claims first. Pure: no system calls, no clock reads, no globals.
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
    "answered", "not-held", "unlicensed", "yielded", "stale",     "claim",     "conflict",
    "foreign",  "own-frame", "other-host", "vlan",   "probe",     "malformed", "send-failed",
};

const char* rc_verdict_name(rc_verdict v) { return (unsigned)v < RC_V_COUNT ? VERDICT_NAMES[v] : "malformed"; }

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

rc_announce_result rc_announce(rc_core* c, const rc_key* key, uint32_t gen, int64_t now_ns, const rc_io* io, int* err) {
  *err = 0;
  rc_entry* e = find(c, key);
  if (e == NULL) return RC_ANNOUNCE_NOT_HELD;
  if (e->state == RC_YIELDED) return e->gen >= gen ? RC_ANNOUNCE_YIELDED : RC_ANNOUNCE_NOT_HELD;
  if (e->gen != gen) return RC_ANNOUNCE_STALE_GENERATION;
  if (!may_answer(c, e, now_ns)) return RC_ANNOUNCE_UNLICENSED;
  if (key->family != RC_FAMILY_IPV4) return RC_ANNOUNCE_UNSUPPORTED;
  // RFC 5227 section 3: the request form (target MAC zero) is the recommended announcement; the reply
  // form (target MAC broadcast) is the one some older stacks only learn from.
  uint8_t frame[RC_ETH_MIN_FRAME];
  build_arp(frame, BROADCAST, c->mac, RC_ARP_OP_REQUEST, key->addr, ZERO_MAC, key->addr);
  int first = io->send(io->ctx, frame, sizeof frame);
  // The reply form is tried even if the request form failed: a full queue may have room again.
  build_arp(frame, BROADCAST, c->mac, RC_ARP_OP_REPLY, key->addr, BROADCAST, key->addr);
  int second = io->send(io->ctx, frame, sizeof frame);
  *err = first != 0 ? first : second;
  return *err != 0 ? RC_ANNOUNCE_SEND_FAILED : RC_ANNOUNCE_SENT;
}

// What can be said of a frame without the table; PENDING for well-formed ARP from someone else.
static rc_verdict classify(const rc_core* c, const rc_frame* f) {
  if (f->pkttype == RC_PKT_OUTGOING) return RC_V_OWN_FRAME;  // this host's own transmission looped back
  if (f->data == NULL || f->len < RC_ETH_HDR_LEN) return RC_V_MALFORMED;
  uint16_t ethertype = be16(f->data + RC_ETH_OFF_TYPE);
  // A tagged frame belongs to a VLAN interface; answering or yielding for it here would mix segments.
  if (f->vlan_tagged || ethertype == RC_ETHERTYPE_VLAN || ethertype == RC_ETHERTYPE_QINQ) return RC_V_VLAN;
  // Not addressed to this host (a flooded unicast, or a VLAN frame whose tag the kernel stripped for
  // lack of a VLAN device): the kernel's own arp_rcv drops these too. Unknown kinds are treated alike.
  if (f->pkttype != RC_PKT_HOST && f->pkttype != RC_PKT_BROADCAST && f->pkttype != RC_PKT_MULTICAST) return RC_V_OTHER_HOST;
  if (ethertype != RC_ETHERTYPE_ARP || f->len < RC_ARP_FRAME_LEN) return RC_V_MALFORMED;
  const uint8_t* d = f->data;
  uint16_t op = be16(d + RC_ARP_OFF_OP);
  if (be16(d + RC_ARP_OFF_HTYPE) != RC_ARP_HTYPE_ETHERNET || be16(d + RC_ARP_OFF_PTYPE) != RC_ETHERTYPE_IPV4 ||
      d[RC_ARP_OFF_HLEN] != RC_MAC_LEN || d[RC_ARP_OFF_PLEN] != RC_IPV4_LEN ||
      (op != RC_ARP_OP_REQUEST && op != RC_ARP_OP_REPLY))
    return RC_V_MALFORMED;
  if (memcmp(d + RC_ETH_OFF_SRC, c->mac, RC_MAC_LEN) == 0 || memcmp(d + RC_ARP_OFF_SHA, c->mac, RC_MAC_LEN) == 0)
    return RC_V_OWN_FRAME;
  return PENDING;
}

static int is_unspecified(const uint8_t* ip) { return (ip[0] | ip[1] | ip[2] | ip[3]) == 0; }

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

// The claim predicate, for a frame classify() left PENDING: another MAC uses one of our held addresses
// as its sender address (an announcement, a reply, or a request from that address).
static rc_verdict judge_claim(rc_core* c, const uint8_t* d, int64_t now_ns, const rc_io* io) {
  const uint8_t* spa = d + RC_ARP_OFF_SPA;
  if (is_unspecified(spa)) return PENDING;  // an RFC 5227 probe asks; it claims nothing
  rc_key k = ipv4_key(spa);
  rc_entry* e = find(c, &k);
  if (e == NULL || e->state != RC_HELD) return PENDING;
  if (may_defend(c, e, now_ns)) {
    emit(io, RC_EV_CONFLICT, e, RC_REASON_CLAIM, d + RC_ARP_OFF_SHA);
    return RC_V_CONFLICT;
  }
  e->state = RC_YIELDED;
  emit(io, RC_EV_YIELDED, e, RC_REASON_CLAIM, d + RC_ARP_OFF_SHA);
  return RC_V_CLAIM;
}

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

static rc_verdict judge_rest(rc_core* c, const rc_frame* f, int64_t now_ns, const rc_io* io) {
  const uint8_t* d = f->data;
  const uint8_t* spa = d + RC_ARP_OFF_SPA;
  const uint8_t* tpa = d + RC_ARP_OFF_TPA;
  int probe = is_unspecified(spa);
  int request = be16(d + RC_ARP_OFF_OP) == RC_ARP_OP_REQUEST && memcmp(spa, tpa, RC_IPV4_LEN) != 0;
  if (!request) return probe ? RC_V_PROBE : RC_V_FOREIGN;  // announcements and replies of others
  rc_key k = ipv4_key(tpa);
  rc_entry* e = find(c, &k);
  // A probe for a held address is answered like any request, as the kernel answers probes for its own
  // addresses: it tells a host about to configure the address that it is taken (RFC 5227 2.1.1).
  if (e == NULL) return probe ? RC_V_PROBE : RC_V_NOT_HELD;
  if (f->age_ns < 0 || f->age_ns > RC_STALE_LIMIT_NS) return RC_V_STALE;
  if (e->state == RC_YIELDED) return RC_V_YIELDED;
  if (!may_answer(c, e, now_ns)) return RC_V_UNLICENSED;
  const uint8_t* sha = d + RC_ARP_OFF_SHA;
  uint8_t reply[RC_ETH_MIN_FRAME];
  build_arp(reply, sha, c->mac, RC_ARP_OP_REPLY, tpa, sha, spa);  // unicast to the asker, as the kernel does
  if (io->send(io->ctx, reply, sizeof reply) != 0) return RC_V_SEND_FAILED;
  c->stats.replies_sent++;
  return RC_V_ANSWERED;
}

void rc_process_drain(rc_core* c, const rc_frame* frames, size_t n, uint64_t kernel_drops, int truncated, int64_t now_ns,
                      const rc_io* io, rc_verdict* verdicts) {
  c->stats.frames_read += n;
  c->stats.kernel_drops += kernel_drops;
  for (size_t i = 0; i < n; i++) verdicts[i] = classify(c, &frames[i]);
  // Claims first, over the whole drain: a request queued before the new holder's gratuitous ARP must
  // not be answered once that ARP has arrived, however many frames came between.
  for (size_t i = 0; i < n; i++) {
    if (verdicts[i] == PENDING) verdicts[i] = judge_claim(c, frames[i].data, now_ns, io);
  }
  if (kernel_drops > 0 || truncated) yield_undefended(c, now_ns, io);
  for (size_t i = 0; i < n; i++) {
    if (verdicts[i] == PENDING) verdicts[i] = judge_rest(c, &frames[i], now_ns, io);
  }
}

void rc_get_stats(const rc_core* c, rc_stats* out) {
  *out = c->stats;
  out->entries = c->count;
}
