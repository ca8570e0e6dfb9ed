// The AF_PACKET sockets of one interface (one bound to ARP, one to IPv6 for
// Neighbour Discovery) and their one reader thread: the only place that
// talks to the kernel. The rules live in responder_core; the JS glue
// (af_packet.c) receives what the reader has to report through a sink.
#ifndef BATON_PACKET_LINK_H
#define BATON_PACKET_LINK_H

#include <net/if.h>
#include <pthread.h>
#include <stdint.h>

#include "responder_core.h"

// Most frames one drain takes, from both sockets together. Each queue cannot hold more than SO_RCVBUF
// allows (1 MiB asked, doubled by the kernel, over an skb truesize of at least ~600 bytes: about 3,500
// frames each), so the cap is reached only where the kernel grants far more; a drain cut at the cap is
// judged as an overrun (the rest of the queue may hide a claim). Virtual links cut their batches at the
// same size.
#define PL_DRAIN_MAX 16384

typedef struct {
  void* ctx;
  // A frame read, its verdict, and why it was malformed (RC_D_NONE otherwise). May drop (a bounded queue
  // to JS); the verdict has been acted on already.
  void (*frame)(void* ctx, const uint8_t* data, size_t len, rc_verdict verdict, rc_detail detail);
  // A yield or a conflict. Must never drop. Called with the link's lock held: must not block.
  void (*event)(void* ctx, const rc_event* ev);
  // The socket failed for good (errno); the reader stops after this.
  void (*failed)(void* ctx, int err);
  // The reader's last call, from its own thread, just before it exits.
  void (*stopped)(void* ctx);
} link_sink;

typedef struct {
  char name[IF_NAMESIZE];
  int ifindex;
  uint8_t mac[RC_MAC_LEN];
  int fd;       // bound to ARP; also sends every frame. -1 for a virtual link (no socket: frames come from JS)
  int fd6;      // bound to IPv6, filtered to ICMPv6 NS/NA; receives only. -1 for a virtual link
  int wake_fd;  // eventfd that wakes the reader to stop
  // Guards core. Held by the reader only while judging a drain that is already in memory (never
  // around poll() or recvmmsg()), and by JS only for one table operation; sends under it never block.
  pthread_mutex_t lock;
  rc_core* core;
  pthread_t thread;
  int thread_started;
  int stopping;  // atomic
  link_sink sink;
} packet_link;

// Opens and configures both sockets on ifname, reads its MAC and ifindex, and creates the core.
// Returns 0, or an errno with *what naming the step that failed. Nothing is left open on failure.
int pl_open(packet_link* l, const char* ifname, const char** what);
// Sets up a link without a socket (virtual mode). Returns 0 or ENOMEM.
int pl_open_virtual(packet_link* l, const char* name, const uint8_t mac[RC_MAC_LEN], int ifindex);
// Starts the reader thread. Returns 0 or an errno.
int pl_start(packet_link* l, link_sink sink);
// Wakes the reader, waits for it to exit (it never blocks anywhere but poll()), closes the sockets.
void pl_stop(packet_link* l);
// Frees the core and the lock; after pl_stop.
void pl_destroy(packet_link* l);
// Sends one complete frame out of the interface without blocking. Returns 0 or an errno.
int pl_send(packet_link* l, const uint8_t* frame, size_t len);
// CLOCK_MONOTONIC in nanoseconds: the scale of every deadline of a real link.
int64_t pl_now_ns(void);

#endif
