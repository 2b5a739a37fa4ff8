/* test_tcp_malformed.c: hand-built malformed packets fed straight to one stack: every IPv4,
 * ICMP and TCP problem the core checks, each dropped and counted under exactly one reason,
 * with nothing sent back (except where RFC 9293 says a RST answers). Every packet sits at
 * the very end of a malloc'd block of its exact length (h_inject), so the ASan build proves
 * nothing is read past it. Then RFC 5961 (RST and SYN in synchronized states, challenge-ACK
 * rate limit) and PAWS (RFC 7323 5) on an established connection. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "harness.h"

#define PORT 80

static harness *listening_b_with(const ts_params *pb)
{
    harness *h = h_new(NULL, pb);
    int l = ts_socket(h->st[H_B]);
    ck_assert_int_ge(l, 0);
    ck_assert_int_eq(ts_bind(h->st[H_B], l, 0, PORT), 0);
    ck_assert_int_eq(ts_listen(h->st[H_B], l, 8), 0);
    return h;
}

static harness *listening_b(void)
{
    return listening_b_with(NULL);
}

/* A SYN from A to B's listener with the given options. */
static size_t syn_pkt(uint8_t *buf, const uint8_t *opt, size_t optlen, uint8_t flags)
{
    h_seg g = {.src = H_ADDR_A,
               .dst = H_ADDR_B,
               .sport = 40000,
               .dport = PORT,
               .seq = 1000,
               .flags = flags,
               .win = 64240,
               .opt = opt,
               .optlen = optlen};
    return h_build(buf, &g);
}

/* Inject into B and expect exactly one drop, counted under `reason`, and no reply (or a
 * single RST when rst is set). */
static void expect_drop(harness *h, const uint8_t *pkt, size_t len, ts_drop_reason reason, bool rst)
{
    ts_counters before = *ts_stack_counters(h->st[H_B]);
    size_t nlog = h_nlog(h);
    h_inject(h, H_B, pkt, len);
    const ts_counters *after = ts_stack_counters(h->st[H_B]);
    for (int r = 0; r < TS_DROP_NUM_REASONS; r++) {
        uint64_t want = before.drops[r] + (r == (int)reason ? 1 : 0);
        ck_assert_msg(after->drops[r] == want, "drop reason %s: %llu, want %llu (packet for %s)",
                      ts_drop_reason_name((ts_drop_reason)r), (unsigned long long)after->drops[r],
                      (unsigned long long)want, ts_drop_reason_name(reason));
    }
    ck_assert_uint_eq(after->ip_in, before.ip_in + 1);
    if (rst) {
        ck_assert_uint_eq(h_nlog(h), nlog + 1);
        ck_assert(h->log[nlog].flags & TS_TH_RST);
    } else {
        if (h_nlog(h) != nlog) h_dump(h);
        ck_assert_uint_eq(h_nlog(h), nlog);
    }
    ck_assert_uint_eq(after->conns_by_state[TS_SYN_RECEIVED], 0);
}

/* ---- IPv4 ---- */

START_TEST(ip_malformed)
{
    harness *h = listening_b();
    uint8_t ok[1600], p[1600];
    size_t len = syn_pkt(ok, NULL, 0, TS_TH_SYN);
    uint64_t ck0 = ts_stack_counters(h->st[H_B])->checksum_errors;

    expect_drop(h, ok, 0, TS_DROP_IP_SHORT, false);
    expect_drop(h, ok, 19, TS_DROP_IP_SHORT, false);

    memcpy(p, ok, len);
    p[0] = 0x65; /* version 6 */
    h_fix_csums(p, len, true);
    expect_drop(h, p, len, TS_DROP_IP_VERSION, false);

    memcpy(p, ok, len);
    p[0] = 0x44; /* IHL 4: 16 bytes, shorter than the fixed header */
    expect_drop(h, p, len, TS_DROP_IP_HDRLEN, false);
    memcpy(p, ok, len);
    p[0] = 0x4f; /* IHL 15 = 60 bytes, but only 24 bytes in the buffer */
    expect_drop(h, p, 24, TS_DROP_IP_HDRLEN, false);

    memcpy(p, ok, len);
    p[2] = 0, p[3] = (uint8_t)(len + 1); /* total length past the buffer */
    h_fix_csums(p, len, false);
    expect_drop(h, p, len, TS_DROP_IP_TOTLEN, false);
    memcpy(p, ok, len);
    p[2] = 0, p[3] = 19; /* total length below the header length */
    h_fix_csums(p, len, false);
    expect_drop(h, p, len, TS_DROP_IP_TOTLEN, false);

    memcpy(p, ok, len);
    p[10] ^= 0x55; /* header checksum */
    expect_drop(h, p, len, TS_DROP_IP_CHECKSUM, false);
    ck_assert_uint_eq(ts_stack_counters(h->st[H_B])->checksum_errors, ck0 + 1);

    memcpy(p, ok, len);
    p[19] = 200; /* 10.0.0.200: not us */
    h_fix_csums(p, len, true);
    expect_drop(h, p, len, TS_DROP_IP_DEST, false);

    memcpy(p, ok, len);
    p[6] = 0x20; /* MF, offset 0: a first fragment */
    h_fix_csums(p, len, false);
    expect_drop(h, p, len, TS_DROP_IP_FRAGMENT, false);
    memcpy(p, ok, len);
    p[6] = 0x00, p[7] = 0x10; /* offset 16 (128 bytes), no MF: a last fragment */
    h_fix_csums(p, len, false);
    expect_drop(h, p, len, TS_DROP_IP_FRAGMENT, false);

    memcpy(p, ok, len);
    p[9] = 17; /* UDP */
    h_fix_csums(p, len, false);
    expect_drop(h, p, len, TS_DROP_IP_PROTO, false);

    /* a packet longer than its total length (Ethernet padding) is fine: trailing bytes
     * are ignored, so this SYN is answered */
    memcpy(p, ok, len);
    p[len] = 0xee;
    h_inject(h, H_B, p, len + 1);
    ck_assert_uint_eq(h_nlog(h), 1);
    ck_assert_uint_eq(h->log[0].flags, TS_TH_SYN | TS_TH_ACK);
    h_free(h);
}
END_TEST

/* ---- ICMP ---- */

static size_t icmp_pkt(uint8_t *buf, uint8_t type, const uint8_t *body, size_t blen)
{
    size_t len = 20 + 8 + blen;
    memset(buf, 0, 28);
    buf[0] = 0x45;
    buf[2] = (uint8_t)(len >> 8), buf[3] = (uint8_t)len;
    buf[4] = 0x12, buf[5] = 0x34;
    buf[8] = 64;
    buf[9] = 1;
    uint32_t src = H_ADDR_A, dst = H_ADDR_B;
    for (int i = 0; i < 4; i++) {
        buf[12 + i] = (uint8_t)(src >> (24 - 8 * i));
        buf[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
    }
    uint8_t *ic = buf + 20;
    ic[0] = type;
    ic[4] = 0x0b, ic[5] = 0xad; /* id */
    ic[6] = 0x00, ic[7] = 0x07; /* seq */
    if (blen) memcpy(ic + 8, body, blen);
    uint16_t c = ts_csum(ic, 8 + blen);
    ic[2] = (uint8_t)(c >> 8), ic[3] = (uint8_t)c;
    h_fix_csums(buf, len, false);
    return len;
}

START_TEST(icmp_malformed_and_echo)
{
    harness *h = listening_b();
    uint8_t p[1600];
    const uint8_t body[] = "abcdefghijklmnopqrstuvwxyz0123456789!"; /* odd length: 38 */
    size_t len = icmp_pkt(p, 8, body, sizeof body);

    /* a 4-byte ICMP message */
    uint8_t s[24];
    memcpy(s, p, 24);
    s[2] = 0, s[3] = 24;
    h_fix_csums(s, 24, false);
    expect_drop(h, s, 24, TS_DROP_ICMP_SHORT, false);

    uint8_t bad[1600];
    memcpy(bad, p, len);
    bad[30] ^= 1; /* payload byte changed, checksum not */
    expect_drop(h, bad, len, TS_DROP_ICMP_CHECKSUM, false);

    size_t rlen = icmp_pkt(bad, 0, body, sizeof body); /* an echo reply is not handled */
    expect_drop(h, bad, rlen, TS_DROP_ICMP_TYPE, false);
    rlen = icmp_pkt(bad, 13, body, sizeof body); /* timestamp request */
    expect_drop(h, bad, rlen, TS_DROP_ICMP_TYPE, false);

    /* the echo request: exactly one echo reply, same id/seq/data, addresses swapped */
    h_inject(h, H_B, p, len);
    ck_assert_uint_eq(h_nlog(h), 1);
    const h_pkt *r = &h->log[0];
    ck_assert_uint_eq(r->len, len);
    ck_assert_uint_eq(r->data[0], 0x45);
    ck_assert_uint_eq(r->data[8], 64); /* TTL */
    ck_assert_uint_eq(r->data[9], 1);
    ck_assert_int_eq(memcmp(r->data + 12, p + 16, 4), 0);
    ck_assert_int_eq(memcmp(r->data + 16, p + 12, 4), 0);
    ck_assert_uint_eq(ts_csum(r->data, 20), 0);
    ck_assert_uint_eq(ts_csum(r->data + 20, len - 20), 0);
    ck_assert_uint_eq(r->data[20], 0); /* echo reply */
    ck_assert_uint_eq(r->data[21], 0);
    ck_assert_int_eq(memcmp(r->data + 24, p + 24, len - 24), 0); /* id, seq, data */
    ck_assert_ptr_nonnull(strstr(r->line, "ICMP echo reply, id 2989, seq 7"));
    const ts_counters *c = ts_stack_counters(h->st[H_B]);
    ck_assert_uint_eq(c->icmp_echo_in, 1);
    ck_assert_uint_eq(c->icmp_echo_out, 1);
    h_free(h);
}
END_TEST

/* ---- TCP header ---- */

START_TEST(tcp_header_malformed)
{
    harness *h = listening_b();
    uint8_t ok[1600], p[1600];
    size_t len = syn_pkt(ok, NULL, 0, TS_TH_SYN);

    /* 19 bytes of TCP header */
    memcpy(p, ok, 39);
    p[2] = 0, p[3] = 39;
    h_fix_csums(p, 39, false);
    expect_drop(h, p, 39, TS_DROP_TCP_SHORT, false);
    /* an IP header with nothing after it */
    memcpy(p, ok, 20);
    p[2] = 0, p[3] = 20;
    h_fix_csums(p, 20, false);
    expect_drop(h, p, 20, TS_DROP_TCP_SHORT, false);

    memcpy(p, ok, len);
    p[32] = 4 << 4; /* data offset 4 */
    h_fix_csums(p, len, true);
    expect_drop(h, p, len, TS_DROP_TCP_HDRLEN, false);
    memcpy(p, ok, len);
    p[32] = 6 << 4; /* data offset 6 = 24 bytes, only 20 present */
    h_fix_csums(p, len, true);
    expect_drop(h, p, len, TS_DROP_TCP_HDRLEN, false);
    memcpy(p, ok, len);
    p[32] = 15 << 4;
    h_fix_csums(p, len, true);
    expect_drop(h, p, len, TS_DROP_TCP_HDRLEN, false);

    memcpy(p, ok, len);
    p[36] ^= 0x40; /* TCP checksum */
    uint64_t ck0 = ts_stack_counters(h->st[H_B])->checksum_errors;
    expect_drop(h, p, len, TS_DROP_TCP_CHECKSUM, false);
    ck_assert_uint_eq(ts_stack_counters(h->st[H_B])->checksum_errors, ck0 + 1);

    /* impossible flag combinations (RFC 9293 3.10.7; Linux drops SYN+RST and SYN+FIN) */
    len = syn_pkt(p, NULL, 0, TS_TH_SYN | TS_TH_RST);
    expect_drop(h, p, len, TS_DROP_TCP_FLAGS, false);
    len = syn_pkt(p, NULL, 0, TS_TH_SYN | TS_TH_FIN);
    expect_drop(h, p, len, TS_DROP_TCP_FLAGS, false);
    len = syn_pkt(p, NULL, 0, TS_TH_SYN | TS_TH_FIN | TS_TH_ACK);
    expect_drop(h, p, len, TS_DROP_TCP_FLAGS, false);

    /* a segment for a port nobody listens on: counted and answered with a RST */
    len = syn_pkt(p, NULL, 0, TS_TH_SYN);
    p[22] = 0, p[23] = 81;
    h_fix_csums(p, len, true);
    expect_drop(h, p, len, TS_DROP_TCP_NO_SOCKET, true);
    h_free(h);
}
END_TEST

/* ---- TCP options: each malformed kind is dropped before any state is created ---- */

typedef struct bad_opt {
    const char *what;
    uint8_t len;
    uint8_t b[40];
} bad_opt;

static const bad_opt bad_opts[] = {
    {"length 0", 4, {2, 0, 5, 180}},
    {"length 1", 4, {1, 1, 9, 1}},
    {"unknown kind, length 1", 4, {1, 1, 30, 1}},
    {"kind without a length byte", 4, {1, 1, 1, 2}},
    {"TS running past the end", 4, {1, 1, 8, 10}},
    {"unknown kind running past the end", 4, {1, 1, 30, 6}},
    {"MSS length 3", 4, {2, 3, 5, 1}},
    {"MSS length 5", 8, {2, 5, 5, 180, 0, 1, 1, 0}},
    {"WS length 2", 4, {3, 2, 1, 1}},
    {"WS length 4", 4, {3, 4, 7, 0}},
    {"SACK-permitted length 3", 4, {4, 3, 0, 1}},
    {"SACK-permitted length 4", 4, {4, 4, 0, 0}},
    {"SACK length 2 (no block)", 4, {5, 2, 1, 1}},
    {"SACK length 6", 8, {5, 6, 0, 0, 0, 1, 1, 1}},
    {"SACK length 12", 12, {5, 12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0}},
    {"SACK, 4 blocks, running past the end", 32, {1, 1, 5, 34}},
    {"TS length 8", 8, {8, 8, 0, 0, 0, 1, 0, 0}},
    {"TS length 12", 12, {8, 12, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1}},
    {"good MSS then WS length 0", 8, {2, 4, 5, 180, 3, 0, 0, 0}},
};

START_TEST(tcp_options_malformed)
{
    const bad_opt *o = &bad_opts[_i];
    harness *h = listening_b();
    uint8_t p[1600];
    size_t len = syn_pkt(p, o->b, o->len, TS_TH_SYN);
    ts_counters before = *ts_stack_counters(h->st[H_B]);
    h_inject(h, H_B, p, len);
    const ts_counters *after = ts_stack_counters(h->st[H_B]);
    ck_assert_msg(after->drops[TS_DROP_TCP_OPTIONS] == before.drops[TS_DROP_TCP_OPTIONS] + 1,
                  "options '%s' not dropped as malformed", o->what);
    ck_assert_msg(h_nlog(h) == 0, "options '%s' were answered", o->what);
    expect_drop(h, p, len, TS_DROP_TCP_OPTIONS, false); /* and again, counted again */
    h_free(h);
}
END_TEST

START_TEST(tcp_options_sane_are_accepted)
{
    /* EOL ends the list early (whatever follows is padding); unknown kinds are skipped */
    harness *h = listening_b();
    const uint8_t opt[] = {2, 4, 5, 180, 30, 4, 9, 9, 0, 77, 88, 99};
    uint8_t p[1600];
    size_t len = syn_pkt(p, opt, sizeof opt, TS_TH_SYN);
    h_inject(h, H_B, p, len);
    ck_assert_uint_eq(h_nlog(h), 1);
    ck_assert_uint_eq(h->log[0].flags, TS_TH_SYN | TS_TH_ACK);
    ck_assert_uint_eq(h->log[0].ack, 1001);
    /* no SACK-perm, TS or WS offered: the SYN-ACK offers only MSS */
    ck_assert_ptr_nonnull(strstr(h->log[0].line, "options [mss 1460], length 0"));
    h_free(h);
}
END_TEST

/* ---- RFC 5961 and PAWS on an established connection ---- */

typedef struct est {
    harness *h;
    int csd, ssd;
} est;

/* A connection from A to B's listener; pb: B's parameters (NULL: the defaults). */
static est establish_with(const ts_params *pb)
{
    est e;
    e.h = listening_b_with(pb);
    e.h->delay = 1 * TS_MSEC;
    e.csd = ts_socket(e.h->st[H_A]);
    ck_assert_int_eq(ts_connect(e.h->st[H_A], e.csd, H_ADDR_B, PORT), -EINPROGRESS);
    h_run_until(e.h, 100 * TS_MSEC);
    e.ssd = ts_accept(e.h->st[H_B], 0, NULL);
    ck_assert_int_ge(e.ssd, 0);
    ck_assert(ts_sock_events(e.h->st[H_A], e.csd) & TS_SOCK_CONNECTED);
    return e;
}

static est establish(void)
{
    return establish_with(NULL);
}

/* A segment from A's socket to B as A would send it now (seq = A's SND.NXT + dseq). */
static size_t from_a(est *e, uint8_t *buf, int32_t dseq, uint8_t flags, const uint8_t *opt,
                     size_t optlen, const char *data)
{
    return h_build_as(e->h, H_A, e->csd, buf, dseq, flags, opt, optlen, data);
}

static uint32_t b_snd_nxt(est *e)
{
    ts_tcp_info b;
    ck_assert_int_eq(ts_sock_info(e->h->st[H_B], e->ssd, &b), 0);
    return b.snd_nxt;
}

START_TEST(rst_exact_resets)
{
    est e = establish();
    uint8_t p[1600];
    size_t n0 = h_nlog(e.h);
    size_t len = from_a(&e, p, 0, TS_TH_RST, NULL, 0, NULL);
    h_inject(e.h, H_B, p, len);
    ck_assert_uint_eq(h_nlog(e.h), n0); /* nothing answers a RST */
    ck_assert_int_eq(ts_sock_error(e.h->st[H_B], e.ssd), -ECONNRESET);
    ts_tcp_info b;
    ts_sock_info(e.h->st[H_B], e.ssd, &b);
    ck_assert_int_eq(b.state, TS_CLOSED);
    char buf[4];
    ck_assert_int_eq(ts_recv(e.h->st[H_B], e.ssd, buf, sizeof buf), -ECONNRESET);
    ck_assert_int_eq(ts_send(e.h->st[H_B], e.ssd, "x", 1), -ECONNRESET);
    ck_assert_uint_eq(ts_stack_counters(e.h->st[H_B])->tcp_rst_in, 1);
    h_free(e.h);
}
END_TEST

START_TEST(rst_in_window_challenge_ack_rate_limited)
{
    est e = establish();
    uint8_t p[1600];
    size_t n0 = h_nlog(e.h);
    ts_time_t t0 = e.h->now;
    size_t len = from_a(&e, p, 1, TS_TH_RST, NULL, 0, NULL);
    h_inject(e.h, H_B, p, len);
    /* RFC 5961 3.2: a challenge ACK, SEQ = SND.NXT, ACK = RCV.NXT, and still ESTABLISHED */
    ck_assert_uint_eq(h_nlog(e.h), n0 + 1);
    const h_pkt *c = &e.h->log[n0];
    ck_assert_int_eq(c->from, H_B);
    ck_assert_uint_eq(c->flags, TS_TH_ACK);
    ck_assert_uint_eq(c->seq, b_snd_nxt(&e));
    ts_tcp_info a;
    ts_sock_info(e.h->st[H_A], e.csd, &a);
    ck_assert_uint_eq(c->ack, a.snd_nxt);
    ck_assert_uint_eq(c->plen, 0);
    ck_assert_uint_eq(ts_stack_counters(e.h->st[H_B])->tcp_challenge_acks, 1);
    ck_assert_int_eq(ts_sock_error(e.h->st[H_B], e.ssd), 0);
    /* far in the window, same answer but rate-limited: nothing within 500 ms */
    len = from_a(&e, p, 30000, TS_TH_RST | TS_TH_ACK, NULL, 0, NULL);
    h_inject(e.h, H_B, p, len);
    ck_assert_uint_eq(h_nlog(e.h), n0 + 1);
    h_run_until(e.h, t0 + 499999);
    h_inject(e.h, H_B, p, len);
    ck_assert_uint_eq(h_nlog(e.h), n0 + 1);
    h_run_until(e.h, t0 + 500 * TS_MSEC);
    h_inject(e.h, H_B, p, len);
    ck_assert_uint_eq(h_nlog(e.h), n0 + 2);
    ck_assert_uint_eq(e.h->log[n0 + 1].t, t0 + 500 * TS_MSEC);
    ck_assert_uint_eq(ts_stack_counters(e.h->st[H_B])->tcp_challenge_acks, 2);
    ts_tcp_info b;
    ts_sock_info(e.h->st[H_B], e.ssd, &b);
    ck_assert_int_eq(b.state, TS_ESTABLISHED);
    h_free(e.h);
}
END_TEST

START_TEST(rst_out_of_window_dropped)
{
    est e = establish();
    uint8_t p[1600];
    size_t n0 = h_nlog(e.h);
    const int32_t offs[] = {-1, -1000, 10 * 1000 * 1000, (int32_t)0x80000000};
    for (size_t i = 0; i < 4; i++) {
        size_t len = from_a(&e, p, offs[i], TS_TH_RST, NULL, 0, NULL);
        uint64_t d0 = ts_stack_counters(e.h->st[H_B])->drops[TS_DROP_TCP_RST_INVALID];
        h_inject(e.h, H_B, p, len);
        ck_assert_uint_eq(ts_stack_counters(e.h->st[H_B])->drops[TS_DROP_TCP_RST_INVALID], d0 + 1);
    }
    ck_assert_uint_eq(h_nlog(e.h), n0); /* no answer */
    ck_assert_uint_eq(ts_stack_counters(e.h->st[H_B])->tcp_challenge_acks, 0);
    ts_tcp_info b;
    ts_sock_info(e.h->st[H_B], e.ssd, &b);
    ck_assert_int_eq(b.state, TS_ESTABLISHED);
    h_free(e.h);
}
END_TEST

START_TEST(syn_on_established_challenge_ack)
{
    est e = establish();
    uint8_t p[1600];
    size_t n0 = h_nlog(e.h);
    /* RFC 5961 4.2: any SYN in a synchronized state, in window or not, draws a challenge
     * ACK and nothing else */
    size_t len = from_a(&e, p, 5, TS_TH_SYN, NULL, 0, NULL);
    h_inject(e.h, H_B, p, len);
    ck_assert_uint_eq(h_nlog(e.h), n0 + 1);
    ck_assert_uint_eq(e.h->log[n0].flags, TS_TH_ACK);
    ck_assert_uint_eq(e.h->log[n0].seq, b_snd_nxt(&e));
    ck_assert_uint_eq(ts_stack_counters(e.h->st[H_B])->tcp_challenge_acks, 1);
    ts_tcp_info b;
    ts_sock_info(e.h->st[H_B], e.ssd, &b);
    ck_assert_int_eq(b.state, TS_ESTABLISHED);
    ck_assert_int_eq(ts_sock_error(e.h->st[H_B], e.ssd), 0);
    /* A answered nothing, its connection survives; data still flows afterwards */
    h_run_until(e.h, e.h->now + 10 * TS_MSEC);
    ck_assert_int_eq(ts_send(e.h->st[H_A], e.csd, "hello", 5), 5);
    h_run_until(e.h, e.h->now + 10 * TS_MSEC);
    char buf[8];
    ck_assert_int_eq(ts_recv(e.h->st[H_B], e.ssd, buf, sizeof buf), 5);
    h_free(e.h);
}
END_TEST

/* The TSval (word 0) or TSecr (word 1) in a logged segment's options (0 if none). */
static uint32_t pkt_ts_word(const h_pkt *p, int word)
{
    const uint8_t *th = p->data + 20;
    size_t olen = (size_t)(th[12] >> 4) * 4 - 20;
    const uint8_t *o = th + 20;
    for (size_t i = 0; i + 1 < olen;) {
        if (o[i] == 0) break;
        if (o[i] == 1) {
            i++;
            continue;
        }
        if (o[i] == 8 && i + 10 <= olen) {
            const uint8_t *w = o + i + 2 + 4 * word;
            return (uint32_t)w[0] << 24 | (uint32_t)w[1] << 16 | (uint32_t)w[2] << 8 | w[3];
        }
        i += o[i + 1] ? o[i + 1] : 1;
    }
    return 0;
}

static uint32_t pkt_tsval(const h_pkt *p)
{
    return pkt_ts_word(p, 0);
}

/* A timestamps option (nop, nop, TS val ecr). */
static void ts_opt(uint8_t opt[12], uint32_t val, uint32_t ecr)
{
    opt[0] = 1, opt[1] = 1, opt[2] = 8, opt[3] = 10;
    for (int i = 0; i < 4; i++) {
        opt[4 + i] = (uint8_t)(val >> (24 - 8 * i));
        opt[8 + i] = (uint8_t)(ecr >> (24 - 8 * i));
    }
}

/* A's latest TSval as B saw it: B's TS.Recent after the handshake. */
static uint32_t a_last_tsval(est *e)
{
    uint32_t recent = 0;
    for (size_t i = 0; i < h_nlog(e->h); i++)
        if (e->h->log[i].from == H_A) recent = pkt_tsval(&e->h->log[i]);
    ck_assert_uint_ne(recent, 0);
    return recent;
}

START_TEST(paws_old_timestamp_dropped_and_acked)
{
    est e = establish();
    /* A's latest TSval is B's TS.Recent */
    uint32_t recent = a_last_tsval(&e);
    uint8_t opt[12];
    ts_opt(opt, recent - 1, 0);
    uint8_t p[1600];
    size_t len = from_a(&e, p, 0, TS_TH_ACK | TS_TH_PSH, opt, sizeof opt, "stale");
    size_t n0 = h_nlog(e.h);
    h_inject(e.h, H_B, p, len);
    ck_assert_uint_eq(ts_stack_counters(e.h->st[H_B])->drops[TS_DROP_TCP_PAWS], 1);
    ck_assert_uint_eq(h_nlog(e.h), n0 + 1); /* RFC 7323 5.3 R1: send an ACK, drop the data */
    ck_assert_uint_eq(e.h->log[n0].flags, TS_TH_ACK);
    ts_tcp_info a;
    ts_sock_info(e.h->st[H_A], e.csd, &a);
    ck_assert_uint_eq(e.h->log[n0].ack, a.snd_nxt); /* the data was not taken */
    char buf[8];
    ck_assert_int_eq(ts_recv(e.h->st[H_B], e.ssd, buf, sizeof buf), -EAGAIN);
    /* the same data with the current TSval is taken */
    ts_opt(opt, recent, 0);
    len = from_a(&e, p, 0, TS_TH_ACK | TS_TH_PSH, opt, sizeof opt, "fresh");
    h_inject(e.h, H_B, p, len);
    ck_assert_int_eq(ts_recv(e.h->st[H_B], e.ssd, buf, sizeof buf), 5);
    ck_assert_int_eq(memcmp(buf, "fresh", 5), 0);
    h_free(e.h);
}
END_TEST

/* Inject a FIN from A whose ACK field is 1000 past B's SND.NXT, with a far-future TSval
 * (the first packet of packetdrill's ts_recent/invalid_ack), and check B dropped it.
 * Returns B's log length before it; *recent: A's TSval before it, B's TS.Recent. */
static size_t inject_fin_acking_unsent(est *e, uint32_t *recent)
{
    *recent = a_last_tsval(e);
    uint8_t opt[12], p[1600];
    ts_opt(opt, *recent + 100000, 0);
    size_t len = from_a(e, p, 0, TS_TH_ACK | TS_TH_FIN, opt, sizeof opt, NULL);
    uint32_t bad = b_snd_nxt(e) + 1000;
    for (int i = 0; i < 4; i++) p[28 + i] = (uint8_t)(bad >> (24 - 8 * i));
    h_fix_csums(p, len, true);
    size_t n0 = h_nlog(e->h);
    h_inject(e->h, H_B, p, len);
    ck_assert_uint_eq(ts_stack_counters(e->h->st[H_B])->drops[TS_DROP_TCP_BAD_ACK], 1);
    return n0;
}

START_TEST(ack_of_unsent_data_dropped)
{
    /* RFC 9293 3.10.7.4 / RFC 5961 5.2: send an ACK, drop the segment. Nothing of it is
     * used: not its FIN, and not its timestamp, so the reply echoes the old TS.Recent. */
    est e = establish();
    uint32_t recent;
    size_t n0 = inject_fin_acking_unsent(&e, &recent);
    ck_assert_uint_eq(h_nlog(e.h), n0 + 1);
    ck_assert_uint_eq(e.h->log[n0].flags, TS_TH_ACK);
    ck_assert_uint_eq(e.h->log[n0].seq, b_snd_nxt(&e));
    ts_tcp_info a;
    ts_sock_info(e.h->st[H_A], e.csd, &a);
    ck_assert_uint_eq(e.h->log[n0].ack, a.snd_nxt); /* the FIN was not taken */
    ck_assert_uint_eq(pkt_ts_word(&e.h->log[n0], 1), recent);
    h_free(e.h);
}
END_TEST

START_TEST(ack_of_unsent_data_dropped_silently_when_off)
{
    /* unsent_ack_reply=off: Linux before 2026 dropped it without a word; the next valid
     * segment is then answered with its own TSval echoed, TS.Recent untouched in between */
    ts_params pb;
    ts_params_default(&pb);
    pb.unsent_ack_reply = false;
    est e = establish_with(&pb);
    uint32_t recent;
    size_t n0 = inject_fin_acking_unsent(&e, &recent);
    ck_assert_uint_eq(h_nlog(e.h), n0); /* silence */
    uint8_t opt[12], p[1600];
    ts_opt(opt, recent + 1, 0);
    size_t len = from_a(&e, p, 0, TS_TH_ACK | TS_TH_PSH, opt, sizeof opt, "data");
    h_inject(e.h, H_B, p, len);
    ck_assert_uint_eq(h_nlog(e.h), n0 + 1); /* quick-ACK of the data */
    ts_tcp_info a;
    ts_sock_info(e.h->st[H_A], e.csd, &a);
    ck_assert_uint_eq(e.h->log[n0].ack, a.snd_nxt + 4);
    ck_assert_uint_eq(pkt_ts_word(&e.h->log[n0], 1), recent + 1);
    h_free(e.h);
}
END_TEST

START_TEST(garbage_never_crashes)
{
    /* every length 0..80 of pseudo-random bytes, and the same with a valid IPv4 header in
     * front: all must be dropped quietly (ASan/UBSan watch the reads) */
    harness *h = listening_b();
    uint32_t x = 12345;
    uint8_t p[128];
    for (int round = 0; round < 200; round++) {
        for (size_t len = 0; len <= 80; len++) {
            for (size_t i = 0; i < len; i++) {
                x = x * 1103515245u + 12345u;
                p[i] = (uint8_t)(x >> 16);
            }
            if (round & 1 && len >= 20) {
                p[0] = 0x45;
                p[2] = 0, p[3] = (uint8_t)len;
                p[6] = 0x40, p[7] = 0;
                p[9] = (round & 2) ? 6 : 1;
                uint32_t src = H_ADDR_A, dst = H_ADDR_B;
                for (int k = 0; k < 4; k++) {
                    p[12 + k] = (uint8_t)(src >> (24 - 8 * k));
                    p[16 + k] = (uint8_t)(dst >> (24 - 8 * k));
                }
                h_fix_csums(p, len, (round & 2) != 0);
            }
            h_inject(h, H_B, p, len);
        }
    }
    const ts_counters *c = ts_stack_counters(h->st[H_B]);
    ck_assert_uint_eq(c->ip_in, 200 * 81);
    ck_assert_uint_eq(c->conns_by_state[TS_ESTABLISHED], 0);
    h_free(h);
}
END_TEST

/* A stray ACK (no half-open connection matches) at a listener is answered with a RST
 * (RFC 9293 3.10.7.2) and counted, under tcp-state, like every other refused segment. */
START_TEST(stray_ack_at_listener_counted_and_reset)
{
    harness *h = listening_b();
    uint8_t p[1600];
    size_t len = syn_pkt(p, NULL, 0, TS_TH_ACK);
    expect_drop(h, p, len, TS_DROP_TCP_STATE, true);
    ck_assert_uint_eq(h->log[h_nlog(h) - 1].flags, TS_TH_RST);
    len = syn_pkt(p, NULL, 0, TS_TH_ACK | TS_TH_PSH | TS_TH_FIN);
    expect_drop(h, p, len, TS_DROP_TCP_STATE, true);
    h_free(h);
}
END_TEST

static Suite *malformed_suite(void)
{
    Suite *s = suite_create("malformed");
    TCase *tc = tcase_create("packets");
    tcase_add_test(tc, ip_malformed);
    tcase_add_test(tc, icmp_malformed_and_echo);
    tcase_add_test(tc, tcp_header_malformed);
    tcase_add_loop_test(tc, tcp_options_malformed, 0, (int)(sizeof bad_opts / sizeof bad_opts[0]));
    tcase_add_test(tc, tcp_options_sane_are_accepted);
    tcase_add_test(tc, garbage_never_crashes);
    tcase_add_test(tc, stray_ack_at_listener_counted_and_reset);
    suite_add_tcase(s, tc);
    TCase *t5 = tcase_create("rfc5961");
    tcase_add_test(t5, rst_exact_resets);
    tcase_add_test(t5, rst_in_window_challenge_ack_rate_limited);
    tcase_add_test(t5, rst_out_of_window_dropped);
    tcase_add_test(t5, syn_on_established_challenge_ack);
    tcase_add_test(t5, paws_old_timestamp_dropped_and_acked);
    tcase_add_test(t5, ack_of_unsent_data_dropped);
    tcase_add_test(t5, ack_of_unsent_data_dropped_silently_when_off);
    suite_add_tcase(s, t5);
    return s;
}

int main(void)
{
    return h_run_suite(malformed_suite());
}
