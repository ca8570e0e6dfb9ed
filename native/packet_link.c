// The sockets and the reader thread of one interface.
//
// Two packet sockets: one bound to the ARP EtherType, one bound to IPv6 with
// a filter that keeps only ICMPv6 Neighbour Solicitations and Advertisements.
// Why two sockets bound to a protocol rather than one bound to ETH_P_ALL:
//   - a protocol-bound packet socket is not a transmit tap (the kernel's
//     dev_queue_xmit_nit() walks only the ETH_P_ALL lists), so nothing this
//     host sends ever reaches the reader, on any kernel: not its own NS for a
//     VIP (a node with IPv6 forwarding resolves VIPs itself), not our own NAs;
//     and no skb is cloned per transmitted packet where PACKET_IGNORE_OUTGOING
//     (Linux 4.20) is missing. The host's own multicast looped back is
//     dropped by packet_rcv() itself (PACKET_LOOPBACK);
//   - the node's IPv4 traffic, the bulk of a load balancer's, never runs the
//     NDP filter: only IPv6 frames reach the second socket's filter;
//   - the ARP socket and its filter stay exactly as they were.
// The cost, one more descriptor and two queues, is paid in the reader: it
// drains both queues into one drain, so the claims-first rule covers ARP and
// NDP frames alike, and the kernel's drop counters of both count as overruns.
//
// The reader sleeps in poll() on both sockets and an eventfd (so stopping it
// never waits on a receive timeout), then drains everything already queued
// with non-blocking recvmmsg() into a buffer that grows as needed, reads the
// kernel's drop counters, and hands the whole drain to the core, which
// honours every claim in it before answering any request in it. Each frame
// carries the kernel's receive timestamp, so a request that waited through a
// stall is judged by its real age, not by when the reader got to it.
//
// recvmmsg() is a GNU extension of glibc, strerrorname_np() too.
#define _GNU_SOURCE
#include "packet_link.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

// Bytes kept of each frame (the kernel filters truncate to this). An ARP frame is 42 bytes, padded to
// 60 (64 where the NIC keeps the FCS). An NS or NA is 78 bytes before options; real stacks send 86 (one
// link-layer address option) or 94 (plus an RFC 7527 nonce). 256 keeps 178 bytes of options, 22 units,
// whole; a longer NDP message is cut and judged malformed (truncated-ipv6: its checksum cannot be
// verified), never answered and never a claim. Slots stay small: 256 bytes of frame each.
#define SNAPLEN 256
// Drain buffer: starts at 64 frames (ARP comes a few at a time) and doubles up to PL_DRAIN_MAX.
#define DRAIN_FIRST 64
// Receive buffer asked for: room for a few thousand ARP frames while the reader is descheduled, instead
// of the default ~300 (rmem_default 212992) after which frames, claims among them, are dropped. The
// kernel caps it at net.core.rmem_max; a smaller grant only means earlier overruns.
#define RCVBUF_BYTES (1 << 20)
// TC_PRIO_INTERACTIVE: band 0 of pfifo_fast, so replies do not queue behind bulk traffic. 7
// (TC_PRIO_CONTROL) would need CAP_NET_ADMIN, which the speaker does not have.
#define SEND_PRIORITY 6

typedef struct {
  uint8_t data[SNAPLEN];
  union {  // room for SCM_TIMESTAMPNS and PACKET_AUXDATA, aligned for cmsghdr
    char buf[CMSG_SPACE(sizeof(struct timespec)) + CMSG_SPACE(sizeof(struct tpacket_auxdata))];
    struct cmsghdr align;
  } control;
  struct sockaddr_ll from;
  struct iovec iov;
  int64_t stamp_ns;  // kernel receive time, CLOCK_REALTIME; 0 if the kernel gave none
  int vlan;
} drain_slot;

typedef struct {
  struct mmsghdr* msgs;
  drain_slot* slots;
  rc_frame* frames;
  rc_verdict* verdicts;
  rc_detail* details;
  size_t cap;
} drain_buf;

int64_t pl_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t realtime_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int init_common(packet_link* l) {
  l->core = rc_create(l->mac);
  if (l->core == NULL) return ENOMEM;
  int e = pthread_mutex_init(&l->lock, NULL);
  if (e != 0) {
    rc_destroy(l->core);
    l->core = NULL;
  }
  return e;
}

int pl_open_virtual(packet_link* l, const char* name, const uint8_t mac[RC_MAC_LEN], int ifindex) {
  memset(l, 0, sizeof *l);
  snprintf(l->name, sizeof l->name, "%s", name);
  memcpy(l->mac, mac, RC_MAC_LEN);
  l->ifindex = ifindex;
  l->fd = l->fd6 = l->wake_fd = -1;
  return init_common(l);
}

static int fail_open(packet_link* l, const char** what, const char* step, int err) {
  *what = step;
  if (l->fd >= 0) close(l->fd);
  if (l->fd6 >= 0) close(l->fd6);
  if (l->wake_fd >= 0) close(l->wake_fd);
  l->fd = l->fd6 = l->wake_fd = -1;
  return err;
}

static int set_int(int fd, int level, int name, int value) {
  return setsockopt(fd, level, name, &value, sizeof value) == 0 ? 0 : errno;
}

// ARP socket: EtherType ARP (the bind selects it too; the filter also bounds what is copied to us).
static struct sock_filter ARP_FILTER[] = {
    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, RC_ETH_OFF_TYPE),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_ARP, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SNAPLEN),
    BPF_STMT(BPF_RET | BPF_K, 0),
};

// IPv6 socket: next header ICMPv6 right after the fixed header, type NS or NA; everything else stays in
// the kernel (no copy, no wake-up). Extension headers are refused here as parse_ndp() refuses them:
// valid NDP carries none. A load beyond the frame ends the program with 0 (drop). A jump offset counts
// the instructions skipped after the jump.
static struct sock_filter NDP_FILTER[] = {
    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, RC_ETH_OFF_TYPE),           // 0
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 0, 6),         // 1: not IPv6 -> 8
    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, RC_IP6_OFF_NEXT_HEADER),    // 2
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, RC_IPPROTO_ICMPV6, 0, 4),  // 3: not ICMPv6 -> 8
    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, RC_ICMP6_OFF_TYPE),         // 4
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, RC_ICMP6_NS, 1, 0),        // 5: NS -> 7
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, RC_ICMP6_NA, 0, 1),        // 6: not NA -> 8
    BPF_STMT(BPF_RET | BPF_K, SNAPLEN),                            // 7: keep SNAPLEN bytes
    BPF_STMT(BPF_RET | BPF_K, 0),                                  // 8: drop
};

// One receiving socket on l's interface, bound to protocol (host order) behind filter. Returns 0 or an
// errno with *what naming the step; the caller closes *fd on failure.
static int open_socket(const packet_link* l, uint16_t protocol, struct sock_filter* filter, unsigned short filter_len,
                       int* fd, const char** what) {
  // Protocol 0 at creation: nothing is queued until bind() names the protocol, after the filter is in place.
  *fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (*fd < 0) {
    *what = "socket(AF_PACKET)";
    return errno;
  }
  struct sock_fprog prog = {.len = filter_len, .filter = filter};
  if (setsockopt(*fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0) {
    *what = "SO_ATTACH_FILTER";
    return errno;
  }
  // Linux 4.20+: no copies of what this host sends. A protocol-bound socket gets none anyway (see the
  // top of this file); kept as a second guard. Should one arrive, PACKET_OUTGOING is judged own-frame.
  (void)set_int(*fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1);
  // VLAN tags stripped by offload are reported here, not in the frame: a tagged frame is not ours.
  int e = set_int(*fd, SOL_PACKET, PACKET_AUXDATA, 1);
  if (e != 0) {
    *what = "PACKET_AUXDATA";
    return e;
  }
  // Per-frame receive time, to refuse requests that waited through a stall. The kernel stamps with
  // CLOCK_REALTIME only (SO_TIMESTAMPING software stamps too), so ages compare with CLOCK_REALTIME:
  // a clock step forward only makes frames look stale (fail closed), a step back is caught as a
  // negative age, and chrony/ntpd slew rather than step in steady state.
  e = set_int(*fd, SOL_SOCKET, SO_TIMESTAMPNS, 1);
  if (e != 0) {
    *what = "SO_TIMESTAMPNS";
    return e;
  }
  e = set_int(*fd, SOL_SOCKET, SO_PRIORITY, SEND_PRIORITY);
  if (e != 0) {
    *what = "SO_PRIORITY";
    return e;
  }
  (void)set_int(*fd, SOL_SOCKET, SO_RCVBUF, RCVBUF_BYTES);
  // Not PACKET_QDISC_BYPASS: it would save a step, but bypassed frames are invisible to tcpdump on
  // this host, and an operator debugging ARP or NDP must see what the speaker sends.
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(protocol);
  sll.sll_ifindex = l->ifindex;
  if (bind(*fd, (struct sockaddr*)&sll, sizeof sll) < 0) {
    *what = "bind(AF_PACKET)";
    return errno;
  }
  return 0;
}

#define FILTER_LEN(f) ((unsigned short)(sizeof(f) / sizeof((f)[0])))

int pl_open(packet_link* l, const char* ifname, const char** what) {
  memset(l, 0, sizeof *l);
  l->fd = l->fd6 = l->wake_fd = -1;
  if (strlen(ifname) >= sizeof l->name) return fail_open(l, what, "interface name", EINVAL);
  snprintf(l->name, sizeof l->name, "%s", ifname);
  unsigned int ifindex = if_nametoindex(ifname);
  if (ifindex == 0) return fail_open(l, what, "if_nametoindex", errno);
  l->ifindex = (int)ifindex;

  const char* step = "open";
  int e = open_socket(l, ETH_P_ARP, ARP_FILTER, FILTER_LEN(ARP_FILTER), &l->fd, &step);
  if (e != 0) return fail_open(l, what, step, e);

  // The MAC the kernel has now, read on the socket itself: replies and announcements must carry the
  // address the NIC accepts (a changed MAC means reopening the link, see link.ts).
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
  if (ioctl(l->fd, SIOCGIFHWADDR, &ifr) < 0) return fail_open(l, what, "SIOCGIFHWADDR", errno);
  if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) return fail_open(l, what, "not an Ethernet interface", EAFNOSUPPORT);
  memcpy(l->mac, ifr.ifr_hwaddr.sa_data, RC_MAC_LEN);

  e = open_socket(l, ETH_P_IPV6, NDP_FILTER, FILTER_LEN(NDP_FILTER), &l->fd6, &step);
  if (e != 0) return fail_open(l, what, step, e);

  l->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (l->wake_fd < 0) return fail_open(l, what, "eventfd", errno);
  e = init_common(l);
  if (e != 0) return fail_open(l, what, "allocation", e);
  return 0;
}

int pl_send(packet_link* l, const uint8_t* frame, size_t len) {
  if (l->fd < 0) return EBADF;
  struct sockaddr_ll to;
  memset(&to, 0, sizeof to);
  to.sll_family = AF_PACKET;
  // The frame's own EtherType (still in network order) becomes skb->protocol, so the qdisc, the driver
  // and any tap see an NA as IPv6 and the lab's tagged frames as VLAN. A frame too short to carry one
  // is refused by the kernel anyway (shorter than the link-layer header).
  if (len >= RC_ETH_HDR_LEN) memcpy(&to.sll_protocol, frame + RC_ETH_OFF_TYPE, sizeof to.sll_protocol);
  else to.sll_protocol = htons(ETH_P_ARP);
  to.sll_ifindex = l->ifindex;
  to.sll_halen = RC_MAC_LEN;
  if (len >= RC_MAC_LEN) memcpy(to.sll_addr, frame + RC_ETH_OFF_DST, RC_MAC_LEN);
  // Never blocks: a full device queue refuses the frame (EAGAIN/ENOBUFS) instead of stalling the
  // reader, and a late reply is worse than none.
  ssize_t n = sendto(l->fd, frame, len, MSG_DONTWAIT, (struct sockaddr*)&to, sizeof to);
  if (n < 0) return errno;
  return (size_t)n == len ? 0 : EMSGSIZE;
}

static int is_fatal(int err) { return err == ENETDOWN || err == ENXIO || err == ENODEV; }

typedef struct {
  packet_link* link;
  int fatal;  // errno of a reply that found the interface gone
} reader_ctx;

static int reader_send(void* ctx, const uint8_t* frame, size_t len) {
  reader_ctx* r = ctx;
  int err = pl_send(r->link, frame, len);
  if (is_fatal(err) && r->fatal == 0) r->fatal = err;
  return err;
}

static void reader_event(void* ctx, const rc_event* ev) {
  reader_ctx* r = ctx;
  r->link->sink.event(r->link->sink.ctx, ev);
}

static int drain_grow(drain_buf* d) {
  size_t cap = d->cap == 0 ? DRAIN_FIRST : d->cap * 2;
  if (cap > PL_DRAIN_MAX) return 0;
  // Each array is kept as soon as it is grown; cap moves only when all are, so a failure leaves d usable.
  struct mmsghdr* msgs = realloc(d->msgs, cap * sizeof *msgs);
  if (msgs == NULL) return 0;
  d->msgs = msgs;
  drain_slot* slots = realloc(d->slots, cap * sizeof *slots);
  if (slots == NULL) return 0;
  d->slots = slots;
  rc_frame* frames = realloc(d->frames, cap * sizeof *frames);
  if (frames == NULL) return 0;
  d->frames = frames;
  rc_verdict* verdicts = realloc(d->verdicts, cap * sizeof *verdicts);
  if (verdicts == NULL) return 0;
  d->verdicts = verdicts;
  rc_detail* details = realloc(d->details, cap * sizeof *details);
  if (details == NULL) return 0;
  d->details = details;
  d->cap = cap;
  return 1;
}

static void drain_free(drain_buf* d) {
  free(d->msgs);
  free(d->slots);
  free(d->frames);
  free(d->verdicts);
  free(d->details);
}

static void prepare(struct mmsghdr* m, drain_slot* s) {
  memset(m, 0, sizeof *m);
  s->iov.iov_base = s->data;
  s->iov.iov_len = sizeof s->data;
  m->msg_hdr.msg_iov = &s->iov;
  m->msg_hdr.msg_iovlen = 1;
  m->msg_hdr.msg_name = &s->from;
  m->msg_hdr.msg_namelen = sizeof s->from;
  m->msg_hdr.msg_control = s->control.buf;
  m->msg_hdr.msg_controllen = sizeof s->control.buf;
}

// Read right after recvmmsg(), before the buffer can move.
static void read_ancillary(struct mmsghdr* m, drain_slot* s) {
  s->stamp_ns = 0;
  s->vlan = 0;
  if (m->msg_hdr.msg_flags & MSG_CTRUNC) return;  // no timestamp: judged stale, never answered late
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&m->msg_hdr); c != NULL; c = CMSG_NXTHDR(&m->msg_hdr, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS && c->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
      struct timespec ts;
      memcpy(&ts, CMSG_DATA(c), sizeof ts);
      s->stamp_ns = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    } else if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA &&
               c->cmsg_len >= CMSG_LEN(sizeof(struct tpacket_auxdata))) {
      struct tpacket_auxdata aux;
      memcpy(&aux, CMSG_DATA(c), sizeof aux);
      // Kernels before 3.0 set the TCI without the VALID flag.
      s->vlan = (aux.tp_status & TP_STATUS_VLAN_VALID) != 0 || aux.tp_vlan_tci != 0;
    }
  }
}

static rc_pkttype pkttype_of(unsigned char t) {
  switch (t) {
    case PACKET_HOST: return RC_PKT_HOST;
    case PACKET_BROADCAST: return RC_PKT_BROADCAST;
    case PACKET_MULTICAST: return RC_PKT_MULTICAST;
    case PACKET_OUTGOING: return RC_PKT_OUTGOING;
    // The host's own multicast looped back (it has no Ethernet header). packet_rcv() drops these before
    // any packet socket sees them; named here so that, should one ever arrive, it is taken as our own.
    case PACKET_LOOPBACK: return RC_PKT_OUTGOING;
    default: return RC_PKT_OTHERHOST;  // OTHERHOST, and kinds that never carry a request for us
  }
}

// Appends everything queued now on fd to the n frames already in d. Returns the new number of frames;
// sets *truncated if the drain had to stop before the queue was empty, *err for a receive error.
static size_t drain(int fd, drain_buf* d, size_t n, int* truncated, int* err) {
  for (;;) {
    if (n == d->cap && !drain_grow(d)) {
      *truncated = 1;
      break;
    }
    size_t want = d->cap - n;
    for (size_t i = n; i < d->cap; i++) prepare(&d->msgs[i], &d->slots[i]);
    int got = recvmmsg(fd, d->msgs + n, (unsigned)want, MSG_DONTWAIT, NULL);
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) *err = errno;
      break;
    }
    for (size_t i = n; i < n + (size_t)got; i++) read_ancillary(&d->msgs[i], &d->slots[i]);
    n += (size_t)got;
    if ((size_t)got < want) break;  // recvmmsg stops at the first empty read
  }
  return n;
}

// Frames the kernel dropped on fd since the last call (reading resets the counter).
static uint64_t kernel_drops(int fd) {
  struct tpacket_stats st;
  socklen_t st_len = sizeof st;
  memset(&st, 0, sizeof st);
  (void)getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &st_len);
  return st.tp_drops;
}

static void* reader(void* arg) {
  packet_link* l = arg;
  drain_buf d;
  memset(&d, 0, sizeof d);
  int fatal = drain_grow(&d) ? 0 : ENOMEM;
  while (fatal == 0) {
    struct pollfd fds[3] = {
        {.fd = l->fd, .events = POLLIN}, {.fd = l->fd6, .events = POLLIN}, {.fd = l->wake_fd, .events = POLLIN}};
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      fatal = errno;
      break;
    }
    if (__atomic_load_n(&l->stopping, __ATOMIC_ACQUIRE) || fds[2].revents != 0) break;
    // Both queues, whichever woke us: one drain, judged claims first over ARP and NDP together. A drain
    // cut short on the ARP queue leaves the IPv6 queue for the next round (poll() returns at once).
    // The lock is taken before the drain, not after: frames that arrive while JavaScript holds it (a grant,
    // an announcement) are in this drain, so a claim that came meanwhile is judged before any answer.
    pthread_mutex_lock(&l->lock);
    int truncated = 0, err = 0, err6 = 0;
    size_t n = drain(l->fd, &d, 0, &truncated, &err);
    if (!truncated) n = drain(l->fd6, &d, n, &truncated, &err6);
    if (err == 0) err = err6;
    // Read (and reset) after the drain: a drop counted here happened before frames still unjudged.
    uint64_t drops = kernel_drops(l->fd) + kernel_drops(l->fd6);
    int64_t real_now = realtime_ns();
    for (size_t i = 0; i < n; i++) {
      drain_slot* s = &d.slots[i];
      d.frames[i].data = s->data;
      d.frames[i].len = d.msgs[i].msg_len < SNAPLEN ? d.msgs[i].msg_len : SNAPLEN;
      d.frames[i].age_ns = s->stamp_ns != 0 ? real_now - s->stamp_ns : INT64_MAX;
      d.frames[i].pkttype = pkttype_of(s->from.sll_pkttype);
      d.frames[i].vlan_tagged = s->vlan;
    }
    reader_ctx ctx = {.link = l, .fatal = 0};
    rc_io io = {.ctx = &ctx, .send = reader_send, .event = reader_event};
    rc_process_drain(l->core, d.frames, n, drops, truncated, pl_now_ns(), &io, d.verdicts, d.details);
    pthread_mutex_unlock(&l->lock);
    for (size_t i = 0; i < n; i++)
      l->sink.frame(l->sink.ctx, d.frames[i].data, d.frames[i].len, d.verdicts[i], d.details[i]);
    if (is_fatal(err)) fatal = err;
    else if (ctx.fatal != 0) fatal = ctx.fatal;
  }
  if (fatal != 0) l->sink.failed(l->sink.ctx, fatal);
  drain_free(&d);
  l->sink.stopped(l->sink.ctx);
  return NULL;
}

int pl_start(packet_link* l, link_sink sink) {
  l->sink = sink;
  // Signals are for Node's threads (its handlers, SIGINT): the reader's poll() is never interrupted.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int e = pthread_create(&l->thread, NULL, reader, l);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (e == 0) l->thread_started = 1;
  return e;
}

static void* closer(void* arg) {
  close((int)(intptr_t)arg);
  return NULL;
}

// Closing a packet socket waits for an RCU grace period in the kernel (packet_release ->
// synchronize_net: 8-20 ms measured here), so it is done on a short-lived detached thread rather than
// on the JS thread. Nothing refers to the fd any more: the reader has exited and the handle is closed.
static void close_in_background(int fd) {
  pthread_attr_t attr;
  pthread_t t;
  int queued = 0;
  if (pthread_attr_init(&attr) == 0) {
    if (pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0)
      queued = pthread_create(&t, &attr, closer, (void*)(intptr_t)fd) == 0;
    pthread_attr_destroy(&attr);
  }
  if (!queued) close(fd);
}

void pl_stop(packet_link* l) {
  if (l->thread_started) {
    __atomic_store_n(&l->stopping, 1, __ATOMIC_RELEASE);
    uint64_t one = 1;
    // Cannot fail short of a counter overflow; the flag above is seen at the next wake-up anyway.
    ssize_t w = write(l->wake_fd, &one, sizeof one);
    (void)w;
    // Prompt: the reader blocks nowhere but poll(), which the eventfd ends.
    pthread_join(l->thread, NULL);
    l->thread_started = 0;
  }
  if (l->fd >= 0) close_in_background(l->fd);
  if (l->fd6 >= 0) close_in_background(l->fd6);
  if (l->wake_fd >= 0) close(l->wake_fd);
  l->fd = l->fd6 = l->wake_fd = -1;
}

void pl_destroy(packet_link* l) {
  if (l->core == NULL) return;
  rc_destroy(l->core);
  l->core = NULL;
  pthread_mutex_destroy(&l->lock);
}
