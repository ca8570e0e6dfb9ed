// Argument parsing and value building for the N-API glue. strerrorname_np() is a GNU extension.
#define _GNU_SOURCE
#include "addon_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

napi_value throw_code(napi_env env, const char* code, const char* msg) {
  napi_throw_error(env, code, msg);
  return NULL;
}

napi_value throw_type(napi_env env, const char* msg) {
  napi_throw_type_error(env, "EINVAL", msg);
  return NULL;
}

const char* errno_name(int err) {
  const char* name = strerrorname_np(err);
  return name != NULL ? name : "EIO";
}

napi_value throw_errno(napi_env env, const char* what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  return throw_code(env, errno_name(err), msg);
}

size_t get_args(napi_env env, napi_callback_info info, size_t n, napi_value* argv) {
  size_t argc = n;
  // Fills argv[argc..n) with undefined, so every argv[i] is a valid value.
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  return argc;
}

int get_string(napi_env env, napi_value v, char* buf, size_t size) {
  size_t len;
  // Measure first: napi_get_value_string_utf8 would silently truncate a long name.
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok || len + 1 > size) return -1;
  return napi_get_value_string_utf8(env, v, buf, size, &len) == napi_ok ? 0 : -1;
}

int is_function(napi_env env, napi_value v) {
  napi_valuetype t;
  return napi_typeof(env, v, &t) == napi_ok && t == napi_function;
}

int get_bytes(napi_env env, napi_value v, uint8_t* out, size_t n) {
  void* data;
  size_t len;
  bool is_buffer = false;
  if (napi_is_buffer(env, v, &is_buffer) != napi_ok || !is_buffer || napi_get_buffer_info(env, v, &data, &len) != napi_ok ||
      len != n)
    return -1;
  memcpy(out, data, n);
  return 0;
}

int get_duration(napi_env env, napi_value v, int64_t* ns) {
  double ms;
  if (napi_get_value_double(env, v, &ms) != napi_ok || isnan(ms)) {
    throw_type(env, "a duration in ms must be a number (Infinity for none)");
    return -1;
  }
  if (ms >= MAX_MS) *ns = RC_FOREVER;
  else if (ms <= 0) *ns = 0;
  else *ns = (int64_t)llround(ms * (double)RC_NS_PER_MS);
  return 0;
}

static int get_typed(napi_env env, napi_value v, napi_typedarray_type want, void** data, size_t* n) {
  bool is_typed = false;
  napi_typedarray_type type;
  napi_value ab;
  size_t offset;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, v, &type, n, data, &ab, &offset) != napi_ok || type != want) {
    throw_type(env, "wrong typed array");
    return -1;
  }
  return 0;
}

int get_uint32_array(napi_env env, napi_value v, const uint32_t** data, size_t* n) {
  return get_typed(env, v, napi_uint32_array, (void**)data, n);
}

int get_uint8_array(napi_env env, napi_value v, const uint8_t** data, size_t* n) {
  return get_typed(env, v, napi_uint8_array, (void**)data, n);
}

int get_float64_array(napi_env env, napi_value v, const double** data, size_t* n) {
  return get_typed(env, v, napi_float64_array, (void**)data, n);
}

int get_key(napi_env env, napi_value v, rc_key* key) {
  char text[INET6_ADDRSTRLEN + 1];
  memset(key, 0, sizeof *key);
  if (get_string(env, v, text, sizeof text) == 0) {
    if (inet_pton(AF_INET, text, key->addr) == 1) {
      key->family = RC_FAMILY_IPV4;
      return 0;
    }
    if (inet_pton(AF_INET6, text, key->addr) == 1) {
      key->family = RC_FAMILY_IPV6;
      return 0;
    }
  }
  throw_type(env, "not an IP address");
  return -1;
}

int get_keys(napi_env env, napi_value array, uint32_t n, rc_key* keys) {
  for (uint32_t i = 0; i < n; i++) {
    napi_value el;
    if (napi_get_element(env, array, i, &el) != napi_ok) {
      throw_type(env, "not an array of addresses");
      return -1;
    }
    if (get_key(env, el, &keys[i]) != 0) return -1;
  }
  return 0;
}

int64_t age_from_ms(int64_t now_ns, double at_ms) {
  if (!isfinite(at_ms) || fabs(at_ms) > MAX_MS) return INT64_MAX;
  return now_ns - (int64_t)llround(at_ms * (double)RC_NS_PER_MS);
}

void format_mac(const uint8_t mac[RC_MAC_LEN], char out[18]) {
  snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

void set_number(napi_env env, napi_value obj, const char* name, double value) {
  napi_value v;
  if (napi_create_double(env, value, &v) == napi_ok) napi_set_named_property(env, obj, name, v);
}

static napi_status set_string(napi_env env, napi_value obj, const char* name, const char* text) {
  napi_value v;
  napi_status st = napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &v);
  return st != napi_ok ? st : napi_set_named_property(env, obj, name, v);
}

napi_status make_control_object(napi_env env, int kind, const rc_event* ev, int err, napi_value* out) {
  napi_status st = napi_create_object(env, out);
  if (st != napi_ok) return st;
  if (kind == CONTROL_FAILED) {
    if ((st = set_string(env, *out, "kind", "failed")) != napi_ok) return st;
    return set_string(env, *out, "code", errno_name(err));
  }
  char ip[INET6_ADDRSTRLEN];
  if (inet_ntop(ev->key.family == RC_FAMILY_IPV4 ? AF_INET : AF_INET6, ev->key.addr, ip, sizeof ip) == NULL) return napi_generic_failure;
  if ((st = set_string(env, *out, "kind", kind == RC_EV_YIELDED ? "yielded" : "conflict")) != napi_ok) return st;
  if ((st = set_string(env, *out, "ip", ip)) != napi_ok) return st;
  set_number(env, *out, "gen", (double)ev->gen);
  if (kind == RC_EV_YIELDED && (st = set_string(env, *out, "reason", ev->reason == RC_REASON_OVERRUN ? "overrun" : "claim")) != napi_ok)
    return st;
  if (ev->has_mac) {
    char mac[18];
    format_mac(ev->mac, mac);
    if ((st = set_string(env, *out, "mac", mac)) != napi_ok) return st;
  }
  return napi_ok;
}
