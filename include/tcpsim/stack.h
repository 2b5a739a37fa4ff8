/* tcpsim/stack.h: creating a stack and driving it. The stack is sans-IO: the driver hands
 * it packets and the time, and takes packets from the output callback. */
#ifndef TCPSIM_STACK_H
#define TCPSIM_STACK_H

#include "tcpsim/event.h"
#include "tcpsim/params.h"
#include "tcpsim/types.h"

/* Called for every IPv4 packet the stack sends, at once, in the order sent. Without a
 * flush callback (per-packet mode) the buffer is valid only during the call. */
typedef void (*ts_output_fn)(void *ctx, const uint8_t *pkt, size_t len);

/* Burst mode (optional): give the config a flush callback as well. Every packet still goes
 * through output at once, but now its bytes stay where they are, in an arena the stack
 * preallocated, until the next call to flush, which ends the burst: the driver may keep
 * pointers to the packets (to gather them into one write) until then, and must be done
 * with them when flush returns. A burst ends when the outermost entry call returns
 * (ts_stack_input, ts_stack_poll, a socket call; calls made from inside a callback are
 * part of the caller's burst), when the arena is full (burst_bytes), or at
 * ts_stack_burst_end; flush is never called for an empty burst. Neither callback may call
 * into the stack. No allocation and no copy per packet: the stack builds each packet in
 * the arena, in place. Like Linux's xmit_more, but the stack says when the burst ended
 * rather than that more is coming. */
typedef void (*ts_output_flush_fn)(void *ctx);

typedef struct ts_stack_config {
    uint32_t addr;            /* the stack's IPv4 address, host order */
    uint64_t seed;            /* keys ISNs (RFC 6528) and ephemeral ports */
    ts_params params;         /* defaults for every socket */
    ts_output_fn output;      /* required */
    void *output_ctx;         /* passed to output and flush */
    ts_output_flush_fn flush; /* optional: burst mode (above) */
    size_t burst_bytes;       /* burst mode: the arena's size (0: 256 KiB), at least
                                 64 KiB more are kept so any packet fits */
    ts_event_fn event;        /* optional observer */
    void *event_ctx;
    uint32_t max_sockets; /* socket handles and connections, together (default 65536) */
    uint8_t ttl;          /* IPv4 TTL on output (64) */
} ts_stack_config;

/* Fill cfg with defaults: Linux parameters, TTL 64, seed 1, no callbacks. */
void ts_stack_config_init(ts_stack_config *cfg);

/* Create a stack. NULL if the parameters are invalid (err says why) or memory ran out. */
ts_stack *ts_stack_create(const ts_stack_config *cfg, char *err, size_t errlen);
void ts_stack_destroy(ts_stack *s);

/* An IPv4 packet arrived at time now. Malformed packets are dropped and counted. */
void ts_stack_input(ts_stack *s, ts_time_t now, const uint8_t *pkt, size_t len);

/* Widen a burst (burst mode; no effect otherwise): between begin and end no entry call
 * ends the burst, so what several calls send (a batch of input, then the timers) is one
 * burst, cut only where the arena fills. Pairs nest; the outermost end flushes (a burst
 * still held open when the stack is destroyed is never handed over). */
void ts_stack_burst_begin(ts_stack *s);
void ts_stack_burst_end(ts_stack *s);

/* Run every timer due by now; returns the next deadline (TS_TIME_NEVER if none).
 * Socket calls act at the time of the latest ts_stack_input or ts_stack_poll. */
ts_time_t ts_stack_poll(ts_stack *s, ts_time_t now);

/* The earliest pending deadline without running anything. */
ts_time_t ts_stack_next_deadline(const ts_stack *s);

/* The time the stack last heard of. */
ts_time_t ts_stack_now(const ts_stack *s);

uint32_t ts_stack_addr(const ts_stack *s);
const ts_counters *ts_stack_counters(const ts_stack *s);
/* The stack-wide default parameters, read only: change them with ts_stack_set_params. */
const ts_params *ts_stack_params(const ts_stack *s);
/* Replace the default parameters for sockets created afterwards, after the checks
 * ts_stack_create makes (ranges, order, policy names), so a bad value is refused here
 * rather than surfacing later from ts_socket. Returns 0, or -EINVAL with a one-line
 * reason in err and the defaults unchanged. */
int ts_stack_set_params(ts_stack *s, const ts_params *p, char *err, size_t errlen);

/* Reset every connection that is still open (a RST to each synchronized peer), orphans
 * included, and finish them: for a runner that is shutting down after its grace period.
 * Listeners and TIME-WAIT connections close silently. Returns how many were reset. */
size_t ts_stack_reset_all(ts_stack *s);

/* Replace the observer (e.g. to attach a tracer after creation). */
void ts_stack_set_event_fn(ts_stack *s, ts_event_fn fn, void *ctx);

#endif
