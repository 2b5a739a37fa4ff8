/* test_params_sock.c: per-socket parameters (ts_sock_set_param): a change on one socket
 * changes that connection only; accepted children inherit the listener's block; invalid
 * names and values are rejected with -EINVAL, a message, and the block left unchanged. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "harness.h"

#define PORT 4000
#define D    (10 * TS_MSEC)

/* Send one small segment from A's socket sd and return when B's pure ACK of it left B. */
static ts_time_t ack_delay(harness *h, int asd, uint32_t want_ack_after, ts_time_t t0)
{
    h_run_until(h, t0);
    ck_assert_int_eq(ts_send(h->st[H_A], asd, "x", 1), 1);
    h_run_until(h, t0 + 1 * TS_SEC);
    for (size_t i = 0; i < h_nlog(h); i++) {
        const h_pkt *p = &h->log[i];
        if (p->from == H_B && p->t >= t0 && p->flags == TS_TH_ACK && !p->plen &&
            p->ack == want_ack_after)
            return p->t - t0;
    }
    return TS_TIME_NEVER;
}

START_TEST(delack_zero_on_one_socket_only)
{
    ts_params pb;
    ts_params_default(&pb);
    pb.quickack = false; /* so the default socket really delays */
    harness *h = h_new(NULL, &pb);
    h->delay = D;
    h_app sb, c1, c2;
    h_app_init(&sb, h, H_B);
    h_app_listen(&sb, PORT, 4);
    h_app_init(&c1, h, H_A);
    h_app_init(&c2, h, H_A);
    h_app_connect(&c1, 0, PORT);
    h_run_until(h, 1 * TS_SEC);
    int b1 = sb.sd;
    h_app_connect(&c2, 0, PORT);
    h_run_until(h, 2 * TS_SEC);
    int b2 = sb.sd;
    ck_assert_int_ne(b1, b2);
    char err[128];
    ck_assert_int_eq(ts_sock_set_param(h->st[H_B], b2, "delack", "0", err, sizeof err), 0);
    ts_params got;
    ck_assert_int_eq(ts_sock_get_params(h->st[H_B], b2, &got), 0);
    ck_assert_uint_eq(got.delack, 0);
    ck_assert_int_eq(ts_sock_get_params(h->st[H_B], b1, &got), 0);
    ck_assert_uint_eq(got.delack, 40 * TS_MSEC);
    ck_assert_uint_eq(ts_stack_params(h->st[H_B])->delack, 40 * TS_MSEC);
    ts_tcp_info i1, i2;
    ts_sock_info(h->st[H_A], c1.sd, &i1);
    ts_sock_info(h->st[H_A], c2.sd, &i2);
    /* connection 1 keeps the 40 ms delayed ACK, connection 2 ACKs at once */
    ck_assert_uint_eq(ack_delay(h, c1.sd, i1.snd_nxt + 1, 3 * TS_SEC), D + 40 * TS_MSEC);
    ck_assert_uint_eq(ack_delay(h, c2.sd, i2.snd_nxt + 1, 5 * TS_SEC), D);
    h_app_free(&sb);
    h_app_free(&c1);
    h_app_free(&c2);
    h_free(h);
}
END_TEST

START_TEST(listener_params_inherited)
{
    harness *h = h_new(NULL, NULL);
    h_app sb, ca;
    h_app_init(&sb, h, H_B);
    h_app_listen(&sb, PORT, 4);
    char err[128];
    ck_assert_int_eq(ts_sock_set_param(h->st[H_B], sb.lsd, "nagle", "off", err, sizeof err), 0);
    ck_assert_int_eq(ts_sock_set_param(h->st[H_B], sb.lsd, "time_wait", "5s", err, sizeof err), 0);
    h_app_init(&ca, h, H_A);
    h_app_connect(&ca, 0, PORT);
    h_run_until(h, 1 * TS_SEC);
    ts_params got;
    ck_assert_int_eq(ts_sock_get_params(h->st[H_B], sb.sd, &got), 0);
    ck_assert(!got.nagle);
    ck_assert_uint_eq(got.time_wait, 5 * TS_SEC);
    h_app_free(&sb);
    h_app_free(&ca);
    h_free(h);
}
END_TEST

typedef struct bad {
    const char *name, *value, *mentions;
} bad;

static const bad bads[] = {
    {"wscale", "15", "wscale"},
    {"delack", "-1", "delack"},
    {"rto_min", "banana", "rto_min"},
    {"syn_retries", "-3", "syn_retries"},
    {"no_such_param", "1", "no_such_param"},
    {"rto_policy", "magic", "magic"},
    {"rto_min", "200s", "rto_min"}, /* above rto_init / rto_max */
    {"nagle", "maybe", "nagle"},
};

START_TEST(invalid_values_rejected)
{
    const bad *b = &bads[_i];
    harness *h = h_new(NULL, NULL);
    int sd = ts_socket(h->st[H_A]);
    ck_assert_int_ge(sd, 0);
    ts_params before, after;
    ts_sock_get_params(h->st[H_A], sd, &before);
    char err[256] = "";
    ck_assert_int_eq(ts_sock_set_param(h->st[H_A], sd, b->name, b->value, err, sizeof err),
                     -EINVAL);
    ck_assert_msg(strlen(err) > 0, "no message for %s=%s", b->name, b->value);
    ck_assert_msg(strstr(err, b->mentions) != NULL, "message for %s=%s does not name it: %s",
                  b->name, b->value, err);
    ck_assert_ptr_null(strchr(err, '\n'));
    ts_sock_get_params(h->st[H_A], sd, &after);
    ck_assert_int_eq(memcmp(&before, &after, sizeof before), 0);
    /* a whole block that fails validation is rejected as well */
    ts_params p = before;
    p.wscale = 15;
    ck_assert_int_eq(ts_sock_set_params(h->st[H_A], sd, &p, err, sizeof err), -EINVAL);
    /* and a bad handle */
    ck_assert_int_eq(ts_sock_set_param(h->st[H_A], 999, "delack", "0", err, sizeof err), -EBADF);
    h_free(h);
}
END_TEST

static Suite *params_sock_suite(void)
{
    Suite *s = suite_create("params_sock");
    TCase *tc = tcase_create("params_sock");
    tcase_add_test(tc, delack_zero_on_one_socket_only);
    tcase_add_test(tc, listener_params_inherited);
    tcase_add_loop_test(tc, invalid_values_rejected, 0, (int)(sizeof bads / sizeof bads[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(params_sock_suite());
}
