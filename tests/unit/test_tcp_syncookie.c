/* test_tcp_syncookie.c: the SYN queue and SYN cookies (RFC 4987), in virtual time: half-open
 * connections fill a SYN queue of their own (max_syn_backlog), not the accept queue; when
 * it is full (syncookies=1) or always (2) a SYN is answered with a cookie and the ACK of a
 * valid cookie makes an ESTABLISHED connection with the MSS, window scale and SACK it
 * carried; forged and stale ACKs are refused and counted; with 0 a full SYN queue drops
 * the SYN; a full accept queue refuses a cookie's ACK; half-open entries expire after
 * their SYN-ACK retries and free their slot. */
#include <string.h>

#include "harness.h"

#define PORT  9000
#define FLOOD TS_IP4(10, 0, 0, 50) /* the flood's spoofed source: nobody answers there */

static uint32_t rd_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint16_t rd_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static const ts_counters *cnt(harness *h, int side)
{
    return ts_stack_counters(h->st[side]);
}

/* B's packets to the flood address go nowhere (the harness would hand them to A). */
static bool drop_to_flood(harness *h, int from, const h_pkt *p, unsigned idx)
{
    (void)h, (void)idx;
    return from == H_B && p->len >= 20 && rd_be32(p->data + 16) == FLOOD;
}

static harness *server(uint32_t syncookies, uint32_t max_syn, const ts_params *pa)
{
    ts_params pb;
    ts_params_default(&pb);
    pb.syncookies = syncookies;
    pb.max_syn_backlog = max_syn;
    harness *h = h_new(pa, &pb);
    h->delay = 5 * TS_MSEC;
    h->drop = drop_to_flood;
    return h;
}

/* A SYN from FLOOD:sport (MSS 1460, no other options) at the harness's time. */
static void flood_syn(harness *h, uint16_t sport, uint32_t seq)
{
    const uint8_t opt[] = {2, 4, 5, 180};
    h_seg g = {.src = FLOOD,
               .dst = H_ADDR_B,
               .sport = sport,
               .dport = PORT,
               .seq = seq,
               .flags = TS_TH_SYN,
               .win = 64240,
               .opt = opt,
               .optlen = sizeof opt};
    h_inject_seg(h, H_B, &g);
}

/* The bare ACK a SYN's sender returns for a SYN-ACK with ISN `isn`. */
static void flood_ack(harness *h, uint16_t sport, uint32_t seq, uint32_t ack)
{
    h_seg g = {.src = FLOOD,
               .dst = H_ADDR_B,
               .sport = sport,
               .dport = PORT,
               .seq = seq,
               .ack = ack,
               .flags = TS_TH_ACK,
               .win = 502};
    h_inject_seg(h, H_B, &g);
}

/* The newest SYN-ACK B sent to dport, or NULL. */
static const h_pkt *last_synack(const harness *h, uint16_t dport)
{
    for (size_t i = h_nlog(h); i-- > 0;) {
        const h_pkt *p = &h->log[i];
        if (p->from == H_B && p->flags == (TS_TH_SYN | TS_TH_ACK) && rd_be16(p->data + 22) == dport)
            return p;
    }
    return NULL;
}

static ts_tcp_opts pkt_opts(const h_pkt *p)
{
    ts_ip4_view ip;
    ts_tcp_view t;
    ts_tcp_opts o;
    ck_assert_int_eq(ts_ip4_view_parse(&ip, p->data, p->len), TS_WIRE_OK);
    ck_assert_int_eq(ts_tcp_view_parse(&t, ip.payload, ip.payload_len), TS_WIRE_OK);
    ck_assert_int_eq(ts_tcp_view_opts(&t, &o), TS_WIRE_OK);
    return o;
}

/* Fill B's SYN queue (max_syn_backlog) with flood SYNs that are never answered. */
static void fill_syn_queue(harness *h, unsigned n)
{
    for (unsigned i = 0; i < n; i++) flood_syn(h, (uint16_t)(20000 + i), 1000 * i);
    ck_assert_uint_eq(cnt(h, H_B)->conns_by_state[TS_SYN_RECEIVED], n);
    ck_assert_uint_eq(cnt(h, H_B)->tcp_syncookies_sent, 0);
}

/* A connects to B, sends 3000 bytes and shuts; B echoes nothing but reads them all. */
static void connect_and_send(harness *h, h_app *ca, h_app *sb)
{
    h_app_init(ca, h, H_A);
    ca->tx_total = 3000;
    ca->shut_when_sent = true;
    h_app_connect(ca, 0, PORT);
    h_run_until(h, h->now + 1 * TS_SEC);
    ck_assert(ca->events & TS_SOCK_CONNECTED);
    ck_assert_int_eq(sb->naccepted, 1);
    ck_assert_uint_eq(sb->rx_len, 3000);
    ck_assert_uint_eq(h_app_check(sb), 3000);
}

START_TEST(overflow_answers_with_cookie_timestamps)
{
    ts_params pa;
    ts_params_default(&pa);
    pa.wscale = 10; /* A's shift differs from B's 7: the cookie must carry A's */
    harness *h = server(1, 4, &pa);
    h_app sb, ca;
    h_app_init(&sb, h, H_B);
    h_app_listen(&sb, PORT, 16);
    fill_syn_queue(h, 4);
    connect_and_send(h, &ca, &sb);
    const ts_counters *k = cnt(h, H_B);
    ck_assert_uint_eq(k->tcp_syncookies_sent, 1);
    ck_assert_uint_eq(k->tcp_syncookies_ok, 1);
    ck_assert_uint_eq(k->tcp_syncookies_failed, 0);
    ck_assert_uint_eq(k->conns_by_state[TS_SYN_RECEIVED], 4); /* the queue holds the flood */
    /* the SYN-ACK: the cookie's options in its TSval's low bits: A's wscale 10, SACK */
    ts_tcp_info ai, bi;
    ck_assert_int_eq(ts_sock_info(h->st[H_A], ca.sd, &ai), 0);
    const h_pkt *sa = last_synack(h, ai.local.port);
    ck_assert_ptr_nonnull(sa);
    ts_tcp_opts o = pkt_opts(sa);
    ck_assert(o.has_ts && o.has_wscale && o.has_sackok && o.has_mss);
    ck_assert_uint_eq(o.tsval & 63, 10 | 16);
    ck_assert_uint_eq(o.wscale, 7); /* B offers its own */
    /* B's connection: what the cookie carried */
    ck_assert_int_eq(ts_sock_info(h->st[H_B], sb.sd, &bi), 0);
    ck_assert_int_eq(bi.state, TS_CLOSE_WAIT);
    ck_assert_uint_eq(bi.iss, sa->seq);
    ck_assert(bi.ts_ok && bi.wscale_ok && bi.sack_ok);
    ck_assert_uint_eq(bi.snd_wscale, 10);
    ck_assert_uint_eq(bi.rcv_wscale, 7);
    ck_assert_uint_eq(bi.snd_mss, 1460 - 12);
    /* and A's agrees: both scale, both SACK */
    ck_assert(ai.wscale_ok && ai.sack_ok && ai.ts_ok);
    ck_assert_uint_eq(ai.snd_wscale, 7);
    ck_assert_uint_eq(ai.rcv_wscale, 10);
    h_app_free(&ca);
    h_app_free(&sb);
    h_free(h);
}
END_TEST

START_TEST(cookie_without_timestamps_has_no_wscale_or_sack)
{
    ts_params pa;
    ts_params_default(&pa);
    pa.timestamps = false;
    pa.mss = 1400; /* the cookie's table says 1300 */
    harness *h = server(1, 2, &pa);
    h_app sb, ca;
    h_app_init(&sb, h, H_B);
    h_app_listen(&sb, PORT, 16);
    fill_syn_queue(h, 2);
    connect_and_send(h, &ca, &sb);
    ck_assert_uint_eq(cnt(h, H_B)->tcp_syncookies_ok, 1);
    ts_tcp_info ai, bi;
    ck_assert_int_eq(ts_sock_info(h->st[H_A], ca.sd, &ai), 0);
    ts_tcp_opts o = pkt_opts(last_synack(h, ai.local.port));
    ck_assert(o.has_mss && !o.has_ts && !o.has_wscale && !o.has_sackok);
    ck_assert_int_eq(ts_sock_info(h->st[H_B], sb.sd, &bi), 0);
    ck_assert(!bi.ts_ok && !bi.wscale_ok && !bi.sack_ok);
    ck_assert_uint_eq(bi.snd_wscale, 0);
    ck_assert_uint_eq(bi.snd_mss, 1300);
    ck_assert(!ai.wscale_ok && !ai.sack_ok && !ai.ts_ok);
    h_app_free(&ca);
    h_app_free(&sb);
    h_free(h);
}
END_TEST

START_TEST(forged_and_stale_acks_refused)
{
    harness *h = server(2, 128, NULL);
    h_app sb;
    h_app_init(&sb, h, H_B);
    h_app_listen(&sb, PORT, 16);
    flood_syn(h, 30000, 5000);
    const h_pkt *sa = last_synack(h, 30000);
    ck_assert_ptr_nonnull(sa);
    uint32_t cookie = sa->seq;
    ck_assert_uint_eq(cnt(h, H_B)->tcp_syncookies_sent, 1);
    ck_assert_uint_eq(cnt(h, H_B)->conns_by_state[TS_SYN_RECEIVED], 0); /* nothing kept */
    size_t rst0 = h_count(h, H_B, TS_TH_RST);
    /* forged: a bit of the hash flipped, the wrong peer ISN, another port */
    flood_ack(h, 30000, 5001, (cookie ^ 0x100) + 1);
    flood_ack(h, 30000, 5002, cookie + 1);
    flood_ack(h, 30001, 5001, cookie + 1);
    ck_assert_uint_eq(cnt(h, H_B)->tcp_syncookies_failed, 3);
    ck_assert_uint_eq(h_count(h, H_B, TS_TH_RST), rst0 + 3); /* each reset, as Linux */
    /* stale: the right ACK 130 s later (a cookie lives 64 to 128 s) */
    h_run_until(h, h->now + 130 * TS_SEC);
    flood_ack(h, 30000, 5001, cookie + 1);
    ck_assert_uint_eq(cnt(h, H_B)->tcp_syncookies_failed, 4);
    ck_assert_uint_eq(cnt(h, H_B)->tcp_syncookies_ok, 0);
    ck_assert_uint_eq(cnt(h, H_B)->conns_by_state[TS_ESTABLISHED], 0);
    /* the same exchange in time is taken: a fresh cookie, ACKed 100 s later */
    flood_syn(h, 30000, 5000);
    cookie = last_synack(h, 30000)->seq;
    h_run_until(h, h->now + 100 * TS_SEC);
    flood_ack(h, 30000, 5001, cookie + 1);
    ck_assert_uint_eq(cnt(h, H_B)->tcp_syncookies_ok, 1);
    ck_assert_uint_eq(cnt(h, H_B)->tcp_syncookies_failed, 4);
    ck_assert_int_eq(sb.naccepted, 1);
    ts_tcp_info bi;
    ck_assert_int_eq(ts_sock_info(h->st[H_B], sb.sd, &bi), 0);
    ck_assert_int_eq(bi.state, TS_ESTABLISHED);
    ck_assert_uint_eq(bi.snd_mss, 1460); /* no options in the ACK: none */
    ck_assert(!bi.ts_ok && !bi.wscale_ok && !bi.sack_ok);
    h_app_free(&sb);
    h_free(h);
}
END_TEST

START_TEST(syncookies_1_checks_acks_only_after_overflow)
{
    /* no cookie sent yet: a stray ACK is reset as before and no cookie is checked */
    harness *h = server(1, 2, NULL);
    h_app sb;
    h_app_init(&sb, h, H_B);
    h_app_listen(&sb, PORT, 16);
    flood_ack(h, 30000, 5001, 12345);
    ck_assert_uint_eq(cnt(h, H_B)->tcp_syncookies_failed, 0);
    ck_assert_uint_eq(h_count(h, H_B, TS_TH_RST), 1);
    /* after an overflow it is checked and counted */
    fill_syn_queue(h, 2);
    flood_syn(h, 30001, 7000);
    ck_assert_uint_eq(cnt(h, H_B)->tcp_syncookies_sent, 1);
    flood_ack(h, 30000, 5001, 12345);
    ck_assert_uint_eq(cnt(h, H_B)->tcp_syncookies_failed, 1);
    ck_assert_uint_eq(h_count(h, H_B, TS_TH_RST), 2);
    h_app_free(&sb);
    h_free(h);
}
END_TEST

START_TEST(syncookies_0_drops_on_overflow)
{
    harness *h = server(0, 2, NULL);
    h_app sb, ca;
    h_app_init(&sb, h, H_B);
    h_app_listen(&sb, PORT, 16);
    fill_syn_queue(h, 2);
    h_app_init(&ca, h, H_A);
    h_app_connect(&ca, 0, PORT);
    h_run_until(h, h->now + 500 * TS_MSEC);
    ck_assert(!(ca.events & TS_SOCK_CONNECTED));
    ck_assert_uint_eq(h_count(h, H_B, TS_TH_SYN | TS_TH_ACK), 2); /* the flood's only */
    ck_assert_uint_eq(cnt(h, H_B)->drops[TS_DROP_TCP_BACKLOG], 1);
    ck_assert_uint_eq(cnt(h, H_B)->tcp_syncookies_sent, 0);
    /* a stray ACK is not checked against cookies */
    flood_ack(h, 30000, 5001, 12345);
    ck_assert_uint_eq(cnt(h, H_B)->tcp_syncookies_failed, 0);
    h_app_free(&ca);
    h_app_free(&sb);
    h_free(h);
}
END_TEST

START_TEST(syncookies_2_always)
{
    harness *h = server(2, 128, NULL);
    h_app sb, ca;
    h_app_init(&sb, h, H_B);
    h_app_listen(&sb, PORT, 16);
    h_app_init(&ca, h, H_A);
    h_app_connect(&ca, 0, PORT);
    h_run_until(h, h->now + 7 * TS_MSEC); /* the SYN-ACK is out, the ACK not back */
    ck_assert_uint_eq(cnt(h, H_B)->tcp_syncookies_sent, 1);
    ck_assert_uint_eq(cnt(h, H_B)->conns_by_state[TS_SYN_RECEIVED], 0); /* no state kept */
    ck_assert_uint_eq(h_count(h, H_B, TS_TH_SYN | TS_TH_ACK), 1);
    h_run_until(h, h->now + 1 * TS_SEC);
    ck_assert(ca.events & TS_SOCK_CONNECTED);
    ck_assert_int_eq(sb.naccepted, 1);
    ck_assert_uint_eq(cnt(h, H_B)->tcp_syncookies_ok, 1);
    ts_tcp_info bi;
    ck_assert_int_eq(ts_sock_info(h->st[H_B], sb.sd, &bi), 0);
    ck_assert_int_eq(bi.state, TS_ESTABLISHED);
    ck_assert(bi.ts_ok && bi.wscale_ok && bi.sack_ok);
    ck_assert_uint_eq(bi.rto, 1 * TS_SEC); /* no handshake RTT sample: rto_init */
    h_app_free(&ca);
    h_app_free(&sb);
    h_free(h);
}
END_TEST

START_TEST(accept_queue_full_refuses_cookie_ack)
{
    harness *h = server(2, 128, NULL);
    h_app sb;
    h_app_init(&sb, h, H_B);
    h_app_listen(&sb, PORT, 1);
    ts_sock_set_callback(h->st[H_B], sb.lsd, NULL, NULL); /* nobody accepts */
    flood_syn(h, 30000, 5000);
    flood_syn(h, 30001, 6000);
    uint32_t c0 = last_synack(h, 30000)->seq, c1 = last_synack(h, 30001)->seq;
    flood_ack(h, 30000, 5001, c0 + 1);
    ck_assert_uint_eq(cnt(h, H_B)->tcp_syncookies_ok, 1);
    ck_assert_uint_eq(cnt(h, H_B)->conns_by_state[TS_ESTABLISHED], 1);
    size_t rst0 = h_count(h, H_B, TS_TH_RST);
    flood_ack(h, 30001, 6001, c1 + 1); /* valid, but the accept queue (backlog 1) is full */
    ck_assert_uint_eq(cnt(h, H_B)->tcp_syncookies_ok, 1);
    ck_assert_uint_eq(cnt(h, H_B)->tcp_syncookies_failed, 0);
    ck_assert_uint_eq(cnt(h, H_B)->drops[TS_DROP_TCP_BACKLOG], 1);
    ck_assert_uint_eq(cnt(h, H_B)->conns_by_state[TS_ESTABLISHED], 1);
    ck_assert_uint_eq(h_count(h, H_B, TS_TH_RST), rst0); /* dropped, not reset */
    /* a SYN is dropped too while the accept queue is full (Linux's tcp_conn_request) */
    size_t sa0 = h_count(h, H_B, TS_TH_SYN | TS_TH_ACK);
    flood_syn(h, 30002, 7000);
    ck_assert_uint_eq(h_count(h, H_B, TS_TH_SYN | TS_TH_ACK), sa0);
    ck_assert_uint_eq(cnt(h, H_B)->drops[TS_DROP_TCP_BACKLOG], 2);
    /* accept one: the peer's retransmission of the ACK now gets in */
    ck_assert_int_ge(ts_accept(h->st[H_B], sb.lsd, NULL), 0);
    flood_ack(h, 30001, 6001, c1 + 1);
    ck_assert_uint_eq(cnt(h, H_B)->tcp_syncookies_ok, 2);
    ck_assert_uint_eq(cnt(h, H_B)->conns_by_state[TS_ESTABLISHED], 2);
    h_app_free(&sb);
    h_free(h);
}
END_TEST

START_TEST(half_open_expires_and_frees_its_slot)
{
    harness *h = server(0, 1, NULL);
    h_app sb;
    h_app_init(&sb, h, H_B);
    h_app_listen(&sb, PORT, 16);
    flood_syn(h, 30000, 5000);
    ck_assert_uint_eq(cnt(h, H_B)->conns_by_state[TS_SYN_RECEIVED], 1);
    flood_syn(h, 30001, 6000); /* the SYN queue (1) is full: dropped */
    ck_assert_uint_eq(cnt(h, H_B)->drops[TS_DROP_TCP_BACKLOG], 1);
    h_run_until(h, 62 * TS_SEC); /* SYN-ACKs at 0, 1, 3, 7, 15, 31 s; given up at 63 s */
    ck_assert_uint_eq(cnt(h, H_B)->conns_by_state[TS_SYN_RECEIVED], 1);
    ck_assert_uint_eq(h_count(h, H_B, TS_TH_SYN | TS_TH_ACK), 6);
    flood_syn(h, 30001, 6000);
    ck_assert_uint_eq(cnt(h, H_B)->drops[TS_DROP_TCP_BACKLOG], 2);
    h_run_until(h, 63 * TS_SEC);
    ck_assert_uint_eq(cnt(h, H_B)->conns_by_state[TS_SYN_RECEIVED], 0);
    flood_syn(h, 30001, 6000); /* the slot is free */
    ck_assert_uint_eq(cnt(h, H_B)->conns_by_state[TS_SYN_RECEIVED], 1);
    ck_assert_uint_eq(h_count(h, H_B, TS_TH_SYN | TS_TH_ACK), 7);
    ck_assert_uint_eq(cnt(h, H_B)->drops[TS_DROP_TCP_BACKLOG], 2);
    h_app_free(&sb);
    h_free(h);
}
END_TEST

START_TEST(half_open_does_not_count_against_backlog)
{
    /* backlog 1, SYN queue 8: eight half-open connections, no drop */
    harness *h = server(0, 8, NULL);
    h_app sb;
    h_app_init(&sb, h, H_B);
    h_app_listen(&sb, PORT, 1);
    fill_syn_queue(h, 8);
    ck_assert_uint_eq(cnt(h, H_B)->drops[TS_DROP_TCP_BACKLOG], 0);
    h_app_free(&sb);
    h_free(h);
}
END_TEST

/* A's first pure ACK (the handshake's third segment) is lost. */
static bool drop_a_first_ack(harness *h, int from, const h_pkt *p, unsigned idx)
{
    (void)h, (void)idx;
    static bool dropped;
    if (from == H_A && p->flags == TS_TH_ACK && p->plen == 0 && !dropped) return dropped = true;
    return false;
}

START_TEST(cookie_ack_lost_first_data_makes_the_connection)
{
    /* RFC 4987 3.6: any segment that ACKs the cookie at the peer's ISN + 1 will do; here
     * the first data segment, its ACK before it lost */
    harness *h = server(2, 128, NULL);
    h->drop = drop_a_first_ack;
    h_app sb, ca;
    h_app_init(&sb, h, H_B);
    h_app_listen(&sb, PORT, 16);
    connect_and_send(h, &ca, &sb);
    ck_assert_uint_eq(cnt(h, H_B)->tcp_syncookies_ok, 1);
    ck_assert_uint_eq(cnt(h, H_B)->tcp_syncookies_failed, 0);
    h_app_free(&ca);
    h_app_free(&sb);
    h_free(h);
}
END_TEST

START_TEST(cookie_ack_with_nonsense_tsecr_refused)
{
    /* the right cookie, but a TSecr whose option bits say window scale 15 (none is 15,
     * 14 the most; 15 with bit 5 set is not one of ours) */
    harness *h = server(2, 128, NULL);
    h_app sb;
    h_app_init(&sb, h, H_B);
    h_app_listen(&sb, PORT, 16);
    flood_syn(h, 30000, 5000);
    uint32_t cookie = last_synack(h, 30000)->seq;
    const uint8_t opt[] = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 32 | 15};
    h_seg g = {.src = FLOOD,
               .dst = H_ADDR_B,
               .sport = 30000,
               .dport = PORT,
               .seq = 5001,
               .ack = cookie + 1,
               .flags = TS_TH_ACK,
               .win = 502,
               .opt = opt,
               .optlen = sizeof opt};
    h_inject_seg(h, H_B, &g);
    ck_assert_uint_eq(cnt(h, H_B)->tcp_syncookies_failed, 1);
    ck_assert_uint_eq(cnt(h, H_B)->tcp_syncookies_ok, 0);
    ck_assert_int_eq(sb.naccepted, 0);
    h_app_free(&sb);
    h_free(h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("syncookie");
    TCase *tc = tcase_create("syncookie");
    tcase_add_test(tc, overflow_answers_with_cookie_timestamps);
    tcase_add_test(tc, cookie_without_timestamps_has_no_wscale_or_sack);
    tcase_add_test(tc, forged_and_stale_acks_refused);
    tcase_add_test(tc, syncookies_1_checks_acks_only_after_overflow);
    tcase_add_test(tc, syncookies_0_drops_on_overflow);
    tcase_add_test(tc, syncookies_2_always);
    tcase_add_test(tc, cookie_ack_lost_first_data_makes_the_connection);
    tcase_add_test(tc, cookie_ack_with_nonsense_tsecr_refused);
    tcase_add_test(tc, accept_queue_full_refuses_cookie_ack);
    tcase_add_test(tc, half_open_expires_and_frees_its_slot);
    tcase_add_test(tc, half_open_does_not_count_against_backlog);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
