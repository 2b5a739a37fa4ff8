/* test_params.c: the parameter table: Linux defaults, profiles, duration text, set/get
 * round trips for every parameter, and every validation error with its exact message. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h" /* the policy registry, to check the name lists against it */
#include "policy_names.h"
#include "tcpsim/params.h"
#include "harness.h"

static char err[256];

/* Every parameter's value as text, to compare whole blocks without memcmp over padding. */
static void assert_same(const ts_params *a, const ts_params *b)
{
    for (size_t i = 0; i < ts_params_count(); i++) {
        const char *n = ts_params_info(i)->name;
        char va[64], vb[64];
        ck_assert_int_eq(ts_params_get(a, n, va, sizeof va), 0);
        ck_assert_int_eq(ts_params_get(b, n, vb, sizeof vb), 0);
        ck_assert_msg(!strcmp(va, vb), "%s: %s != %s", n, va, vb);
    }
}

static void assert_get(const ts_params *p, const char *name, const char *want)
{
    char v[64];
    ck_assert_int_eq(ts_params_get(p, name, v, sizeof v), 0);
    ck_assert_msg(!strcmp(v, want), "%s: got '%s', want '%s'", name, v, want);
}

START_TEST(linux_defaults)
{
    ts_params p;
    ts_params_default(&p);
    ck_assert_uint_eq(p.mss, 1460);
    ck_assert_uint_eq(p.wscale, TS_WSCALE_AUTO);
    ck_assert_uint_eq(ts_params_wscale(&p), 7); /* Linux's shift for its 6 MiB tcp_rmem[2] */
    assert_get(&p, "wscale", "auto");
    ck_assert(p.wscale_on && p.sack && p.timestamps);
    ck_assert_uint_eq(p.syn_rto, 1 * TS_SEC);
    ck_assert_uint_eq(p.syn_retries, 6);
    ck_assert_uint_eq(p.syn_linear, 0);
    ck_assert_uint_eq(p.synack_retries, 5);
    ck_assert_uint_eq(p.backoff, 2);
    ck_assert_uint_eq(p.rto_init, 1 * TS_SEC);
    ck_assert_uint_eq(p.rto_min, 200 * TS_MSEC);
    ck_assert_uint_eq(p.rto_max, 120 * TS_SEC);
    ck_assert_uint_eq(p.rto_fallback, 3 * TS_SEC);
    ck_assert_uint_eq(p.retries2, 15);
    ck_assert_uint_eq(p.orphan_retries, 0); /* Linux's tcp_orphan_retries: 0 means 8 */
    ck_assert_uint_eq(p.user_timeout, 0);
    ck_assert_uint_eq(p.delack, 40 * TS_MSEC);
    ck_assert_uint_eq(p.delack_max, 200 * TS_MSEC);
    ck_assert_uint_eq(p.delack_segs, 2);
    ck_assert(p.quickack && p.nagle && !p.keepalive);
    ck_assert(p.unsent_ack_reply);
    ck_assert_uint_eq(p.time_wait, 60 * TS_SEC);
    ck_assert_uint_eq(p.fin_wait2, 60 * TS_SEC);
    ck_assert_uint_eq(p.keepalive_idle, 7200 * TS_SEC);
    ck_assert_uint_eq(p.keepalive_intvl, 75 * TS_SEC);
    ck_assert_uint_eq(p.keepalive_probes, 9);
    ck_assert_uint_eq(p.init_cwnd, 10);
    ck_assert_uint_eq(p.abc, 1);
    ck_assert_uint_eq(p.rcvbuf, 6291456);
    ck_assert_uint_eq(p.sndbuf, 4194304);
    ck_assert_uint_eq(p.backlog, 128);
    ck_assert_uint_eq(p.max_syn_backlog, 128);
    ck_assert_uint_eq(p.syncookies, 1);
    ck_assert(!p.isn_fixed);
    ck_assert_str_eq(p.rto_policy, "linux");
    ck_assert_str_eq(p.backoff_policy, "exponential");
    ck_assert_str_eq(p.delack_policy, "linux");
    ck_assert_str_eq(p.cc, "newreno");
    ck_assert_str_eq(p.recovery, "sack");
    ck_assert_int_eq(ts_params_validate(&p, err, sizeof err), 0);
}
END_TEST

START_TEST(profiles)
{
    ts_params d, p;
    ts_params_default(&d);
    memset(&p, 0xab, sizeof p);
    ck_assert_int_eq(ts_params_profile(&p, "linux", err, sizeof err), 0);
    assert_same(&p, &d);

    ck_assert_int_eq(ts_params_profile(&p, "linux65", err, sizeof err), 0);
    ck_assert_uint_eq(p.syn_linear, 4);
    ck_assert(!p.unsent_ack_reply); /* Linux 6.5 drops an ACK of unsent data silently */
    p.syn_linear = 0;
    p.unsent_ack_reply = true;
    assert_same(&p, &d);

    ck_assert_int_eq(ts_params_profile(&p, "rfc", err, sizeof err), 0);
    ck_assert_str_eq(p.rto_policy, "rfc6298");
    ck_assert_uint_eq(p.rto_min, 1 * TS_SEC);
    ck_assert_uint_eq(p.delack, 200 * TS_MSEC);
    ck_assert_uint_eq(p.delack_max, 500 * TS_MSEC);
    ck_assert_uint_eq(p.time_wait, 240 * TS_SEC);
    ck_assert(!p.quickack);
    ck_assert_uint_eq(p.syn_retries, 6);

    ck_assert_int_eq(ts_params_profile(&p, "textbook", err, sizeof err), 0);
    ck_assert_uint_eq(p.syn_retries, 4); /* the chapter: 5 SYNs, giving up about 31 s in */
    p.syn_retries = 6;
    assert_same(&p, &d); /* a profile starts from the defaults, nothing left from "rfc" */

    ck_assert_int_eq(ts_params_profile(&p, "packetdrill", err, sizeof err), 0);
    ck_assert_uint_eq(p.wscale, 8);
    ck_assert_uint_eq(p.rcvbuf, 15728640);
    ck_assert_uint_eq(p.syn_retries, 5);
    ck_assert_str_eq(p.cc, "cubic"); /* Linux's default congestion control */
    ck_assert(!p.unsent_ack_reply);  /* the scripts predate the 2026 reply */
    ck_assert_uint_eq(p.abc, 0);     /* Linux's slow start */

    int n = 0;
    for (const char *const *name = ts_params_profiles(); *name; name++, n++)
        ck_assert_int_eq(ts_params_profile(&p, *name, err, sizeof err), 0);
    ck_assert_int_eq(n, 5);
}
END_TEST

START_TEST(unknown_profile)
{
    ts_params p, before;
    ts_params_default(&p);
    p.mss = 1000;
    before = p;
    ck_assert_int_eq(ts_params_profile(&p, "bsd", err, sizeof err), -1);
    ck_assert_str_eq(err, "unknown profile 'bsd'; known: linux rfc textbook linux65 packetdrill");
    assert_same(&p, &before);
}
END_TEST

START_TEST(duration_parse)
{
    static const struct {
        const char *text;
        ts_time_t want;
    } ok[] = {
        {"0", 0},
        {"40us", 40},
        {"200ms", 200 * TS_MSEC},
        {"1s", TS_SEC},
        {"1.5s", 1500 * TS_MSEC},
        {"2m", 120 * TS_SEC},
        {"3", 3 * TS_SEC},
        {"0.25", 250 * TS_MSEC},
        {"1.5ms", 1500},
        {"0.000001s", 1},
        {"7200s", 7200 * TS_SEC},
        {"0ms", 0},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ts_time_t t = 12345;
        ck_assert_msg(ts_duration_parse(ok[i].text, &t) == 0, "%s", ok[i].text);
        ck_assert_uint_eq(t, ok[i].want);
    }
    static const char *const bad[] = {
        "",    "-1s", "1.5us",      "s",   "1x",           "1 s",           ".5s", "1.", "1e3",
        " 1s", "1s ", "0.0000001s", "+1s", "99999999999s", "1.0000000000s", "1ss", NULL};
    for (const char *const *b = bad; *b; b++) {
        ts_time_t t = 77;
        ck_assert_msg(ts_duration_parse(*b, &t) == -1, "'%s' accepted", *b);
        ck_assert_uint_eq(t, 77);
    }
    ts_time_t t;
    ck_assert_int_eq(ts_duration_parse(NULL, &t), -1);
}
END_TEST

START_TEST(duration_format)
{
    static const struct {
        ts_time_t t;
        const char *want;
    } f[] = {
        {0, "0"},
        {40, "40us"},
        {40 * TS_MSEC, "40ms"},
        {1500, "1.5ms"},
        {TS_SEC, "1s"},
        {1500 * TS_MSEC, "1.5s"},
        {120 * TS_SEC, "120s"},
        {TS_SEC + 1, "1.000001s"},
        {1250 * TS_MSEC, "1.25s"},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        char buf[32];
        ck_assert_str_eq(ts_duration_format(f[i].t, buf, sizeof buf), f[i].want);
        ts_time_t back;
        ck_assert_int_eq(ts_duration_parse(buf, &back), 0);
        ck_assert_uint_eq(back, f[i].t);
    }
}
END_TEST

/* A valid non-default value for every parameter, and how get prints it back. */
static const struct {
    const char *name, *value, *shown;
} round_trip[] = {
    {"mss", "536", "536"},
    {"wscale", "14", "14"},
    {"wscale_on", "off", "off"},
    {"sack", "no", "off"},
    {"dsack", "off", "off"},
    {"timestamps", "false", "off"},
    {"syn_rto", "1500ms", "1.5s"},
    {"syn_retries", "4", "4"},
    {"syn_linear", "4", "4"},
    {"synack_retries", "2", "2"},
    {"backoff", "3", "3"},
    {"backoff_jitter", "10%", "10%"},
    {"rto_init", "2s", "2s"},
    {"rto_min", "1s", "1s"},
    {"rto_max", "60", "60s"},
    {"rto_fallback", "1s", "1s"},
    {"rto_g", "100ms", "100ms"},
    {"karn", "off", "off"},
    {"retries2", "8", "8"},
    {"orphan_retries", "3", "3"},
    {"tlp", "off", "off"},
    {"frto", "yes", "on"},
    {"eifel", "0", "off"},
    {"dsack_undo", "true", "on"},
    {"user_timeout", "30s", "30s"},
    {"delack", "0", "0"},
    {"delack_max", "500ms", "500ms"},
    {"delack_segs", "1", "1"},
    {"quickack", "0", "off"},
    {"nagle", "off", "off"},
    {"time_wait", "240s", "240s"},
    {"fin_wait2", "2m", "120s"},
    {"keepalive", "yes", "on"},
    {"keepalive_idle", "10s", "10s"},
    {"keepalive_intvl", "40us", "40us"},
    {"keepalive_probes", "3", "3"},
    {"hz", "250", "250"},
    {"timeout_min_ticks", "on", "on"},
    {"init_cwnd", "4", "4"},
    {"abc", "2", "2"},
    {"hystart", "on", "on"},
    {"hystart_detect", "3", "3"},
    {"unsent_ack_reply", "no", "off"},
    {"invalid_ratelimit", "250ms", "250ms"},
    {"limited_transmit", "off", "off"},
    {"rcvbuf", "65536", "65536"},
    {"sndbuf", "1073741824", "1073741824"},
    {"mem_max", "4194304", "4194304"},
    {"backlog", "1", "1"},
    {"max_syn_backlog", "1024", "1024"},
    {"syncookies", "2", "2"},
    {"isn", "3841401858", "3841401858"},
    {"rto_policy", "rfc6298", "rfc6298"},
    {"backoff_policy", "exponential", "exponential"},
    {"delack_policy", "linux", "linux"},
    {"cc", "cubic", "cubic"},
    {"recovery", "newreno", "newreno"},
};

START_TEST(set_get_every_parameter)
{
    size_t n = sizeof round_trip / sizeof round_trip[0];
    ck_assert_uint_eq(ts_params_count(), n);
    ts_params p;
    ts_params_default(&p);
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_eq(ts_params_info(i)->name, round_trip[i].name); /* same order */
        ck_assert_ptr_nonnull(ts_params_info(i)->help);
        ck_assert_msg(ts_params_set(&p, round_trip[i].name, round_trip[i].value, err, sizeof err) ==
                          0,
                      "%s: %s", round_trip[i].name, err);
        assert_get(&p, round_trip[i].name, round_trip[i].shown);
        /* get's text sets the same value again */
        char v[64];
        ts_params_get(&p, round_trip[i].name, v, sizeof v);
        ck_assert_int_eq(ts_params_set(&p, round_trip[i].name, v, err, sizeof err), 0);
        assert_get(&p, round_trip[i].name, round_trip[i].shown);
    }
    ck_assert_ptr_null(ts_params_info(n));
    ck_assert(p.isn_fixed);
    ck_assert_uint_eq(p.isn, 3841401858u);
    ck_assert_int_eq(ts_params_set(&p, "isn", "hash", err, sizeof err), 0);
    ck_assert(!p.isn_fixed);
    assert_get(&p, "isn", "hash");
    char v[8];
    ck_assert_int_eq(ts_params_get(&p, "nope", v, sizeof v), -1);
}
END_TEST

START_TEST(set_kv)
{
    ts_params p;
    ts_params_default(&p);
    ck_assert_int_eq(ts_params_set_kv(&p, "rto_min=300ms", err, sizeof err), 0);
    ck_assert_uint_eq(p.rto_min, 300 * TS_MSEC);
    ck_assert_int_eq(ts_params_set_kv(&p, "rto_min", err, sizeof err), -1);
    ck_assert_str_eq(err, "'rto_min' is not NAME=VALUE; write e.g. rto_min=200ms");
    ck_assert_int_eq(ts_params_set_kv(&p, "=1", err, sizeof err), -1);
    ck_assert_int_eq(ts_params_set_kv(&p, "foo=1", err, sizeof err), -1);
    ck_assert_str_eq(err, "unknown parameter 'foo'; 'tcpsim params' lists them");
    ck_assert_int_eq(ts_params_set_kv(&p, "mss=", err, sizeof err), -1);
    ck_assert_str_eq(err, "mss: '' is not a whole number; use one in 88..65455");
}
END_TEST

/* Each rejected setting, on the defaults, with its exact one-line message. */
static const struct {
    const char *name, *value, *msg;
} rejects[] = {
    {"foo", "1", "unknown parameter 'foo'; 'tcpsim params' lists them"},
    {"mss", "87", "mss: 87 is out of range 88..65455"},
    {"mss", "65456", "mss: 65456 is out of range 88..65455"},
    {"mss", "abc", "mss: 'abc' is not a whole number; use one in 88..65455"},
    {"mss", "-5", "mss: '-5' is not a whole number; use one in 88..65455"},
    {"mss", "99999999999", "mss: 99999999999 is out of range 88..65455"},
    {"wscale", "15", "wscale: 15 is out of range 0..14"},
    {"wscale", "big", "wscale: 'big' is neither 'auto' nor a shift 0..14"},
    {"syn_retries", "128", "syn_retries: 128 is out of range 0..127"},
    {"synack_retries", "128", "synack_retries: 128 is out of range 0..127"},
    {"syn_linear", "128", "syn_linear: 128 is out of range 0..127"},
    {"backoff", "0", "backoff: 0 is out of range 1..16"},
    {"backoff", "17", "backoff: 17 is out of range 1..16"},
    {"rto_min", "0", "rto_min: 0 is out of range 1us..3600s"},
    {"rto_min", "2s", "rto_min: 2s is above rto_init (1s); lower rto_min or raise rto_init first"},
    {"rto_init", "100ms",
     "rto_min: 200ms is above rto_init (100ms); lower rto_min or raise rto_init first"},
    {"rto_init", "121s",
     "rto_init: 121s is above rto_max (120s); lower rto_init or raise rto_max first"},
    {"rto_max", "500ms",
     "rto_init: 1s is above rto_max (500ms); lower rto_init or raise rto_max first"},
    {"rto_max", "3601s", "rto_max: 3601s is out of range 1us..3600s"},
    {"syn_rto", "0", "syn_rto: 0 is out of range 1us..3600s"},
    {"syn_rto", "-1s", "syn_rto: '-1s' is negative; durations are 0 or more, e.g. 200ms, 1s"},
    {"syn_rto", "1h",
     "syn_rto: '1h' is not a duration; use e.g. 40us, 200ms, 1.5s, 2m (bare number = s)"},
    {"delack", "300ms",
     "delack: 300ms is above delack_max (200ms); lower delack or raise delack_max first"},
    {"delack_max", "501ms", "delack_max: 501ms is out of range 0..500ms"},
    {"delack_max", "30ms",
     "delack: 40ms is above delack_max (30ms); lower delack or raise delack_max first"},
    {"delack_segs", "0", "delack_segs: 0 is out of range 1..64"},
    {"delack_segs", "65", "delack_segs: 65 is out of range 1..64"},
    {"init_cwnd", "0", "init_cwnd: 0 is out of range 1..1000"},
    {"init_cwnd", "1001", "init_cwnd: 1001 is out of range 1..1000"},
    {"rcvbuf", "4095", "rcvbuf: 4095 is out of range 4096..1073741824"},
    {"sndbuf", "1073741825", "sndbuf: 1073741825 is out of range 4096..1073741824"},
    {"backlog", "0", "backlog: 0 is out of range 1..65535"},
    {"backlog", "65536", "backlog: 65536 is out of range 1..65535"},
    {"max_syn_backlog", "0", "max_syn_backlog: 0 is out of range 1..65535"},
    {"syncookies", "3", "syncookies: 3 is out of range 0..2"},
    {"keepalive_probes", "0", "keepalive_probes: 0 is out of range 1..255"},
    {"keepalive_probes", "256", "keepalive_probes: 256 is out of range 1..255"},
    {"sack", "maybe", "sack: 'maybe' is not a boolean; use on, off, true, false, yes, no, 1 or 0"},
    {"cc", "cubc", "cc: 'cubc' is not a known policy; choose one of: newreno reno cubic"},
    {"rto_policy", "bsd",
     "rto_policy: 'bsd' is not a known policy; choose one of: linux rfc6298 fixed"},
    {"backoff_policy", "fibonacci",
     "backoff_policy: 'fibonacci' is not a known policy; choose one of: exponential linear "
     "constant"},
    {"backoff_jitter", "101", "backoff_jitter: 101 is out of range 0..100"},
    {"backoff_jitter", "10%%",
     "backoff_jitter: '10%%' is not a percentage; use e.g. 10% or 10 (0..100)"},
    {"backoff_jitter", "-5%",
     "backoff_jitter: '-5%' is not a percentage; use e.g. 10% or 10 (0..100)"},
    {"rto_g", "0", "rto_g: 0 is out of range 1us..3600s"},
    {"delack_policy", "x",
     "delack_policy: 'x' is not a known policy; choose one of: linux fixed bsd every"},
    {"recovery", "rack", "recovery: 'rack' is not a known policy; choose one of: sack newreno"},
    {"isn", "4294967296", "isn: '4294967296' is neither 'hash' nor a number 0..4294967295"},
    {"isn", "-1", "isn: '-1' is neither 'hash' nor a number 0..4294967295"},
};

START_TEST(validation_errors)
{
    for (size_t i = 0; i < sizeof rejects / sizeof rejects[0]; i++) {
        ts_params p, before;
        ts_params_default(&p);
        before = p;
        err[0] = 0;
        ck_assert_msg(ts_params_set(&p, rejects[i].name, rejects[i].value, err, sizeof err) == -1,
                      "%s=%s accepted", rejects[i].name, rejects[i].value);
        ck_assert_str_eq(err, rejects[i].msg);
        ck_assert_ptr_null(strchr(err, '\n'));
        assert_same(&p, &before); /* a failed set changes nothing */
    }
}
END_TEST

START_TEST(validate_block)
{
    ts_params p;
    ts_params_default(&p);
    p.wscale = 15;
    ck_assert_int_eq(ts_params_validate(&p, err, sizeof err), -1);
    ck_assert_str_eq(err, "wscale: 15 is out of range 0..14");
    ts_params_default(&p);
    p.rto_min = 0;
    ck_assert_int_eq(ts_params_validate(&p, err, sizeof err), -1);
    ts_params_default(&p);
    memcpy(p.cc, "0123456789abcdef", TS_POLICY_NAME_MAX); /* no terminator */
    ck_assert_int_eq(ts_params_validate(&p, err, sizeof err), -1);
    ck_assert_str_eq(err, "cc: '0123456789abcdef' is not a known policy; choose one of: newreno "
                          "reno cubic");
    /* order matters only through validation: raise rto_init first, then rto_min */
    ts_params_default(&p);
    ck_assert_int_eq(ts_params_set(&p, "rto_init", "3s", err, sizeof err), 0);
    ck_assert_int_eq(ts_params_set(&p, "rto_min", "2s", err, sizeof err), 0);
}
END_TEST

START_TEST(policy_names)
{
    const char *const *n = ts_policy_names("rto_policy");
    ck_assert_ptr_nonnull(n);
    ck_assert_str_eq(n[0], "linux");
    ck_assert_str_eq(n[1], "rfc6298");
    ck_assert_str_eq(n[2], "fixed");
    ck_assert_ptr_null(n[3]);
    ck_assert_str_eq(ts_policy_names("cc")[1], "reno");
    ck_assert_str_eq(ts_policy_names("cc")[2], "cubic");
    ck_assert_str_eq(ts_policy_names("backoff_policy")[0], "exponential");
    ck_assert_str_eq(ts_policy_names("backoff_policy")[1], "linear");
    ck_assert_str_eq(ts_policy_names("backoff_policy")[2], "constant");
    ck_assert_str_eq(ts_policy_names("delack_policy")[0], "linux");
    /* every accepted name resolves in the core's registry */
    for (n = ts_policy_names("rto_policy"); *n; n++) ck_assert_ptr_nonnull(ts_rto_find(*n));
    for (n = ts_policy_names("backoff_policy"); *n; n++) ck_assert_ptr_nonnull(ts_backoff_find(*n));
    for (n = ts_policy_names("delack_policy"); *n; n++) ck_assert_ptr_nonnull(ts_delack_find(*n));
    for (n = ts_policy_names("cc"); *n; n++) ck_assert_ptr_nonnull(ts_cc_find(*n));
    ck_assert_str_eq(ts_policy_names("recovery")[0], "sack");
    ck_assert_str_eq(ts_policy_names("recovery")[1], "newreno");
    ck_assert_ptr_null(ts_policy_names("recovery")[2]);
    /* the table `tcpsim params` prints: every policy of every kind, each with a source */
    size_t total = 0;
    const char *kinds[] = {"rto_policy", "backoff_policy", "delack_policy", "cc", "recovery"};
    for (size_t k = 0; k < 5; k++)
        for (n = ts_policy_names(kinds[k]); *n; n++) total++;
    ck_assert_uint_eq(ts_policies_count(), total);
    for (size_t i = 0; i < ts_policies_count(); i++) {
        const ts_policy_info *pi = ts_policies_info(i);
        ck_assert_ptr_nonnull(ts_policy_names(pi->kind));
        ck_assert_uint_gt(strlen(pi->source), 10);
    }
    ck_assert_ptr_null(ts_policies_info(ts_policies_count()));
    ck_assert_ptr_null(ts_policy_names("mss"));
    ck_assert_ptr_null(ts_policy_names(NULL));
}
END_TEST

/* wscale=auto: Linux's tcp_select_initial_window() halves the buffer until it fits 16
 * bits; a number set explicitly wins whatever rcvbuf is, and "auto" brings the choice back. */
START_TEST(wscale_auto_follows_rcvbuf)
{
    static const struct {
        uint32_t rcvbuf, shift;
    } cases[] = {
        {4096, 0},    {65535, 0},    {65536, 1},    {131070, 1},   {131072, 2},
        {6291456, 7}, {15728640, 8}, {16777216, 9}, {16776960, 8}, {1073741824, 14},
    };
    char e[128];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ts_params p;
        ts_params_default(&p);
        p.rcvbuf = cases[i].rcvbuf;
        ck_assert_msg(ts_params_wscale(&p) == cases[i].shift, "rcvbuf %u: shift %u, want %u",
                      cases[i].rcvbuf, ts_params_wscale(&p), cases[i].shift);
    }
    ts_params p;
    ts_params_default(&p);
    ck_assert_int_eq(ts_params_set(&p, "rcvbuf", "16777216", e, sizeof e), 0);
    ck_assert_int_eq(ts_params_set(&p, "wscale", "7", e, sizeof e), 0);
    ck_assert_uint_eq(ts_params_wscale(&p), 7);
    assert_get(&p, "wscale", "7");
    ck_assert_int_eq(ts_params_set(&p, "wscale", "auto", e, sizeof e), 0);
    ck_assert_uint_eq(ts_params_wscale(&p), 9);
    assert_get(&p, "wscale", "auto");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("params");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, linux_defaults);
    tcase_add_test(tc, wscale_auto_follows_rcvbuf);
    tcase_add_test(tc, profiles);
    tcase_add_test(tc, unknown_profile);
    tcase_add_test(tc, duration_parse);
    tcase_add_test(tc, duration_format);
    tcase_add_test(tc, set_get_every_parameter);
    tcase_add_test(tc, set_kv);
    tcase_add_test(tc, validation_errors);
    tcase_add_test(tc, validate_block);
    tcase_add_test(tc, policy_names);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
