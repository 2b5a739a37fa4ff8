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

#include "harness.h"
#include "series.h"
#include "sim.h"

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
    ck_assert_ptr_null(ts_series_open("out.txt", 0, err, sizeof err));
    ck_assert_msg(strstr(err, "name the file .csv or .jsonl") != NULL, "%s", err);
    ck_assert_ptr_null(ts_series_open("/nonexistent/dir/a.csv", 0, err, sizeof err));
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
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
