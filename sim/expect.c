/* sim/expect.c: expectations and the end-of-run report. Segment expectations are checked
 * as packets enter their link; timed ones (state at T, counters at T) by check events that
 * run after everything else at their instant; the rest when the run ends. Every result
 * keeps a description of what was actually seen. */
#include "world.h"

#include <fnmatch.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tcpsim/format.h"

static void seenf(sim_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void seenf(sim_result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->seen, sizeof r->seen, fmt, ap);
    va_end(ap);
}

static const char *tstr(ts_time_t t, char *buf)
{
    ts_format_time(t, true, buf, 32);
    return buf;
}

static bool time_ok(const ts_scn_expect *e, ts_time_t t)
{
    if (!e->has_at) return true;
    ts_time_t d = t > e->at ? t - e->at : e->at - t;
    return d <= e->tol;
}

int sim_expect_init(ts_sim *w)
{
    const ts_scn *s = w->scn;
    w->res = calloc(s->nexps ? s->nexps : 1, sizeof *w->res);
    w->pkt_exps = calloc(s->nexps ? s->nexps : 1, sizeof *w->pkt_exps);
    if (!w->res || !w->pkt_exps) return -1;
    for (size_t i = 0; i < s->nexps; i++) {
        const ts_scn_expect *e = &s->exps[i];
        switch (e->kind) {
        case TS_EXP_SEG:
        case TS_EXP_SEG_DIR:
        case TS_EXP_COUNT:
        case TS_EXP_NONE: w->pkt_exps[w->npkt_exps++] = i; break;
        case TS_EXP_STATE:
        case TS_EXP_COUNTER:
        case TS_EXP_RECEIVED:
            if (e->has_at && ts_evq_push(&w->q, e->at, PRIO_CHECK, EV_CHECK, (uint32_t)i, NULL) < 0)
                return -1;
            break;
        default: break;
        }
    }
    w->have_seg_exps = w->npkt_exps > 0;
    return 0;
}

/* ---- segments ---- */

static void flag_str(uint8_t f, char *out)
{
    static const struct {
        uint8_t bit;
        char c;
    } order[] = {{TS_TH_FIN, 'F'}, {TS_TH_SYN, 'S'}, {TS_TH_RST, 'R'}, {TS_TH_PSH, 'P'},
                 {TS_TH_URG, 'U'}, {TS_TH_ECE, 'E'}, {TS_TH_CWR, 'W'}, {TS_TH_ACK, '.'}};
    size_t n = 0;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (f & order[i].bit) out[n++] = order[i].c;
    if (!n) out[n++] = 'n', out[n++] = 'o', out[n++] = 'n', out[n++] = 'e';
    out[n] = '\0';
}

/* The sender's and the receiver's ISN for relative numbers (0 when unknown). */
static void isns(ts_sim *w, const sim_view *v, uint32_t *snd, uint32_t *rcv)
{
    int from;
    sim_flow *fl = sim_flows_find(&w->flows, v->src, v->sport, v->dst, v->dport, &from);
    *snd = fl && fl->end[from].isn_known ? fl->end[from].isn : 0;
    *rcv = fl && fl->end[!from].isn_known ? fl->end[!from].isn : 0;
}

/* The segment's options as ts_format_packet prints them inside "options [...]", read from
 * the parsed view; "" when there are none. */
static void opts_text(const sim_view *v, char *out, size_t outlen)
{
    out[0] = '\0';
    if (v->optlen) ts_format_tcp_options(v->opt, v->optlen, out, outlen);
}

static void describe(ts_sim *w, const sim_view *v, int src, char *out, size_t outlen)
{
    char t[32], fl[12], a[16], b[16];
    if (!v->tcp) {
        snprintf(out, outlen, "#%llu at %s: not a TCP segment", (unsigned long long)w->pkt_no,
                 tstr(w->now, t));
        return;
    }
    uint32_t si, ri;
    isns(w, v, &si, &ri);
    flag_str(v->flags, fl);
    char opts[256];
    opts_text(v, opts, sizeof opts);
    const char *dn = NULL;
    for (size_t i = 0; i < w->nhosts; i++)
        if (w->scn->hosts[i].addr == v->dst) dn = w->scn->hosts[i].name;
    /* (The return value is looked at so that GCC accepts a truncated description.) */
    if (snprintf(out, outlen, "#%llu at %s: %s>%s [%s] seq %u%s ack %u win %u len %u%s%s%s",
                 (unsigned long long)w->pkt_no, tstr(w->now, t),
                 src >= 0 ? w->scn->hosts[src].name : ts_ip4_format(v->src, a),
                 dn ? dn : ts_ip4_format(v->dst, b), fl, v->seq - si, "",
                 (v->flags & TS_TH_ACK) ? v->ack - ri : 0, v->win, v->payload,
                 opts[0] ? " opts [" : "", opts, opts[0] ? "]" : "") < 0)
        out[0] = '\0';
}

/* Item-wise option comparison: items split at ','; within an item, words compare as
 * shell patterns (fnmatch: '*' matches any run, so "{*}" matches any SACK block); an item
 * "TS" alone matches any TS item. */
static bool opt_item_match(const char *want, const char *got)
{
    while (*want == ' ') want++;
    while (*got == ' ') got++;
    if (!strcmp(want, "TS") && !strncmp(got, "TS ", 3)) return true;
    for (;;) {
        size_t wl = strcspn(want, " "), gl = strcspn(got, " ");
        char wb[128], gb[128];
        if (wl >= sizeof wb || gl >= sizeof gb) return false;
        memcpy(wb, want, wl);
        wb[wl] = '\0';
        memcpy(gb, got, gl);
        gb[gl] = '\0';
        if (fnmatch(wb, gb, 0) != 0) return false;
        want += wl;
        got += gl;
        while (*want == ' ') want++;
        while (*got == ' ') got++;
        if (!*want || !*got) return !*want && !*got;
    }
}

static bool opts_match(const char *want, const char *got)
{
    char wb[512], gb[512];
    snprintf(wb, sizeof wb, "%s", want);
    snprintf(gb, sizeof gb, "%s", got);
    char *ws = NULL, *gs = NULL;
    char *wi = strtok_r(wb, ",", &ws), *gi = strtok_r(gb, ",", &gs);
    while (wi && gi) {
        if (!opt_item_match(wi, gi)) return false;
        wi = strtok_r(NULL, ",", &ws);
        gi = strtok_r(NULL, ",", &gs);
    }
    return !wi && !gi;
}

/* Does the packet match the pattern? On a mismatch, why names the first field that differs. */
static bool seg_match(ts_sim *w, const ts_scn_seg *g, const sim_view *v, int src, char *why,
                      size_t whylen)
{
    const ts_scn *s = w->scn;
    why[0] = '\0';
    if (g->src >= 0 && (src != g->src || v->dst != s->hosts[g->dst].addr)) {
        snprintf(why, whylen, "another direction");
        return false;
    }
    bool tcp_fields = !g->any_flags || g->has_seq || g->has_ack || g->has_win || g->has_len ||
                      g->opts || g->has_data || g->payload >= 0;
    if (!tcp_fields) return true;
    if (!v->tcp) {
        snprintf(why, whylen, "not TCP");
        return false;
    }
    char fl[12];
    if (!g->any_flags && (v->flags & g->flags_mask) != g->flags) {
        flag_str(g->flags, fl);
        snprintf(why, whylen, "flags differ (want [%s])", fl);
        return false;
    }
    uint32_t si, ri;
    isns(w, v, &si, &ri);
    if (g->has_seq && v->seq - si != g->seq) {
        snprintf(why, whylen, "seq differs (want %u)", g->seq);
        return false;
    }
    if (g->has_seq_end && v->seq - si + v->payload != g->seq_end) {
        snprintf(why, whylen, "seq end differs (want %u:%u)", g->seq, g->seq_end);
        return false;
    }
    if (g->has_ack && (!(v->flags & TS_TH_ACK) || v->ack - ri != g->ack)) {
        snprintf(why, whylen, "ack differs (want %u)", g->ack);
        return false;
    }
    if (g->has_win && v->win != g->win) {
        snprintf(why, whylen, "win differs (want %u)", g->win);
        return false;
    }
    if (g->has_len && v->payload != g->len) {
        snprintf(why, whylen, "len differs (want %u)", g->len);
        return false;
    }
    if (g->payload >= 0 && (v->payload > 0) != (g->payload > 0)) {
        snprintf(why, whylen, "%s", g->payload ? "no payload" : "has payload");
        return false;
    }
    if (g->has_data && (v->payload != g->data_len || memcmp(v->data, g->data, g->data_len))) {
        snprintf(why, whylen, "payload differs");
        return false;
    }
    if (g->opts) {
        char got[256];
        opts_text(v, got, sizeof got);
        if (!opts_match(g->opts, got)) {
            snprintf(why, whylen, "options differ (want [%s])", g->opts);
            return false;
        }
    }
    return true;
}

static void judge_segment(ts_sim *w, const ts_scn_expect *e, sim_result *r, const sim_view *v,
                          int src)
{
    char why[160], desc[300];
    bool ok = seg_match(w, &e->seg, v, src, why, sizeof why);
    if (ok && !time_ok(e, w->now)) {
        char t[32];
        snprintf(why, sizeof why, "time differs (want %s", tstr(e->at, t));
        size_t n = strlen(why);
        if (e->tol)
            snprintf(why + n, sizeof why - n, " ± %s)", tstr(e->tol, t));
        else
            snprintf(why + n, sizeof why - n, ")");
        ok = false;
    }
    r->state = ok ? 1 : 2;
    describe(w, v, src, desc, sizeof desc);
    if (ok)
        seenf(r, "%s", desc);
    else
        seenf(r, "%s -- %s", desc, why);
}

void sim_expect_packet(ts_sim *w, const sim_view *v, int src, int dst)
{
    char why[160];
    for (size_t k = 0; k < w->npkt_exps; k++) {
        size_t i = w->pkt_exps[k];
        const ts_scn_expect *e = &w->scn->exps[i];
        sim_result *r = &w->res[i];
        switch (e->kind) {
        case TS_EXP_SEG:
            if (e->nth == w->pkt_no) judge_segment(w, e, r, v, src);
            break;
        case TS_EXP_SEG_DIR:
            if (src == e->seg.src && dst == e->seg.dst &&
                w->dir_count[(size_t)src * w->nhosts + (size_t)dst] == e->nth)
                judge_segment(w, e, r, v, src);
            break;
        case TS_EXP_COUNT:
        case TS_EXP_NONE:
            if (w->now < e->after || w->now > e->before) break;
            if (!seg_match(w, &e->seg, v, src, why, sizeof why)) break;
            r->count++;
            if (e->kind == TS_EXP_NONE && r->state == 0) {
                r->state = 2;
                describe(w, v, src, r->seen, sizeof r->seen);
            }
            break;
        default: break;
        }
    }
}

/* ---- everything else ---- */

static sim_conn *exp_conn(ts_sim *w, const ts_scn_expect *e, sim_result *r)
{
    sim_conn *c = sim_host_conn(&w->hosts[e->host], e->conn);
    if (!c) {
        r->state = 2;
        if (e->conn)
            seenf(r, "%s has no connection %d", w->scn->hosts[e->host].name, e->conn);
        else
            seenf(r, "%s has no connection", w->scn->hosts[e->host].name);
    }
    return c;
}

static void judge_when(const ts_scn_expect *e, sim_result *r, bool happened, ts_time_t at,
                       const char *what)
{
    char t[32];
    if (!happened) {
        r->state = 2;
        seenf(r, "no %s by the end of the run", what);
        return;
    }
    r->state = time_ok(e, at) ? 1 : 2;
    seenf(r, "%s at %s", what, tstr(at, t));
}

static void judge_received(ts_sim *w, const ts_scn_expect *e, sim_result *r, sim_conn *c)
{
    (void)w;
    if (e->has_bytes) {
        bool ok = c->received == e->bytes_len && c->head_len == e->bytes_len &&
                  !memcmp(c->head, e->bytes, e->bytes_len);
        r->state = ok ? 1 : 2;
        char shown[64];
        size_t n = 0;
        for (size_t i = 0; i < c->head_len && n + 5 < sizeof shown; i++) {
            uint8_t ch = c->head[i];
            if (ch >= 32 && ch < 127 && ch != '"' && ch != '\\')
                shown[n++] = (char)ch;
            else
                n += (size_t)snprintf(shown + n, sizeof shown - n, "\\x%02x", ch);
        }
        shown[n] = '\0';
        seenf(r, "read %llu bytes: \"%s\"%s", (unsigned long long)c->received, shown,
              c->head_len < c->received ? "..." : "");
        return;
    }
    bool ok = c->received == e->value;
    if (e->whole) {
        ok = ok && c->bad_bytes == 0 && c->unchecked == 0 && c->peer &&
             c->peer->total == c->received;
        if (!c->peer)
            seenf(r, "read %llu bytes, but no application on the other side sent them",
                  (unsigned long long)c->received);
        else
            seenf(r, "read %llu of %llu bytes sent; %llu differ", (unsigned long long)c->received,
                  (unsigned long long)c->peer->total, (unsigned long long)c->bad_bytes);
    } else {
        seenf(r, "read %llu bytes", (unsigned long long)c->received);
    }
    r->state = ok ? 1 : 2;
}

static const ts_link *find_link(const ts_sim *w, int from, int to)
{
    for (size_t i = 0; i < w->scn->ndirs; i++)
        if (w->scn->dirs[i].from == from && w->scn->dirs[i].to == to) return &w->links[i];
    return NULL;
}

/* The connection a state expectation means: the host's application connection, or,
 * before it has one (e.g. a server before accept(), or a service's), the newest connection
 * on the wire with an end on that host. */
static bool state_tuple(ts_sim *w, const ts_scn_expect *e, ts_endpoint *l, ts_endpoint *r)
{
    sim_conn *c = sim_host_conn(&w->hosts[e->host], e->conn);
    if (c && c->tuple) {
        *l = c->local;
        *r = c->remote;
        return true;
    }
    if (e->conn) return false;
    for (size_t i = w->flows.n; i-- > 0;) {
        const sim_flow *f = &w->flows.v[i];
        for (int s = 0; s < 2; s++)
            if (f->end[s].host == e->host) {
                *l = (ts_endpoint){f->end[s].addr, f->end[s].port};
                *r = (ts_endpoint){f->end[!s].addr, f->end[!s].port};
                return true;
            }
    }
    return false;
}

/* Decide a non-segment expectation now. */
static void judge(ts_sim *w, size_t i)
{
    const ts_scn_expect *e = &w->scn->exps[i];
    sim_result *r = &w->res[i];
    sim_conn *c;
    char t[32];
    switch (e->kind) {
    case TS_EXP_PACKETS:
        r->state = ts_scn_op_eval(e->op, w->pkt_no, e->value) ? 1 : 2;
        seenf(r, "%llu packets", (unsigned long long)w->pkt_no);
        break;
    case TS_EXP_COUNT:
        r->state = ts_scn_op_eval(e->op, r->count, e->value) ? 1 : 2;
        seenf(r, "%llu matching packets", (unsigned long long)r->count);
        break;
    case TS_EXP_NONE:
        if (r->state == 0) r->state = 1;
        break;
    case TS_EXP_SEG:
    case TS_EXP_SEG_DIR:
        if (r->state == 0) {
            r->state = 2;
            uint64_t d = e->seg.src >= 0
                             ? w->dir_count[(size_t)e->seg.src * w->nhosts + (size_t)e->seg.dst]
                             : 0;
            seenf(r, "never sent: %llu packets in all, %llu %s>%s", (unsigned long long)w->pkt_no,
                  (unsigned long long)d, w->scn->hosts[e->seg.src].name,
                  w->scn->hosts[e->seg.dst].name);
        }
        break;
    case TS_EXP_CONNECT:
        if (!(c = exp_conn(w, e, r))) break;
        if (!c->active) {
            r->state = 2;
            seenf(r, "connection %d was accepted, not connected", c->num);
        } else if (!c->connect_done) {
            r->state = 2;
            seenf(r, "connect still in progress at the end");
        } else {
            judge_when(e, r, true, c->connect_at, ts_scn_errno_name(c->connect_err));
            if (c->connect_err != e->err) r->state = 2;
        }
        break;
    case TS_EXP_ACCEPT:
        if ((c = exp_conn(w, e, r))) judge_when(e, r, c->accepted, c->accept_at, "accept");
        break;
    case TS_EXP_EOF:
        if ((c = exp_conn(w, e, r))) judge_when(e, r, c->eof, c->eof_at, "EOF");
        break;
    case TS_EXP_ERROR:
        if (!(c = exp_conn(w, e, r))) break;
        judge_when(e, r, c->error != 0, c->error_at,
                   c->error ? ts_scn_errno_name(c->error) : "error");
        if (c->error != e->err) r->state = 2;
        break;
    case TS_EXP_STATE: {
        ts_endpoint l, rem;
        if (!state_tuple(w, e, &l, &rem)) {
            r->state = 2;
            seenf(r, "%s has no connection yet at %s", w->scn->hosts[e->host].name,
                  tstr(w->now, t));
            break;
        }
        ts_state st = sim_conn_state(&w->hosts[e->host], &l, &rem);
        r->state = st == e->state ? 1 : 2;
        seenf(r, "%s at %s", ts_state_name(st), tstr(w->now, t));
        break;
    }
    case TS_EXP_RECEIVED:
        if ((c = exp_conn(w, e, r))) judge_received(w, e, r, c);
        break;
    case TS_EXP_COUNTER: {
        const sim_host *h = &w->hosts[e->host];
        uint64_t v = ts_scn_counter_value(ts_stack_counters(h->stack), e->counter);
        r->state = ts_scn_op_eval(e->op, v, e->value) ? 1 : 2;
        seenf(r, "%s = %llu at %s", ts_scn_counter_name(e->counter), (unsigned long long)v,
              tstr(w->now, t));
        break;
    }
    case TS_EXP_LINK: {
        const ts_link *l = find_link(w, e->seg.src, e->seg.dst);
        if (!l) {
            r->state = 2;
            seenf(r, "there is no link %s>%s", w->scn->hosts[e->seg.src].name,
                  w->scn->hosts[e->seg.dst].name);
            break;
        }
        uint64_t v = ts_scn_link_stat_value(&l->stats, e->counter);
        r->state = ts_scn_op_eval(e->op, v, e->value) ? 1 : 2;
        seenf(r, "%s = %llu", ts_scn_link_stat_name(e->counter), (unsigned long long)v);
        break;
    }
    }
}

void sim_expect_check(ts_sim *w, size_t idx)
{
    judge(w, idx);
}

void sim_expect_finish(ts_sim *w)
{
    for (size_t i = 0; i < w->scn->nexps; i++) {
        const ts_scn_expect *e = &w->scn->exps[i];
        bool timed =
            (e->kind == TS_EXP_STATE || e->kind == TS_EXP_COUNTER || e->kind == TS_EXP_RECEIVED) &&
            e->has_at;
        if (timed) {
            if (w->res[i].state == 0) { /* the run stopped before the check's time */
                char t[32];
                w->res[i].state = 2;
                seenf(&w->res[i], "the run ended at %s, before the check", tstr(w->end, t));
            }
            continue;
        }
        if (e->kind == TS_EXP_NONE || e->kind == TS_EXP_SEG || e->kind == TS_EXP_SEG_DIR ||
            w->res[i].state == 0)
            judge(w, i);
    }
}

/* ---- the report ---- */

static void report_app(ts_sim *w, const sim_end *end, const sim_end *other)
{
    if (end->host < 0 || !w->hosts[end->host].stack) return;
    sim_host *h = &w->hosts[end->host];
    char t[32];
    for (size_t k = 0; k < h->nconns; k++) {
        const sim_conn *c = h->conns[k];
        if (!c->tuple || c->local.addr != end->addr || c->local.port != end->port ||
            c->remote.addr != other->addr || c->remote.port != other->port)
            continue;
        fprintf(w->out, "      %s/%d app:", h->cfg->name, c->num);
        if (c->active && c->connect_done)
            fprintf(w->out, " connect %s at %s;", ts_scn_errno_name(c->connect_err),
                    tstr(c->connect_at, t));
        if (c->accepted) fprintf(w->out, " accepted at %s;", tstr(c->accept_at, t));
        if (c->total)
            fprintf(w->out, " wrote %llu of %llu bytes;", (unsigned long long)c->queued,
                    (unsigned long long)c->total);
        fprintf(w->out, " read %llu bytes", (unsigned long long)c->received);
        if (c->received) {
            const char *how = c->bad_bytes   ? "some differ from what was sent"
                              : c->unchecked ? "no application at the other end to compare with"
                                             : "all as sent";
            fprintf(w->out, " (%s), last at %s", how, tstr(c->last_read_at, t));
        }
        if (c->eof) fprintf(w->out, "; EOF at %s", tstr(c->eof_at, t));
        if (c->error)
            fprintf(w->out, "; error %s at %s", ts_scn_errno_name(c->error), tstr(c->error_at, t));
        fputc('\n', w->out);
    }
}

void sim_report_connections(ts_sim *w)
{
    if (w->flows.n == 0) return;
    fprintf(w->out, "--- connections\n");
    char t1[32], t2[32], a[16], b[16];
    for (size_t i = 0; i < w->flows.n; i++) {
        const sim_flow *f = &w->flows.v[i];
        const sim_end *e0 = &f->end[0], *e1 = &f->end[1];
        fprintf(w->out, "%3u  %s.%u > %s.%u  first %s, last %s\n", f->id,
                ts_ip4_format(e0->addr, a), e0->port, ts_ip4_format(e1->addr, b), e1->port,
                tstr(f->first, t1), tstr(f->last, t2));
        for (int s = 0; s < 2; s++) {
            const sim_end *e = &f->end[s], *o = &f->end[!s];
            const char *name = e->host >= 0 ? w->scn->hosts[e->host].name : "?";
            char state[40];
            if (e->host >= 0 && w->hosts[e->host].stack) {
                ts_endpoint l = {e->addr, e->port}, r = {o->addr, o->port};
                snprintf(state, sizeof state, "state %s",
                         ts_state_name(sim_conn_state(&w->hosts[e->host], &l, &r)));
            } else {
                snprintf(state, sizeof state, "scripted peer");
            }
            fprintf(w->out,
                    "      %-8s %llu segments, %llu data (%llu bytes); retransmitted: "
                    "%llu timeout, %llu fast, %llu syn, %llu probes; %s\n",
                    name, (unsigned long long)e->segs, (unsigned long long)e->data_segs,
                    (unsigned long long)e->bytes, (unsigned long long)e->rexmit_rto,
                    (unsigned long long)e->rexmit_fast, (unsigned long long)e->rexmit_syn,
                    (unsigned long long)e->rexmit_probe, state);
        }
        report_app(w, e0, e1);
        report_app(w, e1, e0);
    }
}

int sim_report_expectations(ts_sim *w)
{
    const ts_scn *s = w->scn;
    size_t failed = 0;
    if (s->nexps && !w->o.quiet) fprintf(w->out, "--- expectations\n");
    for (size_t i = 0; i < s->nexps; i++) {
        const sim_result *r = &w->res[i];
        bool ok = r->state == 1;
        if (!ok) failed++;
        if (ok && w->o.quiet) continue;
        fprintf(w->out, "%-4s  %s:%u  %s\n", ok ? "ok" : "FAIL", s->file, s->exps[i].line,
                s->exps[i].text);
        if (!ok || w->o.trace) fprintf(w->out, "          seen: %s\n", r->seen[0] ? r->seen : "-");
    }
    if (!s->nexps)
        fprintf(w->out, "--- no expectations\n");
    else if (failed)
        fprintf(w->out, "--- %zu of %zu expectations FAILED\n", failed, s->nexps);
    else
        fprintf(w->out, "--- all %zu expectations hold\n", s->nexps);
    if (w->runtime_errors)
        fprintf(w->out, "--- %llu scenario actions failed at run time (see above)\n",
                (unsigned long long)w->runtime_errors);
    return failed ? 1 : 0;
}
