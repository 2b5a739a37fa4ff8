/* policy.h: the pluggable policies: RTO estimation, backoff, delayed ACK and congestion
 * control. Each is a small struct of function pointers chosen by name (the parameter
 * block's rto_policy, backoff_policy, delack_policy, cc). A new policy is a new file with
 * its ops struct, listed in policy.c's registry. State lives in the connection (a cc's
 * own state in its cc_priv area). */
#ifndef TS_POLICY_H
#define TS_POLICY_H

#include "tcpsim/types.h"

/* RTO estimator: fold an RTT sample into srtt/rttvar and set c->rto (before backoff).
 * constant: the RTO never leaves rto_init (no RFC 6298 5.7 fallback either). */
typedef struct ts_rto_ops {
    const char *name;
    void (*sample)(ts_conn *c, ts_time_t rtt);
    bool constant;
    /* The estimate in RFC 6298's form, for code that reloads or carries one over (Eifel's
     * RFC 4015 step (11) in tcp_loss.c, a policy switch in socket.c). NULL: the policy
     * keeps c->rttvar in that form already. rttvar_rfc reads RTTVAR; set_rttvar_rfc
     * stores one (the variance fields only); set_rto sets c->rto from SRTT and RTTVAR
     * (NULL: the RTO does not follow the estimate, as rto_fixed's). */
    ts_time_t (*rttvar_rfc)(const ts_conn *c);
    void (*set_rttvar_rfc)(ts_conn *c, ts_time_t rttvar);
    void (*set_rto)(ts_conn *c);
} ts_rto_ops;

/* RFC 6298 2.2/2.3's SRTT and RTTVAR update alone (rto_rfc6298.c; rto_fixed.c uses it). */
void ts_rto_rfc6298_smooth(ts_conn *c, ts_time_t r);

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
    /* Optional (NULL: nothing to do), for policies that keep no state between ACKs. */
    void (*on_timer)(ts_conn *c);                    /* the timer sent the ACK */
    void (*on_data_sent)(ts_conn *c, ts_time_t now); /* we sent data (pingpong) */
} ts_delack_ops;

/* Congestion control (RFC 5681, RFC 6582, RFC 9438), shaped after FreeBSD's struct cc_algo.
 * Windows are in bytes. Recovery itself (which segments to resend, when recovery starts and
 * ends, PRR) is tcp_loss.c's; a cc module only decides ssthresh and cwnd at the moments
 * tcp_loss.c reports. Its own state lives in the connection's cc_priv area (TS_CC_PRIV),
 * priv_size bytes of it, checked against TS_CC_PRIV_SIZE at compile time (TS_CC_PRIV_FITS).
 * on_ack gets the ACK's arrival time (the stack's clock) for time-based growth (CUBIC). */
typedef enum {
    TS_CC_SIG_DUPACK, /* DupThresh dupACKs or SACK loss: fast recovery starts (RFC 5681 3.2) */
    TS_CC_SIG_RTO,    /* the first retransmission timeout of a loss episode (RFC 5681 (4), (5)) */
    TS_CC_SIG_ECN,    /* an ECN-Echo (RFC 3168 6.1.2); no caller yet: the core has no ECN */
} ts_cc_signal;

typedef struct ts_cc_ops {
    const char *name;
    size_t priv_size; /* bytes of cc_priv the algorithm uses */
    void (*init)(ts_conn *c);
    void (*on_ack)(ts_conn *c, uint32_t acked, ts_time_t now); /* new data ACKed, not in recovery */
    void (*cong_signal)(ts_conn *c, ts_cc_signal sig);         /* ssthresh and cwnd for a signal */
    void (*on_dupack)(ts_conn *c); /* a further dupACK in NewReno recovery (window inflation) */
    /* A new ACK in NewReno recovery: returns true when recovery ends (full ACK). */
    bool (*on_recovery_ack)(ts_conn *c, uint32_t acked, bool full);
    void (*post_recovery)(ts_conn *c); /* SACK recovery ended (RecoveryPoint ACKed) */
    void (*on_idle)(ts_conn *c);       /* restart after idle > RTO */
} ts_cc_ops;

/* The connection's per-algorithm area: big enough for every registered algorithm's state
 * (each says so with TS_CC_PRIV_FITS), so no connection allocates per algorithm. */
#define TS_CC_PRIV_SIZE  64
#define TS_CC_PRIV_ALIGN 8
#define TS_CC_PRIV_FITS(type)                                                                      \
    _Static_assert(sizeof(type) <= TS_CC_PRIV_SIZE, #type " outgrew TS_CC_PRIV_SIZE");             \
    _Static_assert(_Alignof(type) <= TS_CC_PRIV_ALIGN, #type " needs a stricter alignment")
#define TS_CC_PRIV(c, type) ((type *)(void *)(c)->cc_priv)

/* Slow start's growth for one ACK (cc_newreno.c; shared with CUBIC): returns the bytes
 * left for congestion avoidance. */
uint32_t ts_cc_slow_start(ts_conn *c, uint32_t acked);
/* The usual end of SACK recovery (RFC 6937 3, as Linux): cwnd = ssthresh (cc_newreno.c). */
void ts_cc_post_recovery(ts_conn *c);
/* NewReno's ops (cc_newreno.c), whose recovery and idle steps CUBIC reuses. */
extern const ts_cc_ops ts_cc_newreno;

const ts_rto_ops *ts_rto_find(const char *name);
const ts_backoff_ops *ts_backoff_find(const char *name);
const ts_delack_ops *ts_delack_find(const char *name);
const ts_cc_ops *ts_cc_find(const char *name);

#endif
