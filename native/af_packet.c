// Baton's AF_PACKET addon: one raw packet socket per interface, bound to the
// ARP EtherType and filtered in the kernel, read from libuv's event loop and
// written synchronously. Raw packet sockets are the only way to send and
// receive ARP from user space; `raw-socket` only opens AF_INET/AF_INET6.
//
// JS API (see src/layer2/af-packet-link.ts):
//   open(ifname, onFrame) -> handle    onFrame(frame: Buffer) per received frame
//   send(handle, frame)                throws Error with code = errno name
//   close(handle)
//   ifindex(handle) -> number
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

// Largest frame we accept: a standard Ethernet MTU frame plus header; ARP is 60 bytes.
#define MAX_FRAME 1600

typedef struct {
  int fd;
  int ifindex;
  uv_poll_t poll;
  napi_env env;
  napi_ref on_frame;
  napi_async_context async_ctx;
  int closing;
} packet_socket;

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
  }
  napi_throw_error(env, code, msg);
  return NULL;
}

static void on_closed(uv_handle_t* handle) {
  packet_socket* s = (packet_socket*)handle->data;
  free(s);
}

static void shut(packet_socket* s) {
  if (s->closing) return;
  s->closing = 1;
  uv_poll_stop(&s->poll);
  close(s->fd);
  if (s->on_frame != NULL) {
    napi_delete_reference(s->env, s->on_frame);
    s->on_frame = NULL;
  }
  napi_async_destroy(s->env, s->async_ctx);
  uv_close((uv_handle_t*)&s->poll, on_closed);
}

static void on_readable(uv_poll_t* poll, int status, int events) {
  packet_socket* s = (packet_socket*)poll->data;
  if (s->closing || status < 0) return;
  napi_env env = s->env;
  unsigned char buf[MAX_FRAME];
  for (;;) {
    struct sockaddr_ll from;
    socklen_t from_len = sizeof from;
    ssize_t n = recvfrom(s->fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr*)&from, &from_len);
    if (n < 0) break;  // EAGAIN: drained
    // Our own transmissions are not input (the kernel may loop them back to packet sockets).
    if (from.sll_pkttype == PACKET_OUTGOING) continue;
    napi_handle_scope scope;
    napi_open_handle_scope(env, &scope);
    napi_value frame, cb, recv, result;
    void* data;
    napi_create_buffer_copy(env, (size_t)n, buf, &data, &frame);
    napi_get_reference_value(env, s->on_frame, &cb);
    // MakeCallback needs an object receiver (undefined fails ToObject): the global object, as for plain functions.
    napi_get_global(env, &recv);
    napi_make_callback(env, s->async_ctx, recv, cb, 1, &frame, &result);
    napi_close_handle_scope(env, scope);
    if (s->closing) return;  // the callback closed us
  }
}

static void finalize_socket(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  packet_socket* s = (packet_socket*)data;
  if (!s->closing) shut(s);
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
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket(AF_PACKET)", errno);

  // Kernel-side filter: EtherType at offset 12 must be ARP (0x0806); everything else is dropped before it is copied to us.
  struct sock_filter code[] = {
      {0x28, 0, 0, 12},             // ldh [12]
      {0x15, 0, 1, ETH_P_ARP},      // jeq #0x0806, accept, drop
      {0x06, 0, 0, MAX_FRAME},      // ret #MAX_FRAME (accept)
      {0x06, 0, 0, 0},              // ret #0 (drop)
  };
  struct sock_fprog prog = {.len = sizeof code / sizeof code[0], .filter = code};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "SO_ATTACH_FILTER", e);
  }
  int one = 1;
  // Linux 4.20+: do not hand us frames this host sends (ours, the kernel's own ARP). Older kernels: pkttype check below.
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
  s->env = env;
  napi_create_reference(env, argv[1], 1, &s->on_frame);
  napi_value resource_name;
  napi_create_string_utf8(env, "baton.afpacket", NAPI_AUTO_LENGTH, &resource_name);
  napi_async_init(env, NULL, resource_name, &s->async_ctx);

  uv_loop_t* loop;
  napi_get_uv_event_loop(env, &loop);
  uv_poll_init(loop, &s->poll, fd);
  s->poll.data = s;
  uv_poll_start(&s->poll, UV_READABLE, on_readable);

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
  struct sockaddr_ll to;
  memset(&to, 0, sizeof to);
  to.sll_family = AF_PACKET;
  to.sll_ifindex = s->ifindex;
  to.sll_halen = ETH_ALEN;
  // The destination MAC is the frame's first 6 bytes; the kernel sends the frame as given.
  if (len >= ETH_ALEN) memcpy(to.sll_addr, data, ETH_ALEN);
  ssize_t n = sendto(s->fd, data, len, 0, (struct sockaddr*)&to, sizeof to);
  if (n < 0) return throw_errno(env, "sendto(AF_PACKET)", errno);
  napi_value result;
  napi_create_int32(env, (int32_t)n, &result);
  return result;
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

static napi_value js_ifindex(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  packet_socket* s = unwrap(env, argv[0]);
  if (s == NULL) return NULL;
  napi_value result;
  napi_create_int32(env, s->ifindex, &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"send", NULL, js_send, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
      {"ifindex", NULL, js_ifindex, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
