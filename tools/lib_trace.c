/* lib_trace.c: one text line per stack event for --trace: a time stamp, the connection
 * (if any) and what happened. Segments reuse the tcpdump-style formatter. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tcpsim/format.h"
#include "tcpsim/params.h"
#include "trace.h"

typedef struct line {
    char *buf;
    size_t cap, len;
} line;

__attribute__((format(printf, 2, 3))) static void add(line *l, const char *fmt, ...)
{
    if (l->len + 1 >= l->cap) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(l->buf + l->len, l->cap - l->len, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    l->len += (size_t)n;
    if (l->len >= l->cap) l->len = l->cap - 1;
}

static void add_endpoint(line *l, ts_endpoint e)
{
    char a[16];
    add(l, "%s.%u", ts_ip4_format(e.addr, a), e.port);
}

static void add_dur(line *l, ts_time_t t)
{
    char d[32];
    add(l, "%s", ts_duration_format(t, d, sizeof d));
}

/* Append a packet's tcpdump line, or nothing if there is no packet. */
static void add_packet(line *l, const char *sep, const uint8_t *pkt, size_t len)
{
    if (!pkt || l->len + 1 >= l->cap) return;
    add(l, "%s", sep);
    l->len += ts_format_packet(pkt, len, l->buf + l->len, l->cap - l->len);
}

static const char *rexmit_name(ts_rexmit_kind k)
{
    static const char *const names[] = {"syn", "rto", "fast", "partial", "probe"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

static void add_timer(line *l, const ts_event *ev, const char *what)
{
    add(l, "timer %s %s", ts_timer_name(ev->u.timer.kind), what);
    if (ev->type != TS_EV_TIMER_SET) return;
    if (ev->u.timer.when == TS_TIME_NEVER) {
        add(l, " never");
        return;
    }
    add(l, " +");
    add_dur(l, ev->u.timer.when > ev->now ? ev->u.timer.when - ev->now : 0);
}

static void add_body(line *l, const ts_event *ev)
{
    const ts_event *e = ev;
    switch (ev->type) {
    case TS_EV_SEG_IN: add_packet(l, "in ", e->u.seg.pkt, e->u.seg.len); break;
    case TS_EV_SEG_OUT: add_packet(l, "out ", e->u.seg.pkt, e->u.seg.len); break;
    case TS_EV_STATE:
        add(l, "state %s -> %s", ts_state_name(e->u.state.from), ts_state_name(e->u.state.to));
        break;
    case TS_EV_TIMER_SET: add_timer(l, e, "set"); break;
    case TS_EV_TIMER_FIRE: add_timer(l, e, "fire"); break;
    case TS_EV_TIMER_CANCEL: add_timer(l, e, "cancel"); break;
    case TS_EV_RETRANSMIT:
        add(l, "rexmit %s seq %u len %u #%u rto ", rexmit_name(e->u.rexmit.kind), e->u.rexmit.seq,
            e->u.rexmit.len, e->u.rexmit.count);
        add_dur(l, e->u.rexmit.rto);
        break;
    case TS_EV_RTT_SAMPLE:
        add(l, "rtt sample "), add_dur(l, e->u.rtt.sample);
        add(l, " srtt "), add_dur(l, e->u.rtt.srtt);
        add(l, " rttvar "), add_dur(l, e->u.rtt.rttvar);
        add(l, " rto "), add_dur(l, e->u.rtt.rto);
        break;
    case TS_EV_CWND: add(l, "cwnd %u ssthresh %u", e->u.cwnd.cwnd, e->u.cwnd.ssthresh); break;
    case TS_EV_DROP:
        add(l, "drop %s", ts_drop_reason_name(e->u.drop.reason));
        add_packet(l, ": ", e->u.drop.pkt, e->u.drop.len);
        break;
    case TS_EV_UNDO:
        add(l, "undo %s %s cwnd %u ssthresh %u", ts_undo_kind_name(e->u.undo.kind),
            e->u.undo.rto ? "rto" : "fast", e->u.undo.cwnd, e->u.undo.ssthresh);
        break;
    case TS_EV_CONN_NEW: add(l, "new"); break;
    case TS_EV_CONN_FREE: add(l, "free"); break;
    default: add(l, "event %u", (unsigned)ev->type); break;
    }
}

size_t ts_trace_format(const ts_event *ev, bool virtual_time, char *buf, size_t buflen)
{
    line l = {buf, buflen, 0};
    if (!buflen) return 0;
    buf[0] = 0;
    l.len = ts_format_time(ev->now, virtual_time, buf, buflen);
    if (ev->conn.id) {
        add(&l, " conn %u ", ev->conn.id);
        add_endpoint(&l, ev->conn.local);
        add(&l, ">");
        add_endpoint(&l, ev->conn.remote);
    }
    add(&l, " ");
    add_body(&l, ev);
    return l.len;
}

void ts_trace_print(FILE *f, const ts_event *ev, bool virtual_time, bool skip_segments)
{
    if (skip_segments && (ev->type == TS_EV_SEG_IN || ev->type == TS_EV_SEG_OUT)) return;
    char buf[1024];
    ts_trace_format(ev, virtual_time, buf, sizeof buf);
    fprintf(f, "%s\n", buf);
}
