// Baton's AF_PACKET addon: one raw packet socket per interface, bound to the
// ARP EtherType and filtered in the kernel. Raw packet sockets are the only
// way to send and receive ARP from user space; `raw-socket` only opens
// AF_INET/AF_INET6.
//
// A reader thread per socket blocks in recvmmsg() and answers ARP
// requests for the addresses JS has said it holds right there, in C: the
// reply leaves within microseconds of the request, however busy the
// JavaScript event loop is. Every frame, answered or not, is then handed to
// JS (asynchronously, through a thread-safe function) for counting, drop
// reasons and the detection of other hosts claiming our addresses. A frame
// in which another MAC claims one of our addresses removes that address
// from the answered set at once, before any request read with it is
// answered: a holder yields to the new holder's gratuitous ARP without
// waiting for JS.
//
// JS API (see src/layer2/af-packet-link.ts):
//   open(ifname, onFrame) -> handle    onFrame(frame: Buffer, answered: boolean)
//   send(handle, frame)                throws Error with code = errno name
//   answer(handle, mac: Buffer(6), ips: Uint32Array)   addresses to answer for
//   close(handle)
// recvmmsg() is a GNU extension of glibc.
#define _GNU_SOURCE
#include <node_api.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

// Largest frame we read: a standard Ethernet MTU frame plus header; ARP is 60 bytes.
#define MAX_FRAME 1600
// Addresses one interface answers for; far above any real pool on one node.
#define MAX_HELD 65536
// Frames waiting for JS; beyond this the reader drops them from the JS queue (never from answering).
#define JS_QUEUE 4096
// Addresses yielded to another MAC are not taken back by answer() for this long: JS learns of the
// yield only when the claiming frame reaches it, and must not re-add the address meanwhile. A real
// reclaim needs a confirming API write first, which takes longer.
#define YIELD_EMBARGO_NS 200000000LL
#define RECENT_YIELDS 64
// Frames taken per wake-up: ARP arrives a few at a time; more waiting than this are read on the next turn.
#define READ_BATCH 16

typedef struct {
  int fd;
  int ifindex;
  pthread_t thread;
  napi_threadsafe_function tsfn;
  pthread_mutex_t lock;  // guards mac, held, held_count
  unsigned char mac[6];
  uint32_t held[MAX_HELD];  // sorted, host byte order
  size_t held_count;
  struct { uint32_t ip; long long at_ns; } yields[RECENT_YIELDS];
  size_t next_yield;
  int closing;
} packet_socket;

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int recently_yielded(const packet_socket* s, uint32_t ip, long long now) {
  for (size_t i = 0; i < RECENT_YIELDS; i++) {
    if (s->yields[i].ip == ip && s->yields[i].at_ns != 0 && now - s->yields[i].at_ns < YIELD_EMBARGO_NS) return 1;
  }
  return 0;
}

typedef struct {
  size_t len;
  int answered;
  unsigned char bytes[];
} frame_msg;

static napi_value throw_errno(napi_env env, const char* what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  const char* code = "EIO";
  switch (err) {
    case EPERM: code = "EPERM"; break;
    case EACCES: code = "EACCES"; break;
    case ENODEV: code = "ENODEV"; break;
    case ENXIO: code = "ENXIO"; break;
    case ENETDOWN: code = "ENETDOWN"; break;
    case EAGAIN: code = "EAGAIN"; break;
    case ENOBUFS: code = "ENOBUFS"; break;
    case EMSGSIZE: code = "EMSGSIZE"; break;
    case EBADF: code = "EBADF"; break;
    case EINVAL: code = "EINVAL"; break;
    case ENOMEM: code = "ENOMEM"; break;
  }
  napi_throw_error(env, code, msg);
  return NULL;
}

static uint32_t be32(const unsigned char* p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static int find_held(const packet_socket* s, uint32_t ip) {
  size_t lo = 0, hi = s->held_count;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (s->held[mid] == ip) return (int)mid;
    if (s->held[mid] < ip) lo = mid + 1; else hi = mid;
  }
  return -1;
}

// Checks that a frame is ARP for IPv4 over Ethernet: htype 1, ptype 0x0800, hlen 6, plen 4.
static int is_ipv4_arp(const unsigned char* f, size_t n) {
  if (n < 42 || f[12] != 0x08 || f[13] != 0x06) return 0;
  return f[14] == 0 && f[15] == 1 && f[16] == 0x08 && f[17] == 0x00 && f[18] == 6 && f[19] == 4;
}

// Someone else using one of our addresses as theirs (the new holder's announcement): stop answering for it now.
static void yield_claimed(packet_socket* s, const unsigned char* f, size_t n) {
  if (!is_ipv4_arp(f, n)) return;
  pthread_mutex_lock(&s->lock);
  int claimed = memcmp(f + 22, s->mac, 6) != 0 ? find_held(s, be32(f + 28)) : -1;
  if (claimed >= 0) {
    memmove(&s->held[claimed], &s->held[claimed + 1], (s->held_count - (size_t)claimed - 1) * sizeof(uint32_t));
    s->held_count--;
    s->yields[s->next_yield].ip = be32(f + 28);
    s->yields[s->next_yield].at_ns = now_ns();
    s->next_yield = (s->next_yield + 1) % RECENT_YIELDS;
  }
  pthread_mutex_unlock(&s->lock);
}

// Where sendto() puts a frame: out of this socket's interface, to the given MAC.
static struct sockaddr_ll link_address(const packet_socket* s, const unsigned char* mac) {
  struct sockaddr_ll to;
  memset(&to, 0, sizeof to);
  to.sll_family = AF_PACKET;
  to.sll_ifindex = s->ifindex;
  to.sll_halen = ETH_ALEN;
  memcpy(to.sll_addr, mac, ETH_ALEN);
  return to;
}

// Answers an ARP request for a held address; returns 1 if it replied.
static int answer_request(packet_socket* s, const unsigned char* f, size_t n) {
  if (!is_ipv4_arp(f, n)) return 0;
  unsigned op = ((unsigned)f[20] << 8) | f[21];
  const unsigned char* sha = f + 22;
  int replied = 0;
  pthread_mutex_lock(&s->lock);
  if (op == 1 && memcmp(sha, s->mac, 6) != 0 && be32(f + 28) != be32(f + 38) && find_held(s, be32(f + 38)) >= 0) {
    unsigned char r[60];
    memset(r, 0, sizeof r);
    memcpy(r, sha, 6);          // to the asker
    memcpy(r + 6, s->mac, 6);   // from us
    r[12] = 0x08; r[13] = 0x06;
    r[14] = 0; r[15] = 1; r[16] = 0x08; r[17] = 0x00; r[18] = 6; r[19] = 4;
    r[20] = 0; r[21] = 2;       // reply
    memcpy(r + 22, s->mac, 6);  // sender: us, the requested address
    memcpy(r + 28, f + 38, 4);
    memcpy(r + 32, sha, 6);     // target: the asker
    memcpy(r + 38, f + 28, 4);
    struct sockaddr_ll to = link_address(s, sha);
    replied = sendto(s->fd, r, sizeof r, 0, (struct sockaddr*)&to, sizeof to) == (ssize_t)sizeof r;
  }
  pthread_mutex_unlock(&s->lock);
  return replied;
}

static void* reader(void* arg) {
  packet_socket* s = (packet_socket*)arg;
  unsigned char bufs[READ_BATCH][MAX_FRAME];  // 25 KB on the reader thread's own (8 MB) stack
  struct mmsghdr msgs[READ_BATCH];
  struct iovec iovs[READ_BATCH];
  struct sockaddr_ll froms[READ_BATCH];

  for (;;) {
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < READ_BATCH; i++) {
      iovs[i].iov_base = bufs[i];
      iovs[i].iov_len = MAX_FRAME;
      msgs[i].msg_hdr.msg_iov = &iovs[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &froms[i];
      msgs[i].msg_hdr.msg_namelen = sizeof froms[i];
    }
    // Blocks for the first frame, then takes whatever else is already queued, in one system call. Every
    // claim in the batch is honoured before any request in it is answered: a holder whose reader fell
    // behind (a loaded machine) must not answer a request queued just before the new holder's gratuitous
    // ARP, which the client would see as two MACs.
    int got = recvmmsg(s->fd, msgs, READ_BATCH, MSG_WAITFORONE, NULL);
    if (__atomic_load_n(&s->closing, __ATOMIC_ACQUIRE)) break;
    if (got <= 0) continue;  // EAGAIN from the receive timeout: a chance to notice closing
    int answered[READ_BATCH];
    for (int i = 0; i < got; i++) {
      // Our own transmissions are not input (the kernel may loop them back to packet sockets).
      if (froms[i].sll_pkttype != PACKET_OUTGOING) yield_claimed(s, bufs[i], msgs[i].msg_len);
    }
    for (int i = 0; i < got; i++) {
      answered[i] = froms[i].sll_pkttype == PACKET_OUTGOING ? -1 : answer_request(s, bufs[i], msgs[i].msg_len);
    }
    for (int i = 0; i < got; i++) {
      if (answered[i] < 0) continue;
      size_t n = msgs[i].msg_len;
      frame_msg* m = malloc(sizeof(frame_msg) + n);
      if (m == NULL) continue;
      m->len = n;
      m->answered = answered[i];
      memcpy(m->bytes, bufs[i], n);
      if (napi_call_threadsafe_function(s->tsfn, m, napi_tsfn_nonblocking) != napi_ok) free(m);
    }
  }
  napi_release_threadsafe_function(s->tsfn, napi_tsfn_release);
  return NULL;
}

static void call_js(napi_env env, napi_value cb, void* context, void* data) {
  (void)context;
  frame_msg* m = (frame_msg*)data;
  if (env != NULL && cb != NULL) {
    napi_value args[2], global, result;
    void* out;
    napi_create_buffer_copy(env, m->len, m->bytes, &out, &args[0]);
    napi_get_boolean(env, m->answered != 0, &args[1]);
    napi_get_global(env, &global);
    napi_call_function(env, global, cb, 2, args, &result);
  }
  free(m);
}

static void shut(packet_socket* s) {
  if (s->closing) return;
  __atomic_store_n(&s->closing, 1, __ATOMIC_RELEASE);
  // The reader wakes within its receive timeout, sees closing and exits.
  pthread_join(s->thread, NULL);
  close(s->fd);
}

static void finalize_socket(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  packet_socket* s = (packet_socket*)data;
  shut(s);
  pthread_mutex_destroy(&s->lock);
  free(s);
}

static packet_socket* unwrap(napi_env env, napi_value handle) {
  packet_socket* s = NULL;
  if (napi_unwrap(env, handle, (void**)&s) != napi_ok || s == NULL) {
    napi_throw_type_error(env, "EINVAL", "not a packet socket handle");
    return NULL;
  }
  if (s->closing) {
    napi_throw_error(env, "EBADF", "packet socket is closed");
    return NULL;
  }
  return s;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char ifname[IF_NAMESIZE + 1];
  size_t len;
  if (argc < 2 || napi_get_value_string_utf8(env, argv[0], ifname, sizeof ifname, &len) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "open(ifname: string, onFrame: function)");
    return NULL;
  }
  unsigned int ifindex = if_nametoindex(ifname);
  if (ifindex == 0) return throw_errno(env, "if_nametoindex", errno);

  // Protocol 0 at creation: the socket receives nothing until bind() names ARP, so no frame of another kind slips in first.
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket(AF_PACKET)", errno);

  // The reader blocks in recvmmsg; this timeout is how often it checks whether the socket is being closed.
  struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  // Not PACKET_QDISC_BYPASS: it would save a step, but bypassed frames are invisible to tcpdump on
  // this host, and an operator debugging ARP must see what the speaker sends.

  // Kernel-side filter: EtherType at offset 12 must be ARP (0x0806); everything else is dropped before it is copied to us.
  struct sock_filter code[] = {
      {0x28, 0, 0, 12},         // ldh [12]
      {0x15, 0, 1, ETH_P_ARP},  // jeq #0x0806, accept, drop
      {0x06, 0, 0, MAX_FRAME},  // ret #MAX_FRAME (accept)
      {0x06, 0, 0, 0},          // ret #0 (drop)
  };
  struct sock_fprog prog = {.len = sizeof code / sizeof code[0], .filter = code};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "SO_ATTACH_FILTER", e);
  }
  int one = 1;
  // Linux 4.20+: do not hand us frames this host sends (ours, the kernel's own ARP). Older kernels: pkttype check.
  setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);

  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ARP);
  sll.sll_ifindex = (int)ifindex;
  if (bind(fd, (struct sockaddr*)&sll, sizeof sll) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "bind(AF_PACKET)", e);
  }

  packet_socket* s = calloc(1, sizeof *s);
  if (s == NULL) {
    close(fd);
    return throw_errno(env, "calloc", ENOMEM);
  }
  s->fd = fd;
  s->ifindex = (int)ifindex;
  pthread_mutex_init(&s->lock, NULL);
  napi_value resource_name;
  napi_create_string_utf8(env, "baton.afpacket", NAPI_AUTO_LENGTH, &resource_name);
  if (napi_create_threadsafe_function(env, argv[1], NULL, resource_name, JS_QUEUE, 1, NULL, NULL, NULL, call_js, &s->tsfn) != napi_ok) {
    close(fd);
    free(s);
    napi_throw_error(env, "EIO", "could not create the frame callback");
    return NULL;
  }
  // The reader thread alone must not keep the process alive; open sockets are closed explicitly.
  napi_unref_threadsafe_function(env, s->tsfn);
  if (pthread_create(&s->thread, NULL, reader, s) != 0) {
    napi_release_threadsafe_function(s->tsfn, napi_tsfn_abort);
    close(fd);
    free(s);
    return throw_errno(env, "pthread_create", EAGAIN);
  }

  napi_value handle;
  napi_create_object(env, &handle);
  napi_wrap(env, handle, s, finalize_socket, NULL, NULL);
  return handle;
}

static napi_value js_send(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2) {
    napi_throw_type_error(env, "EINVAL", "send(handle, frame: Buffer)");
    return NULL;
  }
  packet_socket* s = unwrap(env, argv[0]);
  if (s == NULL) return NULL;
  void* data;
  size_t len;
  if (napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "frame must be a Buffer");
    return NULL;
  }
  // The destination MAC is the frame's first 6 bytes; the kernel sends the frame as given.
  static const unsigned char none[ETH_ALEN] = {0};
  struct sockaddr_ll to = link_address(s, len >= ETH_ALEN ? (const unsigned char*)data : none);
  ssize_t n = sendto(s->fd, data, len, 0, (struct sockaddr*)&to, sizeof to);
  if (n < 0) return throw_errno(env, "sendto(AF_PACKET)", errno);
  napi_value result;
  napi_create_int32(env, (int32_t)n, &result);
  return result;
}

static int cmp_u32(const void* a, const void* b) {
  uint32_t x = *(const uint32_t*)a, y = *(const uint32_t*)b;
  return x < y ? -1 : x > y;
}

static napi_value js_answer(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3) {
    napi_throw_type_error(env, "EINVAL", "answer(handle, mac: Buffer, ips: Uint32Array)");
    return NULL;
  }
  packet_socket* s = unwrap(env, argv[0]);
  if (s == NULL) return NULL;
  void* mac;
  size_t mac_len;
  napi_typedarray_type type;
  size_t count;
  void* ips;
  napi_value ab;
  size_t offset;
  if (napi_get_buffer_info(env, argv[1], &mac, &mac_len) != napi_ok || mac_len != 6 ||
      napi_get_typedarray_info(env, argv[2], &type, &count, &ips, &ab, &offset) != napi_ok || type != napi_uint32_array) {
    napi_throw_type_error(env, "EINVAL", "answer(handle, mac: Buffer(6), ips: Uint32Array)");
    return NULL;
  }
  if (count > MAX_HELD) return throw_errno(env, "answer", EMSGSIZE);
  pthread_mutex_lock(&s->lock);
  memcpy(s->mac, mac, 6);
  long long now = now_ns();
  size_t kept = 0;
  for (size_t i = 0; i < count; i++) {
    uint32_t ip = ((const uint32_t*)ips)[i];
    if (!recently_yielded(s, ip, now)) s->held[kept++] = ip;
  }
  s->held_count = kept;
  qsort(s->held, kept, sizeof(uint32_t), cmp_u32);
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  packet_socket* s = NULL;
  if (argc < 1 || napi_unwrap(env, argv[0], (void**)&s) != napi_ok || s == NULL) return NULL;
  shut(s);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"send", NULL, js_send, NULL, NULL, NULL, napi_default, NULL},
      {"answer", NULL, js_answer, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
