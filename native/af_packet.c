// Baton's AF_PACKET addon: the JavaScript face of the ARP and NDP reader.
//
// Design. The speaker never answers ARP or NDP or announces from JavaScript:
// the reader thread of each interface's raw packet sockets (packet_link.c) does,
// in C, within microseconds of a request however busy the event loop is, and
// only under a license JS grants per address (responder_core.c): held at a
// generation, an answer deadline, a defend deadline, and a heartbeat that a
// frozen event loop stops sending. Every rule is in the pure core, with time
// injected, so the same code also runs as a *virtual* link: no socket, no
// thread, time and frames supplied by JS (unit tests, the election
// simulation). Raw packet sockets are the only way to send and receive ARP
// from user space, and the only way to see unicast NUD solicitations for an
// address the kernel does not own, the hop limit and destination of every
// NS, and to choose an NA's Ethernet destination (an ICMPv6 socket, as in
// `raw-socket` or MetalLB, can do none of these; see link.ts).
//
// Events from the reader reach JS on two thread-safe functions: frames with
// their verdicts on a bounded queue (dropped and counted when JS falls
// behind: verdicts are final, frames are only for counting), and yields,
// conflicts and failure on an unbounded one (never dropped: JS must learn of
// every yield). Each channel keeps the reader's order; the two are not
// ordered with respect to each other.
//
// JS API (typed in src/layer2/addon.ts; times in ms, deadlines from "now"):
//   open(ifname, onFrame(frame, verdict, reason), onControl(event)) -> handle   real sockets, CAP_NET_RAW
//   openVirtual(name, mac: Buffer(6), ifindex) -> handle                     no socket
//   info(h) -> { name, mac, ifindex }
//   heartbeat(h, aliveMs[, nowMs])
//   grant(h, ips: string[], gens: Uint32Array, answerMs, defendMs[, nowMs]) -> refused indices
//   revoke(h, ips: string[])
//   announce(h, ip, gen[, nowMs]) -> 'sent' | 'not-held' | ... | errno name
//   receive(h, frames: Buffer[], atMs: Float64Array, pktTypes: Uint8Array, vlan: Uint8Array,
//           kernelDrops, nowMs[, reasons: Array]) -> verdicts               virtual only; reasons[i] is
//                                                                            set to frame i's drop reason
//                                                                            (malformed) or undefined
//   takeOutput(h) -> { sends: Buffer[], events: object[] }                   virtual only
//   stats(h) -> { framesRead, eventsDropped, kernelDrops, repliesSent, entries }
//   send(h, frame) -> bytes            raw, unlicensed: for the chaos probe's PacketSocket only
//   icmpv6Checksum(src: Buffer(16), dst: Buffer(16), message: Buffer) -> number   the core's checksum
//   close(h)
// nowMs is required for virtual handles and ignored for real ones (CLOCK_MONOTONIC).
// Errors are thrown as Error with code = errno name (EPERM, ENODEV, EBADF...).
#define _GNU_SOURCE
#include <node_api.h>

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addon_util.h"
#include "packet_link.h"
#include "responder_core.h"

// Frame events waiting for JS; beyond this the reader drops them for JS (never from its decisions).
#define FRAME_QUEUE 4096

typedef struct {
  size_t len;
  uint8_t bytes[RC_MAX_SEND_FRAME];
} sent_frame;

typedef struct {
  int is_virtual;
  int closed;  // JS thread only
  packet_link link;
  // Real links.
  napi_env env;
  napi_threadsafe_function frames_tsfn;
  napi_threadsafe_function control_tsfn;
  int frames_gone, control_gone;  // reader thread only: the tsfn answered napi_closing, touch it no more
  int hook_registered;
  uint64_t events_dropped;  // atomic
  // Virtual links: what the last calls sent and reported, until takeOutput().
  sent_frame* sends;
  size_t sends_len, sends_cap;
  rc_event* events;
  size_t events_len, events_cap;
  int outbox_lost;
} handle_t;

typedef struct {
  rc_verdict verdict;
  rc_detail detail;
  size_t len;
  uint8_t bytes[];
} frame_msg;

typedef struct {
  int kind;  // RC_EV_YIELDED, RC_EV_CONFLICT or CONTROL_FAILED
  rc_event ev;
  int err;
} control_msg;

// ---- Reader thread side ----

static void sink_frame(void* ctx, const uint8_t* data, size_t len, rc_verdict verdict, rc_detail detail) {
  handle_t* h = ctx;
  if (h->frames_gone) return;
  frame_msg* m = malloc(sizeof *m + len);
  if (m == NULL) {
    __atomic_add_fetch(&h->events_dropped, 1, __ATOMIC_RELAXED);
    return;
  }
  m->verdict = verdict;
  m->detail = detail;
  m->len = len;
  memcpy(m->bytes, data, len);
  napi_status st = napi_call_threadsafe_function(h->frames_tsfn, m, napi_tsfn_nonblocking);
  if (st == napi_ok) return;
  free(m);
  if (st == napi_closing) h->frames_gone = 1;
  else __atomic_add_fetch(&h->events_dropped, 1, __ATOMIC_RELAXED);
}

static void post_control(handle_t* h, const control_msg* proto) {
  if (h->control_gone) return;
  control_msg* m = malloc(sizeof *m);
  if (m == NULL) return;  // out of memory: JS still learns of a yield when announce() answers 'yielded'
  *m = *proto;
  // Unbounded queue: the call never blocks and never reports queue_full.
  napi_status st = napi_call_threadsafe_function(h->control_tsfn, m, napi_tsfn_nonblocking);
  if (st == napi_ok) return;
  free(m);
  if (st == napi_closing) h->control_gone = 1;
}

static void sink_event(void* ctx, const rc_event* ev) {
  control_msg m = {.kind = (int)ev->kind, .ev = *ev, .err = 0};
  post_control(ctx, &m);
}

static void sink_failed(void* ctx, int err) {
  control_msg m;
  memset(&m, 0, sizeof m);
  m.kind = CONTROL_FAILED;
  m.err = err;
  post_control(ctx, &m);
}

static void sink_stopped(void* ctx) {
  handle_t* h = ctx;
  if (!h->frames_gone) napi_release_threadsafe_function(h->frames_tsfn, napi_tsfn_release);
  if (!h->control_gone) napi_release_threadsafe_function(h->control_tsfn, napi_tsfn_release);
}

// ---- JS thread side of the thread-safe functions ----

// A drop reason as JS sees it: its DropReason name, or undefined.
static napi_status detail_value(napi_env env, rc_detail d, napi_value* out) {
  const char* name = rc_detail_name(d);
  return name == NULL ? napi_get_undefined(env, out) : napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, out);
}

static void call_frame(napi_env env, napi_value cb, void* context, void* data) {
  (void)context;
  frame_msg* m = data;
  napi_value args[3], undefined, result;
  void* copy;
  if (env != NULL && cb != NULL && napi_create_buffer_copy(env, m->len, m->bytes, &copy, &args[0]) == napi_ok &&
      napi_create_string_utf8(env, rc_verdict_name(m->verdict), NAPI_AUTO_LENGTH, &args[1]) == napi_ok &&
      detail_value(env, m->detail, &args[2]) == napi_ok && napi_get_undefined(env, &undefined) == napi_ok)
    napi_call_function(env, undefined, cb, 3, args, &result);  // a throw becomes an uncaught exception
  free(m);
}

static void call_control(napi_env env, napi_value cb, void* context, void* data) {
  (void)context;
  control_msg* m = data;
  napi_value arg, undefined, result;
  if (env != NULL && cb != NULL && make_control_object(env, m->kind, &m->ev, m->err, &arg) == napi_ok &&
      napi_get_undefined(env, &undefined) == napi_ok)
    napi_call_function(env, undefined, cb, 1, &arg, &result);
  free(m);
}

// ---- Virtual outbox ----

static int outbox_send(void* ctx, const uint8_t* frame, size_t len) {
  handle_t* h = ctx;
  if (len > RC_MAX_SEND_FRAME) return EMSGSIZE;
  if (h->sends_len == h->sends_cap) {
    size_t cap = h->sends_cap == 0 ? 16 : h->sends_cap * 2;
    sent_frame* grown = realloc(h->sends, cap * sizeof *grown);
    if (grown == NULL) return ENOBUFS;  // as a full device queue would
    h->sends = grown;
    h->sends_cap = cap;
  }
  h->sends[h->sends_len].len = len;
  memcpy(h->sends[h->sends_len].bytes, frame, len);
  h->sends_len++;
  return 0;
}

static void outbox_event(void* ctx, const rc_event* ev) {
  handle_t* h = ctx;
  if (h->events_len == h->events_cap) {
    size_t cap = h->events_cap == 0 ? 16 : h->events_cap * 2;
    rc_event* grown = realloc(h->events, cap * sizeof *grown);
    if (grown == NULL) {
      h->outbox_lost = 1;  // takeOutput() throws: a virtual link must not lose an event silently
      return;
    }
    h->events = grown;
    h->events_cap = cap;
  }
  h->events[h->events_len++] = *ev;
}

static int direct_send(void* ctx, const uint8_t* frame, size_t len) { return pl_send(&((handle_t*)ctx)->link, frame, len); }

static void no_event(void* ctx, const rc_event* ev) {
  (void)ctx;
  (void)ev;
}

static rc_io io_for(handle_t* h) {
  rc_io io = {.ctx = h, .send = h->is_virtual ? outbox_send : direct_send, .event = h->is_virtual ? outbox_event : no_event};
  return io;
}

// ---- Lifetime ----

static void cleanup_hook(void* arg);

static void shut(handle_t* h) {
  if (h->closed) return;
  h->closed = 1;
  if (h->hook_registered) {
    h->hook_registered = 0;
    napi_remove_env_cleanup_hook(h->env, cleanup_hook, h);
  }
  pl_stop(&h->link);
}

// Runs at environment teardown before the thread-safe functions' own hooks (hooks run in reverse
// order of registration, and this one is added after them): the reader is stopped while they exist.
static void cleanup_hook(void* arg) {
  handle_t* h = arg;
  h->hook_registered = 0;
  shut(h);
}

static void free_handle(handle_t* h) {
  pl_destroy(&h->link);
  free(h->sends);
  free(h->events);
  free(h);
}

static void finalize_handle(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  handle_t* h = data;
  shut(h);
  free_handle(h);
}

static napi_value wrap_handle(napi_env env, handle_t* h) {
  napi_value obj;
  if (napi_create_object(env, &obj) != napi_ok || napi_wrap(env, obj, h, finalize_handle, NULL, NULL) != napi_ok) {
    shut(h);
    free_handle(h);
    return throw_code(env, "ENOMEM", "could not create the link handle");
  }
  return obj;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  char ifname[IF_NAMESIZE];
  if (get_args(env, info, 3, argv) < 3 || get_string(env, argv[0], ifname, sizeof ifname) != 0 ||
      !is_function(env, argv[1]) || !is_function(env, argv[2]))
    return throw_type(env, "open(ifname: string, onFrame: function, onControl: function)");
  handle_t* h = calloc(1, sizeof *h);
  if (h == NULL) return throw_errno(env, "open", ENOMEM);
  const char* what = "open";
  int e = pl_open(&h->link, ifname, &what);
  if (e != 0) {
    free(h);
    return throw_errno(env, what, e);
  }
  h->env = env;
  napi_value name;
  napi_create_string_utf8(env, "baton.afpacket", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[1], NULL, name, FRAME_QUEUE, 1, NULL, NULL, NULL, call_frame, &h->frames_tsfn) !=
      napi_ok) {
    pl_stop(&h->link);
    free_handle(h);
    return throw_code(env, "EIO", "could not create the frame callback");
  }
  if (napi_create_threadsafe_function(env, argv[2], NULL, name, 0, 1, NULL, NULL, NULL, call_control, &h->control_tsfn) !=
      napi_ok) {
    napi_release_threadsafe_function(h->frames_tsfn, napi_tsfn_abort);
    pl_stop(&h->link);
    free_handle(h);
    return throw_code(env, "EIO", "could not create the control callback");
  }
  // The reader alone must not keep the process alive; links are closed explicitly.
  napi_unref_threadsafe_function(env, h->frames_tsfn);
  napi_unref_threadsafe_function(env, h->control_tsfn);
  link_sink sink = {.ctx = h, .frame = sink_frame, .event = sink_event, .failed = sink_failed, .stopped = sink_stopped};
  e = pl_start(&h->link, sink);
  if (e != 0) {
    napi_release_threadsafe_function(h->frames_tsfn, napi_tsfn_abort);
    napi_release_threadsafe_function(h->control_tsfn, napi_tsfn_abort);
    pl_stop(&h->link);
    free_handle(h);
    return throw_errno(env, "pthread_create", e);
  }
  if (napi_add_env_cleanup_hook(env, cleanup_hook, h) == napi_ok) h->hook_registered = 1;
  return wrap_handle(env, h);
}

static napi_value js_open_virtual(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  char name[IF_NAMESIZE];
  uint8_t mac[RC_MAC_LEN];
  uint32_t ifindex;
  if (get_args(env, info, 3, argv) < 3 || get_string(env, argv[0], name, sizeof name) != 0 ||
      get_bytes(env, argv[1], mac, RC_MAC_LEN) != 0 || napi_get_value_uint32(env, argv[2], &ifindex) != napi_ok)
    return throw_type(env, "openVirtual(name: string, mac: Buffer(6), ifindex: number)");
  handle_t* h = calloc(1, sizeof *h);
  if (h == NULL) return throw_errno(env, "openVirtual", ENOMEM);
  h->is_virtual = 1;
  if (pl_open_virtual(&h->link, name, mac, (int)ifindex) != 0) {
    free(h);
    return throw_errno(env, "openVirtual", ENOMEM);
  }
  return wrap_handle(env, h);
}

// Any handle, closed or not: for what still makes sense after close (info, final stats).
static handle_t* any_handle_of(napi_env env, napi_value v) {
  handle_t* h = NULL;
  if (napi_unwrap(env, v, (void**)&h) != napi_ok || h == NULL) {
    throw_type(env, "not a link handle");
    return NULL;
  }
  return h;
}

static handle_t* handle_of(napi_env env, napi_value v) {
  handle_t* h = any_handle_of(env, v);
  if (h != NULL && h->closed) {
    throw_code(env, "EBADF", "the link is closed");
    return NULL;
  }
  return h;
}

// The time of a call: the caller's clock for a virtual link, CLOCK_MONOTONIC for a real one.
static int now_of(napi_env env, handle_t* h, size_t argc, napi_value* argv, size_t at, int64_t* now) {
  if (!h->is_virtual) {
    *now = pl_now_ns();
    return 0;
  }
  double ms;
  if (argc <= at || napi_get_value_double(env, argv[at], &ms) != napi_ok || !isfinite(ms) || fabs(ms) > MAX_MS) {
    throw_type(env, "a virtual link needs nowMs (a finite number)");
    return -1;
  }
  *now = (int64_t)llround(ms * (double)RC_NS_PER_MS);
  return 0;
}

static napi_value js_info(napi_env env, napi_callback_info info) {
  napi_value argv[1], obj, v;
  get_args(env, info, 1, argv);
  handle_t* h = any_handle_of(env, argv[0]);
  if (h == NULL) return NULL;
  char mac[18];
  format_mac(h->link.mac, mac);
  napi_create_object(env, &obj);
  napi_create_string_utf8(env, h->link.name, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "name", v);
  napi_create_string_utf8(env, mac, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "mac", v);
  napi_create_int32(env, h->link.ifindex, &v);
  napi_set_named_property(env, obj, "ifindex", v);
  return obj;
}

static napi_value js_heartbeat(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  size_t argc = get_args(env, info, 3, argv);
  handle_t* h = handle_of(env, argv[0]);
  int64_t alive, now;
  if (h == NULL || get_duration(env, argv[1], &alive) != 0 || now_of(env, h, argc, argv, 2, &now) != 0) return NULL;
  pthread_mutex_lock(&h->link.lock);
  rc_heartbeat(h->link.core, now, alive);
  pthread_mutex_unlock(&h->link.lock);
  return NULL;
}

static napi_value js_grant(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  size_t argc = get_args(env, info, 6, argv);
  handle_t* h = handle_of(env, argv[0]);
  if (h == NULL) return NULL;
  int64_t answer, defend, now;
  uint32_t n;
  const uint32_t* gens;
  size_t gens_n;
  if (get_uint32_array(env, argv[2], &gens, &gens_n) != 0 || napi_get_array_length(env, argv[1], &n) != napi_ok || n != gens_n)
    return throw_type(env, "grant(h, ips: string[], gens: Uint32Array of the same length, answerMs, defendMs)");
  if (get_duration(env, argv[3], &answer) != 0 || get_duration(env, argv[4], &defend) != 0 ||
      now_of(env, h, argc, argv, 5, &now) != 0)
    return NULL;
  rc_key* keys = malloc((n + 1) * sizeof *keys);
  uint8_t* refused = malloc(n + 1);
  napi_value result = NULL;
  if (keys == NULL || refused == NULL) {
    throw_errno(env, "grant", ENOMEM);
    goto out;
  }
  if (get_keys(env, argv[1], n, keys) != 0) goto out;
  pthread_mutex_lock(&h->link.lock);
  int e = rc_grant(h->link.core, keys, gens, n, now, answer, defend, refused);
  pthread_mutex_unlock(&h->link.lock);
  if (e != 0) {
    throw_errno(env, "grant", e);
    goto out;
  }
  napi_create_array(env, &result);
  uint32_t out_i = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (!refused[i]) continue;
    napi_value idx;
    napi_create_uint32(env, i, &idx);
    napi_set_element(env, result, out_i++, idx);
  }
out:
  free(keys);
  free(refused);
  return result;
}

static napi_value js_revoke(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  get_args(env, info, 2, argv);
  handle_t* h = handle_of(env, argv[0]);
  uint32_t n;
  if (h == NULL) return NULL;
  if (napi_get_array_length(env, argv[1], &n) != napi_ok) return throw_type(env, "revoke(h, ips: string[])");
  rc_key* keys = malloc((n + 1) * sizeof *keys);
  if (keys == NULL) return throw_errno(env, "revoke", ENOMEM);
  if (get_keys(env, argv[1], n, keys) == 0) {
    pthread_mutex_lock(&h->link.lock);
    rc_revoke(h->link.core, keys, n);
    pthread_mutex_unlock(&h->link.lock);
  }
  free(keys);
  return NULL;
}

static napi_value js_announce(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  size_t argc = get_args(env, info, 4, argv);
  handle_t* h = handle_of(env, argv[0]);
  rc_key key;
  uint32_t gen;
  int64_t now;
  if (h == NULL || get_key(env, argv[1], &key) != 0) return NULL;
  if (napi_get_value_uint32(env, argv[2], &gen) != napi_ok) return throw_type(env, "announce(h, ip: string, gen: number)");
  if (now_of(env, h, argc, argv, 3, &now) != 0) return NULL;
  rc_io io = io_for(h);
  int err = 0;
  pthread_mutex_lock(&h->link.lock);
  rc_announce_result r = rc_announce(h->link.core, &key, gen, now, &io, &err);
  pthread_mutex_unlock(&h->link.lock);
  static const char* const names[] = {"sent", "not-held", "yielded", "stale-generation", "unlicensed", "EAFNOSUPPORT"};
  const char* text = r == RC_ANNOUNCE_SEND_FAILED ? errno_name(err) : names[r];
  napi_value out;
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &out);
  return out;
}

static napi_value js_receive(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  size_t argc = get_args(env, info, 8, argv);
  handle_t* h = handle_of(env, argv[0]);
  if (h == NULL) return NULL;
  if (!h->is_virtual) return throw_code(env, "EINVAL", "receive() is for virtual links; a real link reads its socket");
  uint32_t n;
  const double* at;
  const uint8_t *pkt, *vlan;
  size_t at_n, pkt_n, vlan_n;
  double drops_d;
  int64_t now;
  if (napi_get_array_length(env, argv[1], &n) != napi_ok || get_float64_array(env, argv[2], &at, &at_n) != 0 ||
      get_uint8_array(env, argv[3], &pkt, &pkt_n) != 0 || get_uint8_array(env, argv[4], &vlan, &vlan_n) != 0 || at_n != n ||
      pkt_n != n || vlan_n != n || napi_get_value_double(env, argv[5], &drops_d) != napi_ok || !(drops_d >= 0) ||
      drops_d > 1e15)
    return throw_type(env, "receive(h, frames: Buffer[], atMs: Float64Array, pktTypes: Uint8Array, vlan: Uint8Array, kernelDrops, nowMs)");
  if (now_of(env, h, argc, argv, 6, &now) != 0) return NULL;
  bool want_reasons = false;
  if (argc > 7 && napi_is_array(env, argv[7], &want_reasons) != napi_ok)
    return throw_type(env, "receive: reasons must be an array");
  rc_frame* frames = calloc(n + 1, sizeof *frames);
  rc_verdict* verdicts = calloc(n + 1, sizeof *verdicts);
  rc_detail* details = calloc(n + 1, sizeof *details);
  napi_value result = NULL;
  if (frames == NULL || verdicts == NULL || details == NULL) {
    throw_errno(env, "receive", ENOMEM);
    goto out;
  }
  for (uint32_t i = 0; i < n; i++) {
    napi_value el;
    void* data;
    size_t len;
    if (napi_get_element(env, argv[1], i, &el) != napi_ok || napi_get_buffer_info(env, el, &data, &len) != napi_ok) {
      throw_type(env, "receive: every frame must be a Buffer");
      goto out;
    }
    frames[i].data = data;
    frames[i].len = len;
    frames[i].age_ns = age_from_ms(now, at[i]);
    frames[i].pkttype = (rc_pkttype)pkt[i];
    frames[i].vlan_tagged = vlan[i] != 0;
  }
  rc_io io = io_for(h);
  uint64_t drops = (uint64_t)drops_d;
  // Batches as a real reader would take them: at most PL_DRAIN_MAX a drain, a full one judged cut short.
  // An empty batch still counts: kernel drops alone are an overrun.
  uint32_t start = 0;
  do {
    uint32_t count = n - start < PL_DRAIN_MAX ? n - start : PL_DRAIN_MAX;
    rc_process_drain(h->link.core, frames + start, count, drops, count == PL_DRAIN_MAX, now, &io, verdicts + start,
                     details + start);
    drops = 0;
    start += count;
  } while (start < n);
  napi_create_array_with_length(env, n, &result);
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    napi_create_string_utf8(env, rc_verdict_name(verdicts[i]), NAPI_AUTO_LENGTH, &v);
    napi_set_element(env, result, i, v);
    if (want_reasons && detail_value(env, details[i], &v) == napi_ok) napi_set_element(env, argv[7], i, v);
  }
out:
  free(frames);
  free(verdicts);
  free(details);
  return result;
}

static napi_value js_take_output(napi_env env, napi_callback_info info) {
  napi_value argv[1], obj, sends, events;
  get_args(env, info, 1, argv);
  handle_t* h = handle_of(env, argv[0]);
  if (h == NULL) return NULL;
  if (!h->is_virtual) return throw_code(env, "EINVAL", "takeOutput() is for virtual links");
  if (h->outbox_lost) {
    h->outbox_lost = 0;
    return throw_errno(env, "virtual link lost an event", ENOMEM);
  }
  napi_create_object(env, &obj);
  napi_create_array_with_length(env, h->sends_len, &sends);
  for (size_t i = 0; i < h->sends_len; i++) {
    napi_value b;
    void* copy;
    napi_create_buffer_copy(env, h->sends[i].len, h->sends[i].bytes, &copy, &b);
    napi_set_element(env, sends, (uint32_t)i, b);
  }
  napi_create_array_with_length(env, h->events_len, &events);
  for (size_t i = 0; i < h->events_len; i++) {
    napi_value e;
    make_control_object(env, (int)h->events[i].kind, &h->events[i], 0, &e);
    napi_set_element(env, events, (uint32_t)i, e);
  }
  h->sends_len = h->events_len = 0;
  napi_set_named_property(env, obj, "sends", sends);
  napi_set_named_property(env, obj, "events", events);
  return obj;
}

static napi_value js_stats(napi_env env, napi_callback_info info) {
  napi_value argv[1], obj;
  get_args(env, info, 1, argv);
  handle_t* h = any_handle_of(env, argv[0]);
  if (h == NULL) return NULL;
  rc_stats st;
  pthread_mutex_lock(&h->link.lock);
  rc_get_stats(h->link.core, &st);
  pthread_mutex_unlock(&h->link.lock);
  napi_create_object(env, &obj);
  set_number(env, obj, "framesRead", (double)st.frames_read);
  set_number(env, obj, "eventsDropped", (double)__atomic_load_n(&h->events_dropped, __ATOMIC_RELAXED));
  set_number(env, obj, "kernelDrops", (double)st.kernel_drops);
  set_number(env, obj, "repliesSent", (double)st.replies_sent);
  set_number(env, obj, "entries", (double)st.entries);
  return obj;
}

static napi_value js_send(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  get_args(env, info, 2, argv);
  handle_t* h = handle_of(env, argv[0]);
  void* data;
  size_t len;
  if (h == NULL) return NULL;
  if (h->is_virtual) return throw_code(env, "EINVAL", "send() is for real sockets");
  if (napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok) return throw_type(env, "send(h, frame: Buffer)");
  int e = pl_send(&h->link, data, len);
  if (e != 0) return throw_errno(env, "sendto(AF_PACKET)", e);
  napi_value out;
  napi_create_uint32(env, (uint32_t)len, &out);
  return out;
}

// The core's ICMPv6 checksum, for the tests that hold it to the TS codec's (ndp.ts) byte for byte.
static napi_value js_icmpv6_checksum(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  get_args(env, info, 3, argv);
  uint8_t src[RC_IPV6_LEN], dst[RC_IPV6_LEN];
  void* msg;
  size_t len;
  bool is_buffer = false;
  if (get_bytes(env, argv[0], src, RC_IPV6_LEN) != 0 || get_bytes(env, argv[1], dst, RC_IPV6_LEN) != 0 ||
      napi_is_buffer(env, argv[2], &is_buffer) != napi_ok || !is_buffer || napi_get_buffer_info(env, argv[2], &msg, &len) != napi_ok)
    return throw_type(env, "icmpv6Checksum(src: Buffer(16), dst: Buffer(16), message: Buffer)");
  napi_value out;
  napi_create_uint32(env, rc_icmpv6_checksum(src, dst, msg, len), &out);
  return out;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  handle_t* h = NULL;
  get_args(env, info, 1, argv);
  if (napi_unwrap(env, argv[0], (void**)&h) == napi_ok && h != NULL) shut(h);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"openVirtual", NULL, js_open_virtual, NULL, NULL, NULL, napi_default, NULL},
      {"info", NULL, js_info, NULL, NULL, NULL, napi_default, NULL},
      {"heartbeat", NULL, js_heartbeat, NULL, NULL, NULL, napi_default, NULL},
      {"grant", NULL, js_grant, NULL, NULL, NULL, napi_default, NULL},
      {"revoke", NULL, js_revoke, NULL, NULL, NULL, napi_default, NULL},
      {"announce", NULL, js_announce, NULL, NULL, NULL, napi_default, NULL},
      {"receive", NULL, js_receive, NULL, NULL, NULL, napi_default, NULL},
      {"takeOutput", NULL, js_take_output, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, js_stats, NULL, NULL, NULL, napi_default, NULL},
      {"send", NULL, js_send, NULL, NULL, NULL, napi_default, NULL},
      {"icmpv6Checksum", NULL, js_icmpv6_checksum, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  set_number(env, exports, "staleLimitMs", (double)RC_STALE_LIMIT_NS / (double)RC_NS_PER_MS);
  set_number(env, exports, "drainMax", PL_DRAIN_MAX);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
