/* tun.h: the TUN runner's building blocks: the device (/dev/net/tun), its configuration
 * through netlink (libmnl), and the real-time loop that drives a stack from the device, a
 * clock and the process's other file descriptors. Nothing here knows about services. */
#ifndef TS_TUN_H
#define TS_TUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "tcpsim/tcpsim.h"
#include "tcpsim/wire.h"

/* ---- device ---------------------------------------------------------------------------- */

/* The smallest MTU: an IPv4 and a TCP header (40 bytes) and the smallest MSS the stack
 * advertises (the mss parameter's floor, 88, as Linux's TCP_MIN_MSS). Below it the stack
 * would offer segments the device cannot carry. */
#define TS_TUN_MTU_MIN 128

typedef struct ts_tun_config {
    const char *dev;     /* interface name, e.g. "tun0" */
    uint32_t stack_addr; /* the stack's address (host order) */
    uint32_t peer_addr;  /* the Linux side's address (host order) */
    unsigned prefix;     /* the Linux side's prefix length, 1..32 */
    unsigned mtu;        /* TS_TUN_MTU_MIN..65535 */
    bool offload;        /* ask for IFF_VNET_HDR + TSO4/checksum offload (see ts_tun_offload) */
} ts_tun_config;

typedef struct ts_tun ts_tun;

/* Check a configuration without touching the system: addresses, prefix, MTU, name.
 * 0, or -1 with one line in err. */
int ts_tun_check(const ts_tun_config *cfg, char *err, size_t errlen);

/* Create the device (IFF_TUN | IFF_NO_PI, non-blocking), give Linux its address, add a route
 * to the stack's address if the prefix does not cover it, set the MTU and bring it up.
 * NULL with one line in err naming the problem and the fix (no /dev/net/tun, no
 * CAP_NET_ADMIN, name in use, address refused). */
ts_tun *ts_tun_open(const ts_tun_config *cfg, char *err, size_t errlen);

int ts_tun_fd(const ts_tun *t);
/* Whether the device carries a virtio_net_hdr before every packet with TSO4 and checksum
 * offload on (cfg->offload asked for it and the kernel took TUNSETOFFLOAD). When cfg asked
 * and the kernel refused, why is in ts_tun_offload_why (else ""). */
bool ts_tun_offload(const ts_tun *t);
/* Whether every read and write carries a virtio_net_hdr (IFF_VNET_HDR), offloads or not. */
bool ts_tun_vnet_hdr(const ts_tun *t);
const char *ts_tun_offload_why(const ts_tun *t);
const char *ts_tun_name(const ts_tun *t);
/* Packets Linux sent to the device that the kernel dropped because the device's queue
 * (txqueuelen) was full: the interface's tx_dropped, or -1 if it cannot be read. */
long long ts_tun_tx_dropped(const ts_tun *t);
/* Close the device; a non-persistent TUN device disappears with its last descriptor. */
void ts_tun_close(ts_tun *t);

/* ---- netlink (libmnl) ------------------------------------------------------------------ */

/* Add addr/prefix to the interface, set its MTU and bring it up; add a host route to
 * route_to (if nonzero) through it. 0, or -1 with one line in err. */
int ts_nl_configure(unsigned ifindex, uint32_t addr, unsigned prefix, unsigned mtu,
                    uint32_t route_to, char *err, size_t errlen);

/* ---- offloads (tun_gso.c) --------------------------------------------------------------- */

/* struct virtio_net_hdr (linux/virtio_net.h), 10 bytes, host byte order (a legacy header:
 * TUN uses the host's order unless told otherwise). */
typedef struct ts_vnet_hdr {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t hdr_len;
    uint16_t gso_size;
    uint16_t csum_start;
    uint16_t csum_offset;
} ts_vnet_hdr;
_Static_assert(sizeof(ts_vnet_hdr) == 10, "virtio_net_hdr is 10 bytes");
#define TS_VNET_F_NEEDS_CSUM 1
#define TS_VNET_GSO_NONE     0
#define TS_VNET_GSO_TCPV4    1
#define TS_GSO_MAX           65535 /* the largest IPv4 packet, a super-segment's bound */

/* Complete the partial checksum a received packet carries if h says NEEDS_CSUM. 0, or -1
 * if the header points outside the packet. */
int ts_gso_rx_complete(const ts_vnet_hdr *h, uint8_t *pkt, size_t len);

/* The send side's coalescer: one super-segment being built, as a gather list over the
 * segments where the stack left them (burst mode, tcpsim/stack.h: they stay valid until
 * the burst's flush, so a super-segment must be finished and written by then). */
#define TS_GSO_IOV 512 /* gather entries: the virtio_net_hdr, the headers, 510 payloads */
typedef struct ts_gso_tx {
    bool pending, closed, psh;
    uint16_t hlen, gso_size;
    uint32_t len, segs, next_seq;
    ts_pkt_view first;                                       /* the first segment */
    uint8_t hdr[TS_IP4_HLEN + TS_TCP_HLEN + TS_TCP_OPT_MAX]; /* finish's headers */
    /* [0] left for the caller's virtio_net_hdr, [1] the headers (finish fills it), then
     * each segment's payload; niov entries in use */
    struct iovec iov[TS_GSO_IOV];
    int niov;
} ts_gso_tx;
/* Start a super-segment with pkt if it can be one (IPv4, TCP data, ACK/PSH/ECE only):
 * true, else false and g unchanged. Finish any pending one first. pkt must stay where it
 * is until finish. */
bool ts_gso_tx_start(ts_gso_tx *g, const uint8_t *pkt, size_t len);
/* Add pkt to the pending super-segment if it continues it exactly: true, else false. */
bool ts_gso_tx_append(ts_gso_tx *g, const uint8_t *pkt, size_t len);
/* Close the pending super-segment: fill h (all zero for a lone segment, which is left as
 * the stack made it), set iov[1..niov) to the packet's pieces and return its length; 0
 * if nothing was pending. The caller puts its virtio_net_hdr in iov[0]. */
size_t ts_gso_tx_finish(ts_gso_tx *g, ts_vnet_hdr *h);

/* ---- batched device I/O through io_uring (tun_ring.c) ---------------------------------- */

typedef struct ts_ring ts_ring;
#define TS_RING_READS_MAX 64 /* reads in one batch */
/* What the ring's submits did: writes that took their whole packet, bytes, refusals; the
 * submits, and of them the empty ones (a read that wrote nothing and found nothing: a
 * busy poll's round on an idle device). */
typedef struct ts_ring_tally {
    uint64_t pkts, bytes, errors, submits, empty;
} ts_ring_tally;
/* A packet read: buf holds len bytes until the next call on the ring. */
typedef void (*ts_ring_read_fn)(void *ctx, uint8_t *buf, size_t len);

/* A ring on fd whose reads take up to slot bytes each. NULL and err when io_uring is not
 * there (kernel older than 5.6, io_uring_disabled, a seccomp filter). */
ts_ring *ts_ring_create(int fd, size_t slot, char *err, size_t errlen);
void ts_ring_destroy(ts_ring *r);
/* Queue one write of len bytes: the bytes of copy[0..ncopy) (copied now, 128 at most: a
 * virtio_net_hdr, rebuilt headers), then those ref[0..nref) point to (the list is copied,
 * the bytes must stay until the next submit). A full queue is submitted first. */
void ts_ring_writev(ts_ring *r, const struct iovec *copy, int ncopy, const struct iovec *ref,
                    int nref, size_t len, ts_ring_tally *t);
/* Submit the queued writes: 0, or -errno (then they are counted as errors). */
int ts_ring_submit(ts_ring *r, ts_ring_tally *t);
bool ts_ring_pending(const ts_ring *r);
/* Why the ring failed (then it takes nothing more and the caller should go on without
 * it), or NULL. */
const char *ts_ring_broken(const ts_ring *r);
/* Submit the queued writes and a batch of reads, hand each packet read to fn in the order
 * the device gave them: how many, or -errno on a fatal device error (0 bytes: -EIO). A
 * failing ring reads nothing (ts_ring_broken says why). */
int ts_ring_read(ts_ring *r, ts_ring_tally *t, ts_ring_read_fn fn, void *ctx);
/* The size of the next read batch (it adapts to what the last one found). */
unsigned ts_ring_batch(const ts_ring *r);

/* ---- real-time loop -------------------------------------------------------------------- */

typedef struct ts_loop ts_loop;

/* Called for every packet read from or written to the device (pcap tap). out: sent by
 * the stack. now is CLOCK_MONOTONIC in microseconds. */
typedef void (*ts_loop_tap_fn)(void *ctx, ts_time_t now, const uint8_t *pkt, size_t len, bool out);
/* Called when a watched descriptor is ready (EPOLLIN/EPOLLOUT/EPOLLHUP bits). */
typedef void (*ts_loop_fd_fn)(ts_loop *l, int fd, uint32_t events, void *ctx);
/* Called once per SIGINT/SIGTERM. */
typedef void (*ts_loop_signal_fn)(ts_loop *l, int signo, void *ctx);
/* Called after every loop iteration, once the stack has run its timers. */
typedef void (*ts_loop_idle_fn)(ts_loop *l, void *ctx);

/* CLOCK_MONOTONIC in microseconds: the stack's time. */
ts_time_t ts_loop_clock(void);
/* CLOCK_REALTIME in microseconds: for pcap and trace stamps. */
ts_time_t ts_loop_wallclock(void);

/* A loop over the device's descriptor. Blocks SIGINT and SIGTERM and receives them through
 * a signalfd. NULL with one line in err. */
ts_loop *ts_loop_create(int tun_fd, char *err, size_t errlen);
/* Writes what the stack sent since the last round, then frees the loop: call it before
 * closing the device. */
void ts_loop_destroy(ts_loop *l);

/* The stack's output: ts_loop_stack_config puts the loop's callbacks in cfg. With
 * segmentation offload (call ts_loop_set_offload first) that is burst mode (output and
 * flush, tcpsim/stack.h): what the stack sends between two waits of the loop is one
 * burst, its in-order data segments coalesced and written when it ends. Without, or for
 * a stack given only ts_loop_output, per-packet mode: one write per packet. */
void ts_loop_stack_config(ts_loop *l, ts_stack_config *cfg);
void ts_loop_output(void *loop, const uint8_t *pkt, size_t len);
void ts_loop_flush(void *loop);
void ts_loop_set_stack(ts_loop *l, ts_stack *s);
void ts_loop_set_tap(ts_loop *l, ts_loop_tap_fn fn, void *ctx);
void ts_loop_set_signal(ts_loop *l, ts_loop_signal_fn fn, void *ctx);
void ts_loop_set_idle(ts_loop *l, ts_loop_idle_fn fn, void *ctx);

/* Watch fd for events (EPOLLIN and/or EPOLLOUT). A descriptor epoll cannot watch (a
 * regular file) is reported ready on every iteration instead. 0 or -errno. */
int ts_loop_watch(ts_loop *l, int fd, uint32_t events, ts_loop_fd_fn fn, void *ctx);
/* Change the events watched (0 = pause). */
int ts_loop_modify(ts_loop *l, int fd, uint32_t events);
void ts_loop_unwatch(ts_loop *l, int fd);

/* Run until ts_loop_stop or until deadline (CLOCK_MONOTONIC µs; TS_TIME_NEVER = none).
 * Returns 0, or -errno on a fatal error of the device. */
int ts_loop_run(ts_loop *l, ts_time_t deadline);
void ts_loop_stop(ts_loop *l);

/* ---- shaping: impairments between the stack and the device (--link) ----------------- */

/* One copy of a packet to deliver at `when`, with one bit flipped unless flip_bit < 0. */
typedef struct ts_loop_copy {
    ts_time_t when;
    int64_t flip_bit;
} ts_loop_copy;
/* Decide the fate of a packet crossing the device (out: the stack sent it; else Linux
 * did): 0 copies (dropped), 1, or 2 (duplicated). The loop holds the copies and delivers
 * them in time order; the pcap tap sees what the stack sent and what it received. */
typedef unsigned (*ts_loop_shape_fn)(void *ctx, bool out, ts_time_t now, const uint8_t *pkt,
                                     size_t len, ts_loop_copy copy[2]);
/* Install a shaper. Held packets live in a pool of `slots` preallocated buffers; a packet
 * that finds the pool full is dropped and counted. 0, or -ENOMEM. */
int ts_loop_set_shaper(ts_loop *l, ts_loop_shape_fn fn, void *ctx, size_t slots);

/* Offloads: vnet_hdr when the device carries a virtio_net_hdr (ts_tun_vnet_hdr), gso when
 * the kernel took TSO4 and checksum offload (ts_tun_offload): then the segments of one
 * burst are coalesced (burst mode only). Call before ts_loop_run. 0, or -ENOMEM. */
int ts_loop_set_offload(ts_loop *l, bool vnet_hdr, bool gso);
/* Batch the device's reads and writes through io_uring (tun_ring.c); before
 * ts_loop_stack_config. 0, or -1 and why in err (the loop then keeps one system call per
 * packet). */
int ts_loop_set_ring(ts_loop *l, char *err, size_t errlen);
bool ts_loop_ring(const ts_loop *l);
/* Why the loop let go of its ring during a run (it went on with read() and write()), or
 * NULL. */
const char *ts_loop_ring_lost(const ts_loop *l);
/* Before each wait, poll for up to us microseconds without sleeping (0: off), as Linux's
 * net.core.busy_poll does for a socket. */
void ts_loop_set_busy_poll(ts_loop *l, ts_time_t us);

typedef struct ts_loop_stats {
    uint64_t pkts_in, pkts_out, bytes_in, bytes_out; /* bytes: the IP packets', never a
                                                      * virtio_net_hdr's (ip -s link's) */
    uint64_t segs_out;      /* packets the stack handed over (pkts_out counts device writes) */
    uint64_t gso_out;       /* writes that carried several segments */
    uint64_t gso_in;        /* super-segments read (gso_type TCPV4) */
    uint64_t bursts;        /* the stack's bursts ended (burst mode: with offloads) */
    uint64_t csum_in;       /* received packets whose partial checksum the loop completed */
    uint64_t bad_vnet_in;   /* received packets whose virtio_net_hdr was unusable (dropped) */
    uint64_t write_errors;  /* packets the device refused (dropped) */
    uint64_t wakeups;       /* epoll returns */
    uint64_t submits;       /* io_uring submits (each one system call for many packets) */
    uint64_t empty_polls;   /* of them, reads that found nothing and wrote nothing */
    uint64_t held_overflow; /* packets dropped because the shaper's pool was full */
} ts_loop_stats;
const ts_loop_stats *ts_loop_get_stats(const ts_loop *l);

#endif
