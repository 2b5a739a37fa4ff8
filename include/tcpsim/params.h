/* tcpsim/params.h: the parameter block every connection carries, its names, profiles and
 * validation. Defaults follow Linux (see DESIGN.md's table). The same names serve the
 * TUN runner's --set, the simulator's scenario files and the telnet service's `set`. */
#ifndef TCPSIM_PARAMS_H
#define TCPSIM_PARAMS_H

#include <stdbool.h>
#include "tcpsim/types.h"

#define TS_POLICY_NAME_MAX 16
/* wscale's "auto": the shift follows rcvbuf (ts_params_wscale), as in Linux. */
#define TS_WSCALE_AUTO 255u

typedef struct ts_params {
    /* Options offered in the SYN (RFC 7323, RFC 2018), in Linux's order. */
    uint32_t mss; /* advertised MSS; 1460 for MTU 1500 */
    /* Window scale shift offered, 0..14, or TS_WSCALE_AUTO (the default): chosen from
     * rcvbuf as Linux's tcp_select_initial_window does (ts_params_wscale). */
    uint32_t wscale;
    bool wscale_on;  /* offer window scaling at all */
    bool sack;       /* offer SACK-permitted; report SACK blocks */
    bool dsack;      /* report duplicates in a D-SACK block, RFC 2883 (on, as Linux) */
    bool timestamps; /* offer timestamps (RFC 7323) */
    /* Handshake retransmission. */
    ts_time_t syn_rto;       /* first SYN / SYN-ACK RTO (1 s) */
    uint32_t syn_retries;    /* SYN retransmissions before -ETIMEDOUT (6) */
    uint32_t syn_linear;     /* first N SYN retransmissions keep syn_rto (0) */
    uint32_t synack_retries; /* SYN-ACK retransmissions (5) */
    uint32_t backoff;        /* RTO multiplier per retry (2) */
    uint32_t backoff_jitter; /* +-percent of every backed-off timeout, seeded (0 = off) */
    /* Data retransmission (RFC 6298). */
    ts_time_t rto_init;     /* RTO before any sample (1 s) */
    ts_time_t rto_min;      /* lower bound (200 ms; RFC: 1 s) */
    ts_time_t rto_max;      /* upper bound (120 s) */
    ts_time_t rto_fallback; /* RTO after a retransmitted handshake, RFC 6298 5.7 (3 s) */
    ts_time_t rto_g;        /* rfc6298's clock granularity G, RFC 6298 2 (1 ms) */
    bool karn;              /* Karn's rule, RFC 6298 3 (on; off: samples from retransmissions) */
    uint32_t retries2;      /* data retransmissions before giving up (15) */
    bool tlp;               /* tail loss probe, RFC 8985 7 (on; needs SACK, as in Linux) */
    /* Spurious retransmissions found and undone (stack/tcp_loss.c, README "Where loss
     * recovery lives"): F-RTO after an RTO (RFC 5682; Linux tcp_frto), Eifel detection by
     * timestamps (RFC 3522, RFC 4015's response; Linux's timestamp undo), and D-SACK undo
     * of a spurious retransmission (RFC 3708; Linux tcp_dsack). */
    bool frto;
    bool eifel;
    bool dsack_undo;
    ts_time_t user_timeout; /* TCP_USER_TIMEOUT; 0 = off */
    /* Unanswered zero-window probes before a closed socket (an orphan) gives up; 0 = 8
     * (Linux tcp_orphan_retries 0). An open socket's stop at retries2. */
    uint32_t orphan_retries;
    /* Acknowledgements. */
    ts_time_t delack;     /* delayed-ACK timer, 0 = ACK at once (40 ms) */
    ts_time_t delack_max; /* delayed-ACK upper bound (200 ms) */
    uint32_t delack_segs; /* ACK at least every Nth full-sized segment (2) */
    bool quickack;        /* quick-ACK at connection start (on) */
    bool nagle;           /* Nagle's algorithm (on) */
    /* An ACK for data not yet sent (SEG.ACK > SND.NXT): reply with an ACK before dropping
     * the segment (on; RFC 9293 3.10.7.4, RFC 5961 5.2, Linux since 2026), or drop it
     * silently as Linux did before (off). */
    bool unsent_ack_reply;
    /* At most one reply per this interval per connection to segments that fail a check:
     * out-of-window and PAWS duplicate ACKs for segments without data, the ACK above,
     * RFC 5961 challenge ACKs (500 ms, Linux tcp_invalid_ratelimit; 0 = no limit). */
    ts_time_t invalid_ratelimit;
    /* Closing. */
    ts_time_t time_wait; /* TIME-WAIT length (60 s; RFC 2MSL 240 s) */
    ts_time_t fin_wait2; /* orphaned FIN-WAIT-2 timeout (60 s) */
    /* Keepalive (RFC 9293 3.8.4). */
    bool keepalive;
    ts_time_t keepalive_idle;  /* 7200 s */
    ts_time_t keepalive_intvl; /* 75 s */
    uint32_t keepalive_probes; /* 9 */
    /* Timer resolution: 0 = exact microseconds; else Linux's CONFIG_HZ (100, 250, 300,
     * 1000): durations in whole ticks, timers run on tick boundaries by the timer wheel. */
    uint32_t hz;
    bool timeout_min_ticks; /* RACK and TLP 2 ms floor: 2 ticks after rounding (Linux < 6.6) */
    /* Congestion control (RFC 5681, 6928). */
    uint32_t init_cwnd; /* segments (10) */
    /* Slow start grows cwnd by the bytes ACKed, at most abc SMSS per ACK (RFC 3465's L):
     * 1 = RFC 5681 (tcpsim's default), 2 = RFC 3465; 0 = no limit, up to ssthresh, as
     * Linux's tcp_slow_start (the packetdrill profile). */
    uint32_t abc;
    /* Slow start's exit before a loss (stack/hystart.c): HyStart++ (RFC 9406) for every
     * cc (off), or with cc=cubic Linux's own HyStart, hystart_detect a bit mask as Linux's
     * module parameter (1 ACK train, 2 delay; 0 = none, tcpsim's default; Linux 3). */
    bool hystart;
    uint32_t hystart_detect;
    bool limited_transmit; /* RFC 3042: a new segment on each of the first 2 dupACKs (on) */
    /* Buffers. */
    uint32_t rcvbuf; /* receive buffer limit, bytes */
    uint32_t sndbuf; /* send buffer limit, bytes */
    /* The cap on every connection's send and receive rings together, in KiB, 0 = none
     * (the default): Linux's tcp_mem[2] (in pages). Stack-wide: read from the stack's
     * defaults (ts_stack_set_params, --set), not from a socket's block. */
    uint32_t mem_max;
    uint32_t backlog; /* default listen backlog: the accept queue's bound */
    /* SYN flood defence (RFC 4987): half-open connections wait in a SYN queue of their
     * own, at most max_syn_backlog per listener; SYN cookies: 0 never, 1 when the SYN
     * queue is full (Linux's default), 2 always. */
    uint32_t max_syn_backlog;
    uint32_t syncookies;
    /* ISN: 0 = RFC 6528 keyed hash + clock; otherwise this fixed ISN (for lessons). */
    bool isn_fixed;
    uint32_t isn;
    /* Policies, chosen by name. */
    char rto_policy[TS_POLICY_NAME_MAX];     /* "linux" (also "rfc6298") */
    char backoff_policy[TS_POLICY_NAME_MAX]; /* "exponential" */
    char delack_policy[TS_POLICY_NAME_MAX];  /* "linux" */
    char cc[TS_POLICY_NAME_MAX];             /* "newreno" (also "reno", "cubic") */
    /* Loss recovery: "sack" (RFC 6675 with PRR, RFC 6937; only when SACK was negotiated,
     * else NewReno) or "newreno" (RFC 6582 even with SACK). */
    char recovery[TS_POLICY_NAME_MAX];
} ts_params;

/* Kinds of parameter value, for help texts and parsers. */
typedef enum {
    TS_PARAM_UINT,
    TS_PARAM_DURATION, /* "200ms", "1s", "1.5s", "40us", "0"; bare numbers are seconds */
    TS_PARAM_BOOL,     /* on|off, true|false, yes|no, 1|0 */
    TS_PARAM_POLICY,   /* a registered policy name */
    TS_PARAM_ISN,      /* "hash" or a 32-bit number */
    TS_PARAM_PERCENT,  /* a whole percentage: "10%" or "10" */
    TS_PARAM_WSCALE,   /* "auto" or a number (wscale) */
} ts_param_kind;

typedef struct ts_param_info {
    const char *name;
    ts_param_kind kind;
    const char *help; /* one line, says the unit and the Linux default */
} ts_param_info;

/* A selectable policy (rto_policy, backoff_policy, delack_policy, cc, recovery) and where
 * its behaviour comes from: an RFC section or the system it copies. */
typedef struct ts_policy_info {
    const char *kind;   /* the parameter that selects it */
    const char *name;   /* its value */
    const char *source; /* one line */
} ts_policy_info;

/* Every policy, grouped by kind, for discovery (`tcpsim params`). */
size_t ts_policies_count(void);
const ts_policy_info *ts_policies_info(size_t i);

/* The Linux profile: the defaults. */
void ts_params_default(ts_params *p);

/* Apply a named profile on top of the defaults: "linux", "rfc", "textbook", "linux65".
 * Returns 0, or -1 with a message naming the known profiles in err. */
int ts_params_profile(ts_params *p, const char *name, char *err, size_t errlen);

/* Set one parameter from text. Returns 0, or -1 with a one-line message in err that names
 * the problem and the fix. The block is validated as a whole after the change; on error
 * it is left unchanged. */
int ts_params_set(ts_params *p, const char *name, const char *value, char *err, size_t errlen);

/* Parse "NAME=VALUE" and set it. */
int ts_params_set_kv(ts_params *p, const char *assignment, char *err, size_t errlen);

/* Format one parameter's value as text ("40ms", "on", "7"); -1 if the name is unknown. */
int ts_params_get(const ts_params *p, const char *name, char *buf, size_t len);

/* The window scale shift to offer: wscale when set to a number, else (auto) Linux's
 * tcp_select_initial_window: the smallest shift that lets 65535 << shift cover rcvbuf,
 * at most 14 (RFC 7323 2.3): 7 for Linux's 6 MiB tcp_rmem[2], 9 for 16 MiB. */
uint32_t ts_params_wscale(const ts_params *p);

/* Check cross-parameter rules (rto_min <= rto_max, wscale <= 14, mss >= 88, ...). */
int ts_params_validate(const ts_params *p, char *err, size_t errlen);

/* The table of parameters, for --help and `set` completion. */
size_t ts_params_count(void);
const ts_param_info *ts_params_info(size_t i);
/* When a change of the parameter takes effect on a socket that already exists (README,
 * "When a parameter takes effect"): "now" (read where it is used, or applied at once),
 * "timer" (the next time the timer it sets is armed), "open" (read once as the connection
 * opens: later changes reach only new connections), "syn" (agreed in the handshake:
 * refused once the SYN has gone), "listen" (read by listen()), "stack" (stack-wide: read
 * from the stack's defaults at once, a socket's own value unused). NULL for an unknown name.
 * ts_stack_set_params changes only the sockets created afterwards, and a listener's
 * children take the listener's block, whatever the parameter. */
const char *ts_params_when(const char *name);
/* Names of the profiles, NULL-terminated. */
const char *const *ts_params_profiles(void);

/* Parse a duration ("200ms", "1.5s", "40us", "2m", bare number = seconds). 0 or -1. */
int ts_duration_parse(const char *text, ts_time_t *out);
/* Format a duration compactly ("40ms", "1s", "1.5s", "120s"). Returns buf. */
char *ts_duration_format(ts_time_t t, char *buf, size_t len);

#endif
