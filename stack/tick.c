/* tick.c: with the parameter hz, when a timer fires: on the tick Linux's jiffies and
 * timer wheel would run it, and Linux's 2 ms timer floor. Pure arithmetic on a
 * connection's parameters, so the timer heap (tcp_conn.c) and tcp_loss.c use it from
 * below tcp_timer.c. */
#include "internal.h"

/* ---- Linux's tick-based timers (parameter hz) ----
 * Linux arms every TCP timer in jiffies: a duration in microseconds is rounded up to whole
 * ticks (usecs_to_jiffies) and the timer is set to expire at jiffies + n. Its timer wheel
 * (kernel/time/timer.c since 4.8, calc_index) then runs it on the first tick of the bucket
 * after that expiry: one tick later at level 0 (fewer than 63 ticks away), so that a timer
 * armed at the very end of a tick still lasts n whole ticks; at level L (up to 63 << 3L
 * ticks) the expiry is rounded up to a multiple of 8^L ticks, the wheel's 12.5% slack.
 * Tick j begins at the virtual time ceil(j * 1e6 / hz) us; jiffies are 0 at time 0. */

#define WHEEL_CLK_SHIFT 3  /* each level is 8 times coarser than the one below */
#define WHEEL_LVL_LAST  63 /* ticks: the farthest expiry a level holds (times its grain) */

/* jiffies at virtual time t: floor(t * hz / 1e6), without overflow */
static uint64_t tick_at(uint32_t hz, ts_time_t t)
{
    return t / TS_SEC * hz + t % TS_SEC * hz / TS_SEC;
}

/* the first microsecond of tick j: ceil(j * 1e6 / hz) */
static ts_time_t tick_start(uint32_t hz, uint64_t j)
{
    return j / hz * TS_SEC + (j % hz * TS_SEC + hz - 1) / hz;
}

/* usecs_to_jiffies: a duration rounded up to whole ticks */
static uint64_t ticks_up(uint32_t hz, ts_time_t d)
{
    return d / TS_SEC * hz + (d % TS_SEC * hz + TS_SEC - 1) / TS_SEC;
}

/* The tick on which the wheel runs a timer armed at tick j to expire at tick e. */
static uint64_t wheel_tick(uint32_t hz, uint64_t j, uint64_t e)
{
    unsigned depth = hz > 100 ? 9 : 8; /* LVL_DEPTH */
    unsigned lvl = 0;
    while (lvl + 1 < depth && e - j >= (uint64_t)WHEEL_LVL_LAST << (WHEEL_CLK_SHIFT * lvl)) lvl++;
    uint64_t cutoff = (uint64_t)WHEEL_LVL_LAST << (WHEEL_CLK_SHIFT * (depth - 1));
    unsigned shift = WHEEL_CLK_SHIFT * lvl;
    if (e - j >= cutoff) /* beyond the wheel's reach: Linux caps the timeout */
        e = j + cutoff - ((uint64_t)1 << shift);
    return ((e >> shift) + 1) << shift;
}

ts_time_t ts_tick_deadline(const ts_conn *c, ts_time_t now, ts_time_t when)
{
    return ts_tick_deadline_hz(c->p->hz, now, when);
}

/* The same for a TIME-WAIT block, which keeps hz but no ts_conn. */
ts_time_t ts_tick_deadline_hz(uint32_t hz, ts_time_t now, ts_time_t when)
{
    if (!hz || when == TS_TIME_NEVER) return when;
    uint64_t j = tick_at(hz, now);
    uint64_t e = j + ticks_up(hz, when > now ? when - now : 0);
    return tick_start(hz, wheel_tick(hz, j, e));
}

/* Linux's 2 ms floor (TCP_TIMEOUT_MIN) on the RACK reordering and TLP timers. Since 6.6
 * (commit 1c2709cfff1d, also in 6.1.60) it is 2000 us added before the rounding to ticks;
 * before, 2 ticks added after it (8 ms at HZ=250), which timeout_min_ticks models. The
 * result is a duration that ts_tick_deadline rounds to exactly that many ticks. Used by
 * the reordering timer and by the TLP's PTO with more than one segment in flight. */
ts_time_t ts_timeout_min(const ts_conn *c, ts_time_t d)
{
    uint32_t hz = c->p->hz;
    if (!hz || !c->p->timeout_min_ticks) return d + 2 * TS_MSEC;
    uint64_t n = ticks_up(hz, d) + 2;
    return n / hz * TS_SEC + n % hz * TS_SEC / hz; /* floor: ticks_up gives back n */
}
