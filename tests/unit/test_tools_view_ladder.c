/* test_tools_view_ladder.c: the ladder diagram's text renderer on hand-built connection
 * models (ladder_fixtures.h): golden files byte for byte (TS_UPDATE_GOLDEN=1 rewrites
 * them), and what the picture must show whatever its spacing: one arrow head per segment
 * that arrived, a cross per loss, the gaps' lengths, states, timers and causes. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ladder.h"
#include "ladder_layout.h"
#include "ladder_fixtures.h"
#include "harness.h"

static ts_ladder_opts opts(void)
{
    ts_ladder_opts o;
    ts_ladder_opts_init(&o);
    return o;
}

START_TEST(close_text_golden)
{
    ts_ladder_opts o = opts();
    char *t = fx_render(fx_close(), &o);
    fx_golden("ladder_close.txt", t);
    /* Six segments, all arrived: four heads from the client, two from the server. */
    ck_assert_int_eq(fx_count(t, "\u25B6"), 4);
    ck_assert_int_eq(fx_count(t, "\u25C0"), 2);
    ck_assert_ptr_nonnull(strstr(t, "F. seq 515987658 ack 3685266301"));
    ck_assert_ptr_nonnull(strstr(t, "[mss 1460,sackOK,TS,wscale 7]"));
    ck_assert_ptr_nonnull(strstr(t, "delayed ACK: rides on F."));
    ck_assert_ptr_nonnull(strstr(t, "\u2026 7.194 s \u2026"));
    ck_assert_ptr_nonnull(strstr(t, "LAST_ACK"));
    ck_assert_ptr_nonnull(strstr(t, "TIME_WAIT timer fired (60 s)"));
    free(t);
}
END_TEST

START_TEST(close_relative_ascii_golden)
{
    ts_ladder_opts o = opts();
    o.relative = o.ascii = true;
    char *t = fx_render(fx_close(), &o);
    fx_golden("ladder_close_rel_ascii.txt", t);
    for (const unsigned char *p = (const unsigned char *)t; *p; p++) ck_assert_int_lt(*p, 0x80);
    ck_assert_ptr_nonnull(strstr(t, "S. seq 0 ack 1"));
    ck_assert_ptr_nonnull(strstr(t, "F. seq 1 ack 2"));
    ck_assert_ptr_nonnull(strstr(t, "relative to each end's ISN"));
    free(t);
}
END_TEST

START_TEST(timeout_text_golden)
{
    ts_ladder_opts o = opts();
    char *t = fx_render(fx_timeout(), &o);
    fx_golden("ladder_timeout.txt", t);
    ck_assert_int_eq(fx_count(t, "\u2715"), 5 + 1); /* five lost SYNs, and the legend */
    for (int i = 0; i < 4; i++) {
        char gap[32], why[64];
        snprintf(gap, sizeof gap, "\u2026 %d s \u2026", 1 << i);
        snprintf(why, sizeof why, "(SYN retry #%d after %d s)", i + 1, 1 << i);
        ck_assert_msg(strstr(t, gap), "no gap %s", gap);
        ck_assert_msg(strstr(t, why), "no cause %s", why);
    }
    ck_assert_ptr_nonnull(strstr(t, "SYN timer fired (16 s)"));
    free(t);
}
END_TEST

START_TEST(capture_text_golden)
{
    ts_ladder_opts o = opts();
    o.relative = true;
    char *t = fx_render(fx_capture(), &o);
    fx_golden("ladder_capture.txt", t);
    ck_assert_ptr_nonnull(strstr(t, "[ESTABLISHED]"));
    ck_assert_ptr_nonnull(strstr(t, "inferred from the segments"));
    ck_assert_ptr_nonnull(strstr(t, "[sack 2001:3001]"));
    ck_assert_ptr_nonnull(strstr(t, "(retransmission after 21 ms)"));
    ck_assert_ptr_nonnull(strstr(t, "\n  captured between the ends; both ends' times estimated"));
    free(t);
}
END_TEST

/* Every line fits the width asked for, counted in characters, not bytes. */
START_TEST(fits_width)
{
    unsigned widths[] = {64, 80, 100, 132};
    for (size_t k = 0; k < sizeof widths / sizeof widths[0]; k++) {
        ts_ladder_opts o = opts();
        o.width = widths[k];
        char *t = fx_render(fx_capture(), &o);
        unsigned cols = 0;
        for (const unsigned char *p = (const unsigned char *)t; *p; p++) {
            if (*p == '\n')
                cols = 0;
            else if ((*p & 0xC0) != 0x80)
                ck_assert_uint_le(++cols, widths[k]);
        }
        free(t);
    }
}
END_TEST

START_TEST(last_n)
{
    ts_ladder_opts o = opts();
    o.last = 2;
    char *t = fx_render(fx_close(), &o);
    fx_golden("ladder_close_last2.txt", t);
    ck_assert_int_eq(fx_count(t, "\u25B6") + fx_count(t, "\u25C0"), 2);
    ck_assert_ptr_null(strstr(t, "S. seq"));
    ck_assert_ptr_nonnull(strstr(t, "2 segments (the last ones)"));
    free(t);
}
END_TEST

START_TEST(format_from_name)
{
    ts_ladder_format f = TS_LADDER_TEXT;
    ck_assert_int_eq(ts_ladder_format_from_name("a/b.svg", &f), 0);
    ck_assert_int_eq(f, TS_LADDER_SVG);
    ck_assert_int_eq(ts_ladder_format_from_name("x.HTML", &f), 0);
    ck_assert_int_eq(f, TS_LADDER_HTML);
    ck_assert_int_eq(ts_ladder_format_from_name("x.htm", &f), 0);
    ck_assert_int_eq(ts_ladder_format_from_name("x.txt", &f), 0);
    ck_assert_int_eq(f, TS_LADDER_TEXT);
    ck_assert_int_eq(ts_ladder_format_from_name("x.png", &f), -1);
    ck_assert_int_eq(ts_ladder_format_from_name("dir.svg/x", &f), -1);
    ck_assert_int_eq(ts_ladder_format_from_name("noext", &f), -1);
}
END_TEST

/* An empty connection and one with only a lost segment still draw, and never crash. */
START_TEST(degenerate)
{
    ts_ladder_opts o = opts();
    ts_view *v = fx_new(TS_VIEW_CAPTURE, 1, 1, "", 2, 2, "");
    char *t = fx_render(v, &o);
    ck_assert_ptr_nonnull(strstr(t, "0 segments"));
    free(t);
    v = fx_new(TS_VIEW_CAPTURE, 1, 1, "", 2, 2, "");
    fx_seg(v, 0, 0, -1, TS_TH_SYN, 1, 0, 0, 100);
    o.format = TS_LADDER_TEXT;
    t = fx_render(v, &o);
    ck_assert_int_eq(fx_count(t, "\u2715"), 2);
    free(t);
}
END_TEST

/* A zero-window or keepalive probe is a pure ACK whose point is its sequence number
 * (SND.UNA - 1, or the next byte): the label shows it, where an ordinary ACK's would not. */
START_TEST(probe_shows_its_seq)
{
    ts_ladder_opts o = opts();
    ts_view *v = fx_new(TS_VIEW_SIM, C_ADDR, 1000, "client", S_ADDR, 80, "server");
    fx_seg(v, 0, 0, 10, TS_TH_ACK, C_ISN + 100, S_ISN + 1, 0, 1000);
    ts_view_seg *p = fx_seg(v, 0, 300, 310, TS_TH_ACK, C_ISN + 99, S_ISN + 1, 0, 1000);
    p->cause = TS_VCAUSE_PROBE;
    char *t = fx_render(v, &o);
    char want[96];
    snprintf(want, sizeof want, ". seq %u ack %u (probe)", C_ISN + 99, S_ISN + 1);
    ck_assert_msg(strstr(t, want) != NULL, "no '%s' in:\n%s", want, t);
    snprintf(want, sizeof want, ". seq %u ack", C_ISN + 100);
    ck_assert_ptr_null(strstr(t, want)); /* an ordinary ACK keeps its short label */
    free(t);
}
END_TEST

/* A label too wide for two rows (a retransmitted SYN-ACK with its options and cause)
 * takes a third instead of losing its end: "(SYN retry #1 after 1 …" told no interval. */
START_TEST(wide_label_whole)
{
    ts_ladder_opts o = opts();
    ts_view *v = fx_new(TS_VIEW_SIM, C_ADDR, 38843, "client", S_ADDR, 6379, "server");
    fx_seg(v, 0, 0, 10, TS_TH_SYN, 550582782u, 0, 0, 64240);
    fx_seg(v, 1, 10, -1, TS_TH_SYN | TS_TH_ACK, 1619746891u, 550582783u, 0, 65160);
    ts_view_seg *r =
        fx_seg(v, 1, 1010, 1020, TS_TH_SYN | TS_TH_ACK, 1619746891u, 550582783u, 0, 65160);
    r->cause = TS_VCAUSE_SYN;
    r->rexmit_no = 1;
    char *t = fx_render(v, &o);
    ck_assert_msg(strstr(t, "(SYN retry #1 after 1 s)") != NULL, "cut:\n%s", t);
    ck_assert_int_eq(fx_count(t, "[mss 1460,sackOK,TS,wscale 7]"), 3);
    free(t);
}
END_TEST

/* A long run is drawn a window of rows at a time: arrows that cross from one window into
 * the next (one of them in flight for 1 s while 400 others come and go) arrive whole, and
 * every row keeps both lifelines. */
START_TEST(long_run_windows)
{
    ts_view *v = fx_new(TS_VIEW_SIM, 1, 1, "a", 2, 2, "b");
    free(v->segs);
    v->segs = calloc(420, sizeof *v->segs);
    fx_seg(v, 1, 0, 1000, TS_TH_ACK, 1, 1, 100, 500); /* the slow one */
    int lost = 0;
    for (int i = 1; i < 420; i++) {
        bool drop = i % 37 == 0;
        fx_seg(v, i % 2, i * 2.0, drop ? -1 : i * 2.0 + 9, TS_TH_ACK, (uint32_t)i, 1, 0, 500);
        lost += drop;
    }
    ts_ladder_opts o = opts();
    char *t = fx_render(v, &o);
    ck_assert_int_eq(fx_count(t, "\u25B6") + fx_count(t, "\u25C0"), 420 - lost);
    ck_assert_int_eq(fx_count(t, "\u2715"), lost + 1);
    /* Body rows: from the one after the names to the blank line before the legend. */
    const char *p = strstr(t, "time (s)");
    p = strchr(p, '\n') + 1;
    int rows = 0;
    for (; *p != '\n'; rows++) {
        const char *e = strchr(p, '\n');
        uint32_t cells[200];
        int n = 0;
        for (const unsigned char *q = (const unsigned char *)p;
             q < (const unsigned char *)e && n < 200;) {
            uint32_t ch = *q++;
            if (ch >= 0xE0)
                ch = (ch & 0x0F) << 12 | (uint32_t)(q[0] & 0x3F) << 6 | (q[1] & 0x3F), q += 2;
            else if (ch >= 0xC0)
                ch = (ch & 0x1F) << 6 | (q[0] & 0x3F), q++;
            cells[n++] = ch;
        }
        ck_assert_int_ge(n, 85);
        ck_assert_msg(cells[26] != ' ' && cells[84] != ' ', "row %d lost a lifeline", rows);
        p = e + 1;
    }
    ck_assert_int_gt(rows, 1024); /* more than two windows */
    free(t);
}
END_TEST

/* Durations as the gaps and timers are labelled. */
START_TEST(durations)
{
    char b[32];
    ck_assert_str_eq(ts_ladder_dur(TS_SEC, b, sizeof b), "1 s");
    ck_assert_str_eq(ts_ladder_dur(7196 * TS_MSEC, b, sizeof b), "7.196 s");
    ck_assert_str_eq(ts_ladder_dur(16 * TS_SEC, b, sizeof b), "16 s");
    ck_assert_str_eq(ts_ladder_dur(59998 * TS_MSEC, b, sizeof b), "59.998 s");
    ck_assert_str_eq(ts_ladder_dur(1500 * TS_MSEC, b, sizeof b), "1.5 s");
    ck_assert_str_eq(ts_ladder_dur(40 * TS_MSEC, b, sizeof b), "40 ms");
    ck_assert_str_eq(ts_ladder_dur(1500, b, sizeof b), "1.5 ms");
    ck_assert_str_eq(ts_ladder_dur(250, b, sizeof b), "250 us");
    ck_assert_str_eq(ts_ladder_dur(0, b, sizeof b), "0 us");
}
END_TEST

/* A width too narrow for two lifelines and a label is widened to 64; zero means 100. */
START_TEST(width_limits)
{
    ts_ladder_opts o = opts();
    o.width = 10;
    char *t = fx_render(fx_close(), &o);
    size_t longest = 0, cols = 0;
    for (const unsigned char *p = (const unsigned char *)t; *p; p++) {
        if (*p == '\n')
            cols = 0;
        else if ((*p & 0xC0) != 0x80 && ++cols > longest)
            longest = cols;
    }
    ck_assert_uint_le(longest, 64);
    ck_assert_uint_ge(longest, 60); /* not the 10 asked for */
    free(t);
    o.width = 0;
    char *a = fx_render(fx_close(), &o);
    o.width = 100;
    char *b = fx_render(fx_close(), &o);
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ladder_text");
    TCase *tc = tcase_create("text");
    tcase_add_test(tc, close_text_golden);
    tcase_add_test(tc, close_relative_ascii_golden);
    tcase_add_test(tc, timeout_text_golden);
    tcase_add_test(tc, capture_text_golden);
    tcase_add_test(tc, fits_width);
    tcase_add_test(tc, last_n);
    tcase_add_test(tc, format_from_name);
    tcase_add_test(tc, degenerate);
    tcase_add_test(tc, long_run_windows);
    tcase_add_test(tc, durations);
    tcase_add_test(tc, width_limits);
    tcase_add_test(tc, probe_shows_its_seq);
    tcase_add_test(tc, wide_label_whole);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
