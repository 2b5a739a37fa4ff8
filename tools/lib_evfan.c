/* lib_evfan.c: the event fan-out (evfan.h). A process has few stacks (one live, a handful
 * in a scenario), so the stack -> fan-out registry is a short list searched only when a
 * service subscribes. Subscribers sit in a small array; removal during a callback only
 * clears the entry, compacted once no callback runs. */
#include <stdlib.h>
#include <string.h>

#include "evfan.h"

struct ts_evfan {
    const ts_stack *stack;
    void (*wanted)(void *ctx, bool on);
    void *wanted_ctx;
    ts_evfan_sub *subs;
    size_t n, cap;
    size_t live; /* subscribers not removed */
    int running; /* inside emit or settle */
    void (*waker)(void *ctx, ts_time_t when);
    void *waker_ctx;
    ts_time_t armed; /* the waker's pending time, TS_TIME_NEVER: none */
    ts_evfan *next;
};

static ts_evfan *registry;

ts_evfan *ts_evfan_attach(ts_stack *s, void (*wanted)(void *ctx, bool on), void *ctx)
{
    ts_evfan *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->stack = s;
    f->wanted = wanted;
    f->wanted_ctx = ctx;
    f->armed = TS_TIME_NEVER;
    f->next = registry;
    registry = f;
    return f;
}

void ts_evfan_detach(ts_evfan *f)
{
    if (!f) return;
    for (ts_evfan **p = &registry; *p; p = &(*p)->next)
        if (*p == f) {
            *p = f->next;
            break;
        }
    free(f->subs);
    free(f);
}

ts_evfan *ts_evfan_of(const ts_stack *s)
{
    for (ts_evfan *f = registry; f; f = f->next)
        if (f->stack == s) return f;
    return NULL;
}

static void compact(ts_evfan *f)
{
    size_t k = 0;
    for (size_t i = 0; i < f->n; i++)
        if (f->subs[i].ctx) f->subs[k++] = f->subs[i];
    f->n = k;
}

int ts_evfan_subscribe(ts_evfan *f, const ts_evfan_sub *sub)
{
    if (!f || !sub || !sub->ctx) return -1;
    if (!f->running) compact(f);
    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 4;
        ts_evfan_sub *s = realloc(f->subs, cap * sizeof *s);
        if (!s) return -1;
        f->subs = s;
        f->cap = cap;
    }
    f->subs[f->n++] = *sub;
    if (f->live++ == 0 && f->wanted) f->wanted(f->wanted_ctx, true);
    return 0;
}

void ts_evfan_unsubscribe(ts_evfan *f, void *ctx)
{
    if (!f || !ctx) return;
    for (size_t i = 0; i < f->n; i++) {
        if (f->subs[i].ctx != ctx) continue;
        f->subs[i].ctx = NULL; /* emit skips it; compacted later */
        if (--f->live == 0 && f->wanted) f->wanted(f->wanted_ctx, false);
    }
    if (!f->running) compact(f);
}

bool ts_evfan_active(const ts_evfan *f)
{
    return f && f->live > 0;
}

void ts_evfan_emit(ts_evfan *f, const ts_event *ev)
{
    if (!f || !f->live) return;
    f->running++;
    for (size_t i = 0; i < f->n; i++) /* n may grow: a new subscriber sees the rest */
        if (f->subs[i].ctx && f->subs[i].ev) f->subs[i].ev(f->subs[i].ctx, ev);
    f->running--;
}

void ts_evfan_settle(ts_evfan *f)
{
    if (!f || !f->live) return;
    f->running++;
    for (size_t i = 0; i < f->n; i++)
        if (f->subs[i].ctx && f->subs[i].settle) f->subs[i].settle(f->subs[i].ctx);
    f->running--;
    if (!f->running) compact(f);
}

void ts_evfan_set_waker(ts_evfan *f, void (*waker)(void *ctx, ts_time_t when), void *ctx)
{
    if (!f) return;
    f->waker = waker;
    f->waker_ctx = ctx;
}

void ts_evfan_wake_at(ts_evfan *f, ts_time_t when)
{
    if (!f || !f->waker || when >= f->armed) return;
    f->armed = when;
    f->waker(f->waker_ctx, when);
}

void ts_evfan_woke(ts_evfan *f)
{
    if (f) f->armed = TS_TIME_NEVER;
}
