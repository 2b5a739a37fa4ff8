/* test_tcp_ports.c: connection churn costs O(1) per connection (issue 13): bind's
 * port-in-use check counts sockets per port instead of scanning them, the ephemeral search
 * does not cross the same run of taken ports twice, and a child leaves the middle of an
 * accept queue without a walk. Costs are counted (the stack's port_probes), not timed. */
#include <check.h>
#include <errno.h>

#include "harness.h"
#include "internal.h"

static void no_output(void *ctx, const uint8_t *pkt, size_t len)
{
    (void)ctx, (void)pkt, (void)len;
}

static ts_stack *stack_new(void)
{
    ts_stack_config cfg;
    ts_stack_config_init(&cfg);
    cfg.addr = H_ADDR_B;
    cfg.output = no_output;
    char err[128];
    ts_stack *s = ts_stack_create(&cfg, err, sizeof err);
    ck_assert_ptr_nonnull(s);
    return s;
}

static int bound_socket(ts_stack *s, uint16_t port)
{
    int sd = ts_socket(s);
    ck_assert_int_ge(sd, 0);
    ck_assert_int_eq(ts_bind(s, sd, 0, port), 0);
    return sd;
}

/* What bind refuses: a port a socket holds (bound, listening or connected from it), until
 * that socket is closed; the counting gives the scan's answers. */
START_TEST(bind_refuses_held_ports_until_closed)
{
    harness *h = h_new(NULL, NULL);
    ts_stack *a = h->st[H_A];
    int b1 = bound_socket(a, 5000);
    int b2 = ts_socket(a);
    ck_assert_int_eq(ts_bind(a, b2, 0, 5000), -EADDRINUSE);
    ck_assert_int_eq(ts_close(a, b1), 0);
    ck_assert_int_eq(ts_bind(a, b2, 0, 5000), 0);
    /* a listener holds its port; its accepted children do not add to it */
    h_app srv, cli;
    h_app_init(&srv, h, H_B);
    h_app_listen(&srv, 80, 8);
    h_app_init(&cli, h, H_A);
    h_app_connect(&cli, 0, 80);
    h_run_until(h, 1 * TS_SEC);
    ck_assert_int_eq(srv.naccepted, 1);
    a->port_probes = 0; /* the ephemeral search's (one probe) */
    ts_endpoint me;
    ck_assert_int_eq(ts_getsockname(a, cli.sd, &me), 0);
    ck_assert_uint_ge(me.port, 32768);
    int b3 = ts_socket(a); /* the client's ephemeral port is held by its socket */
    ck_assert_int_eq(ts_bind(a, b3, 0, me.port), -EADDRINUSE);
    int l2 = ts_socket(h->st[H_B]);
    ck_assert_int_eq(ts_bind(h->st[H_B], l2, 0, 80), -EADDRINUSE);
    ck_assert_int_eq(ts_close(a, cli.sd), 0); /* an orphan in FIN-WAIT no longer holds it */
    cli.sd = -1;
    ck_assert_int_eq(ts_bind(a, b3, 0, me.port), 0);
    ck_assert_uint_eq(a->port_probes, 0);
    ck_assert_uint_eq(h->st[H_B]->port_probes, 0);
    h_app_free(&cli);
    h_app_free(&srv);
    h_free(h);
}
END_TEST

/* 5,000 bound sockets: each bind and each refused rebind is one lookup, not a scan of
 * the sockets bound before it (12 million steps here; counted, so any size shows it). */
START_TEST(bind_many_sockets_costs_no_scan)
{
    ts_stack *s = stack_new();
    enum { N = 5000 };
    static int sd[N];
    for (int i = 0; i < N; i++) sd[i] = bound_socket(s, (uint16_t)(1000 + i));
    int x = ts_socket(s);
    for (int i = 0; i < N; i += 97)
        ck_assert_int_eq(ts_bind(s, x, 0, (uint16_t)(1000 + i)), -EADDRINUSE);
    for (int i = 0; i < N; i += 2) ck_assert_int_eq(ts_close(s, sd[i]), 0);
    for (int i = 0; i < N; i += 2) {
        int y = ts_socket(s);
        ck_assert_int_eq(ts_bind(s, y, 0, (uint16_t)(1000 + i)), 0);
        ck_assert_int_eq(ts_bind(s, x, 0, (uint16_t)(1000 + i + 1)), -EADDRINUSE);
    }
    ck_assert_uint_eq(s->port_probes, 0);
    ts_stack_destroy(s);
}
END_TEST

static void listen_on(ts_stack *s, uint16_t port)
{
    int sd = ts_socket(s);
    ck_assert_int_ge(sd, 0);
    ck_assert_int_eq(ts_bind(s, sd, 0, port), 0);
    ck_assert_int_eq(ts_listen(s, sd, 1), 0);
}

/* The next search starts exactly where a run of 2,000 taken ports begins: the first
 * search crosses it, the next 500 start past it. Without moving the start past the
 * run each search crossed it again (a million probes). */
START_TEST(ephemeral_search_crosses_a_taken_run_once)
{
    ts_stack *s = stack_new();
    const uint32_t lo = 32768, n = 61000 - 32768;
    int first = ts_socket(s);
    ck_assert_int_eq(ts_listen(s, first, 1), 0); /* an ephemeral port, found at once */
    ts_endpoint p0;
    ts_getsockname(s, first, &p0);
    ck_assert_uint_eq(s->port_probes, 1);
    enum { RUN = 2000, MORE = 500 };
    for (uint32_t i = 1; i <= RUN; i++) listen_on(s, (uint16_t)(lo + (p0.port - lo + i) % n));
    s->port_probes = 0;
    for (int i = 0; i < MORE; i++) {
        int sd = ts_socket(s);
        ck_assert_int_eq(ts_listen(s, sd, 1), 0);
        ts_endpoint e;
        ts_getsockname(s, sd, &e);
        ck_assert_uint_eq(e.port, lo + (p0.port - lo + RUN + 1 + (uint32_t)i) % n);
    }
    ck_assert_uint_le(s->port_probes, RUN + 2 * MORE);
    ts_stack_destroy(s);
}
END_TEST

/* A child reset while it waits in the accept queue leaves it at once, from the middle or
 * the tail, and accept() still hands out the rest in order. */
START_TEST(accept_queue_removal_keeps_order)
{
    harness *h = h_new(NULL, NULL);
    ts_stack *b = h->st[H_B];
    int l = ts_socket(b);
    ck_assert_int_eq(ts_bind(b, l, 0, 80), 0);
    ck_assert_int_eq(ts_listen(b, l, 16), 0);
    h_app c[5];
    for (int i = 0; i < 4; i++) {
        h_app_init(&c[i], h, H_A);
        h_app_connect(&c[i], (uint16_t)(40001 + i), 80);
        h_run_until(h, (ts_time_t)(i + 1) * 100 * TS_MSEC);
    }
    h_run_until(h, 1 * TS_SEC);
    ck_assert_uint_eq(b->cnt.conns_by_state[TS_ESTABLISHED], 4);
    /* reset the second (middle) and the fourth (tail), then one more arrives */
    ck_assert_int_eq(ts_abort(h->st[H_A], c[1].sd), 0);
    ck_assert_int_eq(ts_abort(h->st[H_A], c[3].sd), 0);
    c[1].sd = c[3].sd = -1;
    h_run_until(h, 2 * TS_SEC);
    h_app_init(&c[4], h, H_A);
    h_app_connect(&c[4], 40005, 80);
    h_run_until(h, 3 * TS_SEC);
    const uint16_t want[] = {40001, 40003, 40005};
    for (int i = 0; i < 3; i++) {
        ts_endpoint peer;
        int sd = ts_accept(b, l, &peer);
        ck_assert_int_ge(sd, 0);
        ck_assert_uint_eq(peer.port, want[i]);
    }
    ts_endpoint peer;
    ck_assert_int_eq(ts_accept(b, l, &peer), -EAGAIN);
    ck_assert_uint_eq(ts_sock_events(b, l) & TS_SOCK_READABLE, 0);
    for (int i = 0; i < 5; i++) h_app_free(&c[i]);
    h_free(h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ports");
    TCase *tc = tcase_create("ports");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, bind_refuses_held_ports_until_closed);
    tcase_add_test(tc, bind_many_sockets_costs_no_scan);
    tcase_add_test(tc, ephemeral_search_crosses_a_taken_run_once);
    tcase_add_test(tc, accept_queue_removal_keeps_order);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
