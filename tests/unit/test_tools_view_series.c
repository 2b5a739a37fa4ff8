/* test_tools_view_series.c: the series export (tools/view/series.c, series_set.c). A
 * scenario with a scripted drop runs in the simulator with the series observer; the rows
 * must show what RFC 5681 and RFC 6298 say happened: the congestion state going to
 * recovery at the fast retransmit with ssthresh at half the flight, the RTO after the
 * first RTT sample; the CSV and JSON-lines cells must be well formed (empty or null for
 * what is unknown), the in-memory set must pair both ends of the connection and --conn
 * must choose as the views' model does. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "series.h"
#include "sim.h"
#include "tcpsim/wire.h"

/* The founding experiment of fast retransmit: ten segments, the third lost. */
static const char fast_scn[] = "host client 10.0.0.103\n"
                               "host server 10.0.0.199\n"
                               "link client server delay=10ms\n"
                               "drop client>server data nth=3\n"
                               "at 0s server listen 6379\n"
                               "at 0s client connect server:6379\n"
                               "at 0.1s client send 14480\n"
                               "at 1s client close\n";

typedef struct rows {
    ts_series_row r[4096];
    size_t n;
    const ts_scn *scn;
    ts_series_set *set;
} rows;

static void observe(void *ctx, int host, ts_stack *s, const ts_event *ev)
{
    rows *k = ctx;
    const char *name = k->scn->hosts[host].name;
    if (k->set) ts_series_collect(k->set, s, name, ev);
    if (strcmp(name, "client") != 0) return;
    ck_assert_uint_lt(k->n, sizeof k->r / sizeof k->r[0]);
    ts_series_fill(&k->r[k->n++], s, name, ev, 0);
}

static void run(const char *text, rows *k)
{
    char err[256];
    ts_scn *scn = ts_scn_parse("test.scn", text, strlen(text), NULL, err, sizeof err);
    ck_assert_msg(scn, "%s", err);
    k->scn = scn;
    FILE *devnull = fopen("/dev/null", "w");
    ts_sim_opts o = {.out = devnull, .quiet = true};
    o.hooks.observe = observe;
    o.hooks.observe_ctx = k;
    ts_sim *w = ts_sim_create(scn, &o, err, sizeof err);
    ck_assert_msg(w, "%s", err);
    ts_sim_run(w);
    ts_sim_destroy(w);
    fclose(devnull);
    /* The rows name their hosts by the scenario's strings: it lives until k is freed. */
}

static void done(rows *k)
{
    ts_scn_free((ts_scn *)k->scn);
    free(k);
}

START_TEST(fast_retransmit_enters_recovery)
{
    rows *k = calloc(1, sizeof *k);
    run(fast_scn, k);
    size_t rx = 0;
    while (rx < k->n && !(k->r[rx].event == TS_EV_RETRANSMIT && k->r[rx].d1 == TS_REXMIT_FAST))
        rx++;
    ck_assert_msg(rx < k->n, "no fast retransmission in the series");
    const ts_series_row *r = &k->r[rx];
    /* At 0.12 s: the third duplicate ACK (one RTT after the burst) resends the hole. */
    ck_assert_uint_eq(r->t, 120000);
    ck_assert_uint_eq(r->ca_state, TS_CA_RECOVERY);
    ck_assert(r->has_seg);
    ck_assert_uint_eq(r->seg_len, 1448);
    ck_assert_uint_eq(r->seg_seq, r->snd_una); /* the first unacknowledged segment */
    /* RFC 5681 (4): ssthresh = FlightSize / 2 = (10 - 2 acknowledged) * 1448 / 2. */
    ck_assert_uint_eq(r->ssthresh, 4 * 1448);
    /* Before: duplicate ACKs seen, no recovery yet (Linux's Disorder). */
    size_t before = rx;
    while (before > 0 && k->r[before].ca_state == TS_CA_RECOVERY) before--;
    ck_assert_uint_eq(k->r[before].ca_state, TS_CA_DISORDER);
    ck_assert_uint_eq(k->r[before].ssthresh, UINT32_MAX); /* unset until the first loss */
    /* After: the hole repaired, the state returns to open and stays so. */
    ck_assert_uint_eq(k->r[k->n - 1].ca_state, TS_CA_OPEN);
    done(k);
}
END_TEST

START_TEST(rto_after_first_rtt_sample)
{
    rows *k = calloc(1, sizeof *k);
    run(fast_scn, k);
    size_t i = 0;
    while (i < k->n && k->r[i].event != TS_EV_RTT_SAMPLE) i++;
    ck_assert_msg(i < k->n, "no RTT sample");
    const ts_series_row *r = &k->r[i];
    for (size_t j = 0; j < i; j++) ck_assert_uint_eq(k->r[j].srtt, 0); /* unknown before */
    ck_assert_uint_eq(r->sample, 20000); /* the SYN's round trip over 2 x 10 ms */
    ck_assert_uint_eq(r->srtt, 20000);   /* RFC 6298 2.2: SRTT = R */
    /* RFC 6298 2.2 RTO = SRTT + max(G, 4 RTTVAR), RTTVAR = R/2, with Linux's floor:
     * the variance term is at least rto_min (200 ms), as tcp_set_rto does. */
    ts_time_t var = 4 * (r->sample / 2) > 200000 ? 4 * (r->sample / 2) : 200000;
    ck_assert_uint_eq(r->rto, r->srtt + var);
    done(k);
}
END_TEST

static size_t count_char(const char *s, char c)
{
    size_t n = 0;
    for (; *s; s++) n += *s == c;
    return n;
}

START_TEST(csv_and_json_cells)
{
    rows *k = calloc(1, sizeof *k);
    run(fast_scn, k);
    const char *h = ts_series_header(TS_SERIES_CSV);
    size_t ncols = count_char(h, ',') + 1;
    ck_assert_uint_eq(ncols, 27);
    ck_assert(strncmp(h, "time_s,host,conn,", 17) == 0);
    ck_assert_str_eq(ts_series_header(TS_SERIES_JSONL), "");
    char line[TS_SERIES_LINE_MAX];
    for (size_t i = 0; i < k->n; i++) {
        size_t n = ts_series_format_row(&k->r[i], TS_SERIES_CSV, line);
        ck_assert_uint_lt(n, sizeof line);
        line[n] = '\0';
        ck_assert_uint_eq(count_char(line, ','), ncols - 1);
        ck_assert_int_eq(line[n - 1], '\n');
        ck_assert(strstr(line, "nan") == NULL && strstr(line, "ms") == NULL);
        n = ts_series_format_row(&k->r[i], TS_SERIES_JSONL, line);
        line[n] = '\0';
        ck_assert_int_eq(line[0], '{');
        ck_assert(strstr(line, "\"cwnd\":") != NULL);
    }
    /* The first row (a new connection, before any RTT sample): srtt unknown, rto known. */
    ts_series_format_row(&k->r[0], TS_SERIES_CSV, line);
    ck_assert_msg(strstr(line, "conn_new") != NULL, "%s", line);
    ck_assert_msg(strstr(line, ",,,1000000,0,,\n") != NULL, "%s", line);
    ts_series_format_row(&k->r[0], TS_SERIES_JSONL, line);
    ck_assert(strstr(line, "\"srtt_us\":null,\"rttvar_us\":null,\"rto_us\":1000000,") != NULL);
    /* A retransmission row names its kind and range. */
    for (size_t i = 0; i < k->n; i++)
        if (k->r[i].event == TS_EV_RETRANSMIT) {
            ts_series_format_row(&k->r[i], TS_SERIES_CSV, line);
            ck_assert_msg(strstr(line, ",retransmit,fast,") != NULL, "%s", line);
            ck_assert_msg(strstr(line, "0.120000,client,1,10.0.0.103:") == line, "%s", line);
            break;
        }
    done(k);
}
END_TEST

START_TEST(set_pairs_both_ends)
{
    rows *k = calloc(1, sizeof *k);
    k->set = ts_series_set_new();
    run(fast_scn, k);
    ck_assert(ts_series_set_ok(k->set));
    ck_assert_uint_eq(ts_series_set_count(k->set), 1);
    char err[200];
    const ts_series_conn *c = ts_series_set_pick(k->set, "", err, sizeof err);
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(c->end[0].host, "client");
    ck_assert_str_eq(c->end[1].host, "server");
    ck_assert_uint_eq(c->end[1].ep.port, 6379);
    ck_assert_uint_eq(c->end[0].bytes_out, 11 * 1448); /* ten and the retransmission */
    ck_assert_ptr_eq(ts_series_set_pick(k->set, "10.0.0.199:6379", err, sizeof err), c);
    ck_assert_ptr_eq(ts_series_set_pick(k->set, "1", err, sizeof err), c);
    ck_assert_ptr_null(ts_series_set_pick(k->set, "2", err, sizeof err));
    ck_assert_msg(strstr(err, "--conn 2: no such connection; there is 1") == err, "%s", err);
    /* Only changes kept, but every sample and retransmission. */
    size_t samples = 0, all = 0;
    for (size_t i = 0; i < c->end[0].n; i++) samples += c->end[0].rows[i].event == TS_EV_RTT_SAMPLE;
    for (size_t i = 0; i < k->n; i++) all += k->r[i].event == TS_EV_RTT_SAMPLE;
    ck_assert_uint_eq(samples, all);
    ck_assert_uint_lt(c->end[0].n, k->n);
    ts_series_set_free(k->set);
    done(k);
}
END_TEST

START_TEST(format_from_name)
{
    ts_series_format f;
    ck_assert_int_eq(ts_series_format_from_name("a.csv", &f), 0);
    ck_assert_int_eq(f, TS_SERIES_CSV);
    ck_assert_int_eq(ts_series_format_from_name("dir.x/a.JSONL", &f), 0);
    ck_assert_int_eq(f, TS_SERIES_JSONL);
    ck_assert_int_eq(ts_series_format_from_name("a.txt", &f), -1);
    ck_assert_int_eq(ts_series_format_from_name("dir.csv/a", &f), -1);
    char err[200];
    ck_assert_ptr_null(ts_series_open("out.txt", 0, TS_SERIES_ALL, err, sizeof err));
    ck_assert_msg(strstr(err, "name the file .csv or .jsonl") != NULL, "%s", err);
    ck_assert_ptr_null(ts_series_open("/nonexistent/dir/a.csv", 0, TS_SERIES_ALL, err, sizeof err));
}
END_TEST

/* The series reads a segment's fields straight from the packet (the wire parse costs ten
 * times as much per event): over well-formed, truncated and corrupted packets it must
 * accept exactly what ts_ip4_view_parse and ts_tcp_view_parse accept and read the same
 * sequence, ACK, flags and payload length. */
START_TEST(segment_fields_as_the_wire_parse)
{
    uint8_t good[80], pkt[80];
    ts_ip4_hdr ip = {.ttl = 64, .proto = TS_IPPROTO_TCP, .src = 0x0a000067, .dst = 0x0a0000c7};
    ts_tcp_hdr th = {.sport = 1, .dport = 2, .seq = 0xdeadbeef, .ack = 7, .flags = 0x18, .win = 9};
    uint8_t payload[12] = "0123456789a";
    size_t n = ts_tcp_build(good, sizeof good, &ip, &th, NULL, 0, payload, sizeof payload);
    ck_assert_uint_eq(n, 20 + 20 + sizeof payload);
    uint32_t rng = 12345, accepted = 0, refused = 0;
    for (int i = 0; i < 200000; i++) {
        memcpy(pkt, good, sizeof pkt);
        size_t len = n;
        int kind = i % 4;
        rng = rng * 1103515245u + 12345u;
        if (kind == 1) len = (rng >> 8) % (n + 1);                  /* truncated */
        if (kind >= 2) pkt[(rng >> 8) % 40] = (uint8_t)(rng >> 20); /* a header byte */
        if (kind == 3) pkt[(rng >> 4) % 4 == 0 ? 0 : 32] ^= (uint8_t)(rng >> 12); /* IHL, THL */
        uint32_t seq = 0, ack = 0, slen = 0;
        uint8_t flags = 0;
        bool got = ts_series_parse_seg(pkt, len, &seq, &ack, &flags, &slen);
        ts_ip4_view v;
        ts_tcp_view t;
        ts_wire_err e = ts_ip4_view_parse(&v, pkt, len);
        bool want = (e == TS_WIRE_OK || (e == TS_WIRE_IP_TOTLEN && v.hdr)) &&
                    v.proto == TS_IPPROTO_TCP &&
                    ts_tcp_view_parse(&t, v.payload, v.payload_len) == TS_WIRE_OK;
        ck_assert_msg(got == want, "packet %d (len %zu): series %d, wire parse %d", i, len, got,
                      want);
        if (!want) {
            refused++;
            continue;
        }
        accepted++;
        ck_assert_uint_eq(seq, t.seq);
        ck_assert_uint_eq(ack, t.ack);
        ck_assert_uint_eq(flags, t.flags & 0x1f);
        ck_assert_uint_eq(slen, t.len);
    }
    ck_assert_uint_gt(accepted, 50000); /* both kinds seen often */
    ck_assert_uint_gt(refused, 20000);
    ck_assert(!ts_series_parse_seg(NULL, 0, &rng, &rng, (uint8_t *)&rng, &rng));
}
END_TEST

/* A synthetic event for the writer tests: kinds, hosts and connections interleaved. */
static void synth(ts_event *ev, uint32_t i, uint8_t *pkt, size_t len)
{
    memset(ev, 0, sizeof *ev);
    ev->now = 999000 + (ts_time_t)i * 37;     /* crosses whole seconds */
    if (i % 5000 == 4999) ev->now -= 2000000; /* a clock that goes back (tun) */
    ev->type = (ts_event_type)(i % 12);
    ev->conn.id = i % 23; /* 0: no connection */
    ev->conn.local = (ts_endpoint){0x0a000001u + i % 3, (uint16_t)(1000 + i % 23)};
    ev->conn.remote = (ts_endpoint){0x0a000063u, 80};
    switch (ev->type) {
    case TS_EV_SEG_IN:
    case TS_EV_SEG_OUT:
        ev->u.seg.pkt = i % 7 ? pkt : NULL;
        ev->u.seg.len = i % 11 ? len : len / 2;
        break;
    case TS_EV_STATE: ev->u.state.from = TS_ESTABLISHED, ev->u.state.to = TS_FIN_WAIT_1; break;
    case TS_EV_TIMER_SET: ev->u.timer.when = ev->now + i % 1000, ev->u.timer.kind = i % 7; break;
    case TS_EV_TIMER_FIRE:
    case TS_EV_TIMER_CANCEL: ev->u.timer.kind = i % 7; break;
    case TS_EV_RETRANSMIT: ev->u.rexmit.kind = i % 5, ev->u.rexmit.seq = i * 1448u; break;
    case TS_EV_RTT_SAMPLE: ev->u.rtt.sample = i; break;
    case TS_EV_DROP: ev->u.drop.reason = (ts_drop_reason)(i % 4); break;
    default: break;
    }
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* The writer's thread (a ring it goes round many times, filled faster than it empties),
 * formatting in line, and the plain formatter without memory of earlier rows must give
 * the same bytes, row for row, over events of every kind, from three hosts (quoted names
 * among them) and 23 connections interleaved, with the clock crossing seconds and going
 * back. */
START_TEST(writer_thread_inline_and_plain_agree)
{
    const char *hosts[3] = {"client", "a,b \"quoted\"", "server"};
    uint8_t pkt[64];
    ts_ip4_hdr ip = {.ttl = 64, .proto = TS_IPPROTO_TCP, .src = 1, .dst = 2};
    ts_tcp_hdr th = {.seq = 4000000000u, .ack = 5, .flags = 0x11, .win = 9};
    size_t len = ts_tcp_build(pkt, sizeof pkt, &ip, &th, NULL, 0, NULL, 0);
    const char *fmts[2] = {"csv", "jsonl"};
    enum { N = 70000 }; /* the ring (16384 rows) goes round four times */
    char dir[] = "/tmp/ts-series-test.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    for (int f = 0; f < 2; f++) {
        char path[2][96];
        for (int sync = 0; sync < 2; sync++) {
            snprintf(path[sync], sizeof path[sync], "%s/%d.%s", dir, sync, fmts[f]);
            if (sync)
                setenv("TS_SERIES_SYNC", "1", 1);
            else
                unsetenv("TS_SERIES_SYNC");
            char err[200];
            ts_series *w = ts_series_open(path[sync], 0, TS_SERIES_ALL, err, sizeof err);
            ck_assert_msg(w, "%s", err);
            for (uint32_t i = 0; i < N; i++) {
                ts_event ev;
                synth(&ev, i, pkt, len);
                ts_series_event(w, NULL, hosts[i / 3 % 3], &ev);
            }
            ck_assert_int_eq(ts_series_close(w, err, sizeof err), 0);
        }
        unsetenv("TS_SERIES_SYNC");
        size_t la, lb;
        char *a = slurp(path[0], &la), *b = slurp(path[1], &lb);
        ck_assert_uint_eq(la, lb);
        ck_assert(memcmp(a, b, la) == 0);
        /* Row for row, as the formatter without memory writes it. */
        ts_series_format fmt = f ? TS_SERIES_JSONL : TS_SERIES_CSV;
        char *p = a + strlen(ts_series_header(fmt)), line[TS_SERIES_LINE_MAX];
        for (uint32_t i = 0; i < N; i++) {
            ts_event ev;
            ts_series_row r;
            synth(&ev, i, pkt, len);
            ts_series_fill(&r, NULL, hosts[i / 3 % 3], &ev, 0);
            size_t n = ts_series_format_row(&r, fmt, line);
            ck_assert_msg(p + n <= a + la && memcmp(p, line, n) == 0, "row %u: %.*s", i, (int)n,
                          line);
            p += n;
        }
        ck_assert_ptr_eq(p, a + la);
        free(a);
        free(b);
        remove(path[0]);
        remove(path[1]);
    }
    rmdir(dir);
}
END_TEST

/* The formatter with memory against the plain one on rows of a real run, then on the same
 * rows with one variable changed at a time (each cell made again only when its value
 * changed must still be made again then). */
START_TEST(cached_cells_follow_every_change)
{
    rows *k = calloc(1, sizeof *k);
    run(fast_scn, k);
    char a[TS_SERIES_LINE_MAX], b[TS_SERIES_LINE_MAX];
    for (int f = 0; f < 2; f++) {
        ts_series_format fmt = f ? TS_SERIES_JSONL : TS_SERIES_CSV;
        ts_series_fmt *m = ts_series_fmt_new(fmt);
        ck_assert_ptr_nonnull(m);
        for (size_t i = 0; i < k->n; i++) {
            for (int v = 0; v < 17; v++) {
                ts_series_row r = k->r[i];
                switch (v) {
                case 1: r.snd_una++; break;
                case 2: r.cwnd = r.cwnd * 3 + 1; break;
                case 3: r.ssthresh = UINT32_MAX; break;
                case 4: r.srtt = r.rttvar = 0; break;
                case 5: r.rto += 1000000000000ull; break;
                case 6: r.known = !r.known; break;
                case 7: r.state = (uint8_t)TS_TIME_WAIT; break;
                case 8: r.ca_state = (uint8_t)TS_CA_LOSS; break;
                case 9: r.backoff += 3; break;
                case 10: r.lost ^= 0x5555; break;
                case 11: r.sacked += 10; break;
                case 12: r.flight = 0; break;
                case 13: r.snd_wnd = 65535; break;
                case 14: r.snd_max += 99; break;
                case 15: r.snd_nxt -= 7; break;
                case 16: r.t += 1234567; break;
                default: break;
                }
                size_t na = ts_series_fmt_row(m, &r, a), nb = ts_series_format_row(&r, fmt, b);
                a[na] = b[nb] = '\0';
                ck_assert_msg(na == nb && !strcmp(a, b), "row %zu change %d:\n%s%s", i, v, a, b);
            }
        }
        ts_series_fmt_free(m);
    }
    done(k);
}
END_TEST

/* The rule of --series-events changes (the default), field by field: a timer set or
 * cancel is left out only after a row of the same host (by name) and connection whose
 * fifteen variables are all the same; every other event, and a row after anything
 * different, is kept. */
START_TEST(repeats_only_timer_rows_with_nothing_changed)
{
    char host_a[] = "client", host_b[] = "client"; /* the same name at two addresses */
    ts_series_row prev = {.host = host_a, .conn = {.id = 3}, .event = TS_EV_SEG_OUT};
    prev.known = true;
    prev.state = TS_ESTABLISHED;
    prev.snd_una = 1000, prev.cwnd = 14480, prev.srtt = 20000, prev.rto = 220000;
    ts_series_row r = prev;
    r.host = host_b;
    r.t = prev.t + 5; /* the time does not count */
    for (int e = 0; e < 12; e++) {
        r.event = (uint8_t)e;
        ck_assert_int_eq(ts_series_repeats(&prev, &r),
                         e == TS_EV_TIMER_SET || e == TS_EV_TIMER_CANCEL);
    }
    r.event = TS_EV_TIMER_SET;
    r.timer = 40000; /* its own cells do not count either */
    ck_assert(ts_series_repeats(&prev, &r));
    ck_assert(!ts_series_repeats(NULL, &r)); /* the first row */
    ts_series_row o = r;
    o.conn.id = 4;
    ck_assert(!ts_series_repeats(&prev, &o));
    o = r;
    o.host = "server";
    ck_assert(!ts_series_repeats(&prev, &o));
    o = r;
    o.known = false; /* no variables: nothing to repeat */
    ts_series_row p2 = prev;
    p2.known = false;
    ck_assert(!ts_series_repeats(&p2, &o));
    /* Each variable, one at a time. */
    for (size_t off = TS_SERIES_VARS_BEGIN; off < TS_SERIES_VARS_BEGIN + TS_SERIES_VARS_SIZE;
         off++) {
        o = r;
        ((uint8_t *)&o)[off] ^= 1;
        ck_assert_msg(!ts_series_repeats(&prev, &o), "byte %zu of the variables changed", off);
    }
    ts_series_rows m;
    ck_assert_int_eq(ts_series_rows_from_name("all", &m), 0);
    ck_assert_int_eq(m, TS_SERIES_ALL);
    ck_assert_int_eq(ts_series_rows_from_name("changes", &m), 0);
    ck_assert_int_eq(m, TS_SERIES_CHANGES);
    ck_assert_int_eq(ts_series_rows_from_name("every", &m), -1);
}
END_TEST

/* A bulk transfer with losses, written three ways (the writer's thread and in line with
 * the default rows, and every event), about 90,000 events: the ring goes round and rows
 * are left out across its publications. The default file must be every event's rows with
 * the rule applied, row for row, and the thread and in line the same bytes. */
typedef struct tee {
    const ts_scn *scn;
    ts_series *w[3];
    ts_series_row *all;
    size_t n, cap;
} tee;

static void tee_observe(void *ctx, int host, ts_stack *s, const ts_event *ev)
{
    tee *t = ctx;
    const char *name = t->scn->hosts[host].name;
    for (int i = 0; i < 3; i++) ts_series_event(t->w[i], s, name, ev);
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 4096;
        t->all = realloc(t->all, t->cap * sizeof *t->all);
        ck_assert_ptr_nonnull(t->all);
    }
    ts_series_fill(&t->all[t->n++], s, name, ev, 0);
}

START_TEST(changes_rows_are_all_rows_filtered)
{
    static const char bulk[] = "host client 10.0.0.103\n"
                               "host server 10.0.0.199\n"
                               "link client server delay=5ms rate=100Mbit queue=100\n"
                               "link client>server loss=1%\n"
                               "at 0s server listen 5001\n"
                               "at 0s client connect server:5001\n"
                               "at 0.1s client send 20MB\n";
    char err[256];
    ts_scn *scn = ts_scn_parse("bulk.scn", bulk, strlen(bulk), NULL, err, sizeof err);
    ck_assert_msg(scn, "%s", err);
    tee t = {.scn = scn};
    char dir[] = "/tmp/ts-series-rows.XXXXXX", path[3][96];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    const ts_series_rows mode[3] = {TS_SERIES_CHANGES, TS_SERIES_CHANGES, TS_SERIES_ALL};
    for (int i = 0; i < 3; i++) {
        snprintf(path[i], sizeof path[i], "%s/%d.csv", dir, i);
        if (i == 1)
            setenv("TS_SERIES_SYNC", "1", 1);
        else
            unsetenv("TS_SERIES_SYNC");
        t.w[i] = ts_series_open(path[i], 0, mode[i], err, sizeof err);
        ck_assert_msg(t.w[i], "%s", err);
    }
    unsetenv("TS_SERIES_SYNC");
    FILE *devnull = fopen("/dev/null", "w");
    ts_sim_opts o = {.out = devnull, .quiet = true};
    o.hooks.observe = tee_observe;
    o.hooks.observe_ctx = &t;
    ts_sim *sim = ts_sim_create(scn, &o, err, sizeof err);
    ck_assert_msg(sim, "%s", err);
    ts_sim_run(sim);
    ts_sim_destroy(sim);
    fclose(devnull);
    for (int i = 0; i < 3; i++) ck_assert_int_eq(ts_series_close(t.w[i], err, sizeof err), 0);
    ck_assert_uint_gt(t.n, 4 * 16384); /* the ring goes round, even for the rows kept */
    size_t len[3];
    char *f[3];
    for (int i = 0; i < 3; i++) f[i] = slurp(path[i], &len[i]);
    ck_assert_uint_eq(len[0], len[1]);
    ck_assert(memcmp(f[0], f[1], len[0]) == 0);
    /* Row for row: every event's in the third file, the rule's in the first. */
    char line[TS_SERIES_LINE_MAX], *p[3] = {NULL, NULL, NULL};
    for (int i = 0; i < 3; i += 2) p[i] = f[i] + strlen(ts_series_header(TS_SERIES_CSV));
    size_t kept = 0, left = 0, timers = 0;
    const ts_series_row *prev = NULL;
    for (size_t i = 0; i < t.n; i++) {
        const ts_series_row *r = &t.all[i];
        size_t n = ts_series_format_row(r, TS_SERIES_CSV, line);
        ck_assert(p[2] + n <= f[2] + len[2] && memcmp(p[2], line, n) == 0);
        p[2] += n;
        timers += r->event == TS_EV_TIMER_SET || r->event == TS_EV_TIMER_CANCEL;
        if (ts_series_repeats(prev, r)) {
            left++;
            continue; /* prev stays: the row before in the file */
        }
        ck_assert_msg(p[0] + n <= f[0] + len[0] && memcmp(p[0], line, n) == 0,
                      "event %zu: want %.*s", i, (int)n, line);
        p[0] += n;
        kept++;
        prev = r;
    }
    ck_assert_ptr_eq(p[0], f[0] + len[0]);
    ck_assert_ptr_eq(p[2], f[2] + len[2]);
    /* A bulk sender re-arms its timers at every ACK: most timer rows say nothing new. */
    ck_assert_uint_gt(left, timers / 2);
    ck_assert_uint_gt(kept, left);
    ck_assert_uint_gt(kept, 2 * 16384); /* round the ring twice */
    for (int i = 0; i < 3; i++) {
        free(f[i]);
        remove(path[i]);
    }
    rmdir(dir);
    free(t.all);
    ts_scn_free(scn);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("view_series");
    TCase *tc = tcase_create("series");
    tcase_add_test(tc, fast_retransmit_enters_recovery);
    tcase_add_test(tc, rto_after_first_rtt_sample);
    tcase_add_test(tc, csv_and_json_cells);
    tcase_add_test(tc, set_pairs_both_ends);
    tcase_add_test(tc, format_from_name);
    tcase_add_test(tc, segment_fields_as_the_wire_parse);
    tcase_add_test(tc, writer_thread_inline_and_plain_agree);
    tcase_add_test(tc, cached_cells_follow_every_change);
    tcase_add_test(tc, repeats_only_timer_rows_with_nothing_changed);
    tcase_add_test(tc, changes_rows_are_all_rows_filtered);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
