/* test_tcp_ackseq.c: a pure ACK carries SND.NXT as RFC 9293 means it: the highest
 * sequence number sent (snd_max), even while an RTO has rewound the resend pointer.
 * Stamped with the rewound value it would fall left of the peer's window, draw a
 * duplicate ACK, and two stacks in that state traded ACKs until retries2 ran out (seen
 * in a lossy, zero-window simulator run). The same run checks the tail loss probe: with a
 * short tail held back by Nagle, the probe sends that new data (Linux probes with Nagle
 * off) and moves snd_max, rather than resending a segment that reaches past snd_max. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "harness.h"

START_TEST(pure_ack_after_rto_carries_snd_max)
{
    h_conn x;
    h_conn_open(&x, &(h_conn_opts){
                        .delay = 1 * TS_MSEC, .port = 80, .lport = 40000, .wait = 100 * TS_MSEC});
    harness *h = x.h;
    ck_assert_int_ge(x.sb.sd, 0);
    uint32_t iss = h->log[0].seq;
    static uint8_t buf[4000];
    h_conn_drop(&x, &(h_drop_plan){.loss_pct = 100}); /* every data segment from A is lost */
    ck_assert_int_eq(ts_send(h->st[H_A], x.ca.sd, buf, sizeof buf), (int)sizeof buf);
    h_run_until(h, 1 * TS_SEC); /* A's RTO has fired and rewound its resend pointer */
    ck_assert_uint_ge(ts_stack_counters(h->st[H_A])->tcp_rto_timeouts, 1);
    size_t n0 = h_nlog(h);
    uint32_t snd_max = iss + 1; /* the end of the highest data A sent (Nagle holds a tail) */
    for (size_t i = 0; i < n0; i++)
        if (h->log[i].from == H_A && h->log[i].plen)
            snd_max =
                h->log[i].seq + h->log[i].plen > snd_max ? h->log[i].seq + h->log[i].plen : snd_max;
    ck_assert_uint_eq(snd_max, iss + 1 + sizeof buf);          /* the probe sent the held tail */
    ck_assert_int_eq(ts_send(h->st[H_B], x.sb.sd, "x", 1), 1); /* A must ACK this */
    h_run_until(h, 1 * TS_SEC + 100 * TS_MSEC);
    size_t acks = 0;
    for (size_t i = n0; i < h_nlog(h); i++) {
        const h_pkt *p = &h->log[i];
        if (p->from != H_A || p->plen || p->flags != TS_TH_ACK) continue;
        ck_assert_uint_eq(p->seq, snd_max);
        acks++;
    }
    ck_assert_uint_ge(acks, 1);
    /* B found A's ACK acceptable: it did not answer it with an ACK of its own */
    ck_assert_uint_eq(ts_stack_counters(h->st[H_B])->drops[TS_DROP_TCP_OUT_OF_WINDOW], 0);
    h_conn_free(&x);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ackseq");
    TCase *tc = tcase_create("ackseq");
    tcase_add_test(tc, pure_ack_after_rto_carries_snd_max);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
