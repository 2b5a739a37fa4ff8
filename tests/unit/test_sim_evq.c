/* test_sim_evq.c: the simulator's event queue pops in (time, priority, insertion) order,
 * whatever the push order, across growth; and the PRNG is reproducible per seed. */
#include <check.h>
#include <stdlib.h>

#include "evq.h"
#include "ts_rng.h"
#include "harness.h"

START_TEST(empty_queue)
{
    ts_evq q;
    ts_evq_init(&q);
    ts_evq_entry e;
    ck_assert(!ts_evq_pop(&q, &e));
    ck_assert_uint_eq(ts_evq_next_time(&q), TS_TIME_NEVER);
    ck_assert_uint_eq(ts_evq_len(&q), 0);
    ts_evq_free(&q);
}
END_TEST

START_TEST(time_order)
{
    ts_evq q;
    ts_evq_init(&q);
    const ts_time_t t[] = {50, 10, 40, 30, 20, 0, 60};
    for (size_t i = 0; i < 7; i++)
        ck_assert_int_eq(ts_evq_push(&q, t[i], 0, 0, (uint32_t)i, NULL), 0);
    ck_assert_uint_eq(ts_evq_next_time(&q), 0);
    ts_evq_entry e;
    ts_time_t prev = 0;
    for (size_t i = 0; i < 7; i++) {
        ck_assert(ts_evq_pop(&q, &e));
        ck_assert_uint_ge(e.time, prev);
        ck_assert_uint_eq(e.time, i * 10);
        prev = e.time;
    }
    ck_assert(!ts_evq_pop(&q, &e));
    ts_evq_free(&q);
}
END_TEST

/* Equal times: lower priority first, then the order of pushing (FIFO). */
START_TEST(ties_fifo_and_priority)
{
    ts_evq q;
    ts_evq_init(&q);
    ts_evq_push(&q, 100, 2, 0, 1, NULL);
    ts_evq_push(&q, 100, 0, 0, 2, NULL);
    ts_evq_push(&q, 100, 1, 0, 3, NULL);
    ts_evq_push(&q, 100, 0, 0, 4, NULL);
    ts_evq_push(&q, 99, 2, 0, 5, NULL);
    ts_evq_push(&q, 100, 0, 0, 6, NULL);
    const uint32_t want[] = {5, 2, 4, 6, 3, 1};
    ts_evq_entry e;
    for (size_t i = 0; i < 6; i++) {
        ck_assert(ts_evq_pop(&q, &e));
        ck_assert_uint_eq(e.arg, want[i]);
    }
    ts_evq_free(&q);
}
END_TEST

/* Many random pushes interleaved with pops: every pop is the least (time, seq) left. */
START_TEST(random_against_model)
{
    ts_evq q;
    ts_evq_init(&q);
    ts_rng r;
    ts_rng_seed(&r, 12345);
    enum { N = 200000 };
    uint64_t *seen = calloc(N, sizeof *seen); /* arg -> time pushed */
    ck_assert_ptr_nonnull(seen);
    uint32_t pushed = 0, popped = 0;
    ts_time_t now = 0, last_t = 0;
    uint32_t last_arg = 0;
    while (popped < N) {
        if (pushed < N && (ts_evq_len(&q) == 0 || ts_rng_below(&r, 3) != 0)) {
            ts_time_t t = now + ts_rng_below(&r, 1000);
            seen[pushed] = t;
            ck_assert_int_eq(ts_evq_push(&q, t, 0, 7, pushed, &seen[pushed]), 0);
            pushed++;
            continue;
        }
        ts_evq_entry e;
        ck_assert(ts_evq_pop(&q, &e));
        ck_assert_uint_eq(e.kind, 7);
        ck_assert_ptr_eq(e.ptr, &seen[e.arg]);
        ck_assert_uint_eq(e.time, seen[e.arg]);
        ck_assert_uint_ge(e.time, now);                                     /* never back in time */
        if (popped && e.time == last_t) ck_assert_uint_gt(e.arg, last_arg); /* FIFO on ties */
        now = last_t = e.time;
        last_arg = e.arg;
        popped++;
    }
    ck_assert_uint_eq(ts_evq_len(&q), 0);
    free(seen);
    ts_evq_free(&q);
}
END_TEST

START_TEST(rng_reproducible)
{
    ts_rng a, b, c;
    ts_rng_seed(&a, 42);
    ts_rng_seed(&b, 42);
    ts_rng_seed(&c, 43);
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = ts_rng_next(&a), y = ts_rng_next(&b), z = ts_rng_next(&c);
        ck_assert_uint_eq(x, y);
        differ += x != z;
    }
    ck_assert_int_gt(differ, 990);
}
END_TEST

START_TEST(rng_ranges)
{
    ts_rng r;
    ts_rng_seed(&r, 1);
    unsigned hist[10] = {0};
    enum { N = 1000000 };
    for (int i = 0; i < N; i++) {
        uint64_t v = ts_rng_below(&r, 10);
        ck_assert_uint_lt(v, 10);
        hist[v]++;
        double u = ts_rng_unit(&r);
        ck_assert(u >= 0.0 && u < 1.0);
    }
    /* Each bucket within 1% of N/10 (binomial sd ~ 300, so 1000 is > 3 sd). */
    for (int i = 0; i < 10; i++) ck_assert_uint_lt((unsigned)abs((int)hist[i] - N / 10), 1000);
    ck_assert_uint_eq(ts_rng_below(&r, 0), 0);
    ck_assert(!ts_rng_chance(&r, 0.0));
    ck_assert(ts_rng_chance(&r, 1.0));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sim_evq");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, empty_queue);
    tcase_add_test(tc, time_order);
    tcase_add_test(tc, ties_fifo_and_priority);
    tcase_add_test(tc, random_against_model);
    tcase_add_test(tc, rng_reproducible);
    tcase_add_test(tc, rng_ranges);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
