/* svc_telnet.c: the telnet service, a small shell for looking inside the stack from the
 * connection being looked at. libtelnet handles the protocol (RFC 854 option negotiation,
 * IAC escaping); this file offers WILL ECHO and WILL SUPPRESS-GO-AHEAD so that Linux's
 * telnet client goes to character mode and the service edits and echoes the line itself
 * (every keystroke is a segment, and its echo carries the ACK). A client that refuses
 * (or speaks no telnet, like nc) keeps its own echo and sends whole lines. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
/* libtelnet.h needs size_t and va_list declared first. */
#include <libtelnet.h>
#include <stdlib.h>
#include <string.h>

#include "svc_common.h"

#define TN_LINE_MAX  256
#define TN_OUT_LIMIT (1u << 20) /* replies queued beyond this are dropped */
#define TN_CONNS_MAX 200        /* `conns` lists at most this many */

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
} telnet_conn;

static const telnet_telopt_t telopts[] = {
    {TELNET_TELOPT_ECHO, TELNET_WILL, TELNET_DONT},
    {TELNET_TELOPT_SGA, TELNET_WILL, TELNET_DO},
    {-1, 0, 0},
};

static void tn_handler(telnet_t *tn, telnet_event_t *ev, void *ctx);

static void out(telnet_conn *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(telnet_conn *t, const char *fmt, ...)
{
    if (t->write_shut) return;
    va_list ap;
    va_start(ap, fmt);
    telnet_vprintf(t->tn, fmt, ap); /* turns \n into CR LF, escapes IAC */
    va_end(ap);
}

static void prompt(telnet_conn *t)
{
    out(t, "tcpsim> ");
}

/* ---- commands ------------------------------------------------------------------------ */

static void cmd_help(telnet_conn *t)
{
    out(t, "commands:\n"
           "  tcb              this connection's control block (RFC 9293 names)\n"
           "  conns            every connection in the stack with its state\n"
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

static void cmd_tcb(telnet_conn *t)
{
    ts_tcp_info i;
    int r = ts_sock_info(t->base.stack, t->base.sd, &i);
    if (r < 0) {
        out(t, "tcb: %s\n", strerror(-r));
        return;
    }
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
    out(t, "  retransmits %u  backoff %u  dupacks %u\n", i.retransmits, i.backoff, i.dupacks);
    out(t, "  delayed ACK: pending %s  pingpong %s  quick ACKs left %u\n", yn(i.delack_pending),
        yn(i.pingpong), i.quickack_left);
    out(t, "  queued: send %u B  receive %u B  out-of-order ranges %u\n", i.snd_queued,
        i.rcv_queued, i.ooo_ranges);
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
    out(t, "RST in %llu out %llu  challenge ACKs %llu  checksum errors %llu\n",
        (unsigned long long)k->tcp_rst_in, (unsigned long long)k->tcp_rst_out,
        (unsigned long long)k->tcp_challenge_acks, (unsigned long long)k->checksum_errors);
    out(t, "connections opened %llu accepted %llu failed %llu\n",
        (unsigned long long)k->tcp_conn_opened, (unsigned long long)k->tcp_conn_accepted,
        (unsigned long long)k->tcp_conn_failed);
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
                out(t, "  %-16s %-10s %s\n", pi->name, buf, pi->help);
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
        cmd_tcb(t);
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
    if (!t->quit && !t->halfclose) prompt(t);
}

static void input_byte(telnet_conn *t, unsigned char ch)
{
    bool after_cr = t->last_cr;
    t->last_cr = false;
    if (t->quit) return;
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
        if (!t->write_shut && !svc_out_append(&t->out, ev->data.buffer, ev->data.size))
            t->quit = true; /* a client that never reads: give up on it */
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
    if (t->tn) telnet_free(t->tn);
    svc_out_free(&t->out);
}

const svc_ops ts_svc_telnet_ops = {
    .name = "telnet",
    .conn_size = sizeof(telnet_conn),
    .open = telnet_open,
    .event = telnet_event,
    .release = telnet_release,
};
