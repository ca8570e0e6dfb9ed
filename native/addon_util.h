// Argument parsing and value building for the N-API glue (af_packet.c).
// Every getter returns 0, or -1 with a JS exception pending.
#ifndef BATON_ADDON_UTIL_H
#define BATON_ADDON_UTIL_H

#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

#include "responder_core.h"

// Largest |time| in ms taken from JS: 4e12 ms (126 years) keeps every ns value and every difference
// of two of them inside int64. Durations beyond it mean "no deadline".
#define MAX_MS 4e12

napi_value throw_code(napi_env env, const char* code, const char* msg);
napi_value throw_type(napi_env env, const char* msg);
napi_value throw_errno(napi_env env, const char* what, int err);
// "EAGAIN", "ENODEV"...: the code Node itself uses for system errors.
const char* errno_name(int err);

// Missing arguments are undefined; returns how many the caller passed.
size_t get_args(napi_env env, napi_callback_info info, size_t n, napi_value* argv);
int get_string(napi_env env, napi_value v, char* buf, size_t size);
int is_function(napi_env env, napi_value v);
// A Buffer of exactly n bytes.
int get_bytes(napi_env env, napi_value v, uint8_t* out, size_t n);
// Milliseconds to nanoseconds: Infinity (or beyond MAX_MS) is RC_FOREVER, <= 0 is 0, NaN is refused.
int get_duration(napi_env env, napi_value v, int64_t* ns);
int get_uint32_array(napi_env env, napi_value v, const uint32_t** data, size_t* n);
int get_uint8_array(napi_env env, napi_value v, const uint8_t** data, size_t* n);
int get_float64_array(napi_env env, napi_value v, const double** data, size_t* n);
// An IPv4 or IPv6 address in text form.
int get_key(napi_env env, napi_value v, rc_key* key);
int get_keys(napi_env env, napi_value array, uint32_t n, rc_key* keys);
// How long ago at_ms was, on the virtual clock; an unusable time is "older than any limit".
int64_t age_from_ms(int64_t now_ns, double at_ms);

void format_mac(const uint8_t mac[RC_MAC_LEN], char out[18]);
void set_number(napi_env env, napi_value obj, const char* name, double value);
// Control kinds beyond rc_event_kind.
#define CONTROL_FAILED 3
// { kind: 'yielded', ip, gen, reason, mac } | { kind: 'conflict', ip, gen, mac } | { kind: 'failed', code }
napi_status make_control_object(napi_env env, int kind, const rc_event* ev, int err, napi_value* out);

#endif
