/* test_tools_view_plot.c: the time-sequence graph's drawing rules (tools/view/plot_tseq.c)
 * on connection models built by hand: one bar per data segment while they stand apart, a
 * merged bar where they would overlap at 1 px (and a caption that says so), causes
 * lettered, lost segments crossed, and a 100,000-segment transfer well under 5 MB. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "plot.h"

#define ISN 1000u

/* A bulk transfer: n data segments of 1448 bytes from end 0, gap µs apart, each ACKed
 * 10 ms later with a 64 kB window; segment lost_at (if < n) is lost and resent by cause. */
static ts_view *bulk(size_t n, ts_time_t gap, size_t lost_at, ts_view_cause cause)
{
    ts_view *v = calloc(1, sizeof *v);
    size_t cap = 2 * n + 2;
    v->segs = calloc(cap, sizeof *v->segs);
    v->origin = TS_VIEW_SIM;
    v->end[0] = (ts_view_end){{TS_IP4(10, 0, 0, 103), 40000}, "client", ISN, true};
    v->end[1] = (ts_view_end){{TS_IP4(10, 0, 0, 199), 5001}, "server", 7, true};
    size_t k = 0;
    for (size_t i = 0; i <= n; i++) {
        bool resend = i == n;
        if (resend && lost_at >= n) break;
        uint32_t seq = ISN + 1 + 1448u * (uint32_t)(resend ? lost_at : i);
        ts_time_t t = 100000 + (ts_time_t)i * gap;
        ts_view_seg *d = &v->segs[k++];
        *d = (ts_view_seg){.no = (uint32_t)k,
                           .from = 0,
                           .t_send = t,
                           .t_recv = t + 10000,
                           .flags = TS_TH_ACK,
                           .seq = seq,
                           .ack = 8,
                           .len = 1448,
                           .win = 65535};
        if (i == lost_at) d->t_recv = TS_TIME_NEVER;
        if (resend) {
            d->cause = cause;
            d->rexmit_no = 1;
        }
        ts_view_seg *a = &v->segs[k++];
        *a = (ts_view_seg){.no = (uint32_t)k,
                           .from = 1,
                           .t_send = t + 10000,
                           .t_recv = t + 20000,
                           .flags = TS_TH_ACK,
                           .seq = 8,
                           .ack = seq + 1448,
                           .win = 65536};
    }
    v->nsegs = k;
    return v;
}

static char *draw(const ts_view *v, ts_plot_info *info, size_t *len)
{
    char *buf = NULL, err[200];
    FILE *f = open_memstream(&buf, len);
    ck_assert_int_eq(ts_plot_tseq(v, NULL, f, info, err, sizeof err), 0);
    fclose(f);
    const char *dump = getenv("TS_PLOT_DUMP"); /* to look at it: TS_PLOT_DUMP=x.svg */
    FILE *d = dump ? fopen(dump, "w") : NULL;
    if (d) fwrite(buf, 1, *len, d), fclose(d);
    return buf;
}

static size_t count(const char *s, const char *what)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, what)); p++) n++;
    return n;
}

START_TEST(one_bar_per_segment_when_apart)
{
    ts_view *v = bulk(10, 5000, 3, TS_VCAUSE_FAST); /* 5 ms apart: far beyond 1 px */
    ts_plot_info info;
    size_t len;
    char *svg = draw(v, &info, &len);
    ck_assert_uint_eq(info.segments, 11);
    ck_assert_uint_eq(info.drawn, 11);
    ck_assert_uint_eq(count(svg, "<path class=\"seg "), 11);
    ck_assert_uint_eq(count(svg, "<path class=\"seg fast\""), 1);
    ck_assert(strstr(svg, ">F</text>") != NULL);             /* the cause's letter */
    ck_assert_uint_eq(count(svg, "class=\"mk lostmk\""), 2); /* the mark and its legend */
    ck_assert(strstr(svg, "Thinned") == NULL);
    ck_assert(strstr(svg, "11 data segments, one bar each") != NULL);
    ck_assert(strstr(svg, "time (ms, virtual)") != NULL);
    ck_assert(strstr(svg, "sequence number (bytes from the ISN)") != NULL);
    ck_assert(strstr(svg, "fast retransmission (F)") != NULL);
    ck_assert(strstr(svg, "class=\"ackl\"") != NULL && strstr(svg, "class=\"winl\"") != NULL);
    free(svg);
    ts_view_free(v);
}
END_TEST

START_TEST(merged_where_they_overlap)
{
    ts_view *v = bulk(5000, 10, 6000, TS_VCAUSE_NEW); /* 10 µs apart over 50 ms */
    ts_plot_info info;
    size_t len;
    char *svg = draw(v, &info, &len);
    ck_assert_uint_eq(info.segments, 5000);
    ck_assert_uint_lt(info.drawn, 1000); /* about one per pixel column */
    ck_assert_uint_gt(info.drawn, 100);
    ck_assert(strstr(svg, "Thinned to the output") != NULL);
    ck_assert(strstr(svg, "5000 data segments") != NULL);
    free(svg);
    ts_view_free(v);
}
END_TEST

START_TEST(hundred_thousand_segments_small)
{
    ts_view *v = bulk(100000, 100, 50000, TS_VCAUSE_RTO);
    ts_plot_info info;
    size_t len;
    char *svg = draw(v, &info, &len);
    ck_assert_uint_eq(info.segments, 100001);
    ck_assert_uint_lt(len, 5u << 20);
    ck_assert(strstr(svg, ">R</text>") != NULL); /* one retransmission still lettered */
    free(svg);
    ts_view_free(v);
}
END_TEST

START_TEST(empty_view_refused)
{
    ts_view v = {.origin = TS_VIEW_CAPTURE};
    char err[200];
    FILE *f = fopen("/dev/null", "w");
    ck_assert_int_eq(ts_plot_tseq(&v, NULL, f, NULL, err, sizeof err), -1);
    fclose(f);
    ck_assert_str_eq(err, "the connection has no segments: nothing to plot");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("view_plot");
    TCase *tc = tcase_create("tseq");
    tcase_add_test(tc, one_bar_per_segment_when_apart);
    tcase_add_test(tc, merged_where_they_overlap);
    tcase_add_test(tc, hundred_thousand_segments_small);
    tcase_add_test(tc, empty_view_refused);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
