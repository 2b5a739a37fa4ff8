/* test_stack_params.c: the stack-wide defaults are checked when they are set
 * (ts_stack_set_params), so a bad policy name is refused there instead of surfacing later
 * as an error from ts_socket; and ts_socket's errors say what went wrong. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "harness.h"

static void out_nothing(void *ctx, const uint8_t *pkt, size_t len)
{
    (void)ctx, (void)pkt, (void)len;
}

static ts_stack *stack_with(uint32_t max_sockets)
{
    ts_stack_config cfg;
    ts_stack_config_init(&cfg);
    cfg.addr = TS_IP4(10, 0, 0, 1);
    cfg.output = out_nothing;
    cfg.max_sockets = max_sockets;
    char err[256];
    ts_stack *s = ts_stack_create(&cfg, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    return s;
}

START_TEST(bad_policy_refused_when_set)
{
    ts_stack *s = stack_with(16);
    ts_params p = *ts_stack_params(s);
    strcpy(p.cc, "vegas-ish");
    char err[256] = "";
    ck_assert_int_eq(ts_stack_set_params(s, &p, err, sizeof err), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "cc"));
    ck_assert_str_eq(ts_stack_params(s)->cc, "newreno"); /* unchanged */
    ck_assert_int_ge(ts_socket(s), 0);                   /* and sockets still work */
    ts_stack_destroy(s);
}
END_TEST

START_TEST(bad_order_refused_when_set)
{
    ts_stack *s = stack_with(16);
    ts_params p = *ts_stack_params(s);
    p.rto_min = 10 * TS_SEC, p.rto_max = TS_SEC;
    char err[256] = "";
    ck_assert_int_eq(ts_stack_set_params(s, &p, err, sizeof err), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "rto_m"));
    ck_assert_uint_eq(ts_stack_params(s)->rto_max, 120 * TS_SEC);
    ts_stack_destroy(s);
}
END_TEST

START_TEST(good_defaults_apply_to_new_sockets)
{
    ts_stack *s = stack_with(16);
    ts_params p = *ts_stack_params(s);
    strcpy(p.cc, "cubic");
    p.delack = 40 * TS_MSEC;
    char err[256];
    ck_assert_int_eq(ts_stack_set_params(s, &p, err, sizeof err), 0);
    int sd = ts_socket(s);
    ck_assert_int_ge(sd, 0);
    ts_params got;
    ck_assert_int_eq(ts_sock_get_params(s, sd, &got), 0);
    ck_assert_str_eq(got.cc, "cubic");
    ck_assert_uint_eq(got.delack, 40 * TS_MSEC);
    ts_stack_destroy(s);
}
END_TEST

START_TEST(socket_limit_is_emfile)
{
    ts_stack *s = stack_with(2);
    ck_assert_int_ge(ts_socket(s), 0);
    ck_assert_int_ge(ts_socket(s), 0);
    ck_assert_int_eq(ts_socket(s), -EMFILE);
    ts_stack_destroy(s);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("stack_params");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, bad_policy_refused_when_set);
    tcase_add_test(tc, bad_order_refused_when_set);
    tcase_add_test(tc, good_defaults_apply_to_new_sockets);
    tcase_add_test(tc, socket_limit_is_emfile);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
