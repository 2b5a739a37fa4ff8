/* svc_telnet.c: the telnet service, a small shell for looking inside the stack from the
 * connection being looked at. libtelnet handles the protocol (RFC 854 option negotiation,
 * IAC escaping); this file offers WILL ECHO and WILL SUPPRESS-GO-AHEAD so that Linux's
 * telnet client goes to character mode and the service edits and echoes the line itself
 * (every keystroke is a segment, and its echo carries the ACK). A client that refuses
 * (or speaks no telnet, like nc) keeps its own echo and sends whole lines.
 *
 * The live look (`timers`, `watch`, `trace`, `ladder`) reads the stack's events through the
 * runner's fan-out (evfan.h): events are gathered while the stack works and shown when it
 * settles. `trace` leaves out the events its own output causes (the segments that carry
 * trace lines, the ACKs of those bytes, their timers), or every line would draw another. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
/* libtelnet.h needs size_t and va_list declared first. */
#include <libtelnet.h>
#include <stdlib.h>
#include <string.h>

#include "connhist.h"
#include "evfan.h"
#include "svc_common.h"
#include "trace.h"

#define TN_LINE_MAX  256
#define TN_OUT_LIMIT (1u << 20)  /* replies queued beyond this are dropped */
#define TN_CONNS_MAX 200         /* `conns` lists at most this many */
#define TN_TRACE_MAX (64u << 10) /* trace text gathered between settles, at most */
#define TN_RANGES    32          /* output ranges that hold trace text, not yet ACKed */
#define TN_WATCH_MAX 20          /* watch redraws at most this many times a second */
#define TN_HIST_SEGS 200         /* ladder N draws at most this many of the last segments */

typedef struct telnet_conn {
    svc_conn base;
    telnet_t *tn;
    svc_outbuf out;
    char line[TN_LINE_MAX];
    size_t linelen;
    bool echo;       /* the client let us echo (DO ECHO) */
    bool last_cr;    /* the previous byte ended a line with CR */
    bool quit;       /* close once the output is flushed */
    bool halfclose;  /* shut the write side once the output is flushed */
    bool write_shut; /* the write side is shut: output goes nowhere */
    bool peer_eof;   /* the client's FIN was read */
    /* the live look */
    ts_evfan *fan;      /* the runner's fan-out, NULL when it gives no events */
    bool subscribed;    /* to fan */
    uint32_t conn_id;   /* this connection in the stack's events */
    ts_time_t t0;       /* the session's start: trace stamps count from here */
    bool tracing;       /* trace on */
    svc_outbuf pending; /* trace lines gathered during the stack's calls */
    uint32_t lost_lines;
    bool mute;        /* the events now are caused by our own trace output */
    bool trace_text;  /* out() is writing trace lines */
    uint32_t stream0; /* sequence number of the first byte we send (ISS + 1) */
    uint32_t sent;    /* bytes handed to the output queue so far */
    uint32_t acked;   /* stream offset the client has ACKed */
    struct {
        uint32_t lo, hi; /* stream offsets [lo, hi) that hold trace text */
    } tr[TN_RANGES];
    size_t ntr;
    ts_connhist *hist; /* this connection's recent segments and events, for ladder */
    bool watching;     /* watch: redraw the TCB until a key */
    ts_time_t watch_every, watch_next;
} telnet_conn;

static const telnet_telopt_t telopts[] = {
    {TELNET_TELOPT_ECHO, TELNET_WILL, TELNET_DONT},
    {TELNET_TELOPT_SGA, TELNET_WILL, TELNET_DO},
    {-1, 0, 0},
};

static void tn_handler(telnet_t *tn, telnet_event_t *ev, void *ctx);
static void live_update(telnet_conn *t);

static void out(telnet_conn *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Text to the client: \n becomes CR LF and IAC is escaped by libtelnet. Long text goes in
 * pieces: libtelnet 0.21's telnet_vprintf reuses its va_list when the text passes its
 * buffer, which printed "(null)" or crashed for a whole ladder. */
static void out_text(telnet_conn *t, const char *p, size_t n)
{
    if (t->write_shut) return;
    while (n) {
        int k = n > 512 ? 512 : (int)n;
        telnet_printf(t->tn, "%.*s", k, p);
        p += k;
        n -= (size_t)k;
    }
}

static void out(telnet_conn *t, const char *fmt, ...)
{
    if (t->write_shut) return;
    char small[512];
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof small) {
        out_text(t, small, (size_t)n);
    } else if (n > 0) {
        char *big = malloc((size_t)n + 1);
        if (big) {
            vsnprintf(big, (size_t)n + 1, fmt, ap2);
            out_text(t, big, (size_t)n);
            free(big);
        }
    }
    va_end(ap2);
}

static void prompt(telnet_conn *t)
{
    out(t, "tcpsim> ");
}

/* ---- commands ------------------------------------------------------------------------ */

static void cmd_help(telnet_conn *t)
{
    out(t, "commands:\n"
           "  tcb [ID]         this connection's control block (RFC 9293 names), or ID's\n"
           "  timers [ID]      every armed timer of this connection (or ID), with time left\n"
           "  watch [N]        redraw the tcb N times a second (1) until you press a key\n"
           "  trace on|off     stream this connection's events as they happen: segments,\n"
           "                   states, timers, retransmissions, RTT samples, cwnd\n"
           "  ladder [N]       this connection's last N segments (20) as a sequence diagram\n"
           "  conns            every connection in the stack with its state (and its ID)\n"
           "  stats            the stack's counters\n"
           "  set              this connection's parameters\n"
           "  set NAME VALUE   change one of them, e.g. set delack 0, set nagle off\n"
           "  halfclose        the stack sends its FIN and keeps reading (half-close)\n"
           "  quit             the stack closes the connection first\n"
           "  help             this list\n"
           "To close from your end as in the textbook: Ctrl-] then quit.\n");
}

static const char *yn(bool b)
{
    return b ? "yes" : "no";
}

static char *dur(ts_time_t t, char *buf, size_t len)
{
    if (t == TS_TIME_NEVER)
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%.3f ms", (double)t / 1000.0);
    return buf;
}

/* A time left: "38.000 ms", "7199.998 s". */
static char *left(ts_time_t t, char *buf, size_t len)
{
    if (t < TS_SEC)
        snprintf(buf, len, "%.3f ms", (double)t / TS_MSEC);
    else
        snprintf(buf, len, "%.3f s", (double)t / TS_SEC);
    return buf;
}

/* This connection's snapshot, or connection `id`'s (ts_stack_conn_info); false after
 * saying what is wrong. */
static bool get_info(telnet_conn *t, const char *cmd, const char *id, ts_tcp_info *i)
{
    int r;
    if (!id) {
        r = ts_sock_info(t->base.stack, t->base.sd, i);
        if (r < 0) out(t, "%s: %s\n", cmd, strerror(-r));
        return r == 0;
    }
    char *end;
    unsigned long v = strtoul(id, &end, 10);
    if (!*id || *end || *id == '-' || v == 0 || v > UINT32_MAX) {
        out(t, "%s %s: not a connection ID; conns lists them\n", cmd, id);
        return false;
    }
    r = ts_stack_conn_info(t->base.stack, (uint32_t)v, i);
    if (r < 0) out(t, "%s %s: no connection %lu now; conns lists them\n", cmd, id, v);
    return r == 0;
}

static void show_tcb(telnet_conn *t, const ts_tcp_info *ip)
{
    const ts_tcp_info i = *ip;
    char la[16], ra[16], d1[32], d2[32], d3[32];
    out(t, "connection %u  %s:%u <-> %s:%u  state %s\n", i.conn_id, ts_ip4_format(i.local.addr, la),
        i.local.port, ts_ip4_format(i.remote.addr, ra), i.remote.port, ts_state_name(i.state));
    out(t, "  ISS %u  IRS %u\n", i.iss, i.irs);
    out(t, "  SND.UNA %u (+%u)  SND.NXT %u (+%u)  SND.WND %u  SND.WL1 %u  SND.WL2 %u\n", i.snd_una,
        i.snd_una - i.iss, i.snd_nxt, i.snd_nxt - i.iss, i.snd_wnd, i.snd_wl1, i.snd_wl2);
    out(t, "  RCV.NXT %u (+%u)  RCV.WND %u\n", i.rcv_nxt, i.rcv_nxt - i.irs, i.rcv_wnd);
    out(t, "  MSS send %u recv %u  window scale %s (send %u, recv %u)  SACK %s  timestamps %s\n",
        i.snd_mss, i.rcv_mss, yn(i.wscale_ok), i.snd_wscale, i.rcv_wscale, yn(i.sack_ok),
        yn(i.ts_ok));
    out(t, "  SRTT %s  RTTVAR %s  RTO %s\n", dur(i.srtt, d1, sizeof d1),
        dur(i.rttvar, d2, sizeof d2), dur(i.rto, d3, sizeof d3));
    out(t, "  cwnd %u (%.1f segments)  ssthresh %u  congestion control %s%s\n", i.cwnd,
        i.snd_mss ? (double)i.cwnd / i.snd_mss : 0.0, i.ssthresh, i.cc,
        i.in_recovery ? "  (in recovery)" : "");
    out(t, "  in flight %u B  SACKed %u B  lost %u B  congestion state %s\n", i.flight, i.sacked,
        i.lost, ts_ca_state_name(i.ca_state));
    out(t, "  retransmits %u  backoff %u  dupacks %u\n", i.retransmits, i.backoff, i.dupacks);
    out(t, "  delayed ACK: pending %s  pingpong %s  quick ACKs left %u\n", yn(i.delack_pending),
        yn(i.pingpong), i.quickack_left);
    out(t, "  queued: send %u B  receive %u B  out-of-order ranges %u\n", i.snd_queued,
        i.rcv_queued, i.ooo_ranges);
}

static void cmd_tcb(telnet_conn *t, const char *id)
{
    ts_tcp_info i;
    if (get_info(t, "tcb", id, &i)) show_tcb(t, &i);
}

/* Every armed timer with its time left; the others in one line. */
static void cmd_timers(telnet_conn *t, const char *id)
{
    ts_tcp_info i;
    if (!get_info(t, "timers", id, &i)) return;
    ts_time_t now = ts_stack_now(t->base.stack);
    char la[16], ra[16], d[32], off[160] = "";
    out(t, "connection %u  %s:%u <-> %s:%u  state %s\n", i.conn_id, ts_ip4_format(i.local.addr, la),
        i.local.port, ts_ip4_format(i.remote.addr, ra), i.remote.port, ts_state_name(i.state));
    int armed = 0;
    for (int k = 0; k < TS_NUM_TIMERS; k++) {
        const char *name = ts_timer_name((ts_timer_kind)k);
        if (i.timer[k] == TS_TIME_NEVER) {
            size_t n = strlen(off);
            snprintf(off + n, sizeof off - n, "%s%s", n ? ", " : "", name);
            continue;
        }
        armed++;
        ts_time_t l = i.timer[k] > now ? i.timer[k] - now : 0;
        out(t, "  %-10s %12s left\n", name, left(l, d, sizeof d));
    }
    if (!armed) out(t, "  no timer armed\n");
    if (off[0]) out(t, "  not armed: %s\n", off);
}

static void cmd_conns(telnet_conn *t)
{
    ts_tcp_info *v = malloc(TN_CONNS_MAX * sizeof *v);
    if (!v) {
        out(t, "conns: out of memory\n");
        return;
    }
    size_t total = ts_stack_conns(t->base.stack, v, TN_CONNS_MAX);
    size_t shown = total < TN_CONNS_MAX ? total : TN_CONNS_MAX;
    out(t, "%-6s %-21s %-21s %-12s %8s %8s\n", "id", "local", "remote", "state", "sendq", "recvq");
    for (size_t k = 0; k < shown; k++) {
        char la[16], ra[16], l[32], r[32];
        snprintf(l, sizeof l, "%s:%u", ts_ip4_format(v[k].local.addr, la), v[k].local.port);
        snprintf(r, sizeof r, "%s:%u", ts_ip4_format(v[k].remote.addr, ra), v[k].remote.port);
        out(t, "%-6u %-21s %-21s %-12s %8u %8u\n", v[k].conn_id, l, r, ts_state_name(v[k].state),
            v[k].snd_queued, v[k].rcv_queued);
    }
    if (total > shown) out(t, "... and %zu more\n", total - shown);
    out(t, "%zu connection%s\n", total, total == 1 ? "" : "s");
    free(v);
}

static void cmd_stats(telnet_conn *t)
{
    const ts_counters *k = ts_stack_counters(t->base.stack);
    out(t, "ip in %llu out %llu  icmp echo in %llu out %llu\n", (unsigned long long)k->ip_in,
        (unsigned long long)k->ip_out, (unsigned long long)k->icmp_echo_in,
        (unsigned long long)k->icmp_echo_out);
    out(t, "tcp segments in %llu out %llu  bytes in %llu out %llu\n", (unsigned long long)k->tcp_in,
        (unsigned long long)k->tcp_out, (unsigned long long)k->tcp_bytes_in,
        (unsigned long long)k->tcp_bytes_out);
    out(t, "retransmits %llu (rto %llu, fast %llu, syn %llu)  delayed ACKs %llu\n",
        (unsigned long long)k->tcp_retransmits, (unsigned long long)k->tcp_rto_timeouts,
        (unsigned long long)k->tcp_fast_retransmits, (unsigned long long)k->tcp_syn_retransmits,
        (unsigned long long)k->tcp_delayed_acks);
    out(t, "RST in %llu out %llu  challenge ACKs %llu  rate-limited %llu  checksum errors %llu\n",
        (unsigned long long)k->tcp_rst_in, (unsigned long long)k->tcp_rst_out,
        (unsigned long long)k->tcp_challenge_acks, (unsigned long long)k->tcp_oow_ratelimited,
        (unsigned long long)k->checksum_errors);
    out(t, "connections opened %llu accepted %llu failed %llu\n",
        (unsigned long long)k->tcp_conn_opened, (unsigned long long)k->tcp_conn_accepted,
        (unsigned long long)k->tcp_conn_failed);
    out(t, "SYN cookies sent %llu validated %llu failed %llu\n",
        (unsigned long long)k->tcp_syncookies_sent, (unsigned long long)k->tcp_syncookies_ok,
        (unsigned long long)k->tcp_syncookies_failed);
    out(t,
        "memory: rings %llu holding %llu B (peak %llu B)  connection blocks %llu B  cap hits "
        "%llu  allocations failed %llu\n",
        (unsigned long long)k->mem_rings, (unsigned long long)k->mem_ring_bytes,
        (unsigned long long)k->mem_ring_peak, (unsigned long long)k->mem_conn_bytes,
        (unsigned long long)k->mem_cap_hits, (unsigned long long)k->mem_alloc_failed);
    out(t, "small blocks: TIME-WAIT %llu (%llu B)  SYN-RECEIVED %llu (%llu B)\n",
        (unsigned long long)k->tw_blocks, (unsigned long long)k->tw_bytes,
        (unsigned long long)k->req_blocks, (unsigned long long)k->req_bytes);
    for (int r = 0; r < TS_DROP_NUM_REASONS; r++)
        if (k->drops[r])
            out(t, "  dropped %-18s %llu\n", ts_drop_reason_name((ts_drop_reason)r),
                (unsigned long long)k->drops[r]);
}

static void cmd_set(telnet_conn *t, char *name, char *value)
{
    ts_params p;
    char buf[64], err[200];
    if (ts_sock_get_params(t->base.stack, t->base.sd, &p) < 0) {
        out(t, "set: no parameters on this socket\n");
        return;
    }
    if (!name) {
        for (size_t i = 0; i < ts_params_count(); i++) {
            const ts_param_info *pi = ts_params_info(i);
            if (ts_params_get(&p, pi->name, buf, sizeof buf) == 0)
                out(t, "  %-16s %-10s %-6s %s\n", pi->name, buf, ts_params_when(pi->name),
                    pi->help);
        }
        return;
    }
    if (!value) {
        if (ts_params_get(&p, name, buf, sizeof buf) == 0)
            out(t, "%s = %s\n", name, buf);
        else
            out(t, "set: unknown parameter '%s'; 'set' lists them\n", name);
        return;
    }
    if (ts_sock_set_param(t->base.stack, t->base.sd, name, value, err, sizeof err) < 0) {
        out(t, "set: %s\n", err);
        return;
    }
    if (ts_sock_get_params(t->base.stack, t->base.sd, &p) == 0 &&
        ts_params_get(&p, name, buf, sizeof buf) == 0)
        out(t, "%s = %s (this connection)\n", name, buf);
}

/* ---- the live look: events from the runner's fan-out -------------------------------- */

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A segment's sequence number, ACK, flags and payload length; false if not TCP. */
static bool seg_fields(const ts_event *ev, uint32_t *seq, uint32_t *ack, uint8_t *flags,
                       uint32_t *len)
{
    const uint8_t *p = ev->u.seg.pkt;
    size_t n = ev->u.seg.len;
    if (!p || n < 40 || p[9] != 6) return false;
    size_t ihl = (size_t)(p[0] & 15) * 4, tot = (size_t)p[2] << 8 | p[3];
    if (tot > n) tot = n;
    if (ihl < 20 || tot < ihl + 20) return false;
    const uint8_t *th = p + ihl;
    size_t thl = (size_t)(th[12] >> 4) * 4;
    if (thl < 20 || ihl + thl > tot) return false;
    *seq = rd32(th + 4);
    *ack = rd32(th + 8);
    *flags = th[13];
    *len = (uint32_t)(tot - ihl - thl);
    return true;
}

/* Output bytes [sent, sent + n) hold trace text: remember the range until it is ACKed. */
static void trace_range(telnet_conn *t, uint32_t n)
{
    if (t->ntr && t->tr[t->ntr - 1].hi == t->sent) {
        t->tr[t->ntr - 1].hi += n;
        return;
    }
    if (t->ntr == TN_RANGES) { /* forget the oldest: its ACK will be shown, that is all */
        memmove(t->tr, t->tr + 1, (TN_RANGES - 1) * sizeof t->tr[0]);
        t->ntr--;
    }
    t->tr[t->ntr].lo = t->sent;
    t->tr[t->ntr].hi = t->sent + n;
    t->ntr++;
}

static bool in_trace(const telnet_conn *t, uint32_t lo, uint32_t hi)
{
    for (size_t i = 0; i < t->ntr; i++)
        if ((int32_t)(lo - t->tr[i].lo) >= 0 && (int32_t)(t->tr[i].hi - hi) >= 0) return true;
    return false;
}

/* Decide whether the events from here on come from our own trace output: the segments
 * that carry it, the ACKs of those bytes and what follows them (timers, RTT, cwnd). */
/* The client ACKed up to stream offset off: did it ACK only trace text? Ranges below it go. */
static bool acked_trace_only(telnet_conn *t, uint32_t off)
{
    if ((int32_t)(off - t->acked) <= 0) return false; /* nothing new */
    bool only = in_trace(t, t->acked, off);
    t->acked = off;
    size_t k = 0;
    while (k < t->ntr && (int32_t)(t->tr[k].hi - off) <= 0) k++;
    memmove(t->tr, t->tr + k, (t->ntr - k) * sizeof t->tr[0]);
    t->ntr -= k;
    return only;
}

static void classify(telnet_conn *t, const ts_event *ev)
{
    uint32_t seq, ack, len;
    uint8_t flags;
    if (ev->type == TS_EV_TIMER_FIRE) {
        t->mute = false;
        return;
    }
    if (ev->type != TS_EV_SEG_IN && ev->type != TS_EV_SEG_OUT) return;
    if (!seg_fields(ev, &seq, &ack, &flags, &len)) {
        t->mute = false;
        return;
    }
    if (ev->type == TS_EV_SEG_OUT) { /* muted when it carries nothing but trace text */
        t->mute = len && !(flags & 0x07) && in_trace(t, seq - t->stream0, seq - t->stream0 + len);
        return;
    }
    /* in: a pure ACK of trace text only is the trace's own doing; anything else is news */
    bool only = (flags & 0x10) && acked_trace_only(t, ack - t->stream0);
    t->mute = only && !len && !(flags & 0x07);
}

/* During the stack's call: gather, never send. */
static void live_event(void *ctx, const ts_event *ev)
{
    telnet_conn *t = ctx;
    if (ev->conn.id != t->conn_id) return;
    ts_connhist_event(t->hist, ev);
    if (!t->tracing) return;
    classify(t, ev);
    if (t->mute) return;
    char line[640];
    ts_event e = *ev;
    e.now = ev->now >= t->t0 ? ev->now - t->t0 : 0; /* stamps from the login */
    if ((ev->type == TS_EV_TIMER_SET || ev->type == TS_EV_TIMER_FIRE) &&
        ev->u.timer.when != TS_TIME_NEVER && ev->u.timer.when >= t->t0)
        e.u.timer.when = ev->u.timer.when - t->t0;
    size_t n = ts_trace_format(&e, true, line, sizeof line - 1);
    line[n++] = '\n';
    if (!svc_out_append(&t->pending, line, n)) t->lost_lines++;
}

static void draw_watch(telnet_conn *t)
{
    ts_tcp_info i;
    out(t, "\033[H\033[2J"); /* home, clear the screen */
    out(t, "watch: every %.0f ms; press any key to stop\n", (double)t->watch_every / TS_MSEC);
    if (ts_sock_info(t->base.stack, t->base.sd, &i) == 0) show_tcb(t, &i);
}

/* Between the stack's calls: show the trace lines gathered, redraw the watch when due. */
static void live_settle(void *ctx)
{
    telnet_conn *t = ctx;
    if (t->write_shut || t->quit) return;
    bool wrote = false, hold = false;
    ts_tcp_info i;
    /* The stack holds an ACK for its delayed-ACK timer: lines sent now would carry it and
     * change what they show. They wait for the timer (the echo of a key still carries the
     * ACK at once, as in the chapter). */
    if (t->tracing && t->pending.len && ts_sock_info(t->base.stack, t->base.sd, &i) == 0 &&
        i.delack_pending && i.timer[TS_TIMER_DELACK] != TS_TIME_NEVER) {
        ts_evfan_wake_at(t->fan, i.timer[TS_TIMER_DELACK]);
        hold = true;
    }
    t->trace_text = true; /* all of it is output the trace leaves out */
    if (t->tracing && !hold && (t->pending.len || t->lost_lines)) {
        out(t, "\r\033[K"); /* over the prompt */
        out_text(t, t->pending.data, t->pending.len);
        if (t->lost_lines) out(t, "[%u trace lines dropped: too many at once]\n", t->lost_lines);
        t->pending.len = 0;
        t->lost_lines = 0;
        if (!t->watching) out(t, "tcpsim> %.*s", (int)t->linelen, t->line);
        wrote = true;
    }
    ts_time_t now = ts_stack_now(t->base.stack);
    if (t->watching && now >= t->watch_next) {
        draw_watch(t);
        t->watch_next += t->watch_every;
        if (t->watch_next <= now) t->watch_next = now + t->watch_every;
        wrote = true;
    }
    t->trace_text = false;
    if (t->watching) ts_evfan_wake_at(t->fan, t->watch_next);
    if (wrote) svc_out_flush(&t->out, t->base.stack, t->base.sd); /* errors: the socket's */
}

/* Subscribed to the fan-out while the session lives (ladder's history) or trace or watch
 * needs it. */
static void live_update(telnet_conn *t)
{
    bool want = t->tracing || t->watching || t->hist;
    if (want && !t->subscribed) {
        ts_evfan_sub sub = {live_event, live_settle, t};
        t->subscribed = ts_evfan_subscribe(t->fan, &sub) == 0;
    } else if (!want && t->subscribed) {
        ts_evfan_unsubscribe(t->fan, t);
        t->subscribed = false;
    }
}

static bool have_events(telnet_conn *t, const char *cmd)
{
    if (t->fan) return true;
    out(t, "%s: this runner hands no stack events to services\n", cmd);
    return false;
}

static void cmd_trace(telnet_conn *t, const char *arg)
{
    if (!arg) {
        out(t, "trace is %s; trace on|off\n", t->tracing ? "on" : "off");
        return;
    }
    if (!strcmp(arg, "on")) {
        if (!have_events(t, "trace")) return;
        t->tracing = true;
        t->mute = false;
        live_update(t);
        if (!t->subscribed) {
            t->tracing = false;
            out(t, "trace: out of memory\n");
            return;
        }
        out(t,
            "trace on: connection %u's events, stamped in seconds since you logged in;\n"
            "the segments that carry these lines, and their ACKs, are left out.\n",
            t->conn_id);
    } else if (!strcmp(arg, "off")) {
        t->tracing = false;
        t->pending.len = 0;
        live_update(t);
        out(t, "trace off\n");
    } else {
        out(t, "trace %s: say trace on or trace off\n", arg);
    }
}

static void cmd_watch(telnet_conn *t, const char *arg)
{
    unsigned long n = 1;
    char *end;
    if (arg && (n = strtoul(arg, &end, 10), *end || *arg == '-' || n < 1 || n > TN_WATCH_MAX)) {
        out(t, "watch %s: give 1..%d redraws a second, e.g. watch 2\n", arg, TN_WATCH_MAX);
        return;
    }
    if (!have_events(t, "watch")) return;
    t->watching = true;
    live_update(t);
    if (!t->subscribed) {
        t->watching = false;
        out(t, "watch: out of memory\n");
        return;
    }
    t->watch_every = TS_SEC / (ts_time_t)n;
    t->trace_text = true;
    draw_watch(t);
    t->trace_text = false;
    t->watch_next = ts_stack_now(t->base.stack) + t->watch_every;
    ts_evfan_wake_at(t->fan, t->watch_next);
}

static void cmd_ladder(telnet_conn *t, const char *arg)
{
    unsigned long n = 20;
    char *end, err[200];
    if (arg && (n = strtoul(arg, &end, 10), *end || *arg == '-' || n < 1 || n > TN_HIST_SEGS)) {
        out(t, "ladder %s: give 1..%d segments, e.g. ladder 10\n", arg, TN_HIST_SEGS);
        return;
    }
    if (!have_events(t, "ladder")) return;
    if (!t->hist) {
        out(t, "ladder: out of memory when you logged in; nothing was recorded\n");
        return;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        out(t, "ladder: out of memory\n");
        return;
    }
    /* ASCII: a telnet session without the BINARY option is 7-bit */
    err[0] = '\0';
    int r = ts_connhist_ladder(t->hist, n, true, "tcpsim", "you", f, err, sizeof err);
    fclose(f);
    if (r < 0)
        out(t, "ladder: %s\n", err);
    else
        out_text(t, buf, len);
    free(buf);
}

static void watch_stop(telnet_conn *t)
{
    t->watching = false;
    live_update(t);
    out(t, "\n");
    prompt(t);
}

static void run_command(telnet_conn *t, char *line)
{
    char *save = NULL;
    char *cmd = strtok_r(line, " \t", &save);
    if (!cmd) return;
    char *a1 = strtok_r(NULL, " \t", &save);
    char *a2 = strtok_r(NULL, " \t", &save);
    if (!strcmp(cmd, "help") || !strcmp(cmd, "?"))
        cmd_help(t);
    else if (!strcmp(cmd, "tcb"))
        cmd_tcb(t, a1);
    else if (!strcmp(cmd, "timers"))
        cmd_timers(t, a1);
    else if (!strcmp(cmd, "trace"))
        cmd_trace(t, a1);
    else if (!strcmp(cmd, "watch"))
        cmd_watch(t, a1);
    else if (!strcmp(cmd, "ladder"))
        cmd_ladder(t, a1);
    else if (!strcmp(cmd, "conns"))
        cmd_conns(t);
    else if (!strcmp(cmd, "stats"))
        cmd_stats(t);
    else if (!strcmp(cmd, "set"))
        cmd_set(t, a1, a2);
    else if (!strcmp(cmd, "halfclose")) {
        out(t, "sending FIN; this end stops writing and keeps reading (Ctrl-] quit to close)\n");
        t->halfclose = true;
    } else if (!strcmp(cmd, "quit") || !strcmp(cmd, "exit") || !strcmp(cmd, "logout")) {
        out(t, "bye\n");
        t->quit = true;
    } else
        out(t, "%s: unknown command; try help\n", cmd);
}

/* ---- line editing -------------------------------------------------------------------- */

static void end_line(telnet_conn *t)
{
    if (t->echo) out(t, "\n");
    t->line[t->linelen] = '\0';
    run_command(t, t->line);
    t->linelen = 0;
    if (!t->quit && !t->halfclose && !t->watching) prompt(t);
}

static void input_byte(telnet_conn *t, unsigned char ch)
{
    bool after_cr = t->last_cr;
    t->last_cr = false;
    if (t->quit) return;
    if (t->watching) { /* any key stops it (the rest of an Enter that started it does not) */
        if (after_cr && (ch == '\n' || ch == '\0')) return;
        t->last_cr = ch == '\r';
        watch_stop(t);
        return;
    }
    switch (ch) {
    case '\r':
        t->last_cr = true;
        end_line(t);
        return;
    case '\n':
    case '\0':
        if (!after_cr && ch == '\n') end_line(t);
        return;
    case 0x7f:
    case 0x08: /* erase one character */
        if (t->linelen) {
            t->linelen--;
            if (t->echo) out(t, "\b \b");
        }
        return;
    case 0x15: /* Ctrl-U: kill the line */
        if (t->echo)
            while (t->linelen) t->linelen--, out(t, "\b \b");
        t->linelen = 0;
        return;
    case 0x03: /* Ctrl-C */
        t->linelen = 0;
        out(t, "^C\n");
        prompt(t);
        return;
    case 0x04: /* Ctrl-D on an empty line */
        if (t->linelen == 0) {
            out(t, "bye\n");
            t->quit = true;
        }
        return;
    default:
        if (ch < ' ' || ch >= 0x7f) return;
        if (t->linelen + 1 < TN_LINE_MAX) {
            t->line[t->linelen++] = (char)ch;
            if (t->echo) out(t, "%c", ch);
        }
    }
}

static void tn_handler(telnet_t *tn, telnet_event_t *ev, void *ctx)
{
    telnet_conn *t = ctx;
    (void)tn;
    switch (ev->type) {
    case TELNET_EV_DATA:
        for (size_t i = 0; i < ev->data.size; i++) input_byte(t, (unsigned char)ev->data.buffer[i]);
        break;
    case TELNET_EV_SEND:
        if (t->write_shut) break;
        if (!svc_out_append(&t->out, ev->data.buffer, ev->data.size)) {
            t->quit = true; /* a client that never reads: give up on it */
            break;
        }
        if (t->trace_text) trace_range(t, (uint32_t)ev->data.size);
        t->sent += (uint32_t)ev->data.size;
        break;
    case TELNET_EV_DO:
        if (ev->neg.telopt == TELNET_TELOPT_ECHO) t->echo = true;
        break;
    case TELNET_EV_DONT:
        if (ev->neg.telopt == TELNET_TELOPT_ECHO) t->echo = false;
        break;
    case TELNET_EV_ERROR: t->quit = true; break;
    default: break;
    }
}

/* ---- connection ---------------------------------------------------------------------- */

static bool telnet_open(svc_conn *c)
{
    telnet_conn *t = (telnet_conn *)c;
    t->out.limit = TN_OUT_LIMIT;
    t->pending.limit = TN_TRACE_MAX;
    t->fan = ts_evfan_of(c->stack);
    t->t0 = ts_stack_now(c->stack);
    ts_tcp_info i;
    if (ts_sock_info(c->stack, c->sd, &i) == 0) {
        t->conn_id = i.conn_id;
        t->stream0 = i.iss + 1;
    }
    if (t->fan) { /* record from the login on, so ladder can draw what came before */
        t->hist = ts_connhist_new(t->conn_id, TN_HIST_SEGS);
        live_update(t);
    }
    t->tn = telnet_init(telopts, tn_handler, 0, t);
    if (!t->tn) return false;
    telnet_negotiate(t->tn, TELNET_WILL, TELNET_TELOPT_ECHO);
    telnet_negotiate(t->tn, TELNET_WILL, TELNET_TELOPT_SGA);
    char la[16], ra[16];
    ts_endpoint l = {0}, r = {0};
    ts_getsockname(c->stack, c->sd, &l);
    ts_getpeername(c->stack, c->sd, &r);
    out(t,
        "tcpsim telnet service on %s:%u, you are %s:%u\n"
        "Type help for commands, tcb to see this connection's TCP control block.\n",
        ts_ip4_format(l.addr, la), l.port, ts_ip4_format(r.addr, ra), r.port);
    prompt(t);
    return true;
}

static bool telnet_event(svc_conn *c, unsigned events)
{
    telnet_conn *t = (telnet_conn *)c;
    char buf[2048];
    (void)events;
    while (!t->peer_eof && !t->quit) {
        ssize_t n = ts_recv(c->stack, c->sd, buf, sizeof buf);
        if (n == -EAGAIN) break;
        if (n < 0) return false;
        if (n == 0) {
            t->peer_eof = true; /* the client closed (Ctrl-] quit): close at once */
            break;
        }
        telnet_recv(t->tn, buf, (size_t)n);
    }
    if (!t->write_shut) {
        int r = svc_out_flush(&t->out, c->stack, c->sd);
        if (r < 0) return false;
        if (r > 0) return true; /* the rest when writable */
    }
    if (t->quit || t->peer_eof) return false;
    if (t->halfclose && !t->write_shut) {
        t->write_shut = true;
        svc_out_free(&t->out);
        if (ts_shutdown(c->stack, c->sd, TS_SHUT_WR) < 0) return false;
    }
    return true;
}

static void telnet_release(svc_conn *c)
{
    telnet_conn *t = (telnet_conn *)c;
    t->tracing = t->watching = false;
    ts_connhist_free(t->hist);
    t->hist = NULL;
    live_update(t);
    if (t->tn) telnet_free(t->tn);
    svc_out_free(&t->out);
    svc_out_free(&t->pending);
}

const svc_ops ts_svc_telnet_ops = {
    .name = "telnet",
    .conn_size = sizeof(telnet_conn),
    .open = telnet_open,
    .event = telnet_event,
    .release = telnet_release,
};
