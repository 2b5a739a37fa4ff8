/* test_tools_evfan.c: the event fan-out (tools/evfan.h) that hands one stack's events to
 * the services that asked: the runner learns when the first subscriber comes and the last
 * goes (so it can leave the stack without an observer), subscribers may leave from inside
 * their own callbacks, and timed settles are coalesced to the earliest asked for. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "evfan.h"

static int wanted_on, wanted_off;
static void wanted(void *ctx, bool on)
{
    (void)ctx;
    if (on)
        wanted_on++;
    else
        wanted_off++;
}

typedef struct sub {
    ts_evfan *f;
    int events, settles;
    bool leave_on_event; /* unsubscribe from inside the event callback */
} sub;

static void on_ev(void *ctx, const ts_event *ev)
{
    sub *s = ctx;
    (void)ev;
    s->events++;
    if (s->leave_on_event) ts_evfan_unsubscribe(s->f, s);
}

static void on_settle(void *ctx)
{
    sub *s = ctx;
    s->settles++;
}

static ts_time_t woken_at[8];
static int nwoken;
static void waker(void *ctx, ts_time_t when)
{
    (void)ctx;
    woken_at[nwoken++ % 8] = when;
}

START_TEST(subscribers_and_wanted)
{
    ts_stack *stack = (ts_stack *)(uintptr_t)0x1000; /* only a key: never dereferenced */
    wanted_on = wanted_off = 0;
    ts_evfan *f = ts_evfan_attach(stack, wanted, NULL);
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_eq(ts_evfan_of(stack), f);
    ck_assert_ptr_null(ts_evfan_of((ts_stack *)(uintptr_t)0x2000));
    ck_assert(!ts_evfan_active(f));
    ts_event ev = {.type = TS_EV_STATE};
    ts_evfan_emit(f, &ev); /* nobody: nothing happens */
    sub a = {.f = f}, b = {.f = f, .leave_on_event = true};
    ts_evfan_sub sa = {on_ev, on_settle, &a}, sb = {on_ev, on_settle, &b};
    ck_assert_int_eq(ts_evfan_subscribe(f, &sa), 0);
    ck_assert_int_eq(wanted_on, 1);
    ck_assert_int_eq(ts_evfan_subscribe(f, &sb), 0);
    ck_assert_int_eq(wanted_on, 1); /* only the first one turns it on */
    ts_evfan_emit(f, &ev);          /* b leaves during it */
    ts_evfan_emit(f, &ev);
    ck_assert_int_eq(a.events, 2);
    ck_assert_int_eq(b.events, 1);
    ts_evfan_settle(f);
    ck_assert_int_eq(a.settles, 1);
    ck_assert_int_eq(b.settles, 0);
    ck_assert_int_eq(wanted_off, 0);
    ts_evfan_unsubscribe(f, &a);
    ck_assert_int_eq(wanted_off, 1);
    ck_assert(!ts_evfan_active(f));
    ts_evfan_emit(f, &ev);
    ck_assert_int_eq(a.events, 2);
    ts_evfan_detach(f);
    ck_assert_ptr_null(ts_evfan_of(stack));
}
END_TEST

START_TEST(timed_settles)
{
    ts_stack *stack = (ts_stack *)(uintptr_t)0x3000;
    ts_evfan *f = ts_evfan_attach(stack, NULL, NULL);
    nwoken = 0;
    ts_evfan_wake_at(f, 100); /* no waker yet: ignored */
    ck_assert_int_eq(nwoken, 0);
    ts_evfan_set_waker(f, waker, NULL);
    ts_evfan_wake_at(f, 500);
    ts_evfan_wake_at(f, 700); /* later than the one armed: nothing to do */
    ts_evfan_wake_at(f, 300); /* earlier: re-armed */
    ck_assert_int_eq(nwoken, 2);
    ck_assert_int_eq(woken_at[0], 500);
    ck_assert_int_eq(woken_at[1], 300);
    ts_evfan_woke(f); /* it went off: the next request arms again */
    ts_evfan_wake_at(f, 900);
    ck_assert_int_eq(nwoken, 3);
    ck_assert_int_eq(woken_at[2], 900);
    ts_evfan_detach(f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("evfan");
    TCase *tc = tcase_create("evfan");
    tcase_add_test(tc, subscribers_and_wanted);
    tcase_add_test(tc, timed_settles);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
