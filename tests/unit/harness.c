/* harness.c: the back-to-back two-stack harness (see harness.h). */
#include "harness.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_cb(void *ctx, const uint8_t *pkt, size_t len);

typedef struct side_ctx {
    harness *h;
    int me;
} side_ctx;

static side_ctx sides[2]; /* one harness at a time per test process (Check forks) */

harness *h_new(const ts_params *pa, const ts_params *pb)
{
    harness *h = calloc(1, sizeof *h);
    ck_assert_ptr_nonnull(h);
    h->log = calloc(H_MAX_LOG, sizeof *h->log);
    h->log_dropped = calloc(H_MAX_LOG, sizeof *h->log_dropped);
    const uint32_t addrs[2] = {TS_IP4(10, 0, 0, 103), TS_IP4(10, 0, 0, 199)};
    const ts_params *ps[2] = {pa, pb};
    for (int i = 0; i < 2; i++) {
        ts_stack_config cfg;
        ts_stack_config_init(&cfg);
        cfg.addr = addrs[i];
        cfg.seed = 42 + (uint64_t)i;
        if (ps[i]) cfg.params = *ps[i];
        sides[i].h = h;
        sides[i].me = i;
        cfg.output = out_cb;
        cfg.output_ctx = &sides[i];
        char err[256];
        h->st[i] = ts_stack_create(&cfg, err, sizeof err);
        ck_assert_msg(h->st[i] != NULL, "stack create: %s", err);
    }
    return h;
}

void h_free(harness *h)
{
    ts_stack_destroy(h->st[0]);
    ts_stack_destroy(h->st[1]);
    free(h->log);
    free(h->log_dropped);
    free(h);
}

static void out_cb(void *ctx, const uint8_t *pkt, size_t len)
{
    side_ctx *sc = ctx;
    harness *h = sc->h;
    ck_assert_uint_lt(h->nlog, H_MAX_LOG);
    h_pkt *p = &h->log[h->nlog];
    p->t = h->now;
    p->from = sc->me;
    p->len = len < sizeof p->data ? len : sizeof p->data;
    memcpy(p->data, pkt, p->len);
    ts_format_packet(pkt, len, p->line, sizeof p->line);
    if (len >= 40 && pkt[9] == 6) {
        const uint8_t *th = pkt + (pkt[0] & 15) * 4;
        p->seq = (uint32_t)th[4] << 24 | (uint32_t)th[5] << 16 | (uint32_t)th[6] << 8 | th[7];
        p->ack = (uint32_t)th[8] << 24 | (uint32_t)th[9] << 16 | (uint32_t)th[10] << 8 | th[11];
        p->flags = th[13];
        p->win = (uint16_t)(th[14] << 8 | th[15]);
        size_t tot = (size_t)(pkt[2] << 8 | pkt[3]);
        p->plen = (uint32_t)(tot - (size_t)(pkt[0] & 15) * 4 - (size_t)(th[12] >> 4) * 4);
    }
    unsigned idx = ++h->sent_count[sc->me];
    bool dropped = h->drop && h->drop(h, sc->me, p, idx);
    h->log_dropped[h->nlog] = dropped;
    if (h->verbose)
        fprintf(stderr, "%s%llu.%06llu %s\n", dropped ? "DROP " : "",
                (unsigned long long)(h->now / 1000000), (unsigned long long)(h->now % 1000000),
                p->line);
    size_t idx_log = h->nlog++;
    if (dropped) return;
    ck_assert_uint_lt(h->nq, H_MAX_QUEUE);
    h->q[h->nq].at = h->now + h->delay;
    h->q[h->nq].to = 1 - sc->me;
    h->q[h->nq].idx = idx_log;
    h->nq++;
}

/* The earliest thing to happen: a delivery (returns its queue index) or a timer (-1/-2). */
static ts_time_t next_event(harness *h, long *which)
{
    ts_time_t best = TS_TIME_NEVER;
    *which = -100;
    for (size_t i = 0; i < h->nq; i++) /* FIFO among equal times */
        if (h->q[i].at < best) {
            best = h->q[i].at;
            *which = (long)i;
        }
    for (int i = 0; i < 2; i++) {
        ts_time_t d = ts_stack_next_deadline(h->st[i]);
        if (d < best) {
            best = d;
            *which = -1 - i;
        }
    }
    return best;
}

void h_run_until(harness *h, ts_time_t t)
{
    for (int guard = 0; guard < 10000000; guard++) {
        long which;
        ts_time_t at = next_event(h, &which);
        if (at > t) break;
        if (at > h->now) h->now = at;
        if (which >= 0) {
            size_t qi = (size_t)which;
            int to = h->q[qi].to;
            h_pkt *p = &h->log[h->q[qi].idx];
            memmove(&h->q[qi], &h->q[qi + 1], (h->nq - qi - 1) * sizeof h->q[0]);
            h->nq--;
            ts_stack_input(h->st[to], h->now, p->data, p->len);
        } else {
            ts_stack_poll(h->st[-1 - which], h->now);
        }
    }
    if (t > h->now && t != TS_TIME_NEVER) h->now = t;
    ts_stack_poll(h->st[0], h->now);
    ts_stack_poll(h->st[1], h->now);
}

void h_run(harness *h, ts_time_t t_max)
{
    h_run_until(h, t_max);
}

size_t h_count(const harness *h, int from, uint8_t flags)
{
    size_t n = 0;
    for (size_t i = 0; i < h->nlog; i++)
        if ((from < 0 || h->log[i].from == from) && h->log[i].flags == flags) n++;
    return n;
}

void h_dump(const harness *h)
{
    for (size_t i = 0; i < h->nlog; i++)
        fprintf(stderr, "%s%llu.%06llu %s\n", h->log_dropped[i] ? "DROP " : "",
                (unsigned long long)(h->log[i].t / 1000000),
                (unsigned long long)(h->log[i].t % 1000000), h->log[i].line);
}

const char *h_flags(uint8_t f)
{
    static char buf[16];
    char *p = buf;
    if (f & TH_SYN_) *p++ = 'S';
    if (f & TH_FIN_) *p++ = 'F';
    if (f & TH_RST_) *p++ = 'R';
    if (f & TH_PSH_) *p++ = 'P';
    if (f & TH_ACK_) *p++ = '.';
    *p = 0;
    return buf;
}
