/* test_tools_view_ladder_dense.c: the text ladder where segments are denser than its
 * columns can slope apart (a bulk transfer): those sent while more than dense_max were in
 * flight are drawn one row each, said so in a caption and the legend; sparse stretches and
 * the SVG keep every slope. A generated view, pinned by a golden file (TS_UPDATE_GOLDEN=1
 * rewrites it) and by what must hold whatever the spacing. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ladder.h"
#include "ladder_fixtures.h"
#include "ladder_layout.h"
#include "harness.h"

#define NDATA 40
#define LOST  14 /* the data segment lost (from 0) */

/* A handshake, then NDATA segments 1 ms apart, each 20 ms in flight, with the receiver's
 * ACKs coming back the same way (duplicates with a SACK block after the loss), the lost
 * one sent again (a fast retransmission) and the ACK of everything; 500 ms later a close. */
static ts_view *fx_dense(void)
{
    ts_view *v = fx_new(TS_VIEW_CAPTURE, C_ADDR, 40000, "", S_ADDR, 5001, "");
    free(v->segs);
    v->segs = calloc(2 * NDATA + 16, sizeof *v->segs);
    const uint8_t S = TS_TH_SYN, A = TS_TH_ACK, F = TS_TH_FIN;
    uint32_t c = 1000, s = 5000;
    fx_seg(v, 0, 0, 20, S, c, 0, 0, 64240);
    fx_seg(v, 1, 20, 40, S | A, s, c + 1, 0, 65160);
    fx_seg(v, 0, 40, 60, A, c + 1, s + 1, 0, 502);
    for (int t = 100; t < 100 + NDATA + 20; t++) {
        int a = t - 120, d = t - 100; /* the data an ACK answers, the data sent now */
        if (a >= 0 && a < NDATA && a != LOST) {
            uint32_t got = c + 1 + (uint32_t)(a + 1) * 1000;
            ts_view_seg *k =
                fx_seg(v, 1, t, t + 20, A, s + 1, a < LOST ? got : c + 1 + LOST * 1000, 0, 1000);
            if (a > LOST) {
                k->nsack = 1;
                k->sack[0][0] = c + 1 + (LOST + 1) * 1000;
                k->sack[0][1] = got;
            }
        }
        if (d >= 0 && d < NDATA)
            fx_seg(v, 0, t, d == LOST ? -1 : t + 20, A, c + 1 + (uint32_t)d * 1000, s + 1, 1000,
                   502);
    }
    ts_view_seg *r = fx_seg(v, 0, 161, 181, A, c + 1 + LOST * 1000, s + 1, 1000, 502);
    r->cause = TS_VCAUSE_FAST;
    r->rexmit_no = 1;
    uint32_t end = c + 1 + NDATA * 1000;
    fx_seg(v, 1, 181, 201, A, s + 1, end, 0, 1000);
    fx_seg(v, 0, 700, 720, F | A, end, s + 1, 0, 502);
    fx_seg(v, 1, 720, 740, F | A, s + 1, end + 1, 0, 1000);
    fx_seg(v, 0, 740, 760, A, end + 1, s + 2, 0, 502);
    return v;
}

/* The body's lines: from the one after the names to the blank line before the legend. */
static int body_rows(const char *t)
{
    const char *p = strstr(t, "time (s)");
    ck_assert_ptr_nonnull(p);
    p = strchr(p, '\n') + 1;
    int rows = 0;
    for (; *p && *p != '\n'; rows++) p = strchr(p, '\n') + 1;
    return rows;
}

static ts_ladder_opts opts(void)
{
    ts_ladder_opts o;
    ts_ladder_opts_init(&o);
    o.relative = true;
    return o;
}

START_TEST(dense_golden)
{
    ts_ladder_opts o = opts();
    char *t = fx_render(fx_dense(), &o);
    fx_golden("ladder_dense.txt", t);
    free(t);
}
END_TEST

/* Which segments go compact: every one in flight while more than dense_max (13 at 100
 * columns) were, in either direction; the handshake, the last ACK and the close keep
 * their slopes. */
START_TEST(dense_which)
{
    ts_view *v = fx_dense();
    ts_ladder_opts o = opts();
    ts_layout L;
    char err[100];
    ck_assert_int_eq(ts_ladder_layout(v, &o, &L, err, sizeof err), 0);
    ck_assert_int_eq(L.dense_max, 13);
    size_t compact = 0;
    for (size_t i = 0; i < L.nsegs; i++) {
        const ts_lseg *ls = &L.segs[i];
        compact += ls->compact;
        bool bulk = ls->seg->t_send >= 100 * TS_MSEC && ls->seg->t_send <= 161 * TS_MSEC;
        ck_assert_msg(ls->compact == bulk, "segment %zu: compact %d", i, ls->compact);
        if (ls->compact) { /* one row, two for a retransmission (its cause below) */
            ck_assert_int_eq(ls->row_label, ls->row_send);
            ck_assert_int_eq(ls->row_recv, ls->row_send);
            ck_assert_int_eq(ls->nlabel, ls->seg->cause ? 2 : 1);
        }
    }
    ck_assert_uint_eq(compact, L.ncompact);
    ck_assert_uint_eq(compact, 2 * NDATA - 1 + 1); /* the data, the ACKs, the retransmission */
    ts_ladder_layout_free(&L);
    /* The SVG and HTML slope every arrow: they have the room. */
    o.format = TS_LADDER_SVG;
    ck_assert_int_eq(ts_ladder_layout(v, &o, &L, err, sizeof err), 0);
    ck_assert_uint_eq(L.ncompact, 0);
    for (size_t i = 0; i < L.nsegs; i++) ck_assert(!L.segs[i].compact);
    ts_ladder_layout_free(&L);
    ts_view_free(v);
}
END_TEST

/* What the dense drawing must show: one head per arrival and one cross per loss, the
 * retransmission's cause, a caption under the title and a legend line, every line within
 * the width, about a row per segment where it is dense; in ASCII only ASCII. */
START_TEST(dense_shows)
{
    ts_ladder_opts o = opts();
    char *t = fx_render(fx_dense(), &o);
    int nsegs = 3 + 2 * NDATA - 1 + 2 + 3, lost = 1;
    ck_assert_int_eq(fx_count(t, "\u25B6") + fx_count(t, "\u25C0"),
                     nsegs - lost + 2);                /* caption, legend */
    ck_assert_int_eq(fx_count(t, "\u2715"), lost + 1); /* + legend */
    ck_assert_ptr_nonnull(strstr(t, "(fast retransmit #1)"));
    ck_assert_ptr_nonnull(strstr(t, "\n\u2550\u25B6 80 of 87 segments one row each: sent while "
                                    "more than 13 were in flight\n"));
    ck_assert_ptr_nonnull(strstr(t, "\n  \u2550\u25B6  sent while more than 13 segments were in "
                                    "flight"));
    ck_assert_ptr_nonnull(strstr(t, "\u255E\u2550 . seq 1:1001 ack 1 len 1000 \u2550"));
    ck_assert_ptr_nonnull(strstr(t, "\u2550 . ack 14001 [sack 15001:16001] \u2550\u2561\n"));
    int rows = body_rows(t);
    ck_assert_int_lt(rows, 80 + 3 * 5 + 5 * 5 + 12); /* the bulk: a row a segment */
    unsigned cols = 0;
    for (const unsigned char *p = (const unsigned char *)t; *p; p++) {
        if (*p == '\n')
            cols = 0;
        else if ((*p & 0xC0) != 0x80)
            ck_assert_uint_le(++cols, 100);
    }
    free(t);
    o.ascii = true;
    t = fx_render(fx_dense(), &o);
    for (const unsigned char *p = (const unsigned char *)t; *p; p++) ck_assert_int_lt(*p, 0x80);
    ck_assert_ptr_nonnull(strstr(t, "\n=> 80 of 87 segments one row each"));
    ck_assert_ptr_nonnull(strstr(t, "|= . seq 1:1001 ack 1 len 1000 ="));
    ck_assert_int_eq(body_rows(t), rows);
    free(t);
}
END_TEST

/* A sparse ladder is untouched: no caption, no compact rows (the golden ladders of the
 * chapter pin it byte for byte; this says why). */
START_TEST(sparse_untouched)
{
    ts_ladder_opts o = opts();
    char *t = fx_render(fx_capture(), &o);
    ck_assert_ptr_null(strstr(t, "one row each"));
    ck_assert_ptr_null(strstr(t, "\u2550"));
    free(t);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ladder_dense");
    TCase *tc = tcase_create("dense");
    tcase_add_test(tc, dense_golden);
    tcase_add_test(tc, dense_which);
    tcase_add_test(tc, dense_shows);
    tcase_add_test(tc, sparse_untouched);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
