/* evfan.h: one stack's events handed to the services that asked for them (the telnet
 * shell's `trace on` and `ladder`). The runner owns the stack's single observer; it
 * attaches a fan-out to the stack, passes each event to ts_evfan_emit from its observer,
 * and calls ts_evfan_settle when the stack is between calls (after each loop iteration or
 * simulator step), which is when a subscriber may use the socket API to show what it
 * gathered. Services hold only the ts_stack*: ts_evfan_of finds the fan-out. Nothing is
 * spent when nobody asked: the runner's `wanted` callback learns when the first subscriber
 * comes and the last goes, so the TUN runner can leave the stack without an observer. */
#ifndef TS_EVFAN_H
#define TS_EVFAN_H

#include <stdbool.h>
#include "tcpsim/tcpsim.h"

typedef struct ts_evfan ts_evfan;

/* A subscriber: ev is called for every event during the stack's call (it must not call
 * the socket API then: gather, don't send); settle between calls. */
typedef struct ts_evfan_sub {
    void (*ev)(void *ctx, const ts_event *ev);
    void (*settle)(void *ctx);
    void *ctx;
} ts_evfan_sub;

/* Attach a fan-out to s (one per stack). wanted(ctx, true) when the first subscriber
 * comes, (ctx, false) when the last goes; may be NULL. NULL when out of memory. */
ts_evfan *ts_evfan_attach(ts_stack *s, void (*wanted)(void *ctx, bool on), void *ctx);
void ts_evfan_detach(ts_evfan *f);
/* The fan-out attached to s, or NULL (the runner gives no events: the service says so). */
ts_evfan *ts_evfan_of(const ts_stack *s);

/* 0, or -1 when out of memory. */
int ts_evfan_subscribe(ts_evfan *f, const ts_evfan_sub *sub);
/* Remove the subscriber with this ctx (safe from inside its own callbacks). */
void ts_evfan_unsubscribe(ts_evfan *f, void *ctx);
/* Is anybody listening? (The runner's observer may skip emit when not.) */
bool ts_evfan_active(const ts_evfan *f);

void ts_evfan_emit(ts_evfan *f, const ts_event *ev);
void ts_evfan_settle(ts_evfan *f);

/* Timed settles, for services that redraw (the telnet shell's `watch`): a subscriber asks
 * for a settle at `when` (the stack's clock) even if nothing happens by then. A runner that
 * can honour it sets a waker (the TUN runner arms a timerfd), and calls ts_evfan_woke when
 * it went off; a runner without one settles often enough anyway (the simulator). */
void ts_evfan_set_waker(ts_evfan *f, void (*waker)(void *ctx, ts_time_t when), void *ctx);
void ts_evfan_wake_at(ts_evfan *f, ts_time_t when);
void ts_evfan_woke(ts_evfan *f);

#endif
