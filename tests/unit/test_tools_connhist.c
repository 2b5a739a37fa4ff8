/* test_tools_connhist.c: a connection's recent history (tools/connhist.h), recorded from a
 * real two-stack run and drawn as the telnet shell's `ladder N` draws it: only the last N
 * segments, from the stack's own events, through the same renderer as tcpsim diagram. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connhist.h"
#include "harness.h"

#define PORT 5000
#define MSS  1448

static ts_connhist *hist;
static uint32_t want_conn;

static void on_event(void *ctx, const ts_event *ev)
{
    (void)ctx;
    if (!hist && ev->type == TS_EV_CONN_NEW) { /* A's first connection */
        want_conn = ev->conn.id;
        hist = ts_connhist_new(want_conn, 8);
        ck_assert_ptr_nonnull(hist);
    }
    ts_connhist_event(hist, ev);
}

/* Draw the last n segments into a string (freed by the caller). */
static char *draw(size_t n, int *rc)
{
    char *buf = NULL, err[200] = "";
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    *rc = ts_connhist_ladder(hist, n, true, "stack", "peer", f, err, sizeof err);
    fclose(f);
    if (*rc < 0) {
        free(buf);
        return strdup(err);
    }
    return buf;
}

static size_t count(const char *s, const char *what)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, what)); p += strlen(what)) n++;
    return n;
}

START_TEST(last_segments)
{
    hist = NULL;
    harness *h = h_new(NULL, NULL);
    h->delay = 10 * TS_MSEC;
    ts_stack_set_event_fn(h->st[H_A], on_event, NULL);
    int rc;
    char *s = draw(4, &rc); /* nothing yet */
    ck_assert_int_eq(rc, -1);
    free(s);
    h_conn x;
    h_conn_open(&x, &(h_conn_opts){.h = h, .port = PORT, .mss = MSS});
    ts_send(h->st[H_A], x.ca.sd, "hello", 5);
    h_run_until(h, h->now + 1 * TS_SEC);
    /* SYN, SYN-ACK, ACK, data, its ACK: the last 2 are the data and its ACK */
    s = draw(2, &rc);
    if (rc) fprintf(stderr, "%s\n", s);
    ck_assert_int_eq(rc, 0);
    ck_assert(strstr(s, "stack") && strstr(s, "peer"));
    ck_assert_ptr_nonnull(strstr(s, "2 segments, live"));
    ck_assert_ptr_nonnull(strstr(s, "P. seq"));
    ck_assert_ptr_nonnull(strstr(s, "len 5"));
    ck_assert_uint_eq(count(s, " S "), 0); /* the handshake is not in the last 2 */
    ck_assert_uint_eq(count(s, ">|") + count(s, "|<"), 2);
    free(s);
    s = draw(5, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(count(s, ">|") + count(s, "|<"), 5);
    free(s);
    /* more segments than the history keeps: only the kept ones */
    for (int i = 0; i < 10; i++) {
        ts_send(h->st[H_A], x.ca.sd, "x", 1);
        h_run_until(h, h->now + 300 * TS_MSEC);
    }
    s = draw(8, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(count(s, ">|") + count(s, "|<"), 8);
    ck_assert_ptr_null(strstr(s, "hello"));
    free(s);
    h_conn_free(&x);
    h_free(h);
    ts_connhist_free(hist);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("connhist");
    TCase *tc = tcase_create("connhist");
    tcase_add_test(tc, last_segments);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
