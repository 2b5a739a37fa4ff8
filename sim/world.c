/* sim/world.c: the simulated world: the virtual clock and event loop, hosts (a stack each,
 * or a scripted peer), the packet path from a host's output through its link to the next
 * host, and the packet pool. Everything random comes from the one seeded ts_rng. */
#include "world.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tcpsim/format.h"

/* Events processed at one virtual instant before the loop declares a livelock. */
#define STUCK_LIMIT 20000000u

static uint8_t pattern[SIM_PATTERN_MASK + 1];

const uint8_t *sim_pattern(void)
{
    return pattern;
}

static void pattern_init(void)
{
    /* A fixed, seed-independent byte stream with period 64 KiB: a receiver can check any
     * byte from its stream offset alone. */
    uint64_t x = 0x74637073696dull; /* "tcpsim" */
    for (size_t i = 0; i < sizeof pattern; i += 8) {
        uint64_t v = ts_splitmix64(&x);
        memcpy(pattern + i, &v, 8);
    }
}

void sim_tracef(ts_sim *w, const char *fmt, ...)
{
    if (!w->o.trace) return;
    char tbuf[32];
    ts_format_time(w->now, true, tbuf, sizeof tbuf);
    fprintf(w->out, "       %s ", tbuf); /* aligned with the packet lines' time stamps */
    va_list ap;
    va_start(ap, fmt);
    vfprintf(w->out, fmt, ap);
    va_end(ap);
    fputc('\n', w->out);
}

void sim_runtime_error(ts_sim *w, unsigned line, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char tbuf[32];
    ts_format_time(w->now, true, tbuf, sizeof tbuf);
    fprintf(w->out, "%s:%u: at %s: %s\n", w->scn->file, line, tbuf, msg);
    w->runtime_errors++;
}

/* ---- packet pool ---- */

static sim_pkt *pkt_alloc(ts_sim *w, size_t len)
{
    sim_pkt *p;
    if (len <= SIM_PKT_CAP && w->free_pkts) {
        p = w->free_pkts;
        w->free_pkts = p->next;
    } else {
        size_t cap = len <= SIM_PKT_CAP ? SIM_PKT_CAP : len;
        p = malloc(sizeof *p + cap);
        if (!p) return NULL;
        p->cap = (uint32_t)cap;
    }
    p->len = (uint32_t)len;
    p->next = NULL;
    return p;
}

static void pkt_free(ts_sim *w, sim_pkt *p)
{
    if (p->cap != SIM_PKT_CAP) {
        free(p);
        return;
    }
    p->next = w->free_pkts;
    w->free_pkts = p;
}

/* ---- polling: one pending poll event per host, at its stack's next deadline ---- */

static void schedule_poll(sim_host *h, ts_time_t when)
{
    ts_sim *w = h->w;
    if (when == TS_TIME_NEVER) return;
    if (when < w->now) when = w->now;
    if (when >= h->poll_at) return; /* the earlier event will poll and reschedule */
    h->poll_at = when;
    h->poll_gen++;
    if (ts_evq_push(&w->q, when, PRIO_NORMAL, EV_POLL, (uint32_t)h->idx,
                    (void *)(uintptr_t)h->poll_gen) < 0)
        sim_runtime_error(w, 0, "out of memory in the event queue");
}

void sim_host_resched(sim_host *h)
{
    if (h->stack) schedule_poll(h, ts_stack_next_deadline(h->stack));
}

static void on_poll(ts_sim *w, sim_host *h, uint32_t gen)
{
    if (gen != h->poll_gen || w->now != h->poll_at) return; /* superseded */
    h->poll_at = TS_TIME_NEVER;
    schedule_poll(h, ts_stack_poll(h->stack, w->now));
}

/* ---- the packet path ---- */

void sim_view_parse(sim_view *v, const uint8_t *pkt, size_t len)
{
    memset(v, 0, sizeof *v);
    ts_pkt_view pv;
    ts_pkt_view_parse(&pv, pkt, len);
    if (!pv.ip) return;
    v->ip = true;
    v->proto = pv.ip4.proto;
    v->src = pv.ip4.src;
    v->dst = pv.ip4.dst;
    if (!pv.tcp) return;
    v->tcp = true;
    v->sport = pv.th.sport;
    v->dport = pv.th.dport;
    v->seq = pv.th.seq;
    v->ack = pv.th.ack;
    v->flags = pv.th.flags;
    v->win = pv.th.win;
    v->opt = pv.th.opt;
    v->optlen = pv.th.optlen;
    v->data = pv.th.data;
    v->payload = (uint32_t)pv.th.len;
}

static const sim_route *route(const sim_host *h, uint32_t dst)
{
    /* Hosts have one or two links: a short scan beats a hash here. */
    for (size_t i = 0; i < h->nroutes; i++)
        if (h->routes[i].addr == dst) return &h->routes[i];
    return NULL;
}

static void print_packet(ts_sim *w, const uint8_t *pkt, size_t len, const char *note)
{
    char tbuf[32], line[1024];
    ts_format_time(w->now, true, tbuf, sizeof tbuf);
    ts_format_packet(pkt, len, line, sizeof line);
    fprintf(w->out, "%5llu  %s %s%s\n", (unsigned long long)w->pkt_no, tbuf, line, note);
}

static void link_note(const ts_sim *w, const ts_link *l, const ts_link_verdict *v, char *buf,
                      size_t len)
{
    const ts_scn_dir *d = &w->scn->dirs[l - w->links];
    if (v->ncopies == 0) {
        if (v->drop == TS_LINK_DROP_RULE && v->rule >= 0)
            snprintf(buf, len, "  [dropped: %s rule, line %u]", ts_link_drop_name(v->drop),
                     d->rules[v->rule].line);
        else
            snprintf(buf, len, "  [dropped: %s]", ts_link_drop_name(v->drop));
        return;
    }
    size_t n = 0;
    buf[0] = '\0';
    if (v->ncopies == 2) n += (size_t)snprintf(buf + n, len - n, "  [duplicated]");
    if (v->copy[0].corrupt && n < len) n += (size_t)snprintf(buf + n, len - n, "  [corrupted]");
    if (v->copy[0].held && n < len) snprintf(buf + n, len - n, "  [held back]");
}

/* The link's verdict to the recorders' fate hook. */
static void report_fate(ts_sim *w, const sim_host *h, int dst, const ts_link *l,
                        const ts_link_verdict *v, const uint8_t *pkt, size_t len)
{
    char lost[96] = "";
    ts_sim_fate f = {
        .no = w->pkt_no, .t = w->now, .from = h->idx, .to = dst, .pkt = pkt, .len = len};
    if (!l) {
        f.lost = "no link to the destination";
    } else {
        f.ncopies = v->ncopies;
        for (unsigned c = 0; c < v->ncopies && c < 2; c++) {
            f.arrive[c] = v->copy[c].when;
            f.corrupt[c] = v->copy[c].corrupt;
        }
        if (!v->ncopies) {
            const ts_scn_dir *d = &w->scn->dirs[l - w->links];
            if (v->drop == TS_LINK_DROP_RULE && v->rule >= 0)
                snprintf(lost, sizeof lost, "%s (line %u)", ts_link_drop_name(v->drop),
                         d->rules[v->rule].line);
            else
                snprintf(lost, sizeof lost, "%s", ts_link_drop_name(v->drop));
            f.lost = lost;
        }
    }
    w->o.hooks.fate(w->o.hooks.rec_ctx, &f);
}

/* Every packet a host sends passes here: number it, account for it, check expectations,
 * print it, hand it to the tap, then let the link decide its fate. */
static void send_packet(ts_sim *w, sim_host *h, const uint8_t *pkt, size_t len)
{
    w->pkt_no++;
    sim_view v;
    sim_view_parse(&v, pkt, len);
    const sim_route *r = v.ip ? route(h, v.dst) : NULL;
    int dst = r ? r->host : -1;
    if (dst >= 0) w->dir_count[(size_t)h->idx * w->nhosts + (size_t)dst]++;
    if (v.tcp) {
        int from;
        sim_flow *f = sim_flows_packet(w, &v, h->idx, &from);
        (void)f;
    }
    if (w->have_seg_exps) sim_expect_packet(w, &v, h->idx, dst);
    if (w->o.hooks.packet) w->o.hooks.packet(w->o.hooks.packet_ctx, w->now, pkt, len);

    ts_link_verdict verdict;
    if (!r) {
        if (!w->o.quiet) print_packet(w, pkt, len, "  [dropped: no link to the destination]");
        if (w->o.hooks.fate) report_fate(w, h, dst, NULL, NULL, pkt, len);
        return;
    }
    ts_link_send(r->link, &w->rng, w->now, pkt, len, &verdict);
    if (w->o.hooks.fate) report_fate(w, h, dst, r->link, &verdict, pkt, len);
    if (!w->o.quiet) {
        char note[96];
        link_note(w, r->link, &verdict, note, sizeof note);
        print_packet(w, pkt, len, note);
    }
    for (unsigned c = 0; c < verdict.ncopies; c++) {
        sim_pkt *p = pkt_alloc(w, len);
        if (!p) {
            sim_runtime_error(w, 0, "out of memory for a packet");
            return;
        }
        memcpy(p->data, pkt, len);
        p->no = w->pkt_no;
        if (verdict.copy[c].corrupt) ts_link_flip(p->data, len, verdict.copy[c].bit);
        if (ts_evq_push(&w->q, verdict.copy[c].when, PRIO_NORMAL, EV_DELIVER, (uint32_t)dst, p) <
            0) {
            pkt_free(w, p);
            sim_runtime_error(w, 0, "out of memory in the event queue");
        }
    }
}

void sim_host_output(void *ctx, const uint8_t *pkt, size_t len)
{
    sim_host *h = ctx;
    send_packet(h->w, h, pkt, len);
}

static void on_deliver(ts_sim *w, sim_host *h, sim_pkt *p)
{
    w->delivered++;
    if (h->stack) {
        ts_stack_input(h->stack, w->now, p->data, p->len);
        sim_host_resched(h);
    } else {
        sim_peer_receive(w, h, p->data, p->len);
    }
    if (w->o.hooks.arrived) w->o.hooks.arrived(w->o.hooks.rec_ctx, p->no, h->idx, w->now);
    pkt_free(w, p);
}

static void host_event(void *ctx, const ts_event *ev)
{
    sim_host *h = ctx;
    ts_sim *w = h->w;
    sim_flows_event(w, h, ev);
    if (w->o.hooks.observe) w->o.hooks.observe(w->o.hooks.observe_ctx, h->idx, h->stack, ev);
    if (w->o.trace && w->o.hooks.event)
        w->o.hooks.event(w->o.hooks.event_ctx, w->out, h->cfg->name, ev);
}

/* ---- building the world ---- */

static int build_host(ts_sim *w, size_t i, char *err, size_t errlen)
{
    sim_host *h = &w->hosts[i];
    const ts_scn_host *c = &w->scn->hosts[i];
    h->cfg = c;
    h->idx = (int)i;
    h->w = w;
    h->poll_at = TS_TIME_NEVER;
    if (c->peer) {
        h->peer.iss = h->peer.snd_nxt = c->isn;
        return 0;
    }
    ts_stack_config cfg;
    ts_stack_config_init(&cfg);
    cfg.addr = c->addr;
    uint64_t x = w->seed ^ ((uint64_t)(i + 1) << 32);
    cfg.seed = ts_splitmix64(&x);
    cfg.params = c->params;
    cfg.output = sim_host_output;
    cfg.output_ctx = h;
    cfg.event = host_event;
    cfg.event_ctx = h;
    char serr[256] = "";
    h->stack = ts_stack_create(&cfg, serr, sizeof serr);
    if (!h->stack) {
        snprintf(err, errlen, "%s:%u: host %s: %s", w->scn->file, c->line, c->name,
                 serr[0] ? serr : "cannot create the stack");
        return -1;
    }
    return 0;
}

static int build_links(ts_sim *w, char *err, size_t errlen)
{
    const ts_scn *s = w->scn;
    w->nlinks = s->ndirs;
    w->links = calloc(s->ndirs ? s->ndirs : 1, sizeof *w->links);
    if (!w->links) goto oom;
    for (size_t i = 0; i < s->ndirs; i++) {
        const ts_scn_dir *d = &s->dirs[i];
        ts_link_init(&w->links[i], &d->params);
        for (size_t k = 0; k < d->nrules; k++)
            if (ts_link_add_rule(&w->links[i], &d->rules[k].rule) < 0) goto oom;
        sim_host *h = &w->hosts[d->from];
        sim_route *n = realloc(h->routes, (h->nroutes + 1) * sizeof *n);
        if (!n) goto oom;
        h->routes = n;
        h->routes[h->nroutes++] = (sim_route){s->hosts[d->to].addr, d->to, &w->links[i]};
    }
    return 0;
oom:
    snprintf(err, errlen, "%s: out of memory", s->file);
    return -1;
}

ts_sim *ts_sim_create(const ts_scn *scn, const ts_sim_opts *o, char *err, size_t errlen)
{
    static bool pattern_ready;
    if (!pattern_ready) {
        pattern_init();
        pattern_ready = true;
    }
    ts_sim *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->scn = scn;
    w->o = *o;
    w->out = o->out ? o->out : stdout;
    w->seed = o->seed_set ? o->seed : scn->seed;
    ts_rng_seed(&w->rng, w->seed);
    ts_evq_init(&w->q);
    w->nhosts = scn->nhosts;
    w->hosts = calloc(scn->nhosts, sizeof *w->hosts);
    w->dir_count = calloc(scn->nhosts * scn->nhosts, sizeof *w->dir_count);
    if (!w->hosts || !w->dir_count || sim_flows_init(&w->flows) < 0) {
        snprintf(err, errlen, "out of memory");
        ts_sim_destroy(w);
        return NULL;
    }
    for (size_t i = 0; i < scn->nhosts; i++)
        if (build_host(w, i, err, errlen) < 0) {
            ts_sim_destroy(w);
            return NULL;
        }
    if (build_links(w, err, errlen) < 0 || sim_expect_init(w) < 0) {
        if (!err[0]) snprintf(err, errlen, "out of memory");
        ts_sim_destroy(w);
        return NULL;
    }
    for (size_t i = 0; i < scn->nacts; i++)
        if (ts_evq_push(&w->q, scn->acts[i].at, PRIO_ACTION, EV_ACTION, (uint32_t)i, NULL) < 0) {
            snprintf(err, errlen, "out of memory");
            ts_sim_destroy(w);
            return NULL;
        }
    return w;
}

void ts_sim_destroy(ts_sim *w)
{
    if (!w) return;
    w->o.trace = false; /* stacks report their teardown; that is not part of the run */
    w->o.hooks.observe = NULL;
    ts_evq_entry e;
    while (ts_evq_pop(&w->q, &e))
        if (e.kind == EV_DELIVER) pkt_free(w, e.ptr);
    ts_evq_free(&w->q);
    for (size_t i = 0; w->hosts && i < w->nhosts; i++) {
        sim_host *h = &w->hosts[i];
        for (size_t k = 0; k < h->nsvcs; k++)
            if (w->o.hooks.service_stop)
                w->o.hooks.service_stop(w->o.hooks.service_ctx, h->svcs[k]);
        free(h->svcs);
        sim_app_destroy(h);
        if (h->stack) ts_stack_destroy(h->stack);
        free(h->routes);
    }
    for (size_t i = 0; w->links && i < w->nlinks; i++) ts_link_free(&w->links[i]);
    while (w->free_pkts) {
        sim_pkt *p = w->free_pkts;
        w->free_pkts = p->next;
        free(p);
    }
    sim_flows_free(&w->flows);
    free(w->links);
    free(w->hosts);
    free(w->dir_count);
    free(w->res);
    free(w->pkt_exps);
    free(w->stuck);
    free(w);
}

/* ---- the event loop ---- */

static void run_action(ts_sim *w, const ts_scn_action *a)
{
    sim_host *h = &w->hosts[a->host];
    if (a->kind == TS_ACT_INJECT) {
        sim_peer_inject(w, h, a);
        return;
    }
    /* Socket calls act at the stack's latest time: bring it to now first. */
    ts_stack_poll(h->stack, w->now);
    sim_app_action(w, a);
    sim_host_resched(h);
}

void ts_sim_run(ts_sim *w)
{
    ts_time_t limit = w->scn->end != TS_TIME_NEVER ? w->scn->end : w->scn->idle_cap;
    ts_evq_entry e;
    ts_time_t last = 0;
    uint64_t same = 0;
    while (ts_evq_next_time(&w->q) <= limit && ts_evq_pop(&w->q, &e)) {
        w->now = e.time;
        w->events++;
        if (e.time == last) {
            if (++same > STUCK_LIMIT) {
                char tbuf[32];
                ts_format_time(w->now, true, tbuf, sizeof tbuf);
                char msg[128];
                snprintf(msg, sizeof msg, "more than %u events at virtual time %s: a livelock",
                         STUCK_LIMIT, tbuf);
                w->stuck = strdup(msg);
                break;
            }
        } else {
            last = e.time;
            same = 0;
        }
        switch (e.kind) {
        case EV_DELIVER: on_deliver(w, &w->hosts[e.arg], e.ptr); break;
        case EV_POLL: on_poll(w, &w->hosts[e.arg], (uint32_t)(uintptr_t)e.ptr); break;
        case EV_ACTION: run_action(w, &w->scn->acts[e.arg]); break;
        case EV_CHECK: sim_expect_check(w, e.arg); break;
        }
        if (w->o.hooks.settle && w->o.hooks.settle(w->o.hooks.settle_ctx)) {
            for (size_t i = 0; i < w->nhosts; i++)
                if (w->hosts[i].stack) sim_host_resched(&w->hosts[i]);
        }
    }
    if (w->scn->end != TS_TIME_NEVER) {
        if (!w->stuck) w->now = w->scn->end;
    } else if (ts_evq_len(&w->q) > 0 && !w->stuck) {
        w->stopped_at_cap = true;
        w->now = limit;
    }
    w->end = w->now;
    /* Bring every stack to the end time, so states read at the end are current. */
    for (size_t i = 0; i < w->nhosts; i++)
        if (w->hosts[i].stack) ts_stack_poll(w->hosts[i].stack, w->now);
    sim_expect_finish(w);
}

int ts_sim_report(ts_sim *w)
{
    char tbuf[32];
    ts_format_time(w->end, true, tbuf, sizeof tbuf);
    if (w->stuck) fprintf(w->out, "%s: stopped: %s\n", w->scn->file, w->stuck);
    fprintf(w->out, "--- run ended at %s (virtual)%s; seed %llu; %llu packets\n", tbuf,
            w->stopped_at_cap ? ", the 3600 s cap without 'end' (events were pending)" : "",
            (unsigned long long)w->seed, (unsigned long long)w->pkt_no);
    if (!w->o.quiet) sim_report_connections(w);
    int rc = sim_report_expectations(w);
    if (w->runtime_errors || w->stuck) rc = 1;
    return rc;
}

void ts_sim_get_stats(const ts_sim *w, ts_sim_stats *st)
{
    memset(st, 0, sizeof *st);
    st->packets = w->pkt_no;
    st->delivered = w->delivered;
    st->events = w->events;
    st->end = w->end;
    st->expectations = w->scn->nexps;
    for (size_t i = 0; w->res && i < w->scn->nexps; i++)
        if (w->res[i].state != 1) st->failed++;
}

size_t ts_sim_nhosts(const ts_sim *w)
{
    return w->nhosts;
}

const char *ts_sim_host_name(const ts_sim *w, size_t i)
{
    return i < w->nhosts ? w->hosts[i].cfg->name : NULL;
}

uint32_t ts_sim_host_addr(const ts_sim *w, size_t i)
{
    return i < w->nhosts ? w->hosts[i].cfg->addr : 0;
}

ts_stack *ts_sim_host_stack(const ts_sim *w, size_t i)
{
    return i < w->nhosts ? w->hosts[i].stack : NULL;
}
