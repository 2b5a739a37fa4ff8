/* ladder_layout.c: the ladder diagram's one layout (see ladder_layout.h): which rows each
 * segment, state change, timer and idle gap gets, and the labels written on them. The
 * renderers only draw what this decides. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ladder_layout.h"

/* One thing that happens at one moment; sorted by time, then by kind in this order: what
 * arrives, then what it changed (states), then the timers that fired, then what leaves. */
typedef enum { EV_RECV, EV_STATE, EV_TIMER, EV_SEND } ev_kind;

typedef struct ev {
    ts_time_t t;
    ev_kind kind;
    size_t idx;
} ev;

static int ev_cmp(const void *a, const void *b)
{
    const ev *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    if (x->kind != y->kind) return x->kind < y->kind ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

const char *ts_ladder_dur(ts_time_t dt, char *buf, size_t len)
{
    const char *unit = "s";
    ts_time_t div = TS_SEC;
    if (dt < TS_MSEC) {
        unit = "us";
        div = 1;
    } else if (dt < TS_SEC) {
        unit = "ms";
        div = TS_MSEC;
    }
    /* Up to three decimals, trailing zeros trimmed: "1 s", "7.196 s", "1.5 ms". */
    unsigned long long whole = dt / div, frac = (dt % div) * 1000 / div;
    if (!frac) {
        snprintf(buf, len, "%llu %s", whole, unit);
        return buf;
    }
    char f[8];
    snprintf(f, sizeof f, "%03u", (unsigned)(frac % 1000));
    for (int i = 2; i > 0 && f[i] == '0'; i--) f[i] = '\0';
    snprintf(buf, len, "%llu.%s %s", whole, f, unit);
    return buf;
}

uint32_t ts_ladder_seq(const ts_layout *L, int end, uint32_t seq)
{
    const ts_view_end *e = &L->v->end[end];
    return L->o.relative && e->isn_known ? seq - e->isn : seq;
}

/* The time since the previous transmission of the same data (or SYN, or FIN) from the
 * same end: the interval a retransmission waited. 0 when there is none. */
static ts_time_t rexmit_wait(const ts_view *v, size_t i)
{
    const ts_view_seg *s = &v->segs[i];
    /* Bounded, so a long capture with many retransmissions stays linear. */
    for (size_t j = i, k = 0; j-- > 0 && k < 4096; k++) {
        const ts_view_seg *p = &v->segs[j];
        if (p->from == s->from && p->seq == s->seq &&
            (p->flags & (TS_TH_SYN | TS_TH_FIN)) == (s->flags & (TS_TH_SYN | TS_TH_FIN)) &&
            (p->len || (p->flags & (TS_TH_SYN | TS_TH_FIN))))
            return s->t_send - p->t_send;
    }
    return s->rto;
}

static void cause_text(const ts_view *v, size_t i, char *buf, size_t len)
{
    const ts_view_seg *s = &v->segs[i];
    char d[24] = "";
    ts_time_t w = s->cause == TS_VCAUSE_NEW ? 0 : rexmit_wait(v, i);
    if (w) ts_ladder_dur(w, d, sizeof d);
    const char *after = w ? " after " : "";
    char no[16] = "";
    if (s->rexmit_no) snprintf(no, sizeof no, " #%u", s->rexmit_no);
    switch (s->cause) {
    case TS_VCAUSE_NEW: buf[0] = '\0'; break;
    case TS_VCAUSE_SYN: snprintf(buf, len, "(SYN retry%s%s%s)", no, after, d); break;
    case TS_VCAUSE_RTO: snprintf(buf, len, "(RTO%s%s%s)", no, after, d); break;
    case TS_VCAUSE_FAST: snprintf(buf, len, "(fast retransmit%s)", no); break;
    case TS_VCAUSE_TLP: snprintf(buf, len, "(tail loss probe)"); break;
    case TS_VCAUSE_PROBE: snprintf(buf, len, "(probe)"); break;
    case TS_VCAUSE_REXMIT: snprintf(buf, len, "(retransmission%s%s)", after, d); break;
    }
}

/* Append to buf at n; returns the new length (snprintf's, may pass len). */
__attribute__((format(printf, 4, 5))) static size_t cat(char *buf, size_t len, size_t n,
                                                        const char *fmt, ...)
{
    if (n >= len) return n;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + n, len - n, fmt, ap);
    va_end(ap);
    return k < 0 ? n : n + (size_t)k;
}

/* The arrow's label as the chapter writes it: "S. seq 0 ack 1" and, on SYNs, the options
 * "[mss 1460,sackOK,TS,wscale 7]"; SACK blocks on ACKs. */
static void seg_label(const ts_layout *L, const ts_lseg *ls, char *m, char *o)
{
    const ts_view_seg *s = ls->seg;
    int me = s->from, peer = 1 - s->from;
    char fl[8];
    size_t n = cat(m, TS_LLABEL_MAX, 0, "%s", ts_view_flags(s->flags, fl));
    uint32_t seq = ts_ladder_seq(L, me, s->seq);
    if (s->len)
        n = cat(m, TS_LLABEL_MAX, n, " seq %u:%u", seq, seq + s->len);
    else if (s->flags & (TS_TH_SYN | TS_TH_FIN | TS_TH_RST) || !(s->flags & TS_TH_ACK))
        n = cat(m, TS_LLABEL_MAX, n, " seq %u", seq);
    if (s->flags & TS_TH_ACK)
        n = cat(m, TS_LLABEL_MAX, n, " ack %u", ts_ladder_seq(L, peer, s->ack));
    if (!s->win && !(s->flags & TS_TH_RST)) n = cat(m, TS_LLABEL_MAX, n, " win 0");
    if (s->len) cat(m, TS_LLABEL_MAX, n, " len %u", s->len);

    n = 0;
    o[0] = '\0';
    if (s->flags & TS_TH_SYN) {
        const char *sep = "";
        n = cat(o, TS_LLABEL_MAX, n, "[");
        if (s->mss) n = cat(o, TS_LLABEL_MAX, n, "mss %u", s->mss), sep = ",";
        if (s->sack_ok) n = cat(o, TS_LLABEL_MAX, n, "%ssackOK", sep), sep = ",";
        if (s->has_ts) n = cat(o, TS_LLABEL_MAX, n, "%sTS", sep), sep = ",";
        if (s->wscale >= 0) n = cat(o, TS_LLABEL_MAX, n, "%swscale %d", sep, s->wscale);
        n = cat(o, TS_LLABEL_MAX, n, "]");
        if (n == 2) o[0] = '\0';
    }
    if (s->nsack) {
        n = cat(o, TS_LLABEL_MAX, n, "%s[sack", n ? " " : "");
        for (unsigned k = 0; k < s->nsack && k < TS_VIEW_SACK_MAX; k++)
            n = cat(o, TS_LLABEL_MAX, n, " %u:%u", ts_ladder_seq(L, peer, s->sack[k][0]),
                    ts_ladder_seq(L, peer, s->sack[k][1]));
        cat(o, TS_LLABEL_MAX, n, "]");
    }
}

/* The rows the time between two ticks takes: one or two plain rows when short; from
 * 100 ms on a compressed gap, one row taller per doubling from 1 s up to 16 s. */
static int gap_rows(ts_time_t dt, bool *compressed)
{
    *compressed = false;
    if (dt < 10 * TS_MSEC) return 1;
    if (dt < 100 * TS_MSEC) return 2;
    *compressed = true;
    int n = 3;
    for (ts_time_t s = 2 * TS_SEC; s <= dt && n < 7; s *= 2) n++;
    return n;
}

/* The first segment sent at or after t (segments are in order of t_send). */
static size_t seg_at(const ts_view *v, ts_time_t t)
{
    size_t lo = 0, hi = v->nsegs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v->segs[mid].t_send < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Is this timer worth a note? Those that fired, and the delayed ACK that a departing
 * segment made unnecessary (the chapter's ACK riding on the FIN). Timers cancelled by the
 * ordinary course of things (an RTO cleared by its ACK) are not. */
static const ts_view_seg *rides_on(const ts_view *v, const ts_view_timer *tm)
{
    for (size_t i = seg_at(v, tm->stop); i < v->nsegs && v->segs[i].t_send == tm->stop; i++) {
        const ts_view_seg *s = &v->segs[i];
        if (s->from == tm->end && (s->flags & TS_TH_ACK) &&
            (s->len || (s->flags & (TS_TH_SYN | TS_TH_FIN))))
            return s;
    }
    return NULL;
}

/* Was the last segment this end sent by t (inclusive) a SYN? */
static bool syn_by(const ts_view *v, int end, ts_time_t t)
{
    size_t i = seg_at(v, t);
    while (i < v->nsegs && v->segs[i].t_send == t) i++;
    for (size_t k = 0; i-- > 0 && k < 4096; k++)
        if (v->segs[i].from == end) return v->segs[i].flags & TS_TH_SYN;
    return false;
}

static bool timer_note(const ts_view *v, const ts_view_timer *tm, char *buf, size_t len)
{
    char d[24], fl[8];
    ts_ladder_dur(tm->stop - tm->set, d, sizeof d);
    if (tm->how == TS_VTIMER_CANCELLED && tm->kind == TS_TIMER_DELACK) {
        const ts_view_seg *s = rides_on(v, tm);
        if (!s) return false;
        snprintf(buf, len, "delayed ACK: rides on %s", ts_view_flags(s->flags, fl));
        return true;
    }
    if (tm->how != TS_VTIMER_FIRED) return false;
    const char *what = ts_timer_name(tm->kind);
    switch (tm->kind) {
    case TS_TIMER_RETRANSMIT: {
        /* The SYN's timer and the RTO are one timer in the stack; say which it was. */
        what = syn_by(v, tm->end, tm->stop) ? "SYN timer" : "RTO timer";
        break;
    }
    case TS_TIMER_DELACK: what = "delayed-ACK timer"; break;
    case TS_TIMER_TLP: what = "TLP timer"; break;
    case TS_TIMER_PERSIST: what = "persist timer"; break;
    case TS_TIMER_KEEPALIVE: what = "keepalive timer"; break;
    case TS_TIMER_TIME_WAIT: what = "TIME_WAIT timer"; break;
    case TS_TIMER_FIN_WAIT2: what = "FIN_WAIT_2 timer"; break;
    default: break;
    }
    snprintf(buf, len, "%s fired (%s)", what, d);
    return true;
}

static int push_rows(ts_layout *L, int *cap, int n, ts_time_t t, int gap, bool tick)
{
    if (L->nrows + n > *cap) {
        int nc = *cap ? *cap * 2 : 64;
        while (nc < L->nrows + n) nc *= 2;
        ts_lrow *r = realloc(L->rows, (size_t)nc * sizeof *r);
        if (!r) return -1;
        L->rows = r;
        *cap = nc;
    }
    for (int i = 0; i < n; i++)
        L->rows[L->nrows++] = (ts_lrow){.t = t, .tick = tick && i == 0, .gap = gap};
    return 0;
}

/* The rows between the previous tick and one at t. */
static int add_gap(ts_layout *L, int *cap, ts_time_t dt, ts_time_t t)
{
    bool comp;
    int n = gap_rows(dt, &comp);
    if (!comp) return push_rows(L, cap, n, t, -1, false);
    L->gaps[L->ngaps] = (ts_lgap){.row0 = L->nrows, .nrows = n, .dt = dt};
    return push_rows(L, cap, n, t, (int)L->ngaps++, false);
}

static int collect(ts_layout *L, size_t first, ts_time_t t_begin, ev **out, size_t *nout)
{
    const ts_view *v = L->v;
    size_t cap = 2 * (v->nsegs - first) + v->nstates + v->ntimers, n = 0;
    ev *e = malloc((cap ? cap : 1) * sizeof *e);
    if (!e) return -1;
    for (size_t i = first; i < v->nsegs; i++) {
        const ts_view_seg *s = &v->segs[i];
        e[n++] = (ev){s->t_send, EV_SEND, i};
        if (s->t_recv != TS_TIME_NEVER && s->t_recv > s->t_send)
            e[n++] = (ev){s->t_recv, EV_RECV, i};
    }
    for (size_t i = 0; i < v->nstates; i++)
        if (v->states[i].t >= t_begin) e[n++] = (ev){v->states[i].t, EV_STATE, i};
    for (size_t i = 0; i < v->ntimers; i++) {
        char tmp[96];
        const ts_view_timer *tm = &v->timers[i];
        if (tm->stop != TS_TIME_NEVER && tm->stop >= t_begin && timer_note(v, tm, tmp, sizeof tmp))
            e[n++] = (ev){tm->stop, EV_TIMER, i};
    }
    qsort(e, n, sizeof *e, ev_cmp);
    *out = e;
    *nout = n;
    return 0;
}

/* Place one tick's events (e[a..b), all at one time) on rows from nrows on. */
static int place_tick(ts_layout *L, int *cap, const ev *e, size_t a, size_t b, size_t first)
{
    const ts_view *v = L->v;
    int r0 = L->nrows, inside = 0, side[2] = {0, 0};
    const ts_lseg *prev = NULL; /* the last arrival placed in this tick */
    for (size_t k = a; k < b; k++) {
        const ev *x = &e[k];
        if (x->kind == EV_RECV) {
            /* Segments that left together and arrive together keep their spacing, so
             * their arrows run parallel instead of tangling. */
            ts_lseg *ls = &L->segs[x->idx - first];
            int row = r0 + inside;
            if (prev && prev->seg->from == ls->seg->from && prev->seg->t_send == ls->seg->t_send) {
                int want = prev->row_recv + (ls->row_send - prev->row_send);
                if (want > row) row = want;
            }
            ls->row_recv = row;
            inside = row - r0 + 1;
            prev = ls;
        } else if (x->kind == EV_STATE) {
            const ts_view_state *st = &v->states[x->idx];
            ts_lnote *nt = &L->notes[L->nnotes++];
            *nt = (ts_lnote){.kind = TS_LNOTE_STATE, .end = st->end & 1, .inferred = st->inferred};
            nt->row = nt->row_from = r0 + side[nt->end]++;
            snprintf(nt->text, sizeof nt->text, st->inferred ? "[%s]" : "%s",
                     ts_state_name(st->to));
            L->any_inferred |= st->inferred;
        } else if (x->kind == EV_TIMER) {
            const ts_view_timer *tm = &v->timers[x->idx];
            ts_lnote *nt = &L->notes[L->nnotes++];
            *nt = (ts_lnote){.kind = TS_LNOTE_TIMER, .end = tm->end & 1, .row = r0 + inside++};
            timer_note(v, tm, nt->text, sizeof nt->text);
            nt->row_from = -1; /* filled when every row exists (see finish) */
            nt->t_set = tm->set;
            L->any_timer = true;
        } else if (L->segs[x->idx - first].compact) {
            ts_lseg *ls = &L->segs[x->idx - first];
            ls->row_label = ls->row_send = ls->row_recv = r0 + inside;
            inside += ls->nlabel; /* the arrow's row, and its cause's below it */
        } else {
            ts_lseg *ls = &L->segs[x->idx - first];
            ls->row_label = r0 + inside;
            inside += ls->nlabel;
            ls->row_send = r0 + inside++;
            if (ls->lost) inside++; /* a row of its own for where it ends mid-air */
            if (!ls->lost && ls->seg->t_recv <= ls->seg->t_send) ls->row_recv = ls->row_send;
        }
    }
    int n = inside;
    if (side[0] > n) n = side[0];
    if (side[1] > n) n = side[1];
    return push_rows(L, cap, n ? n : 1, e[a].t, -1, true);
}

static int note_cmp(const void *a, const void *b)
{
    const ts_lnote *x = a, *y = b;
    if (x->row != y->row) return x->row < y->row ? -1 : 1;
    return x->end - y->end;
}

/* A timer's bracket starts where it was armed: on the arrow of the segment that armed it,
 * or on the first tick at or after that time. Lost arrows end one row below their start. */
static void finish(ts_layout *L)
{
    const ts_view *v = L->v;
    size_t first = L->nsegs ? L->segs[0].index : 0;
    for (size_t i = 0; i < L->nnotes; i++) {
        ts_lnote *nt = &L->notes[i];
        if (nt->kind != TS_LNOTE_TIMER) continue;
        int r = -1;
        for (size_t k = seg_at(v, nt->t_set); k < v->nsegs && v->segs[k].t_send == nt->t_set; k++)
            if (k >= first && v->segs[k].from == nt->end) {
                r = L->segs[k - first].row_send;
                break;
            }
        if (r < 0) { /* the first tick at or after t_set: rows are in order of time */
            int lo = 0, hi = L->nrows;
            while (lo < hi) {
                int mid = lo + (hi - lo) / 2;
                if (L->rows[mid].t < nt->t_set)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            while (lo < L->nrows && !L->rows[lo].tick) lo++;
            r = lo;
        }
        nt->row_from = r > nt->row ? nt->row : r;
    }
    for (size_t i = 0; i < L->nsegs; i++) {
        ts_lseg *ls = &L->segs[i];
        if (ls->lost && !ls->compact) ls->row_recv = ls->row_send + 1;
    }
    /* Renderers that draw a window at a time want the notes in order of rows. */
    qsort(L->notes, L->nnotes, sizeof *L->notes, note_cmp);
}

static void title(ts_layout *L)
{
    const ts_view *v = L->v;
    for (int e = 0; e < 2; e++) {
        char a[16];
        snprintf(L->addr[e], sizeof L->addr[e], "%s:%u", ts_ip4_format(v->end[e].ep.addr, a),
                 v->end[e].ep.port);
    }
    if (L->o.title) {
        snprintf(L->title, sizeof L->title, "%s", L->o.title);
        return;
    }
    static const char *const from[] = {"from a capture", "simulated", "live"};
    size_t shown = L->nsegs;
    snprintf(L->title, sizeof L->title, "TCP %s > %s: %zu segment%s%s, %s", L->addr[0], L->addr[1],
             shown, shown == 1 ? "" : "s", shown < v->nsegs ? " (the last ones)" : "",
             (unsigned)v->origin < 3 ? from[v->origin] : "");
}

/* Mark a segment compact; 1 when it was not yet. */
static size_t make_compact(ts_lseg *ls)
{
    if (ls->compact) return 0;
    ls->compact = true;
    ls->nlabel = ls->seg->cause != TS_VCAUSE_NEW ? 2 : 1; /* a retransmission: its cause */
    return 1;
}

/* The text only: mark compact every segment that was in flight (in either direction)
 * while more than dense_max were, and drop their arrivals from e. An arrow needs about
 * four columns between the lifelines to be told from its neighbours; past that a bulk
 * transfer's staircases merge into noise and take five rows a segment, where one row
 * with the label says what there is to say. Sparse stretches (a handshake, a slow start's
 * first flights, a close) keep their slopes. */
static int mark_dense(ts_layout *L, ev *e, size_t *ne, size_t first)
{
    size_t n = L->nsegs, nfly = 0;
    size_t *fly = malloc((n ? n : 1) * sizeof *fly), *slot = malloc((n ? n : 1) * sizeof *slot);
    if (!fly || !slot) {
        free(fly);
        free(slot);
        return -1;
    }
    L->dense_max = ts_ladder_label_room(L) / 4;
    size_t max = (size_t)L->dense_max;
    bool over = false; /* more than max in flight now, and every one of them marked */
    for (size_t k = 0; k < *ne; k++) {
        if (e[k].kind == EV_RECV) {
            size_t i = e[k].idx - first, at = slot[i];
            fly[at] = fly[--nfly];
            slot[fly[at]] = at;
            over = over && nfly > max;
        } else if (e[k].kind == EV_SEND) {
            size_t i = e[k].idx - first;
            const ts_view_seg *s = L->segs[i].seg;
            if (s->t_recv != TS_TIME_NEVER && s->t_recv > s->t_send) { /* it flies */
                slot[i] = nfly;
                fly[nfly++] = i;
            }
            if (over || nfly > max) L->ncompact += make_compact(&L->segs[i]);
            if (!over && nfly > max) {
                for (size_t j = 0; j < nfly; j++) L->ncompact += make_compact(&L->segs[fly[j]]);
                over = true;
            }
        }
    }
    free(fly);
    free(slot);
    size_t m = 0; /* a compact segment's arrival takes no row */
    for (size_t k = 0; k < *ne; k++)
        if (e[k].kind != EV_RECV || !L->segs[e[k].idx - first].compact) e[m++] = e[k];
    *ne = m;
    return 0;
}

/* Does this tick send a compact segment? Between two such ticks a short wait takes no
 * row: a dense stretch is one row per segment. */
static bool tick_dense(const ts_layout *L, const ev *e, size_t a, size_t b, size_t first)
{
    for (size_t k = a; k < b; k++)
        if (e[k].kind == EV_SEND && L->segs[e[k].idx - first].compact) return true;
    return false;
}

int ts_ladder_layout(const ts_view *v, const ts_ladder_opts *o, ts_layout *L, char *err,
                     size_t errlen)
{
    memset(L, 0, sizeof *L);
    L->v = v;
    L->o = *o;
    size_t first = o->last && o->last < v->nsegs ? v->nsegs - o->last : 0;
    ts_time_t t_begin = first < v->nsegs ? v->segs[first].t_send : 0;
    if (!first) t_begin = 0;
    L->nsegs = v->nsegs - first;
    L->segs = calloc(L->nsegs ? L->nsegs : 1, sizeof *L->segs);
    L->notes = calloc(v->nstates + v->ntimers + 1, sizeof *L->notes);
    L->gaps = calloc(2 * (L->nsegs + v->nstates + v->ntimers) + 1, sizeof *L->gaps);
    ev *e = NULL;
    size_t ne = 0;
    if (!L->segs || !L->notes || !L->gaps || collect(L, first, t_begin, &e, &ne)) goto oom;
    for (size_t i = 0; i < L->nsegs; i++) {
        ts_lseg *ls = &L->segs[i];
        ls->seg = &v->segs[first + i];
        ls->index = first + i;
        ls->lost = ls->seg->t_recv == TS_TIME_NEVER;
        ls->row_recv = -1;
        L->any_lost |= ls->lost;
        L->any_rexmit |= ls->seg->cause != TS_VCAUSE_NEW;
    }
    if (o->format == TS_LADDER_TEXT && mark_dense(L, e, &ne, first)) goto oom;
    for (size_t i = 0; i < L->nsegs; i++) {
        ts_lseg *ls = &L->segs[i];
        if (ls->compact) continue;
        char m[TS_LLABEL_MAX], op[TS_LLABEL_MAX], c[64];
        ts_ladder_seg_text(L, ls, m, op, c);
        /* One label row when it all fits between the lifelines, else two: the flags and
         * numbers, then the options and the cause. */
        size_t w = strlen(m) + strlen(op) + strlen(c) + 2;
        ls->nlabel = w > (size_t)ts_ladder_label_room(L) - 2 && (op[0] || c[0]) ? 2 : 1;
    }
    int cap = 0;
    bool was_dense = false;
    for (size_t a = 0; a < ne;) {
        size_t b = a;
        while (b < ne && e[b].t == e[a].t) b++;
        bool dense = L->ncompact && tick_dense(L, e, a, b, first);
        ts_time_t dt = a ? e[a].t - e[a - 1].t : 0;
        if (a && !(dense && was_dense && dt < 10 * TS_MSEC) && add_gap(L, &cap, dt, e[a].t))
            goto oom;
        if (place_tick(L, &cap, e, a, b, first)) goto oom;
        was_dense = dense;
        a = b;
    }
    if (push_rows(L, &cap, 1, ne ? e[ne - 1].t : 0, -1, false)) goto oom; /* room below the end */
    finish(L);
    title(L);
    free(e);
    return 0;
oom:
    free(e);
    ts_ladder_layout_free(L);
    snprintf(err, errlen, "out of memory laying out the ladder");
    return -1;
}

size_t ts_ladder_utf8_len(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    if (p[0] < 0x80) return 1;
    size_t n = p[0] >= 0xC2 && p[0] <= 0xDF   ? 2
               : p[0] >= 0xE0 && p[0] <= 0xEF ? 3
               : p[0] >= 0xF0 && p[0] <= 0xF4 ? 4
                                              : 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80) return 0;
    /* Overlong three-byte forms, surrogates and code points past U+10FFFF. */
    if ((n == 3 && ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] >= 0xA0))) ||
        (n == 4 && ((p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] >= 0x90))))
        return 0;
    return n;
}

int ts_ladder_label_room(const ts_layout *L)
{
    /* The text's lifelines stand at 26 and width - 16; a label keeps a blank either side. */
    return (int)L->o.width - 16 - 26 - 3;
}

void ts_ladder_seg_text(const ts_layout *L, const ts_lseg *ls, char main[TS_LLABEL_MAX],
                        char opts[TS_LLABEL_MAX], char cause[64])
{
    seg_label(L, ls, main, opts);
    cause_text(L->v, ls->index, cause, 64);
}

void ts_ladder_label_rows(const ts_layout *L, const ts_lseg *ls, char rows[2][TS_LROW_MAX])
{
    char m[TS_LLABEL_MAX], o[TS_LLABEL_MAX], c[64];
    ts_ladder_seg_text(L, ls, m, o, c);
    size_t room = (size_t)ts_ladder_label_room(L) - 2;
    rows[1][0] = '\0';
    if (ls->nlabel == 1) {
        snprintf(rows[0], TS_LROW_MAX, "%s%s%s%s%s", m, o[0] ? " " : "", o, c[0] ? " " : "", c);
    } else if (strlen(m) + strlen(c) + 1 <= room) {
        snprintf(rows[0], TS_LROW_MAX, "%s%s%s", m, c[0] ? " " : "", c);
        snprintf(rows[1], TS_LROW_MAX, "%s", o);
    } else {
        snprintf(rows[0], TS_LROW_MAX, "%s", m);
        snprintf(rows[1], TS_LROW_MAX, "%s%s%s", o, o[0] && c[0] ? " " : "", c);
    }
}

void ts_ladder_layout_free(ts_layout *L)
{
    free(L->rows);
    free(L->segs);
    free(L->notes);
    free(L->gaps);
    memset(L, 0, sizeof *L);
}
