// The rules of Baton's ARP and NDP reader, without sockets, threads, N-API or
// clocks: the per-address license table (IPv4 and IPv6 keys), the claim
// predicate of each protocol, RFC 4861 validation of Neighbour Discovery, and
// the claims-first processing of a drain of frames. Time comes in as arguments
// (now_ns on one monotonic scale, each frame's age_ns), frames go out through
// a caller's send function and events through a caller's event function, so
// the same code runs in the reader thread of a real socket (af_packet.c) and
// in a virtual link driven by a FakeClock (unit tests, the election
// simulation). See src/layer2/link.ts for the contract as JavaScript sees it.
//
// Not thread-safe: the caller serialises every call on one core (af_packet.c
// holds its socket's mutex around each).
#ifndef BATON_RESPONDER_CORE_H
#define BATON_RESPONDER_CORE_H

#include <stddef.h>
#include <stdint.h>

// ---- Wire layout (Ethernet II, then ARP for IPv4 over Ethernet, RFC 826) ----
#define RC_MAC_LEN 6
#define RC_IPV4_LEN 4
#define RC_ETH_OFF_DST 0
#define RC_ETH_OFF_SRC 6
#define RC_ETH_OFF_TYPE 12
#define RC_ETH_HDR_LEN 14
#define RC_ETHERTYPE_IPV4 0x0800
#define RC_ETHERTYPE_ARP 0x0806
#define RC_ETHERTYPE_VLAN 0x8100  // 802.1Q tag in the frame (not offloaded)
#define RC_ETHERTYPE_QINQ 0x88a8  // 802.1ad outer tag
#define RC_ARP_OFF_HTYPE (RC_ETH_HDR_LEN + 0)
#define RC_ARP_OFF_PTYPE (RC_ETH_HDR_LEN + 2)
#define RC_ARP_OFF_HLEN (RC_ETH_HDR_LEN + 4)
#define RC_ARP_OFF_PLEN (RC_ETH_HDR_LEN + 5)
#define RC_ARP_OFF_OP (RC_ETH_HDR_LEN + 6)
#define RC_ARP_OFF_SHA (RC_ETH_HDR_LEN + 8)
#define RC_ARP_OFF_SPA (RC_ETH_HDR_LEN + 14)
#define RC_ARP_OFF_THA (RC_ETH_HDR_LEN + 18)
#define RC_ARP_OFF_TPA (RC_ETH_HDR_LEN + 24)
#define RC_ARP_FRAME_LEN (RC_ETH_HDR_LEN + 28)  // 42: everything a frame must carry to be judged
#define RC_ARP_HTYPE_ETHERNET 1
#define RC_ARP_OP_REQUEST 1
#define RC_ARP_OP_REPLY 2
// What we send is padded to the shortest legal Ethernet frame (IEEE 802.3 3.2.8, without FCS), as
// encodeEthernet() in src/layer2/packet/ethernet.ts does, so both produce the same bytes.
#define RC_ETH_MIN_FRAME 60

// ---- Wire layout: IPv6 (RFC 8200) carrying ICMPv6 Neighbour Discovery (RFC 4861) ----
// Offsets are from the start of the frame. Only NDP without extension headers is judged (next header
// 58 right after the fixed header): the kernel's ndisc takes no other form of valid NS/NA either
// (RFC 4861 7.1.1's hop limit 255 makes a routed, extension-laden NDP packet meaningless), and fixed
// offsets keep every read a constant bound check.
#define RC_ETHERTYPE_IPV6 0x86dd
#define RC_IPV6_LEN 16
#define RC_IP6_OFF_VERSION (RC_ETH_HDR_LEN + 0)  // version in the high 4 bits, then traffic class and flow label
#define RC_IP6_OFF_PAYLOAD_LEN (RC_ETH_HDR_LEN + 4)
#define RC_IP6_OFF_NEXT_HEADER (RC_ETH_HDR_LEN + 6)
#define RC_IP6_OFF_HOP_LIMIT (RC_ETH_HDR_LEN + 7)
#define RC_IP6_OFF_SRC (RC_ETH_HDR_LEN + 8)
#define RC_IP6_OFF_DST (RC_ETH_HDR_LEN + 24)
#define RC_IP6_HDR_LEN 40
#define RC_IP6_VERSION 6
#define RC_IPPROTO_ICMPV6 58
#define RC_ICMP6_OFF (RC_ETH_HDR_LEN + RC_IP6_HDR_LEN)  // 54: the ICMPv6 message
#define RC_ICMP6_OFF_TYPE (RC_ICMP6_OFF + 0)
#define RC_ICMP6_OFF_CODE (RC_ICMP6_OFF + 1)
#define RC_ICMP6_OFF_CHECKSUM (RC_ICMP6_OFF + 2)
#define RC_NDP_OFF_FLAGS (RC_ICMP6_OFF + 4)  // NA: R, S, O in the top three bits; NS: reserved
#define RC_NDP_OFF_TARGET (RC_ICMP6_OFF + 8)
#define RC_NDP_OFF_OPTIONS (RC_ICMP6_OFF + 24)
// RFC 4861 7.1.1 / 7.1.2: an NS or NA is at least 24 octets: type, code, checksum (4), flags or
// reserved (4), target address (16).
#define RC_NDP_MIN_LEN 24
#define RC_ICMP6_NS 135
#define RC_ICMP6_NA 136
// RFC 4861 7.1.1: a router never forwards with hop limit 255, so 255 proves the sender is on-link.
#define RC_ND_HOP_LIMIT 255
#define RC_NA_FLAG_ROUTER 0x80
#define RC_NA_FLAG_SOLICITED 0x40
#define RC_NA_FLAG_OVERRIDE 0x20
#define RC_ND_OPT_SOURCE_LLA 1
#define RC_ND_OPT_TARGET_LLA 2
// Option lengths count units of 8 octets, type and length bytes included (RFC 4861 4.6).
#define RC_ND_OPT_UNIT 8
// A link-layer address option for Ethernet is one unit: type, length, 6-byte MAC (RFC 2464 8).
#define RC_ND_OPT_LLA_UNITS 1
#define RC_ND_OPT_OFF_ADDR 2
// Every NA we send: fixed header, 24-octet NA, one Target link-layer address option (86 bytes, above
// the Ethernet minimum, so never padded).
#define RC_NA_PAYLOAD_LEN (RC_NDP_MIN_LEN + RC_ND_OPT_UNIT)
#define RC_NA_FRAME_LEN (RC_ICMP6_OFF + RC_NA_PAYLOAD_LEN)
// The longest frame the core ever sends (a virtual link's outbox slot).
#define RC_MAX_SEND_FRAME RC_NA_FRAME_LEN

// ---- Time ----
#define RC_NS_PER_MS 1000000LL
// A deadline that never passes ("answerMs: Infinity").
#define RC_FOREVER INT64_MAX
// A request that waited in the socket longer than this is never answered (verdict 'stale'). A healthy
// reader takes a frame within microseconds, a loaded node within a few ms, so this is never reached
// by accident; it is well under a client's 1 s ARP retransmit (Linux neighbour code, arping), so no
// waiting client is denied an answer it could still use; and it is half the 500 ms margin between the
// renew deadline (1 s) and the liveness lease (1.5 s): a request this old means the reader was stalled
// (SIGSTOP, starvation) long enough that a takeover may have happened whose claim it has not read yet.
#define RC_STALE_LIMIT_NS (250 * RC_NS_PER_MS)

// ---- Table ----
// Keys carry a family: IPv4 addresses are answered with ARP, IPv6 addresses with NDP, from one table.
#define RC_FAMILY_IPV4 4
#define RC_FAMILY_IPV6 6
#define RC_KEY_ADDR_LEN 16
typedef struct {
  uint8_t family;
  uint8_t addr[RC_KEY_ADDR_LEN];  // network order; IPv4 in the first 4 bytes, the rest zero
} rc_key;

// Upper bound on entries: a /12 of addresses, far above any pool one node serves. It bounds memory
// (40 bytes a slot, at most twice as many slots as entries) if JS ever runs away.
#define RC_MAX_ENTRIES (1u << 20)

typedef enum { RC_HELD = 1, RC_YIELDED = 2 } rc_state;

// How the kernel saw the frame (PACKET_HOST...), in the core's own terms.
typedef enum {
  RC_PKT_HOST = 0,
  RC_PKT_BROADCAST = 1,
  RC_PKT_MULTICAST = 2,
  RC_PKT_OTHERHOST = 3,
  RC_PKT_OUTGOING = 4,
} rc_pkttype;

// Keep in this order: rc_verdict_name() and FrameVerdict in src/layer2/link.ts name them. NDP frames
// get the same verdicts as ARP (an NS is a request, an NA an announcement or reply, a DAD NS a probe).
typedef enum {
  RC_V_ANSWERED,
  RC_V_NOT_HELD,
  RC_V_UNLICENSED,
  RC_V_UNANNOUNCED,
  RC_V_YIELDED,
  RC_V_STALE,
  RC_V_CLAIM,
  RC_V_CONFLICT,
  RC_V_FOREIGN,
  RC_V_OWN_FRAME,
  RC_V_OTHER_HOST,
  RC_V_VLAN,
  RC_V_PROBE,
  RC_V_MALFORMED,
  RC_V_SEND_FAILED,
  RC_V_COUNT
} rc_verdict;

// Why a frame was judged malformed, finer than the verdict: the names are DropReason values of
// src/layer2/packet/drop-reason.ts, the same the TS decoders (arp.ts, ndp.ts) give. Keep in the order
// of rc_detail_name(). RC_D_NONE for every verdict but malformed.
typedef enum {
  RC_D_NONE,
  RC_D_TRUNCATED_ETHERNET,
  RC_D_NOT_ARP,  // an EtherType that is neither ARP nor IPv6
  RC_D_TRUNCATED_ARP,
  RC_D_UNSUPPORTED_HARDWARE_TYPE,
  RC_D_UNSUPPORTED_PROTOCOL_TYPE,
  RC_D_BAD_ADDRESS_LENGTH,
  RC_D_UNKNOWN_OPCODE,
  RC_D_TRUNCATED_IPV6,  // shorter than the fixed header, or than its payload length says (cut by the snapshot)
  RC_D_BAD_IP_VERSION,
  RC_D_NOT_ICMPV6,  // next header is not ICMPv6: another protocol, or an extension header first
  RC_D_NOT_NDP,     // ICMPv6 but neither NS nor NA
  RC_D_TRUNCATED_NDP,  // an NS or NA shorter than 24 octets
  RC_D_BAD_HOP_LIMIT,
  RC_D_BAD_ICMP_CODE,
  RC_D_BAD_CHECKSUM,
  RC_D_MULTICAST_SOURCE,
  RC_D_MULTICAST_TARGET,
  RC_D_BAD_OPTION_LENGTH,  // an option of length 0, or one running past the message
  RC_D_BAD_LINK_LAYER_OPTION,  // a source/target link-layer address option that is not one Ethernet unit
  RC_D_SOURCE_LLA_FROM_UNSPECIFIED,  // a DAD NS (source ::) with a source link-layer address option
  RC_D_BAD_DESTINATION,  // an NS sent neither to the target's solicited-node group nor (non-DAD) to the target
  RC_D_SOLICITED_TO_MULTICAST,  // an NA with the Solicited flag sent to a multicast address
  RC_D_COUNT
} rc_detail;

typedef struct {
  const uint8_t* data;
  size_t len;
  int64_t age_ns;  // time spent queued before this drain was judged; < 0 means the clock stepped back
  rc_pkttype pkttype;
  int vlan_tagged;  // the kernel reported a VLAN tag (PACKET_AUXDATA), or the caller says so
} rc_frame;

typedef enum { RC_EV_YIELDED = 1, RC_EV_CONFLICT = 2 } rc_event_kind;
typedef enum { RC_REASON_CLAIM = 1, RC_REASON_OVERRUN = 2 } rc_reason;

typedef struct {
  rc_event_kind kind;
  rc_key key;
  uint32_t gen;
  rc_reason reason;  // yielded only
  int has_mac;       // 0 for an overrun yield: no frame to blame
  uint8_t mac[RC_MAC_LEN];
} rc_event;

typedef struct {
  void* ctx;
  // Puts one complete frame on the wire now; returns 0 or an errno. Must not block.
  int (*send)(void* ctx, const uint8_t* frame, size_t len);
  // Takes one event; must neither block nor call back into the core.
  void (*event)(void* ctx, const rc_event* ev);
} rc_io;

typedef struct {
  uint64_t frames_read;
  uint64_t replies_sent;
  uint64_t kernel_drops;
  uint64_t entries;
} rc_stats;

typedef enum {
  RC_ANNOUNCE_SENT,
  RC_ANNOUNCE_NOT_HELD,
  RC_ANNOUNCE_YIELDED,
  RC_ANNOUNCE_STALE_GENERATION,
  RC_ANNOUNCE_UNLICENSED,
  RC_ANNOUNCE_UNSUPPORTED,  // a key of neither family (never granted: get_key makes only IPv4 and IPv6 keys)
  RC_ANNOUNCE_SEND_FAILED,  // *err holds the errno
} rc_announce_result;

typedef struct rc_core rc_core;

rc_core* rc_create(const uint8_t mac[RC_MAC_LEN]);
void rc_destroy(rc_core* c);

// The event loop is alive: the reader may answer for alive_ns from now_ns.
void rc_heartbeat(rc_core* c, int64_t now_ns, int64_t alive_ns);

// Holds keys[i] at gens[i] with the given windows from now_ns (RC_FOREVER: no deadline; <= 0: already
// over). A key not held before (new, or yielded) is answered only once rc_announce has put its first
// announcement on the wire: a takeover's heir that answered first would give a client its MAC while the
// old holder, which has heard nothing yet, still answers too. A key held already keeps answering.
// refused[i] is set to 1 where the table has the key yielded at gens[i] or later (left yielded), else 0.
// All or nothing: returns 0, or ENOMEM / EMSGSIZE (RC_MAX_ENTRIES) with the table unchanged.
int rc_grant(rc_core* c, const rc_key* keys, const uint32_t* gens, size_t n, int64_t now_ns, int64_t answer_ns,
             int64_t defend_ns, uint8_t* refused);

// Forgets keys: no more answers for them from this moment.
void rc_revoke(rc_core* c, const rc_key* keys, size_t n);

// Announces key if it is held at gen and licensed at now_ns, and from then on lets requests for it be
// answered (see rc_grant): for IPv4 the gratuitous ARP pair (request and reply form), for IPv6 one
// unsolicited Neighbour Advertisement (S=0, O=1, Target link-layer address option) to all-nodes ff02::1.
rc_announce_result rc_announce(rc_core* c, const rc_key* key, uint32_t gen, int64_t now_ns, const rc_io* io, int* err);

// Judges one drain: every frame that was queued when the reader woke, in arrival order. Every claim in
// it is honoured, and then, if kernel_drops > 0 or the drain was cut short (truncated), every held
// address that is not defended is yielded, before any request in it is answered. ARP and NDP frames
// may be mixed in one drain: claims of both are honoured before requests of both. verdicts[i] receives
// frame i's verdict, details[i] (unless details is NULL) why it was malformed.
void rc_process_drain(rc_core* c, const rc_frame* frames, size_t n, uint64_t kernel_drops, int truncated, int64_t now_ns,
                      const rc_io* io, rc_verdict* verdicts, rc_detail* details);

void rc_get_stats(const rc_core* c, rc_stats* out);
const char* rc_verdict_name(rc_verdict v);
// NULL for RC_D_NONE (and anything out of range).
const char* rc_detail_name(rc_detail d);

// The ICMPv6 checksum (RFC 4443 2.3) of msg[0..len) under the IPv6 pseudo-header (RFC 8200 8.1: source,
// destination, upper-layer length, next header 58). Over a message whose checksum field is zero it is
// the value to put there; over a message with a correct checksum it is 0.
uint16_t rc_icmpv6_checksum(const uint8_t src[RC_IPV6_LEN], const uint8_t dst[RC_IPV6_LEN], const uint8_t* msg, size_t len);

// Saturating now + duration: deadlines never wrap, RC_FOREVER stays forever.
int64_t rc_deadline(int64_t now_ns, int64_t duration_ns);

#endif
