/* test_tools_view_build.c: finishing a view (tools/view/view_build.c) puts segments and
 * states in time order, stably (equal times keep the order they were read in), however
 * unsorted they came: a capture's far-end times shift one direction against the other. */
#include <check.h>
#include <stdlib.h>

#include "view_build.h"
#include "harness.h"

START_TEST(finish_sorts_stably)
{
    ts_vb b;
    ck_assert_int_eq(ts_vb_init(&b, TS_VIEW_CAPTURE), 0);
    enum { N = 1000 };
    for (uint32_t i = 0; i < N; i++) {
        ts_view_seg *s = ts_vb_seg(&b);
        ck_assert_ptr_nonnull(s);
        s->no = i;
        s->from = (int)(i % 2);
        /* Two streams, each in order, one shifted 7 ticks later: times interleave and
         * repeat. */
        s->t_send = (ts_time_t)(i / 2) * 3 + (s->from ? 7 : 0);
        s->line = ts_vb_str(&b, s->from ? "one" : "zero", SIZE_MAX);
        ts_view_state *st = ts_vb_state(&b);
        ck_assert_ptr_nonnull(st);
        *st = (ts_view_state){s->from, s->t_send, TS_CLOSED, TS_CLOSED, true};
    }
    ck_assert_int_eq(ts_vb_finish(&b), 0);
    ts_view *v = b.v;
    ck_assert_uint_eq(v->nsegs, N);
    ck_assert_uint_eq(v->nstates, N);
    for (size_t i = 1; i < N; i++) {
        const ts_view_seg *p = &v->segs[i - 1], *s = &v->segs[i];
        ck_assert(p->t_send <= s->t_send);
        if (p->t_send == s->t_send) ck_assert_uint_lt(p->no, s->no); /* stable */
        ck_assert(v->states[i - 1].t <= v->states[i].t);
    }
    unsigned seen[N] = {0};
    for (size_t i = 0; i < N; i++) {
        ck_assert_str_eq(v->segs[i].line, v->segs[i].from ? "one" : "zero");
        seen[v->segs[i].no]++;
    }
    for (size_t i = 0; i < N; i++) ck_assert_uint_eq(seen[i], 1); /* each exactly once */
    ts_view_free(v);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("view_build");
    TCase *tc = tcase_create("finish");
    tcase_add_test(tc, finish_sorts_stably);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
