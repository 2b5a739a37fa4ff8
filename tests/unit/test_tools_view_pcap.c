/* test_tools_view_pcap.c: the capture reader (tools/view/view_pcap.c). Small captures are
 * written by hand in every link type it reads (raw IPv4, LINKTYPE_IPV4, Ethernet with and
 * without an 802.1Q tag, Linux cooked SLL and SLL2, BSD null and loopback) and as pcapng;
 * the founding chapter's close must come back as 6 segments with its options, scaled
 * windows, sloped times and inferred states. Then connections split by 4-tuple and
 * incarnation, retransmission causes, skipped non-TCP packets, every bad input with its
 * one line, and a fuzz: every truncation and seeded random corruption, no crash. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "view_pcap.h"

/* ---- building captures in memory ---- */

typedef struct buf {
    uint8_t d[65536];
    size_t n;
} buf;

static void put(buf *b, const void *p, size_t n)
{
    ck_assert_uint_le(b->n + n, sizeof b->d);
    memcpy(b->d + b->n, p, n);
    b->n += n;
}

static void put32le(buf *b, uint32_t v)
{
    put(b, &v, 4); /* the tests run little-endian hosts; pcap files carry their own order */
}

#define A_CLI TS_IP4(10, 0, 0, 103)
#define A_SRV TS_IP4(10, 0, 0, 199)

typedef struct pkt {
    ts_time_t t;
    uint32_t src, dst;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t win;
    const uint8_t *opt;
    size_t optlen;
    uint32_t len;
    uint8_t proto; /* 0 = TCP */
} pkt;

/* An IPv4 packet for p (checksums are not checked by the reader). */
static size_t ip_packet(const pkt *p, uint8_t *o)
{
    size_t thl = 20 + p->optlen, tot = 20 + (p->proto ? 8 : thl) + p->len;
    memset(o, 0, tot);
    o[0] = 0x45;
    o[2] = (uint8_t)(tot >> 8), o[3] = (uint8_t)tot;
    o[6] = 0x40;
    o[8] = 64;
    o[9] = p->proto ? p->proto : 6;
    for (int i = 0; i < 4; i++) {
        o[12 + i] = (uint8_t)(p->src >> (24 - 8 * i));
        o[16 + i] = (uint8_t)(p->dst >> (24 - 8 * i));
    }
    uint8_t *t = o + 20;
    t[0] = (uint8_t)(p->sport >> 8), t[1] = (uint8_t)p->sport;
    t[2] = (uint8_t)(p->dport >> 8), t[3] = (uint8_t)p->dport;
    if (p->proto) return tot;
    for (int i = 0; i < 4; i++) {
        t[4 + i] = (uint8_t)(p->seq >> (24 - 8 * i));
        t[8 + i] = (uint8_t)(p->ack >> (24 - 8 * i));
    }
    t[12] = (uint8_t)((thl / 4) << 4);
    t[13] = p->flags;
    t[14] = (uint8_t)(p->win >> 8), t[15] = (uint8_t)p->win;
    if (p->optlen) memcpy(t + 20, p->opt, p->optlen);
    return tot;
}

#define LT_RAW     101 /* LINKTYPE_RAW as files carry it */
#define LT_IPV4    228
#define LT_EN      1
#define LT_SLL     113
#define LT_SLL2    276
#define LT_NULL    0
#define LT_LOOP    108
#define LT_EN_VLAN 10001 /* Ethernet with one 802.1Q tag (file link type 1) */

/* The frame of one IP packet in link type lt. */
static size_t frame(int lt, const uint8_t *ip, size_t iplen, uint8_t *f)
{
    size_t h = 0;
    memset(f, 0, 24);
    switch (lt) {
    case LT_EN:
        h = 14;
        f[12] = 0x08;
        break;
    case LT_EN_VLAN:
        h = 18;
        f[12] = 0x81, f[14] = 0x00, f[15] = 5, f[16] = 0x08;
        break;
    case LT_SLL:
        h = 16;
        f[14] = 0x08;
        break;
    case LT_SLL2:
        h = 20;
        f[0] = 0x08;
        break;
    case LT_NULL: h = 4, f[0] = 2; break; /* AF_INET in the writer's (little-endian) order */
    case LT_LOOP: h = 4, f[3] = 2; break; /* network order */
    default: break;
    }
    memcpy(f + h, ip, iplen);
    return h + iplen;
}

static void pcap_header(buf *b, int lt)
{
    put32le(b, 0xa1b2c3d4);
    uint16_t v[2] = {2, 4};
    put(b, v, 4);
    put32le(b, 0);
    put32le(b, 0);
    put32le(b, 65535);
    put32le(b, lt == LT_EN_VLAN ? LT_EN : (uint32_t)lt);
}

static void pcap_record(buf *b, ts_time_t t, const uint8_t *f, size_t n)
{
    put32le(b, (uint32_t)(t / TS_SEC));
    put32le(b, (uint32_t)(t % TS_SEC));
    put32le(b, (uint32_t)n);
    put32le(b, (uint32_t)n);
    put(b, f, n);
}

static void pcap_of(buf *b, int lt, const pkt *ps, size_t n)
{
    b->n = 0;
    pcap_header(b, lt);
    for (size_t i = 0; i < n; i++) {
        uint8_t ip[2048], f[2100];
        size_t il = ip_packet(&ps[i], ip);
        pcap_record(b, ps[i].t, f, frame(lt, ip, il, f));
    }
}

/* pcapng: a section header, one interface (LINKTYPE_RAW, microseconds), enhanced packets. */
static void pcapng_of(buf *b, const pkt *ps, size_t n)
{
    b->n = 0;
    put32le(b, 0x0a0d0d0a);
    put32le(b, 28);
    put32le(b, 0x1a2b3c4d);
    uint16_t ver[2] = {1, 0};
    put(b, ver, 4);
    put32le(b, 0xffffffff), put32le(b, 0xffffffff); /* section length unknown */
    put32le(b, 28);
    put32le(b, 1); /* IDB */
    put32le(b, 20);
    uint16_t lt[2] = {LT_RAW, 0};
    put(b, lt, 4);
    put32le(b, 65535);
    put32le(b, 20);
    for (size_t i = 0; i < n; i++) {
        uint8_t ip[2048];
        size_t il = ip_packet(&ps[i], ip), pad = (4 - il % 4) % 4;
        uint32_t total = (uint32_t)(32 + il + pad);
        put32le(b, 6);
        put32le(b, total);
        put32le(b, 0);
        put32le(b, (uint32_t)(ps[i].t >> 32));
        put32le(b, (uint32_t)ps[i].t);
        put32le(b, (uint32_t)il);
        put32le(b, (uint32_t)il);
        put(b, ip, il);
        static const uint8_t zero[4];
        put(b, zero, pad);
        put32le(b, total);
    }
}

static int read_buf(const buf *b, ts_view_set *set, char *err, size_t errlen)
{
    FILE *f = fmemopen((void *)b->d, b->n ? b->n : 1, "rb");
    ck_assert_ptr_nonnull(f);
    if (!b->n) { /* fmemopen wants a size: an empty stream is a read past its end */
        fclose(f);
        f = tmpfile();
    }
    return ts_view_read_pcap_fp(f, "cap", set, err, errlen);
}

/* ---- the chapter's close, captured at the client ---- */

static const uint8_t syn_opt[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0,
                                  0, 1, 0,    0,    0, 0, 1, 3,  3, 7};
static const uint8_t synack_opt[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0,
                                     0, 9, 0,    0,    0, 1, 1, 3,  3, 7};
static const uint8_t ts_opt[] = {1, 1, 8, 10, 0, 0, 0, 2, 0, 0, 0, 9};

#define ISN_C 3841401858u
#define ISN_S 2621587311u

static const pkt close6[] = {
    {0, A_CLI, A_SRV, 55570, 6379, ISN_C, 0, TS_TH_SYN, 64240, syn_opt, sizeof syn_opt, 0, 0},
    {2000, A_SRV, A_CLI, 6379, 55570, ISN_S, ISN_C + 1, TS_TH_SYN | TS_TH_ACK, 65160, synack_opt,
     sizeof synack_opt, 0, 0},
    {2000, A_CLI, A_SRV, 55570, 6379, ISN_C + 1, ISN_S + 1, TS_TH_ACK, 502, ts_opt, sizeof ts_opt,
     0, 0},
    {7200000, A_CLI, A_SRV, 55570, 6379, ISN_C + 1, ISN_S + 1, TS_TH_FIN | TS_TH_ACK, 502, ts_opt,
     sizeof ts_opt, 0, 0},
    {7204000, A_SRV, A_CLI, 6379, 55570, ISN_S + 1, ISN_C + 2, TS_TH_FIN | TS_TH_ACK, 509, ts_opt,
     sizeof ts_opt, 0, 0},
    {7204000, A_CLI, A_SRV, 55570, 6379, ISN_C + 2, ISN_S + 2, TS_TH_ACK, 502, ts_opt,
     sizeof ts_opt, 0, 0},
};

static void check_close(const ts_view_set *set)
{
    ck_assert_uint_eq(set->n, 1);
    const ts_view *v = set->conns[0];
    ck_assert_int_eq(v->origin, TS_VIEW_CAPTURE);
    ck_assert_uint_eq(v->nsegs, 6);
    ck_assert_uint_eq(v->end[0].ep.addr, A_CLI);
    ck_assert_uint_eq(v->end[0].ep.port, 55570);
    ck_assert_uint_eq(v->end[1].ep.port, 6379);
    ck_assert(v->end[0].isn_known && v->end[1].isn_known);
    ck_assert_uint_eq(v->end[0].isn, ISN_C);
    ck_assert_uint_eq(v->end[1].isn, ISN_S);
    static const uint8_t flags[6] = {
        TS_TH_SYN, TS_TH_SYN | TS_TH_ACK, TS_TH_ACK, TS_TH_FIN | TS_TH_ACK, TS_TH_FIN | TS_TH_ACK,
        TS_TH_ACK};
    static const int from[6] = {0, 1, 0, 0, 1, 0};
    for (int i = 0; i < 6; i++) {
        const ts_view_seg *s = &v->segs[i];
        ck_assert_uint_eq(s->no, (unsigned)i + 1);
        ck_assert_uint_eq(s->flags, flags[i]);
        ck_assert_int_eq(s->from, from[i]);
        ck_assert_int_eq(s->cause, TS_VCAUSE_NEW);
        ck_assert_ptr_nonnull(s->line);
        ck_assert_ptr_null(s->why);
        ck_assert_int_eq(s->tcb[0], -1);
    }
    /* Options on the SYN, window scaling after it (7 each way). */
    const ts_view_seg *syn = &v->segs[0];
    ck_assert_uint_eq(syn->mss, 1460);
    ck_assert_int_eq(syn->wscale, 7);
    ck_assert(syn->sack_ok && syn->has_ts);
    ck_assert_uint_eq(syn->tsval, 1);
    ck_assert_uint_eq(syn->win, 64240);
    ck_assert_uint_eq(v->segs[2].win_raw, 502);
    ck_assert_uint_eq(v->segs[2].win, 502u << 7);
    ck_assert_uint_eq(v->segs[4].win, 509u << 7);
    ck_assert_uint_eq(v->segs[2].tsecr, 9);
    ck_assert_str_eq(syn->line, "IP 10.0.0.103.55570 > 10.0.0.199.6379: Flags [S], seq "
                                "3841401858, win 64240, options [mss 1460,sackOK,TS val 1 ecr "
                                "0,nop,wscale 7], length 0");
    ck_assert_ptr_nonnull(strstr(v->segs[4].line, "Flags [F.], seq 2621587312, ack 3841401860"));
    /* Tapped at the client: SYN to SYN-ACK 2 ms, so 1 ms each way; the client's own times
     * are the capture's, the server's are 1 ms earlier (sent) or the tap's (received). */
    ck_assert(v->times_estimated);
    ck_assert_ptr_nonnull(v->note);
    ck_assert_ptr_nonnull(strstr(v->note, "10.0.0.199:6379 estimated"));
    ck_assert_uint_eq(syn->t_send, 0);
    ck_assert_uint_eq(syn->t_recv, 1000);
    ck_assert_uint_eq(v->segs[1].t_send, 1000);
    ck_assert_uint_eq(v->segs[1].t_recv, 2000);
    ck_assert_uint_eq(v->segs[3].t_send, 7200000);
    ck_assert_uint_eq(v->segs[3].t_recv, 7201000);
    ck_assert_uint_eq(v->segs[4].t_send, 7203000);
    /* States, inferred, in time order. */
    static const struct {
        int end;
        ts_state from, to;
        ts_time_t t;
    } want[] = {
        {0, TS_CLOSED, TS_SYN_SENT, 0},
        {1, TS_LISTEN, TS_SYN_RECEIVED, 1000},
        {0, TS_SYN_SENT, TS_ESTABLISHED, 2000},
        {1, TS_SYN_RECEIVED, TS_ESTABLISHED, 3000},
        {0, TS_ESTABLISHED, TS_FIN_WAIT_1, 7200000},
        {1, TS_ESTABLISHED, TS_CLOSE_WAIT, 7201000},
        {1, TS_CLOSE_WAIT, TS_LAST_ACK, 7203000},
        {0, TS_FIN_WAIT_1, TS_FIN_WAIT_2, 7204000},
        {0, TS_FIN_WAIT_2, TS_TIME_WAIT, 7204000},
        {1, TS_LAST_ACK, TS_CLOSED, 7205000},
    };
    ck_assert_uint_eq(v->nstates, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < v->nstates; i++) {
        const ts_view_state *s = &v->states[i];
        ck_assert_msg(s->end == want[i].end && s->from == want[i].from && s->to == want[i].to &&
                          s->t == want[i].t,
                      "state %zu: end %d %s -> %s at %llu", i, s->end, ts_state_name(s->from),
                      ts_state_name(s->to), (unsigned long long)s->t);
        ck_assert(s->inferred);
    }
    ck_assert_uint_eq(v->ntimers, 0);
    ck_assert_uint_eq(v->ntcbs, 0);
}

static const int link_types[] = {LT_RAW, LT_IPV4, LT_EN,   LT_EN_VLAN,
                                 LT_SLL, LT_SLL2, LT_NULL, LT_LOOP};

START_TEST(close_every_link_type)
{
    static buf b;
    pcap_of(&b, link_types[_i], close6, 6);
    ts_view_set set;
    char err[256] = "";
    ck_assert_msg(read_buf(&b, &set, err, sizeof err) == 0, "link type %d: %s", link_types[_i],
                  err);
    check_close(&set);
    ts_view_set_free(&set);
}
END_TEST

START_TEST(close_pcapng)
{
    static buf b;
    pcapng_of(&b, close6, 6);
    ts_view_set set;
    char err[256] = "";
    ck_assert_msg(read_buf(&b, &set, err, sizeof err) == 0, "%s", err);
    check_close(&set);
    ts_view_set_free(&set);
}
END_TEST

START_TEST(from_a_file)
{
    static buf b;
    pcap_of(&b, LT_RAW, close6, 6);
    char path[] = "/tmp/ts_view_pcap_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, b.d, b.n), (ssize_t)b.n);
    close(fd);
    ts_view_set set;
    char err[256] = "";
    ck_assert_msg(ts_view_read_pcap(path, &set, err, sizeof err) == 0, "%s", err);
    check_close(&set);
    ts_view_set_free(&set);
    unlink(path);
    ck_assert_int_eq(ts_view_read_pcap(path, &set, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "cannot open it"));
}
END_TEST

/* Without the tcpdump lines (TS_VREAD_NO_LINES, for the text ladder) the model is the
 * same in everything else. */
START_TEST(no_lines)
{
    static buf b;
    pcap_of(&b, LT_RAW, close6, 6);
    ts_view_set with, without;
    char err[256] = "";
    ck_assert_msg(read_buf(&b, &with, err, sizeof err) == 0, "%s", err);
    FILE *f = fmemopen((void *)b.d, b.n, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_msg(
        ts_view_read_pcap_fp_flags(f, "cap", TS_VREAD_NO_LINES, &without, err, sizeof err) == 0,
        "%s", err);
    ck_assert_uint_eq(without.n, 1);
    const ts_view *v = with.conns[0], *w = without.conns[0];
    ck_assert_uint_eq(v->nsegs, w->nsegs);
    ck_assert_uint_eq(v->nstates, w->nstates);
    for (size_t i = 0; i < v->nsegs; i++) {
        const ts_view_seg *s = &v->segs[i], *t = &w->segs[i];
        ck_assert_ptr_nonnull(s->line);
        ck_assert_ptr_null(t->line);
        ck_assert(s->no == t->no && s->from == t->from && s->t_send == t->t_send &&
                  s->t_recv == t->t_recv && s->flags == t->flags && s->seq == t->seq &&
                  s->ack == t->ack && s->len == t->len && s->win == t->win &&
                  s->cause == t->cause && s->mss == t->mss && s->wscale == t->wscale);
    }
    for (size_t i = 0; i < v->nstates; i++) {
        const ts_view_state *s = &v->states[i], *t = &w->states[i];
        ck_assert(s->end == t->end && s->t == t->t && s->from == t->from && s->to == t->to);
    }
    ck_assert_str_eq(v->note, w->note);
    ts_view_set_free(&with);
    ts_view_set_free(&without);
}
END_TEST

/* ---- connections, retransmissions, skipping ---- */

START_TEST(connections_and_incarnations)
{
    pkt ps[16];
    size_t n = 0;
    /* A: 1.1.1.1:1000 -> 2.2.2.2:80 opens, then B: 3.3.3.3:5 -> 2.2.2.2:80 sends data
     * (mid-stream), A closes with RST, A's tuple opens again: three connections. */
    uint32_t a1 = TS_IP4(1, 1, 1, 1), a2 = TS_IP4(2, 2, 2, 2), a3 = TS_IP4(3, 3, 3, 3);
    ps[n++] = (pkt){0, a1, a2, 1000, 80, 100, 0, TS_TH_SYN, 1000, NULL, 0, 0, 0};
    ps[n++] = (pkt){10, a3, a2, 5, 80, 7, 9, TS_TH_ACK | TS_TH_PSH, 1000, NULL, 0, 10, 0};
    ps[n++] = (pkt){20, a2, a1, 80, 1000, 500, 101, TS_TH_SYN | TS_TH_ACK, 1000, NULL, 0, 0, 0};
    ps[n++] = (pkt){30, a1, a2, 1000, 80, 101, 501, TS_TH_RST | TS_TH_ACK, 0, NULL, 0, 0, 0};
    ps[n++] = (pkt){40, a1, a2, 1000, 80, 900, 0, TS_TH_SYN, 1000, NULL, 0, 0, 0};
    ps[n++] = (pkt){50, a2, a3, 80, 5, 9, 17, TS_TH_ACK, 1000, NULL, 0, 0, 0};
    static buf b;
    pcap_of(&b, LT_RAW, ps, n);
    ts_view_set set;
    char err[256] = "";
    ck_assert_msg(read_buf(&b, &set, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(set.n, 3);
    ck_assert_uint_eq(set.conns[0]->nsegs, 3);
    ck_assert_uint_eq(set.conns[1]->nsegs, 2);
    ck_assert_uint_eq(set.conns[2]->nsegs, 1);
    ck_assert_uint_eq(set.conns[1]->end[0].ep.addr, a3);
    ck_assert_uint_eq(set.conns[2]->end[0].isn, 900);
    /* The RST closes both ends (inferred); mid-stream B starts ESTABLISHED with no change. */
    const ts_view *a = set.conns[0];
    ck_assert_int_eq(a->states[a->nstates - 1].to, TS_CLOSED);
    ck_assert_uint_eq(set.conns[1]->nstates, 0);
    /* Picking by number and by address. */
    ck_assert_ptr_eq(ts_view_set_pick(&set, "2", err, sizeof err), set.conns[1]);
    ck_assert_ptr_eq(ts_view_set_pick(&set, "3.3.3.3:5", err, sizeof err), set.conns[1]);
    ck_assert_ptr_null(ts_view_set_pick(&set, "4", err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "no such connection"));
    ts_view_set_free(&set);
}
END_TEST

/* RFC 5961: a reset off the next sequence number and a SYN with another ISN are answered
 * with challenge ACKs; the connection lives on, and its ISN stays. The exact reset ends it. */
START_TEST(blind_reset_keeps_the_connection)
{
    pkt ps[8];
    size_t n = 0;
    uint32_t a = TS_IP4(10, 0, 0, 1), z = TS_IP4(10, 0, 0, 2);
    ps[n++] = (pkt){0, a, z, 4000, 80, 100, 0, TS_TH_SYN, 1000, NULL, 0, 0, 0};
    ps[n++] = (pkt){10, z, a, 80, 4000, 500, 101, TS_TH_SYN | TS_TH_ACK, 1000, NULL, 0, 0, 0};
    ps[n++] = (pkt){20, a, z, 4000, 80, 101, 501, TS_TH_ACK, 1000, NULL, 0, 0, 0};
    ps[n++] = (pkt){30, z, a, 80, 4000, 600, 0, TS_TH_RST, 0, NULL, 0, 0, 0};
    ps[n++] = (pkt){40, a, z, 4000, 80, 101, 501, TS_TH_ACK, 1000, NULL, 0, 0, 0};
    ps[n++] = (pkt){50, z, a, 80, 4000, 9000, 0, TS_TH_SYN, 1000, NULL, 0, 0, 0};
    ps[n++] = (pkt){60, a, z, 4000, 80, 101, 501, TS_TH_ACK, 1000, NULL, 0, 0, 0};
    ps[n++] = (pkt){70, z, a, 80, 4000, 501, 0, TS_TH_RST, 0, NULL, 0, 0, 0};
    static buf b;
    pcap_of(&b, LT_RAW, ps, n);
    ts_view_set set;
    char err[256] = "";
    ck_assert_msg(read_buf(&b, &set, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(set.n, 1);
    const ts_view *v = set.conns[0];
    ck_assert_uint_eq(v->nsegs, 8);
    ck_assert_uint_eq(v->end[1].isn, 500);
    /* end 0 stays ESTABLISHED through the blind reset; the exact one closes it */
    for (size_t i = 0; i < v->nstates; i++)
        if (v->states[i].end == 0 && v->states[i].to == TS_CLOSED)
            ck_assert_uint_ge(v->states[i].t, 70);
    ck_assert_int_eq(v->states[v->nstates - 1].to, TS_CLOSED);
    ts_view_set_free(&set);
}
END_TEST

START_TEST(retransmissions)
{
    pkt ps[16];
    size_t n = 0;
    uint32_t a = TS_IP4(10, 0, 0, 1), z = TS_IP4(10, 0, 0, 2);
    static const uint8_t sack[] = {1, 1, 5, 10, 0, 0, 0x03, 0xe9, 0, 0, 0x07, 0xd1};
    ps[n++] = (pkt){0, a, z, 4000, 80, 1000, 0, TS_TH_SYN, 1000, NULL, 0, 0, 0};
    ps[n++] = (pkt){1000000, a, z, 4000, 80, 1000, 0, TS_TH_SYN, 1000, NULL, 0, 0, 0};
    ps[n++] = (pkt){3000000, a, z, 4000, 80, 1000, 0, TS_TH_SYN, 1000, NULL, 0, 0, 0};
    ps[n++] = (pkt){3010000, z, a, 80, 4000, 0, 1001, TS_TH_SYN | TS_TH_ACK, 1000, NULL, 0, 0, 0};
    ps[n++] = (pkt){3010100, a, z, 4000, 80, 1001, 1, TS_TH_ACK, 1000, NULL, 0, 100, 0};
    ps[n++] = (pkt){3010200, a, z, 4000, 80, 1101, 1, TS_TH_ACK, 1000, NULL, 0, 100, 0};
    ps[n++] = (pkt){3030000, z, a, 80, 4000, 1, 1001, TS_TH_ACK, 1000, sack, sizeof sack, 0, 0};
    ps[n++] = (pkt){3300000, a, z, 4000, 80, 1001, 1, TS_TH_ACK, 1000, NULL, 0, 100, 0};
    ps[n++] = (pkt){3900000, a, z, 4000, 80, 1001, 1, TS_TH_ACK, 1000, NULL, 0, 100, 0};
    ps[n++] = (pkt){3910000, z, a, 80, 4000, 1, 1201, TS_TH_ACK, 1000, NULL, 0, 0, 0};
    ps[n++] = (pkt){3910100, a, z, 4000, 80, 1201, 1, TS_TH_ACK, 1000, NULL, 0, 0, 0};
    static buf b;
    pcap_of(&b, LT_EN, ps, n);
    ts_view_set set;
    char err[256] = "";
    ck_assert_msg(read_buf(&b, &set, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(set.n, 1);
    const ts_view *v = set.conns[0];
    ck_assert_uint_eq(v->nsegs, 11);
    const ts_view_seg *s = v->segs;
    ck_assert_int_eq(s[0].cause, TS_VCAUSE_NEW);
    ck_assert_int_eq(s[1].cause, TS_VCAUSE_SYN);
    ck_assert_uint_eq(s[1].rexmit_no, 1);
    ck_assert_int_eq(s[2].cause, TS_VCAUSE_SYN);
    ck_assert_uint_eq(s[2].rexmit_no, 2);
    ck_assert_int_eq(s[4].cause, TS_VCAUSE_NEW);
    ck_assert_int_eq(s[5].cause, TS_VCAUSE_NEW);
    ck_assert_uint_eq(s[6].nsack, 1);
    ck_assert_uint_eq(s[6].sack[0][0], 1001);
    ck_assert_uint_eq(s[6].sack[0][1], 2001);
    ck_assert_int_eq(s[7].cause, TS_VCAUSE_REXMIT);
    ck_assert_uint_eq(s[7].rexmit_no, 1);
    ck_assert_int_eq(s[8].cause, TS_VCAUSE_REXMIT);
    ck_assert_uint_eq(s[8].rexmit_no, 2);
    ck_assert_int_eq(s[10].cause, TS_VCAUSE_NEW); /* a pure ACK is never a retransmission */
    /* No window scale agreed: windows as sent. */
    ck_assert_uint_eq(s[4].win, 1000);
    ts_view_set_free(&set);
}
END_TEST

START_TEST(skips_what_is_not_tcp_over_ipv4)
{
    static buf b;
    b.n = 0;
    pcap_header(&b, LT_EN);
    uint8_t f[256];
    memset(f, 0, sizeof f);
    f[12] = 0x86, f[13] = 0xdd; /* IPv6 */
    pcap_record(&b, 0, f, 60);
    f[12] = 0x08, f[13] = 0x06; /* ARP */
    pcap_record(&b, 1, f, 42);
    pkt udp = {2, A_CLI, A_SRV, 53, 53, 0, 0, 0, 0, NULL, 0, 4, 17};
    uint8_t ip[128];
    size_t il = ip_packet(&udp, ip);
    pcap_record(&b, 2, f, frame(LT_EN, ip, il, f));
    pcap_record(&b, 3, f, 10); /* a runt */
    for (size_t i = 0; i < 6; i++) {
        il = ip_packet(&close6[i], ip);
        pcap_record(&b, close6[i].t, f, frame(LT_EN, ip, il, f));
    }
    ts_view_set set;
    char err[256] = "";
    ck_assert_msg(read_buf(&b, &set, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(set.n, 1);
    ck_assert_uint_eq(set.conns[0]->nsegs, 6);
    ck_assert_uint_eq(set.conns[0]->segs[0].no, 5); /* numbered as in the capture */
    ts_view_set_free(&set);
}
END_TEST

/* ---- bad input: one line, -1, never a crash ---- */

static void expect_error(const buf *b, const char *what)
{
    ts_view_set set = {NULL, 7};
    char err[256] = "";
    ck_assert_int_eq(read_buf(b, &set, err, sizeof err), -1);
    ck_assert_msg(strstr(err, what) != NULL, "'%s' does not say '%s'", err, what);
    ck_assert_ptr_null(strchr(err, '\n'));
    ck_assert(!strncmp(err, "cap: ", 5));
    ck_assert_uint_eq(set.n, 0);
    ck_assert_ptr_null(set.conns);
}

START_TEST(bad_input)
{
    static buf b;
    b.n = 0;
    expect_error(&b, "empty file");
    put(&b, "hello, this is not a capture at all\n", 36);
    expect_error(&b, "not a pcap or pcapng capture");
    b.n = 2; /* shorter than any header: still not a capture, not "truncated" */
    expect_error(&b, "not a pcap or pcapng capture");
    pcap_of(&b, LT_RAW, close6, 6);
    b.n = 10; /* inside the file header */
    expect_error(&b, "truncated");
    pcap_of(&b, LT_RAW, close6, 6);
    b.n -= 7; /* inside the last packet */
    expect_error(&b, "truncated or damaged after packet 5");
    pcap_of(&b, LT_RAW, close6, 0);
    expect_error(&b, "no packets");
    pkt udp = {2, A_CLI, A_SRV, 53, 53, 0, 0, 0, 0, NULL, 0, 4, 17};
    pcap_of(&b, LT_RAW, &udp, 1);
    expect_error(&b, "no TCP over IPv4 in its 1 packet");
    pcap_of(&b, 105 /* IEEE 802.11 */, close6, 6);
    expect_error(&b, "link type");
}
END_TEST

START_TEST(a_directory)
{
    ts_view_set set;
    char err[256];
    ck_assert_int_eq(ts_view_read_pcap("/tmp", &set, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "a directory"));
}
END_TEST

/* ---- fuzz ---- */

static uint64_t mix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void read_any(const uint8_t *d, size_t n)
{
    static buf b;
    memcpy(b.d, d, n);
    b.n = n;
    ts_view_set set;
    char err[256] = "";
    int rc = read_buf(&b, &set, err, sizeof err);
    if (rc == 0) {
        for (size_t i = 0; i < set.n; i++) /* touch everything a renderer would */
            for (size_t k = 0; k < set.conns[i]->nsegs; k++)
                ck_assert_ptr_nonnull(set.conns[i]->segs[k].line);
        ts_view_set_free(&set);
    } else {
        ck_assert_int_eq(rc, -1);
        ck_assert(err[0] != '\0');
        ck_assert_ptr_null(strchr(err, '\n'));
    }
}

START_TEST(fuzz_truncated_everywhere)
{
    static buf b;
    if (_i == 0)
        pcap_of(&b, LT_EN_VLAN, close6, 6);
    else
        pcapng_of(&b, close6, 6);
    uint8_t copy[4096];
    size_t n = b.n;
    memcpy(copy, b.d, n);
    for (size_t len = 0; len <= n; len++) read_any(copy, len);
}
END_TEST

START_TEST(fuzz_corrupted)
{
    static buf b;
    uint8_t orig[4096], d[4096];
    if (_i == 0)
        pcap_of(&b, LT_SLL2, close6, 6);
    else
        pcapng_of(&b, close6, 6);
    size_t n = b.n;
    memcpy(orig, b.d, n);
    uint64_t x = 0x5eed0000u + (uint64_t)_i;
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(d, orig, n);
        int flips = 1 + (int)(mix(&x) % 8);
        for (int k = 0; k < flips; k++) {
            uint64_t r = mix(&x);
            size_t at = (size_t)(r % n);
            /* mostly the headers, where lengths and types live */
            if (r & 0x100000000ull) at = (size_t)(r % (n < 64 ? n : 64));
            d[at] = (uint8_t)(r >> 40);
        }
        read_any(d, n);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("view_pcap");
    TCase *tc = tcase_create("reader");
    tcase_add_loop_test(tc, close_every_link_type, 0,
                        (int)(sizeof link_types / sizeof link_types[0]));
    tcase_add_test(tc, close_pcapng);
    tcase_add_test(tc, from_a_file);
    tcase_add_test(tc, connections_and_incarnations);
    tcase_add_test(tc, retransmissions);
    tcase_add_test(tc, blind_reset_keeps_the_connection);
    tcase_add_test(tc, skips_what_is_not_tcp_over_ipv4);
    tcase_add_test(tc, bad_input);
    tcase_add_test(tc, a_directory);
    tcase_add_test(tc, no_lines);
    suite_add_tcase(s, tc);
    TCase *fz = tcase_create("fuzz");
    tcase_set_timeout(fz, 120);
    tcase_add_loop_test(fz, fuzz_truncated_everywhere, 0, 2);
    tcase_add_loop_test(fz, fuzz_corrupted, 0, 2);
    suite_add_tcase(s, fz);
    return h_run_suite(s);
}
