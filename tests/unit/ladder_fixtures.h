/* ladder_fixtures.h: hand-built connection models for the ladder renderers' tests: the
 * founding chapter's close and connect timeout as a simulator would report them, and a
 * capture with data, a loss, a fast retransmission and crossing segments. Header-only so
 * each test_tools_view_*.c can include it. */
#ifndef TS_LADDER_FIXTURES_H
#define TS_LADDER_FIXTURES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "ladder.h"
#include "view.h"

#define FX_MAX   64
#define FX_ARENA 65536

typedef struct fx_arena {
    size_t used;
    char buf[FX_ARENA];
} fx_arena;

static inline const char *fx_str(ts_view *v, const char *s)
{
    fx_arena *a = v->arena;
    size_t n = strlen(s) + 1;
    if (a->used + n > FX_ARENA) return "";
    char *p = memcpy(a->buf + a->used, s, n);
    a->used += n;
    return p;
}

static inline ts_view *fx_new(ts_view_origin o, uint32_t a0, uint16_t p0, const char *n0,
                              uint32_t a1, uint16_t p1, const char *n1)
{
    ts_view *v = calloc(1, sizeof *v);
    v->origin = o;
    v->segs = calloc(FX_MAX, sizeof *v->segs);
    v->states = calloc(FX_MAX, sizeof *v->states);
    v->timers = calloc(FX_MAX, sizeof *v->timers);
    v->tcbs = calloc(2 * FX_MAX, sizeof *v->tcbs);
    v->arena = calloc(1, sizeof(fx_arena));
    v->end[0].ep = (ts_endpoint){a0, p0};
    v->end[1].ep = (ts_endpoint){a1, p1};
    snprintf(v->end[0].name, sizeof v->end[0].name, "%s", n0);
    snprintf(v->end[1].name, sizeof v->end[1].name, "%s", n1);
    return v;
}

#define FX_MS(x) ((ts_time_t)((x)*1000.0 + 0.5))

/* A segment sent at ts ms, arriving at tr ms (< 0: lost). Returns it for the options. */
static inline ts_view_seg *fx_seg(ts_view *v, int from, double ts, double tr, uint8_t flags,
                                  uint32_t seq, uint32_t ack, uint32_t len, uint32_t win)
{
    ts_view_seg *s = &v->segs[v->nsegs++];
    memset(s, 0, sizeof *s);
    s->no = (uint32_t)v->nsegs;
    s->from = from;
    s->t_send = FX_MS(ts);
    s->t_recv = tr < 0 ? TS_TIME_NEVER : FX_MS(tr);
    s->flags = flags;
    s->seq = seq;
    s->ack = ack;
    s->len = len;
    s->win = s->win_raw = win;
    s->wscale = -1;
    s->tcb[0] = s->tcb[1] = -1;
    if (flags & TS_TH_SYN) {
        s->mss = 1460;
        s->sack_ok = s->has_ts = true;
        s->wscale = 7;
        if (!v->end[from].isn_known) v->end[from].isn = seq, v->end[from].isn_known = true;
    }
    if (tr < 0) s->lost = "loss";
    char fl[8], a[2][16], line[400];
    const ts_view_end *e = &v->end[from], *p = &v->end[1 - from];
    int n = snprintf(line, sizeof line, "IP %s.%u > %s.%u: Flags [%s], seq %u",
                     ts_ip4_format(e->ep.addr, a[0]), e->ep.port, ts_ip4_format(p->ep.addr, a[1]),
                     p->ep.port, ts_view_flags(flags, fl), seq);
    if (len) n += snprintf(line + n, sizeof line - (size_t)n, ":%u", seq + len);
    if (flags & TS_TH_ACK) n += snprintf(line + n, sizeof line - (size_t)n, ", ack %u", ack);
    snprintf(line + n, sizeof line - (size_t)n, ", win %u, length %u", win, len);
    s->line = fx_str(v, line);
    return s;
}

static inline void fx_state(ts_view *v, int end, double t, ts_state from, ts_state to,
                            bool inferred)
{
    v->states[v->nstates++] = (ts_view_state){end, FX_MS(t), from, to, inferred};
}

static inline void fx_timer(ts_view *v, int end, ts_timer_kind k, double set, double deadline,
                            double stop, ts_view_timer_end how)
{
    v->timers[v->ntimers++] =
        (ts_view_timer){end, k, FX_MS(set), FX_MS(deadline), FX_MS(stop), how};
}

/* A control block for each end after segment s, with the fields the step-through shows. */
static inline void fx_tcbs(ts_view *v, ts_view_seg *s, ts_state st0, ts_state st1)
{
    for (int e = 0; e < 2; e++) {
        ts_view_tcb *t = &v->tcbs[v->ntcbs];
        memset(t, 0, sizeof *t);
        t->end = e;
        t->t = e == s->from ? s->t_send : s->t_recv;
        t->info.state = e ? st1 : st0;
        t->info.local = v->end[e].ep;
        t->info.remote = v->end[1 - e].ep;
        t->info.iss = v->end[e].isn;
        t->info.irs = v->end[1 - e].isn;
        t->info.snd_una = t->info.snd_nxt = t->info.snd_max = v->end[e].isn + 1;
        t->info.rcv_nxt = v->end[1 - e].isn + 1;
        t->info.snd_wnd = 64256;
        t->info.rcv_wnd = 65160;
        t->info.cwnd = 14600;
        t->info.ssthresh = UINT32_MAX;
        t->info.rto = 1000 * TS_MSEC;
        for (int k = 0; k < TS_NUM_TIMERS; k++) t->info.timer[k] = TS_TIME_NEVER;
        s->tcb[e] = (int32_t)v->ntcbs++;
    }
}

#define C_ADDR TS_IP4(10, 0, 0, 103)
#define S_ADDR TS_IP4(10, 0, 0, 199)
#define C_ISN  3685266299u
#define S_ISN  515987657u

/* The chapter's close as `tcpsim run sim/scenarios/chapter-close.scn` reports it. */
static inline ts_view *fx_close(void)
{
    ts_view *v = fx_new(TS_VIEW_SIM, C_ADDR, 55570, "client", S_ADDR, 6379, "server");
    const uint8_t S = TS_TH_SYN, A = TS_TH_ACK, F = TS_TH_FIN;
    fx_state(v, 0, 0, TS_CLOSED, TS_SYN_SENT, false);
    fx_tcbs(v, fx_seg(v, 0, 0, 2, S, C_ISN, 0, 0, 64240), TS_SYN_SENT, TS_SYN_RECEIVED);
    fx_timer(v, 0, TS_TIMER_RETRANSMIT, 0, 1000, 4, TS_VTIMER_CANCELLED);
    fx_state(v, 1, 2, TS_LISTEN, TS_SYN_RECEIVED, false);
    fx_tcbs(v, fx_seg(v, 1, 2, 4, S | A, S_ISN, C_ISN + 1, 0, 65160), TS_ESTABLISHED,
            TS_SYN_RECEIVED);
    fx_state(v, 0, 4, TS_SYN_SENT, TS_ESTABLISHED, false);
    fx_tcbs(v, fx_seg(v, 0, 4, 6, A, C_ISN + 1, S_ISN + 1, 0, 502), TS_ESTABLISHED, TS_ESTABLISHED);
    fx_state(v, 1, 6, TS_SYN_RECEIVED, TS_ESTABLISHED, false);
    fx_state(v, 0, 7200, TS_ESTABLISHED, TS_FIN_WAIT_1, false);
    fx_tcbs(v, fx_seg(v, 0, 7200, 7202, F | A, C_ISN + 1, S_ISN + 1, 0, 502), TS_FIN_WAIT_1,
            TS_CLOSE_WAIT);
    fx_state(v, 1, 7202, TS_ESTABLISHED, TS_CLOSE_WAIT, false);
    fx_timer(v, 1, TS_TIMER_DELACK, 7202, 7203, 7202, TS_VTIMER_CANCELLED);
    fx_state(v, 1, 7202, TS_CLOSE_WAIT, TS_LAST_ACK, false);
    fx_tcbs(v, fx_seg(v, 1, 7202, 7204, F | A, S_ISN + 1, C_ISN + 2, 0, 510), TS_TIME_WAIT,
            TS_LAST_ACK);
    fx_state(v, 0, 7204, TS_FIN_WAIT_1, TS_TIME_WAIT, false);
    fx_timer(v, 0, TS_TIMER_TIME_WAIT, 7204, 67204, 67204, TS_VTIMER_FIRED);
    fx_tcbs(v, fx_seg(v, 0, 7204, 7206, A, C_ISN + 2, S_ISN + 2, 0, 502), TS_TIME_WAIT, TS_CLOSED);
    fx_state(v, 1, 7206, TS_LAST_ACK, TS_CLOSED, false);
    fx_state(v, 0, 67204, TS_TIME_WAIT, TS_CLOSED, false);
    v->segs[4].why = fx_str(v, "FIN; the delayed ACK rides on it");
    return v;
}

/* The chapter's connect timeout: five SYNs 1, 2, 4, 8 s apart, all lost; ETIMEDOUT at 31 s. */
static inline ts_view *fx_timeout(void)
{
    ts_view *v = fx_new(TS_VIEW_SIM, S_ADDR, 56424, "raspberry", C_ADDR, 23, "server");
    fx_state(v, 0, 0, TS_CLOSED, TS_SYN_SENT, false);
    double t = 0, rto = 1000;
    for (int i = 0; i < 5; i++) {
        ts_view_seg *s = fx_seg(v, 0, t, -1, TS_TH_SYN, 3031880096u, 0, 0, 64240);
        if (i) {
            s->cause = TS_VCAUSE_SYN;
            s->rexmit_no = (uint32_t)i;
            s->rto = FX_MS(rto / 2);
        }
        s->lost = "scripted drop rule, line 12";
        fx_timer(v, 0, TS_TIMER_RETRANSMIT, t, t + rto, t + rto, TS_VTIMER_FIRED);
        t += rto;
        rto *= 2;
    }
    fx_state(v, 0, 31000, TS_SYN_SENT, TS_CLOSED, false);
    return v;
}

/* A capture (no timers, no control blocks, inferred states): data both ways, a segment
 * lost and fast-retransmitted after three duplicate ACKs with SACK, crossing segments, a
 * reset. */
static inline ts_view *fx_capture(void)
{
    ts_view *v =
        fx_new(TS_VIEW_CAPTURE, TS_IP4(192, 168, 1, 2), 40000, "", TS_IP4(192, 168, 1, 9), 80, "");
    const uint8_t S = TS_TH_SYN, A = TS_TH_ACK, P = TS_TH_PSH, R = TS_TH_RST;
    uint32_t c = 1000, s = 5000;
    v->origin = TS_VIEW_CAPTURE;
    fx_seg(v, 0, 0, 10, S, c, 0, 0, 64240);
    fx_state(v, 0, 0, TS_CLOSED, TS_SYN_SENT, true);
    fx_seg(v, 1, 10, 20, S | A, s, c + 1, 0, 65160);
    fx_state(v, 1, 10, TS_LISTEN, TS_SYN_RECEIVED, true);
    fx_seg(v, 0, 20, 30, A, c + 1, s + 1, 0, 502);
    fx_state(v, 0, 20, TS_SYN_SENT, TS_ESTABLISHED, true);
    fx_state(v, 1, 30, TS_SYN_RECEIVED, TS_ESTABLISHED, true);
    fx_seg(v, 0, 25, 35, P | A, c + 1, s + 1, 100, 502);                 /* request */
    fx_seg(v, 1, 40, 50, A, s + 1, c + 101, 1000, 509);                  /* 1: arrives */
    fx_seg(v, 1, 41, -1, A, s + 1001, c + 101, 1000, 509);               /* 2: lost */
    fx_seg(v, 1, 42, 52, A, s + 2001, c + 101, 1000, 509);               /* 3 */
    fx_seg(v, 0, 50, 60, A, c + 101, s + 1001, 0, 502);                  /* ACK 1 */
    ts_view_seg *d = fx_seg(v, 0, 52, 62, A, c + 101, s + 1001, 0, 502); /* dupack + SACK */
    d->nsack = 1;
    d->sack[0][0] = s + 2001;
    d->sack[0][1] = s + 3001;
    fx_seg(v, 1, 55, 65, P | A, s + 3001, c + 101, 500, 509); /* crosses the dupack */
    ts_view_seg *f = fx_seg(v, 1, 62, 72, A, s + 1001, c + 101, 1000, 509);
    f->cause = TS_VCAUSE_REXMIT;
    f->rexmit_no = 1;
    fx_seg(v, 0, 72, 82, A, c + 101, s + 3501, 0, 502);
    fx_seg(v, 0, 2000, 2010, R | A, c + 101, s + 3501, 0, 0);
    fx_state(v, 0, 2000, TS_ESTABLISHED, TS_CLOSED, true);
    fx_state(v, 1, 2010, TS_ESTABLISHED, TS_CLOSED, true);
    v->times_estimated = true;
    v->note = fx_str(v, "captured between the ends; both ends' times estimated (5.000 ms to "
                        "192.168.1.2:40000, 5.000 ms to 192.168.1.9:80)");
    return v;
}

/* ---- what the ladder tests share beside the fixtures ---- */

#ifdef TS_SRC_DIR
#define FX_GOLDEN TS_SRC_DIR "/tests/unit/golden/"
#endif

/* Draw v with o into a string (the caller frees it); frees v. Not inlined: GCC 12 then
 * takes open_memstream's buffer for a dangling pointer (-Wdangling-pointer). */
__attribute__((unused, noinline)) static char *fx_render(ts_view *v, const ts_ladder_opts *o)
{
    char *buf = NULL, err[200] = "";
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    ck_assert_msg(ts_ladder_write(v, o, f, err, sizeof err) == 0, "%s", err);
    fclose(f);
    ts_view_free(v);
    return buf;
}

/* A whole file as a string (the caller frees it), or NULL. */
static inline char *fx_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc(n > 0 ? (size_t)n + 1 : 1);
    size_t got = n > 0 ? fread(b, 1, (size_t)n, f) : 0;
    b[got] = '\0';
    fclose(f);
    return b;
}

static inline int fx_count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

#ifdef FX_GOLDEN
/* Compare with the golden file; on a difference, leave what was drawn next to it (.out)
 * so `diff` shows it. TS_UPDATE_GOLDEN=1 rewrites the golden file. */
static inline void fx_golden(const char *name, const char *got)
{
    char path[512], out[520];
    snprintf(path, sizeof path, FX_GOLDEN "%s", name);
    if (getenv("TS_UPDATE_GOLDEN")) {
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        fputs(got, f);
        fclose(f);
    }
    char *want = fx_slurp(path);
    ck_assert_msg(want != NULL, "no golden file %s (TS_UPDATE_GOLDEN=1 writes it)", path);
    if (strcmp(want, got)) {
        snprintf(out, sizeof out, "%s.out", path);
        FILE *f = fopen(out, "wb");
        if (f) fputs(got, f), fclose(f);
    }
    ck_assert_msg(!strcmp(want, got), "%s differs: diff %s %s.out", name, path, path);
    free(want);
}
#endif

#endif
