/* policy.h: the pluggable policies: RTO estimation, backoff, delayed ACK and congestion
 * control. Each is a small struct of function pointers chosen by name (the parameter
 * block's rto_policy, backoff_policy, delack_policy, cc). A new policy is a new file with
 * its ops struct, listed in policy.c's registry. State lives in the connection. */
#ifndef TS_POLICY_H
#define TS_POLICY_H

#include "tcpsim/types.h"

/* RTO estimator: fold an RTT sample into srtt/rttvar and set c->rto (before backoff). */
typedef struct ts_rto_ops {
    const char *name;
    void (*sample)(ts_conn *c, ts_time_t rtt);
} ts_rto_ops;

/* Backoff: the timeout after the n-th consecutive retransmission (n >= 1) of a segment,
 * given the base timeout; SYNs pass their linear count. */
typedef struct ts_backoff_ops {
    const char *name;
    ts_time_t (*timeout)(const ts_conn *c, ts_time_t base, uint32_t n, uint32_t linear);
} ts_backoff_ops;

/* Delayed ACK: called for each in-order data segment received; returns true to ACK now,
 * false to leave the ACK to the delayed-ACK timer (whose delay it returns in *delay). */
typedef struct ts_delack_ops {
    const char *name;
    bool (*on_data)(ts_conn *c, ts_time_t now, uint32_t len, ts_time_t *delay);
    void (*on_timer)(ts_conn *c);                    /* the timer sent the ACK */
    void (*on_data_sent)(ts_conn *c, ts_time_t now); /* we sent data (pingpong) */
} ts_delack_ops;

/* Congestion control (RFC 5681, RFC 6582, RFC 9438). Windows are in bytes. on_ack gets the
 * ACK's arrival time (the stack's clock) for time-based growth such as CUBIC's. */
typedef struct ts_cc_ops {
    const char *name;
    void (*init)(ts_conn *c);
    void (*on_ack)(ts_conn *c, uint32_t acked, ts_time_t now); /* new data ACKed, not in recovery */
    void (*enter_recovery)(ts_conn *c);                        /* third duplicate ACK */
    void (*on_dupack)(ts_conn *c);                             /* further dupACK in recovery */
    /* A new ACK in recovery: returns true when recovery ends (full ACK). */
    bool (*on_recovery_ack)(ts_conn *c, uint32_t acked, bool full);
    void (*on_rto)(ts_conn *c);
    void (*on_idle)(ts_conn *c); /* restart after idle > RTO */
} ts_cc_ops;

/* Slow start's growth for one ACK (cc_newreno.c; shared with CUBIC): returns the bytes
 * left for congestion avoidance. */
uint32_t ts_cc_slow_start(ts_conn *c, uint32_t acked);

const ts_rto_ops *ts_rto_find(const char *name);
const ts_backoff_ops *ts_backoff_find(const char *name);
const ts_delack_ops *ts_delack_find(const char *name);
const ts_cc_ops *ts_cc_find(const char *name);

#endif
