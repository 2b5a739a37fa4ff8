/* params.c: the parameter block's table (names, kinds, bounds, help), text parsing and
 * formatting of values, validation, and the named profiles. Everything that touches a
 * parameter by name goes through the one table below, so a new parameter is one row. */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_names.h"
#include "tcpsim/params.h"

#define DUR_MAX (30 * 24 * 3600 * TS_SEC) /* no duration parameter needs more than 30 days */

typedef struct param_def {
    ts_param_info info; /* first: ts_params_info returns a pointer to it */
    size_t off;
    uint64_t min, max; /* UINT: value bounds; DURATION: microseconds */
} param_def;

/* offsetof, refusing to compile if the field's size does not match its kind. */
#define FIELD(n, size)                                                                             \
    (offsetof(ts_params, n) + 0 * sizeof(char[sizeof(((ts_params *)0)->n) == (size) ? 1 : -1]))
#define UINTP(n, lo, hi, h)                                                                        \
    {                                                                                              \
        {#n, TS_PARAM_UINT, h}, FIELD(n, sizeof(uint32_t)), lo, hi                                 \
    }
#define DURP(n, lo, hi, h)                                                                         \
    {                                                                                              \
        {#n, TS_PARAM_DURATION, h}, FIELD(n, sizeof(ts_time_t)), lo, hi                            \
    }
#define BOOLP(n, h)                                                                                \
    {                                                                                              \
        {#n, TS_PARAM_BOOL, h}, FIELD(n, sizeof(bool)), 0, 1                                       \
    }
#define PCTP(n, lo, hi, h)                                                                         \
    {                                                                                              \
        {#n, TS_PARAM_PERCENT, h}, FIELD(n, sizeof(uint32_t)), lo, hi                              \
    }
#define POLP(n, h)                                                                                 \
    {                                                                                              \
        {#n, TS_PARAM_POLICY, h}, FIELD(n, TS_POLICY_NAME_MAX), 0, 0                               \
    }

static const param_def defs[] = {
    /* at most 65535 - 80: IP and TCP headers with full options still fit an IPv4 packet */
    UINTP(mss, 88, 65455, "advertised MSS in bytes, 88..65455 (Linux 1460 for MTU 1500)"),
    {{"wscale", TS_PARAM_WSCALE,
      "window scale shift offered: auto (Linux: the smallest shift that fits rcvbuf, 7 for "
      "6 MiB) or 0..14"},
     FIELD(wscale, sizeof(uint32_t)),
     0,
     14},
    BOOLP(wscale_on, "offer window scaling (Linux on)"),
    BOOLP(sack, "offer SACK-permitted and send SACK blocks (Linux on)"),
    BOOLP(dsack, "report duplicate data in a D-SACK block, RFC 2883, when SACK was negotiated "
                 "(Linux tcp_dsack on)"),
    BOOLP(timestamps, "offer timestamps, RFC 7323 (Linux on)"),
    DURP(syn_rto, 1, 3600 * TS_SEC, "first SYN / SYN-ACK retransmission timeout (Linux 1s)"),
    UINTP(syn_retries, 0, 127, "SYN retransmissions before ETIMEDOUT (Linux 6)"),
    UINTP(syn_linear, 0, 127, "first N SYN retransmissions keep syn_rto (Linux 0; 6.5+: 4)"),
    UINTP(synack_retries, 0, 127, "SYN-ACK retransmissions (Linux 5)"),
    UINTP(backoff, 1, 16, "RTO multiplier per retry (Linux 2)"),
    PCTP(backoff_jitter, 0, 100,
         "spread each RTO, SYN and SYN-ACK timeout over +-P%, seeded per connection and "
         "retry, 0 = off (Linux: none)"),
    DURP(rto_init, 1, 3600 * TS_SEC, "RTO before any RTT sample (Linux 1s)"),
    DURP(rto_min, 1, 3600 * TS_SEC, "lower bound of the RTO (Linux 200ms; RFC 6298 1s)"),
    DURP(rto_max, 1, 3600 * TS_SEC, "upper bound of the RTO (Linux 120s)"),
    DURP(rto_fallback, 1, 3600 * TS_SEC, "RTO after a retransmitted handshake (Linux 3s)"),
    DURP(rto_g, 1, 3600 * TS_SEC, "clock granularity G of rto_policy=rfc6298, RFC 6298 2 (1ms)"),
    BOOLP(karn, "Karn's rule, RFC 6298 3: no RTT sample from retransmitted data; off matters only "
                "with timestamps off (Linux on)"),
    UINTP(retries2, 0, 255,
          "data retransmissions or unanswered zero-window probes before "
          "giving up (Linux 15)"),
    UINTP(orphan_retries, 0, 255,
          "unanswered zero-window probes of a closed socket, 0 = 8 (Linux 0)"),
    BOOLP(tlp, "tail loss probe (RFC 8985) when SACK is on (Linux on)"),
    BOOLP(frto, "F-RTO (RFC 5682): new data after an RTO, undo if the RTO was spurious (Linux "
                "tcp_frto 2: on)"),
    BOOLP(eifel, "Eifel detection by timestamps (RFC 3522), RFC 4015's response (Linux's "
                 "timestamp undo: on)"),
    BOOLP(dsack_undo, "undo a retransmission the receiver reports duplicate by D-SACK "
                      "(RFC 3708; Linux tcp_dsack 1: on)"),
    DURP(user_timeout, 0, DUR_MAX, "TCP_USER_TIMEOUT, 0 = off (Linux 0)"),
    DURP(delack, 0, 500 * TS_MSEC, "delayed-ACK timer, 0 = ACK at once (Linux 40ms)"),
    DURP(delack_max, 0, 500 * TS_MSEC, "delayed-ACK upper bound (Linux 200ms)"),
    UINTP(delack_segs, 1, 64, "ACK at least every Nth full-sized segment (Linux 2)"),
    BOOLP(quickack, "quick ACKs at connection start (Linux on)"),
    BOOLP(nagle, "Nagle's algorithm (Linux on)"),
    DURP(time_wait, 0, 3600 * TS_SEC, "TIME-WAIT length (Linux 60s; RFC 2MSL 240s)"),
    DURP(fin_wait2, 0, 3600 * TS_SEC, "orphaned FIN-WAIT-2 timeout (Linux 60s)"),
    BOOLP(keepalive, "send keepalive probes (Linux off)"),
    DURP(keepalive_idle, 1, DUR_MAX, "idle time before the first probe (Linux 7200s)"),
    DURP(keepalive_intvl, 1, DUR_MAX, "time between probes (Linux 75s)"),
    UINTP(keepalive_probes, 1, 255, "unanswered probes before reset (Linux 9)"),
    UINTP(hz, 0, 1000,
          "timer ticks per second: 0 = exact us, or Linux's CONFIG_HZ 100, 250, 300, 1000"),
    BOOLP(timeout_min_ticks, "RACK and TLP timers' 2 ms floor as 2 ticks after rounding, as Linux "
                             "< 6.6 and 6.1 < 6.1.60 (off: 2000us before; needs hz)"),
    UINTP(init_cwnd, 1, 1000, "initial congestion window in segments (Linux 10)"),
    UINTP(abc, 0, 1000,
          "slow start: at most this many SMSS per ACK (RFC 5681: 1; RFC 3465: 2; Linux: 0, all)"),
    BOOLP(hystart, "HyStart++ (RFC 9406): leave slow start on an RTT rise, through Conservative "
                   "Slow Start, for every cc (off; Linux has none)"),
    UINTP(hystart_detect, 0, 3,
          "with cc=cubic and hystart off: Linux CUBIC's HyStart, 1 ACK train + 2 delay "
          "(tcp_cubic hystart_detect; Linux 3, tcpsim 0)"),
    BOOLP(unsent_ack_reply,
          "answer an ACK of unsent data with an ACK (on; Linux before 2026 dropped it: off)"),
    DURP(invalid_ratelimit, 0, 3600 * TS_SEC,
         "at most one reply per connection per this time to out-of-window, PAWS-rejected or "
         "unsent-data ACKs and RFC 5961 challenges, 0 = off (Linux tcp_invalid_ratelimit 500ms)"),
    BOOLP(limited_transmit, "RFC 3042 limited transmit on the first two dupACKs (Linux on)"),
    UINTP(rcvbuf, 4096, 1073741824, "receive buffer in bytes (Linux 6291456)"),
    UINTP(sndbuf, 4096, 1073741824, "send buffer in bytes (Linux 4194304)"),
    UINTP(mem_max, 0, UINT32_MAX,
          "cap on all connections' send and receive rings together, KiB, 0 = none; stack-wide "
          "(Linux tcp_mem[2], in pages; tcpsim 0)"),
    UINTP(backlog, 1, 65535, "default listen backlog (Linux 128)"),
    UINTP(max_syn_backlog, 1, 65535,
          "half-open connections per listener, the SYN queue (Linux tcp_max_syn_backlog, 128 "
          "and more with memory)"),
    UINTP(syncookies, 0, 2,
          "SYN cookies: 0 never, 1 when the SYN queue is full, 2 always (Linux tcp_syncookies 1)"),
    {{"isn", TS_PARAM_ISN, "'hash' (RFC 6528, Linux) or a fixed 32-bit ISN"},
     offsetof(ts_params, isn),
     0,
     UINT32_MAX},
    POLP(rto_policy, "RTO estimator, one of the policies listed below (Linux linux)"),
    POLP(backoff_policy, "RTO backoff, one of the policies listed below (Linux exponential)"),
    POLP(delack_policy, "delayed-ACK policy, one of the policies listed below (Linux linux)"),
    POLP(cc, "congestion control: newreno, reno or cubic (default newreno; Linux cubic)"),
    POLP(recovery, "loss recovery: sack (RFC 6675 + PRR when SACK is on) or newreno (Linux sack)"),
};

#define NDEFS (sizeof defs / sizeof defs[0])

/* ---- policy names ---- */

/* Every selectable policy, by kind, with where its behaviour comes from (an RFC section or
 * the system it copies). The one list: validation, help texts and `tcpsim params` read it,
 * and policy.c's registry must hold an ops struct for each name (test_params checks).
 * Adding a policy: one line in its kind's list. */
#define RTO_POLICIES(X)                                                                            \
    X("linux", "Linux tcp_rtt_estimator(): mdev with rto_min as its floor")                        \
    X("rfc6298", "RFC 6298 2: SRTT + max(G, 4 RTTVAR), G = rto_g (1 ms)")                          \
    X("fixed",                                                                                     \
      "teaching: RTO = rto_init always; samples only smooth SRTT; no RFC 6298 5.7 fallback")
#define BACKOFF_POLICIES(X)                                                                        \
    X("exponential", "RFC 6298 5.5: double the RTO per expiry (Linux)")                            \
    X("linear",                                                                                    \
      "(n + 1) x RTO after the n-th expiry (n counted past syn_linear), capped at rto_max")        \
    X("constant",                                                                                  \
      "no backoff: the RTO (or syn_rto) every time, for comparison; RFC 6298 5.5 asks for one")
#define DELACK_POLICIES(X)                                                                         \
    X("linux", "Linux: quick-ACK, pingpong and adaptive ATO (RFC 1122 4.2.3.2)")                   \
    X("fixed", "RFC 1122 4.2.3.2, RFC 5681 4.2: every delack_segs segments, else after delack")    \
    X("bsd", "4.4BSD tcp_fasttimo, lwIP tcp_tmr: the ACK at the host's next delack_max tick")      \
    X("every", "every segment ACKed at once (no delayed ACK)")
#define CC_POLICIES(X)                                                                             \
    X("newreno", "RFC 5681 + RFC 6582 NewReno, RFC 3465 ABC")                                      \
    X("reno", "RFC 5681 Reno: fast recovery ends at the first new ACK")                            \
    X("cubic", "RFC 9438 CUBIC (Linux's default)")
#define RECOVERY_POLICIES(X)                                                                       \
    X("sack", "RFC 6675 SACK recovery with PRR (RFC 6937), RACK-TLP (RFC 8985)")                   \
    X("newreno", "RFC 6582 NewReno recovery even when SACK is on")

#define NAME_OF(name, source) name,
static const char *const rto_names[] = {RTO_POLICIES(NAME_OF) NULL};
static const char *const backoff_names[] = {BACKOFF_POLICIES(NAME_OF) NULL};
static const char *const delack_names[] = {DELACK_POLICIES(NAME_OF) NULL};
static const char *const cc_names[] = {CC_POLICIES(NAME_OF) NULL};
static const char *const recovery_names[] = {RECOVERY_POLICIES(NAME_OF) NULL};

#define INFO_RTO(name, source)      {"rto_policy", name, source},
#define INFO_BACKOFF(name, source)  {"backoff_policy", name, source},
#define INFO_DELACK(name, source)   {"delack_policy", name, source},
#define INFO_CC(name, source)       {"cc", name, source},
#define INFO_RECOVERY(name, source) {"recovery", name, source},
static const ts_policy_info policies[] = {RTO_POLICIES(INFO_RTO) BACKOFF_POLICIES(INFO_BACKOFF)
                                              DELACK_POLICIES(INFO_DELACK) CC_POLICIES(INFO_CC)
                                                  RECOVERY_POLICIES(INFO_RECOVERY)};

size_t ts_policies_count(void)
{
    return sizeof policies / sizeof policies[0];
}

const ts_policy_info *ts_policies_info(size_t i)
{
    return i < ts_policies_count() ? &policies[i] : NULL;
}

const char *const *ts_policy_names(const char *kind)
{
    if (!kind) return NULL;
    if (!strcmp(kind, "rto_policy")) return rto_names;
    if (!strcmp(kind, "backoff_policy")) return backoff_names;
    if (!strcmp(kind, "delack_policy")) return delack_names;
    if (!strcmp(kind, "cc")) return cc_names;
    if (!strcmp(kind, "recovery")) return recovery_names;
    return NULL;
}

static bool policy_known(const char *kind, const char *name)
{
    const char *const *n = ts_policy_names(kind);
    for (; n && *n; n++)
        if (!strcmp(*n, name)) return true;
    return false;
}

/* "newreno reno" into buf, for messages. */
static const char *policy_list(const char *kind, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = 0;
    for (const char *const *n = ts_policy_names(kind); n && *n && used < len; n++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? " " : "", *n);
    return buf;
}

/* ---- defaults and profiles ---- */

static void set_name(char *dst, const char *src)
{
    snprintf(dst, TS_POLICY_NAME_MAX, "%s", src);
}

void ts_params_default(ts_params *p)
{
    memset(p, 0, sizeof *p);
    p->mss = 1460, p->wscale = TS_WSCALE_AUTO;
    p->wscale_on = p->sack = p->dsack = p->timestamps = true;
    p->syn_rto = 1 * TS_SEC, p->syn_retries = 6, p->syn_linear = 0, p->synack_retries = 5;
    p->backoff = 2;
    p->rto_init = 1 * TS_SEC, p->rto_min = 200 * TS_MSEC, p->rto_max = 120 * TS_SEC;
    p->rto_fallback = 3 * TS_SEC, p->retries2 = 15, p->user_timeout = 0, p->tlp = true;
    p->backoff_jitter = 0, p->rto_g = 1 * TS_MSEC, p->karn = true;
    p->frto = p->eifel = p->dsack_undo = true;
    p->delack = 40 * TS_MSEC, p->delack_max = 200 * TS_MSEC, p->delack_segs = 2;
    p->quickack = p->nagle = true;
    p->time_wait = 60 * TS_SEC, p->fin_wait2 = 60 * TS_SEC;
    p->keepalive = false, p->keepalive_idle = 7200 * TS_SEC, p->keepalive_intvl = 75 * TS_SEC;
    p->keepalive_probes = 9;
    p->hz = 0, p->timeout_min_ticks = false; /* exact microsecond timers */
    p->limited_transmit = true;
    p->unsent_ack_reply = true;
    p->invalid_ratelimit = 500 * TS_MSEC;
    p->init_cwnd = 10, p->abc = 1, p->rcvbuf = 6291456, p->sndbuf = 4194304, p->backlog = 128;
    p->max_syn_backlog = 128, p->syncookies = 1;
    p->isn_fixed = false, p->isn = 0;
    set_name(p->rto_policy, "linux");
    set_name(p->backoff_policy, "exponential");
    set_name(p->delack_policy, "linux");
    set_name(p->cc, "newreno");
    set_name(p->recovery, "sack");
}

typedef struct profile {
    const char *name;
    const char *const *sets; /* NAME=VALUE, applied in order on top of the defaults */
} profile;

static const char *const prof_none[] = {NULL};
/* Linux 6.5: linear SYN backoff; a segment that ACKs unsent data is dropped silently
 * (the reply came with upstream commit 42726ec644cb in 2026). */
static const char *const prof_linux65[] = {"syn_linear=4", "unsent_ack_reply=off", NULL};
/* RFC 6298 (1 s minimum RTO), RFC 1122 (ACK delay < 0.5 s), RFC 9293 (2MSL = 240 s). */
static const char *const prof_rfc[] = {
    "rto_policy=rfc6298", "rto_min=1s", "delack_max=500ms", "delack=200ms", "time_wait=240s",
    "quickack=off",       NULL};
/* The founding chapter's host: 5 SYNs (4 retransmissions), giving up about 31 s in. */
static const char *const prof_textbook[] = {"syn_retries=4", NULL};
/* packetdrill's sysctls, on the Linux its scripts were recorded on: CUBIC (its default)
 * with its HyStart (tcp_cubic's hystart_detect=3, also its default), slow start by segments
 * delivered (abc=0, tcp_slow_start), and no reply to an ACK of unsent data (the 2026 change
 * came after them; ts_recent/invalid_ack expects silence). */
static const char *const prof_packetdrill[] = {
    "wscale=8",         "rcvbuf=15728640", "syn_retries=5",        "cc=cubic",
    "hystart_detect=3", "abc=0",           "unsent_ack_reply=off", NULL};

static const profile profiles[] = {
    {"linux", prof_none},        {"linux65", prof_linux65},         {"rfc", prof_rfc},
    {"textbook", prof_textbook}, {"packetdrill", prof_packetdrill},
};

static const char *const profile_names[] = {"linux",   "rfc",         "textbook",
                                            "linux65", "packetdrill", NULL};

const char *const *ts_params_profiles(void)
{
    return profile_names;
}

int ts_params_profile(ts_params *p, const char *name, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++) {
        if (strcmp(profiles[i].name, name)) continue;
        ts_params tmp;
        ts_params_default(&tmp);
        for (const char *const *s = profiles[i].sets; *s; s++)
            if (ts_params_set_kv(&tmp, *s, err, errlen) < 0) return -1;
        *p = tmp;
        return 0;
    }
    snprintf(err, errlen, "unknown profile '%s'; known: linux rfc textbook linux65 packetdrill",
             name);
    return -1;
}

/* ---- durations ---- */

static const struct {
    const char *suffix;
    ts_time_t unit;
} dur_units[] = {{"us", TS_USEC}, {"ms", TS_MSEC}, {"s", TS_SEC}, {"m", 60 * TS_SEC}, {"", TS_SEC}};

static ts_time_t dur_unit(const char *suffix)
{
    for (size_t i = 0; i < sizeof dur_units / sizeof dur_units[0]; i++)
        if (!strcmp(suffix, dur_units[i].suffix)) return dur_units[i].unit;
    return 0;
}

/* Digits into *v (with overflow check); returns the count of digits read. */
static int read_digits(const char **s, uint64_t *v, int max_digits)
{
    int n = 0;
    for (*v = 0; **s >= '0' && **s <= '9'; (*s)++, n++) {
        if (n >= max_digits) return -1;
        *v = *v * 10 + (uint64_t)(**s - '0');
    }
    return n;
}

int ts_duration_parse(const char *text, ts_time_t *out)
{
    const char *s = text;
    uint64_t whole, frac = 0, scale = 1;
    if (!s || read_digits(&s, &whole, 10) <= 0) return -1;
    if (*s == '.') {
        s++;
        int nd = read_digits(&s, &frac, 9);
        if (nd <= 0) return -1;
        for (int i = 0; i < nd; i++) scale *= 10;
    }
    ts_time_t unit = dur_unit(s);
    if (!unit || (frac * unit) % scale) return -1; /* unknown unit, or finer than 1 us */
    *out = whole * unit + frac * unit / scale;
    return 0;
}

/* "N" then up to `digits` fractional digits of v/div, trailing zeros dropped, then unit. */
static char *fmt_scaled(ts_time_t t, ts_time_t div, int digits, const char *unit, char *buf,
                        size_t len)
{
    uint64_t rem = t % div;
    if (!rem) {
        snprintf(buf, len, "%" PRIu64 "%s", t / div, unit);
        return buf;
    }
    while (rem % 10 == 0) rem /= 10, digits--;
    snprintf(buf, len, "%" PRIu64 ".%0*" PRIu64 "%s", t / div, digits, rem, unit);
    return buf;
}

char *ts_duration_format(ts_time_t t, char *buf, size_t len)
{
    if (t == 0) {
        snprintf(buf, len, "0");
        return buf;
    }
    if (t < TS_MSEC) return fmt_scaled(t, TS_USEC, 0, "us", buf, len);
    if (t < TS_SEC) return fmt_scaled(t, TS_MSEC, 3, "ms", buf, len);
    return fmt_scaled(t, TS_SEC, 6, "s", buf, len);
}

/* ---- one parameter: lookup, parse, format ---- */

static const param_def *find_def(const char *name)
{
    for (size_t i = 0; i < NDEFS; i++)
        if (name && !strcmp(defs[i].info.name, name)) return &defs[i];
    return NULL;
}

static void *field(ts_params *p, const param_def *d)
{
    return (char *)p + d->off;
}

static const void *cfield(const ts_params *p, const param_def *d)
{
    return (const char *)p + d->off;
}

/* A plain decimal number, no sign, no junk, at most max. */
static int parse_uint(const char *text, uint64_t max, uint64_t *out)
{
    const char *s = text;
    uint64_t v;
    if (read_digits(&s, &v, 10) <= 0 || *s || v > max) return -1;
    *out = v;
    return 0;
}

static int parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = {"on", "true", "yes", "1"};
    static const char *const no[] = {"off", "false", "no", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (!strcmp(v, yes[i])) return *out = true, 0;
        if (!strcmp(v, no[i])) return *out = false, 0;
    }
    return -1;
}

static int set_uint(ts_params *p, const param_def *d, const char *v, char *err, size_t errlen)
{
    const char *s = v;
    uint64_t x;
    if (read_digits(&s, &x, 19) <= 0 || *s) {
        snprintf(err, errlen, "%s: '%s' is not a whole number; use one in %" PRIu64 "..%" PRIu64,
                 d->info.name, v, d->min, d->max);
        return -1;
    }
    if (x > UINT32_MAX) { /* would not fit the field; validation checks the rest */
        snprintf(err, errlen, "%s: %s is out of range %" PRIu64 "..%" PRIu64, d->info.name, v,
                 d->min, d->max);
        return -1;
    }
    *(uint32_t *)field(p, d) = (uint32_t)x;
    return 0;
}

static int set_duration(ts_params *p, const param_def *d, const char *v, char *err, size_t errlen)
{
    ts_time_t t;
    if (v[0] == '-') {
        snprintf(err, errlen, "%s: '%s' is negative; durations are 0 or more, e.g. 200ms, 1s",
                 d->info.name, v);
        return -1;
    }
    if (ts_duration_parse(v, &t) < 0) {
        snprintf(err, errlen,
                 "%s: '%s' is not a duration; use e.g. 40us, 200ms, 1.5s, 2m (bare number = s)",
                 d->info.name, v);
        return -1;
    }
    *(ts_time_t *)field(p, d) = t;
    return 0;
}

static int set_bool(ts_params *p, const param_def *d, const char *v, char *err, size_t errlen)
{
    if (parse_bool(v, (bool *)field(p, d)) < 0) {
        snprintf(err, errlen,
                 "%s: '%s' is not a boolean; use on, off, true, false, yes, no, 1 or 0",
                 d->info.name, v);
        return -1;
    }
    return 0;
}

static int set_policy(ts_params *p, const param_def *d, const char *v, char *err, size_t errlen)
{
    char known[64];
    if (!policy_known(d->info.name, v)) {
        snprintf(err, errlen, "%s: '%s' is not a known policy; choose one of: %s", d->info.name, v,
                 policy_list(d->info.name, known, sizeof known));
        return -1;
    }
    set_name(field(p, d), v);
    return 0;
}

static int set_isn(ts_params *p, const param_def *d, const char *v, char *err, size_t errlen)
{
    uint64_t x;
    if (!strcmp(v, "hash")) {
        p->isn_fixed = false, p->isn = 0;
        return 0;
    }
    if (parse_uint(v, UINT32_MAX, &x) < 0) {
        snprintf(err, errlen, "%s: '%s' is neither 'hash' nor a number 0..4294967295", d->info.name,
                 v);
        return -1;
    }
    p->isn_fixed = true, p->isn = (uint32_t)x;
    return 0;
}

static int set_wscale(ts_params *p, const param_def *d, const char *v, char *err, size_t errlen)
{
    if (!strcmp(v, "auto")) {
        p->wscale = TS_WSCALE_AUTO;
        return 0;
    }
    if (set_uint(p, d, v, err, errlen) < 0) {
        snprintf(err, errlen, "%s: '%s' is neither 'auto' nor a shift 0..14", d->info.name, v);
        return -1;
    }
    return 0;
}

uint32_t ts_params_wscale(const ts_params *p)
{
    if (p->wscale != TS_WSCALE_AUTO) return p->wscale;
    uint32_t shift = 0; /* Linux tcp_select_initial_window(): halve the space until it fits */
    for (uint64_t space = p->rcvbuf; space > 65535 && shift < 14; space >>= 1) shift++;
    return shift;
}

/* "10%" or "10": a whole percentage (range checked by validation). */
static int set_percent(ts_params *p, const param_def *d, const char *v, char *err, size_t errlen)
{
    const char *s = v;
    uint64_t x;
    if (read_digits(&s, &x, 10) <= 0 || (*s && strcmp(s, "%")) || x > UINT32_MAX) {
        snprintf(err, errlen,
                 "%s: '%s' is not a percentage; use e.g. 10%% or 10 (%" PRIu64 "..%" PRIu64 ")",
                 d->info.name, v, d->min, d->max);
        return -1;
    }
    *(uint32_t *)field(p, d) = (uint32_t)x;
    return 0;
}

int ts_params_set(ts_params *p, const char *name, const char *value, char *err, size_t errlen)
{
    typedef int (*setter)(ts_params *, const param_def *, const char *, char *, size_t);
    static const setter setters[] = {
        [TS_PARAM_UINT] = set_uint,     [TS_PARAM_DURATION] = set_duration,
        [TS_PARAM_BOOL] = set_bool,     [TS_PARAM_POLICY] = set_policy,
        [TS_PARAM_ISN] = set_isn,       [TS_PARAM_PERCENT] = set_percent,
        [TS_PARAM_WSCALE] = set_wscale,
    };
    const param_def *d = find_def(name);
    if (!d) {
        snprintf(err, errlen, "unknown parameter '%s'; 'tcpsim params' lists them",
                 name ? name : "");
        return -1;
    }
    if (!value) value = "";
    ts_params tmp = *p; /* validate a copy so a failed set leaves the block as it was */
    if (setters[d->info.kind](&tmp, d, value, err, errlen) < 0) return -1;
    if (ts_params_validate(&tmp, err, errlen) < 0) return -1;
    *p = tmp;
    return 0;
}

int ts_params_set_kv(ts_params *p, const char *assignment, char *err, size_t errlen)
{
    const char *eq = assignment ? strchr(assignment, '=') : NULL;
    char name[64];
    if (!eq || eq == assignment || (size_t)(eq - assignment) >= sizeof name) {
        snprintf(err, errlen, "'%s' is not NAME=VALUE; write e.g. rto_min=200ms",
                 assignment ? assignment : "");
        return -1;
    }
    memcpy(name, assignment, (size_t)(eq - assignment));
    name[eq - assignment] = 0;
    return ts_params_set(p, name, eq + 1, err, errlen);
}

static void format_value(const ts_params *p, const param_def *d, char *buf, size_t len)
{
    const void *f = cfield(p, d);
    switch (d->info.kind) {
    case TS_PARAM_UINT: snprintf(buf, len, "%" PRIu32, *(const uint32_t *)f); break;
    case TS_PARAM_DURATION: ts_duration_format(*(const ts_time_t *)f, buf, len); break;
    case TS_PARAM_BOOL: snprintf(buf, len, "%s", *(const bool *)f ? "on" : "off"); break;
    case TS_PARAM_POLICY: snprintf(buf, len, "%.*s", TS_POLICY_NAME_MAX, (const char *)f); break;
    case TS_PARAM_PERCENT: snprintf(buf, len, "%" PRIu32 "%%", *(const uint32_t *)f); break;
    case TS_PARAM_WSCALE:
        if (p->wscale == TS_WSCALE_AUTO)
            snprintf(buf, len, "auto");
        else
            snprintf(buf, len, "%" PRIu32, p->wscale);
        break;
    case TS_PARAM_ISN:
        if (p->isn_fixed)
            snprintf(buf, len, "%" PRIu32, p->isn);
        else
            snprintf(buf, len, "hash");
        break;
    }
}

int ts_params_get(const ts_params *p, const char *name, char *buf, size_t len)
{
    const param_def *d = find_def(name);
    if (!d) return -1;
    if (len) format_value(p, d, buf, len);
    return 0;
}

/* ---- validation ---- */

/* Bound of a UINT or DURATION parameter, as text. */
static void format_bound(const param_def *d, uint64_t v, char *buf, size_t len)
{
    if (d->info.kind == TS_PARAM_DURATION)
        ts_duration_format(v, buf, len);
    else
        snprintf(buf, len, "%" PRIu64, v);
}

static int check_range(const ts_params *p, const param_def *d, char *err, size_t errlen)
{
    const void *f = cfield(p, d);
    uint64_t v;
    if (d->info.kind == TS_PARAM_WSCALE && *(const uint32_t *)f == TS_WSCALE_AUTO) return 0;
    if (d->info.kind == TS_PARAM_UINT || d->info.kind == TS_PARAM_PERCENT ||
        d->info.kind == TS_PARAM_WSCALE)
        v = *(const uint32_t *)f;
    else if (d->info.kind == TS_PARAM_DURATION)
        v = *(const ts_time_t *)f;
    else
        return 0;
    if (v >= d->min && v <= d->max) return 0;
    char val[32], lo[32], hi[32];
    format_bound(d, v, val, sizeof val);
    format_bound(d, d->min, lo, sizeof lo);
    format_bound(d, d->max, hi, sizeof hi);
    snprintf(err, errlen, "%s: %s is out of range %s..%s", d->info.name, val, lo, hi);
    return -1;
}

static int check_policy(const ts_params *p, const param_def *d, char *err, size_t errlen)
{
    const char *name = cfield(p, d);
    char known[64];
    if (d->info.kind != TS_PARAM_POLICY) return 0;
    if (memchr(name, 0, TS_POLICY_NAME_MAX) && policy_known(d->info.name, name)) return 0;
    snprintf(err, errlen, "%s: '%.*s' is not a known policy; choose one of: %s", d->info.name,
             TS_POLICY_NAME_MAX, name, policy_list(d->info.name, known, sizeof known));
    return -1;
}

/* a <= b, or a message saying which to change. */
static int check_order(const char *an, ts_time_t a, const char *bn, ts_time_t b, char *err,
                       size_t errlen)
{
    char as[32], bs[32];
    if (a <= b) return 0;
    snprintf(err, errlen, "%s: %s is above %s (%s); lower %s or raise %s first", an,
             ts_duration_format(a, as, sizeof as), bn, ts_duration_format(b, bs, sizeof bs), an,
             bn);
    return -1;
}

int ts_params_validate(const ts_params *p, char *err, size_t errlen)
{
    /* tick.c models Linux's jiffies and timer wheel, which exist only at these rates */
    if (p->hz != 0 && p->hz != 100 && p->hz != 250 && p->hz != 300 && p->hz != 1000) {
        snprintf(err, errlen,
                 "hz: %" PRIu32
                 " is not a Linux CONFIG_HZ; use 100, 250, 300 or 1000 (0 = exact us)",
                 p->hz);
        return -1;
    }
    for (size_t i = 0; i < NDEFS; i++)
        if (check_range(p, &defs[i], err, errlen) < 0 || check_policy(p, &defs[i], err, errlen) < 0)
            return -1;
    /* RFC 6298 2.4/2.5: the RTO is clamped to [rto_min, rto_max]; rto_init must lie inside. */
    if (check_order("rto_min", p->rto_min, "rto_init", p->rto_init, err, errlen) < 0) return -1;
    if (check_order("rto_init", p->rto_init, "rto_max", p->rto_max, err, errlen) < 0) return -1;
    if (check_order("delack", p->delack, "delack_max", p->delack_max, err, errlen) < 0) return -1;
    return 0;
}

/* ---- when a change takes effect ---- */

/* Every parameter not listed here is "now". */
static const struct {
    const char *name, *when;
} whens[] = {
    {"mss", "syn"},
    {"wscale", "syn"},
    {"wscale_on", "syn"},
    {"sack", "syn"},
    {"timestamps", "syn"},
    {"syn_rto", "timer"},
    {"rto_init", "open"},
    {"rto_fallback", "open"},
    {"time_wait", "timer"},
    {"fin_wait2", "timer"},
    {"keepalive_intvl", "timer"},
    {"hz", "timer"},
    {"timeout_min_ticks", "timer"},
    {"init_cwnd", "open"},
    {"backlog", "listen"},
    {"mem_max", "stack"},
    {"isn", "open"},
};

const char *ts_params_when(const char *name)
{
    if (!find_def(name)) return NULL;
    for (size_t i = 0; i < sizeof whens / sizeof whens[0]; i++)
        if (!strcmp(whens[i].name, name)) return whens[i].when;
    return "now";
}

size_t ts_params_count(void)
{
    return NDEFS;
}

const ts_param_info *ts_params_info(size_t i)
{
    return i < NDEFS ? &defs[i].info : NULL;
}
