/* test_addr.c: strict dotted-quad parsing and formatting, and the printable names of
 * states, timers and drop reasons (every value named, out-of-range gives "?"). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tcpsim/event.h"
#include "tcpsim/types.h"
#include "harness.h"

START_TEST(ip4_parse_ok)
{
    uint32_t a = 0;
    ck_assert_int_eq(ts_ip4_parse("10.0.0.2", &a), 0);
    ck_assert_uint_eq(a, TS_IP4(10, 0, 0, 2));
    ck_assert_int_eq(ts_ip4_parse("255.255.255.255", &a), 0);
    ck_assert_uint_eq(a, 0xffffffffu);
    ck_assert_int_eq(ts_ip4_parse("0.0.0.0", &a), 0);
    ck_assert_uint_eq(a, 0);
    ck_assert_int_eq(ts_ip4_parse("192.168.100.199", &a), 0);
    ck_assert_uint_eq(a, TS_IP4(192, 168, 100, 199));
}
END_TEST

START_TEST(ip4_parse_bad)
{
    static const char *const bad[] = {
        "",           "10",       "10.0.0", "10.0.0.2.", "10.0.0.2.1", "10.0.0.256", "1.2.3.-1",
        "1.2.3.4 ",   " 1.2.3.4", "1..3.4", "a.b.c.d",   "1.2.3.4x",   "01.2.3.4",   "1.2.3.0004",
        "1.2.3.1000", "1.2.3.",   ".1.2.3", "1,2,3,4",   "4294967295", NULL,
    };
    for (const char *const *b = bad; *b; b++) {
        uint32_t a = 77;
        ck_assert_msg(ts_ip4_parse(*b, &a) == -1, "'%s' accepted", *b);
        ck_assert_uint_eq(a, 77);
    }
    uint32_t a;
    ck_assert_int_eq(ts_ip4_parse(NULL, &a), -1);
}
END_TEST

START_TEST(ip4_format)
{
    char buf[16];
    ck_assert_str_eq(ts_ip4_format(TS_IP4(10, 0, 0, 103), buf), "10.0.0.103");
    ck_assert_str_eq(ts_ip4_format(0xffffffffu, buf), "255.255.255.255");
    ck_assert_str_eq(ts_ip4_format(0, buf), "0.0.0.0");
    uint32_t back;
    ck_assert_int_eq(ts_ip4_parse(ts_ip4_format(TS_IP4(172, 16, 5, 9), buf), &back), 0);
    ck_assert_uint_eq(back, TS_IP4(172, 16, 5, 9));
}
END_TEST

START_TEST(names)
{
    ck_assert_str_eq(ts_state_name(TS_CLOSED), "CLOSED");
    ck_assert_str_eq(ts_state_name(TS_SYN_SENT), "SYN_SENT");
    ck_assert_str_eq(ts_state_name(TS_SYN_RECEIVED), "SYN_RECEIVED");
    ck_assert_str_eq(ts_state_name(TS_FIN_WAIT_1), "FIN_WAIT_1");
    ck_assert_str_eq(ts_state_name(TS_TIME_WAIT), "TIME_WAIT");
    ck_assert_str_eq(ts_state_name(TS_NUM_STATES), "?");
    ck_assert_str_eq(ts_state_name((ts_state)-1), "?");
    ck_assert_str_eq(ts_timer_name(TS_TIMER_RETRANSMIT), "rto");
    ck_assert_str_eq(ts_timer_name(TS_TIMER_FIN_WAIT2), "fin_wait2");
    ck_assert_str_eq(ts_timer_name(TS_NUM_TIMERS), "?");
    ck_assert_str_eq(ts_drop_reason_name(TS_DROP_IP_SHORT), "ip-short");
    ck_assert_str_eq(ts_drop_reason_name(TS_DROP_TCP_OUT_OF_WINDOW), "tcp-out-of-window");
    ck_assert_str_eq(ts_drop_reason_name(TS_DROP_TCP_STATE), "tcp-state");
    ck_assert_str_eq(ts_drop_reason_name(TS_DROP_NUM_REASONS), "?");
    /* every value has a distinct, non-empty name */
    for (int i = 0; i < TS_DROP_NUM_REASONS; i++) {
        const char *n = ts_drop_reason_name((ts_drop_reason)i);
        ck_assert(n && *n && strcmp(n, "?"));
        for (int j = 0; j < i; j++) ck_assert_str_ne(n, ts_drop_reason_name((ts_drop_reason)j));
    }
    for (int i = 0; i < TS_NUM_STATES; i++) ck_assert_str_ne(ts_state_name((ts_state)i), "?");
    for (int i = 0; i < TS_NUM_TIMERS; i++) ck_assert_str_ne(ts_timer_name((ts_timer_kind)i), "?");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("addr");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, ip4_parse_ok);
    tcase_add_test(tc, ip4_parse_bad);
    tcase_add_test(tc, ip4_format);
    tcase_add_test(tc, names);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
