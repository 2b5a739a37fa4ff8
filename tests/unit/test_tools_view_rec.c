/* test_tools_view_rec.c: the recorder (tools/view/view_rec.c) on real simulator runs.
 * The chapter's close: 6 segments, each 2 ms in flight, the server's FIN carrying the ACK,
 * the server's delayed-ACK timer cancelled by that FIN, states from the stacks (not
 * inferred), control blocks at both ends. A scripted drop: the lost FIN with its reason and
 * its retransmission with cause RTO. A scripted peer: seen through its packets only. And
 * the run's printed output is the same byte for byte with the recorder's hooks on. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sim.h"
#include "view_rec.h"

static void on_observe(void *ctx, int host, ts_stack *s, const ts_event *ev)
{
    (void)s;
    ts_view_rec_event(ctx, host, ev);
}

static void on_fate(void *ctx, const ts_sim_fate *f)
{
    ts_time_t arrive = TS_TIME_NEVER;
    for (unsigned c = 0; c < f->ncopies; c++)
        if (!f->corrupt[c] && f->arrive[c] < arrive) arrive = f->arrive[c];
    ts_view_rec_packet(ctx, f->no, f->from, f->t, f->pkt, f->len, arrive,
                       f->ncopies ? "corrupted" : f->lost);
}

static void on_arrived(void *ctx, uint64_t no, int host, ts_time_t t)
{
    ts_view_rec_arrived(ctx, no, host, t);
}

/* Run a scenario of sim/scenarios; with rec, recorded. The printed output into *out. */
static void run(const char *name, ts_view_rec *rec, char **out, size_t *outlen)
{
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/sim/scenarios/%s", TS_SRC_DIR, name);
    ts_scn_parse_opts po = {.service_known = NULL};
    ts_scn *scn = ts_scn_load(path, &po, err, sizeof err);
    ck_assert_msg(scn != NULL, "%s", err);
    FILE *f = open_memstream(out, outlen);
    ck_assert_ptr_nonnull(f);
    ts_sim_opts o = {.out = f};
    if (rec) {
        o.hooks.observe = on_observe;
        o.hooks.fate = on_fate;
        o.hooks.arrived = on_arrived;
        o.hooks.observe_ctx = rec;
        o.hooks.rec_ctx = rec;
    }
    ts_sim *w = ts_sim_create(scn, &o, err, sizeof err);
    ck_assert_msg(w != NULL, "%s", err);
    for (size_t i = 0; rec && i < ts_sim_nhosts(w); i++)
        ck_assert_int_eq(ts_view_rec_host(rec, (int)i, ts_sim_host_name(w, i),
                                          ts_sim_host_addr(w, i), ts_sim_host_stack(w, i)),
                         0);
    ts_sim_run(w);
    ts_sim_report(w);
    ts_sim_destroy(w);
    fclose(f);
    ts_scn_free(scn);
}

static ts_view_set record(const char *name)
{
    ts_view_rec *rec = ts_view_rec_new(TS_VIEW_SIM);
    ck_assert_ptr_nonnull(rec);
    char *out;
    size_t n;
    run(name, rec, &out, &n);
    free(out);
    ts_view_set set;
    char err[256];
    ck_assert_int_eq(ts_view_rec_finish(rec, &set, err, sizeof err), 0);
    ts_view_rec_free(rec);
    return set;
}

static const ts_view_tcb *tcb(const ts_view *v, const ts_view_seg *s, int end)
{
    ck_assert_int_ge(s->tcb[end], 0);
    ck_assert_uint_lt((size_t)s->tcb[end], v->ntcbs);
    const ts_view_tcb *t = &v->tcbs[s->tcb[end]];
    ck_assert_int_eq(t->end, end);
    return t;
}

START_TEST(chapter_close)
{
    ts_view_set set = record("chapter-close.scn");
    ck_assert_uint_eq(set.n, 1);
    const ts_view *v = set.conns[0];
    ck_assert_int_eq(v->origin, TS_VIEW_SIM);
    ck_assert(!v->times_estimated);
    ck_assert_str_eq(v->end[0].name, "client");
    ck_assert_str_eq(v->end[1].name, "server");
    ck_assert_uint_eq(v->end[0].ep.port, 55570);
    ck_assert_uint_eq(v->end[1].ep.port, 6379);
    ck_assert_uint_eq(v->nsegs, 6);
    static const uint8_t flags[6] = {
        TS_TH_SYN, TS_TH_SYN | TS_TH_ACK, TS_TH_ACK, TS_TH_FIN | TS_TH_ACK, TS_TH_FIN | TS_TH_ACK,
        TS_TH_ACK};
    static const int from[6] = {0, 1, 0, 0, 1, 0};
    static const ts_time_t sent[6] = {0, 2000, 4000, 7200000, 7202000, 7204000};
    for (int i = 0; i < 6; i++) {
        const ts_view_seg *s = &v->segs[i];
        ck_assert_uint_eq(s->no, (unsigned)i + 1);
        ck_assert_uint_eq(s->flags, flags[i]);
        ck_assert_int_eq(s->from, from[i]);
        ck_assert_uint_eq(s->t_send, sent[i]);
        ck_assert_uint_eq(s->t_recv, sent[i] + 2000); /* delay=2ms */
        ck_assert_ptr_null(s->lost);
        ck_assert_int_eq(s->cause, TS_VCAUSE_NEW);
        ck_assert_ptr_nonnull(s->line);
        ck_assert_int_ge(s->tcb[s->from], 0); /* the sender's, always */
    }
    /* The server's FIN carries the ACK of the client's FIN. */
    ck_assert_uint_eq(v->segs[4].ack, v->end[0].isn + 2);
    ck_assert_uint_eq(v->segs[4].seq, v->end[1].isn + 1);
    ck_assert(v->end[0].isn_known && v->end[1].isn_known);
    ck_assert_uint_eq(v->segs[0].mss, 1460);
    ck_assert_uint_eq(v->segs[2].win, (uint32_t)v->segs[2].win_raw << 7);
    /* Control blocks: the server right after the SYN arrived, the client after its ACK. */
    ck_assert_int_eq(tcb(v, &v->segs[0], 1)->info.state, TS_SYN_RECEIVED);
    ck_assert_uint_eq(tcb(v, &v->segs[0], 1)->t, 2000);
    ck_assert_int_eq(tcb(v, &v->segs[2], 0)->info.state, TS_ESTABLISHED);
    ck_assert_int_eq(tcb(v, &v->segs[3], 0)->info.state, TS_FIN_WAIT_1);
    /* Once the client's FIN is taken in, the server's application has read EOF and closed
     * (in the same instant): LAST_ACK, its FIN sent, the ACK on it. */
    const ts_view_tcb *srv = tcb(v, &v->segs[3], 1);
    ck_assert_int_eq(srv->info.state, TS_LAST_ACK);
    ck_assert(!srv->info.delack_pending);
    ck_assert_int_eq(tcb(v, &v->segs[4], 1)->info.state, TS_LAST_ACK);
    ck_assert_int_eq(tcb(v, &v->segs[4], 0)->info.state, TS_TIME_WAIT);
    /* States from the stacks, in time order. */
    ck_assert_uint_ge(v->nstates, 10);
    bool close_wait = false, last_ack = false;
    for (size_t i = 0; i < v->nstates; i++) {
        const ts_view_state *s = &v->states[i];
        ck_assert(!s->inferred);
        if (i) ck_assert_uint_ge(s->t, v->states[i - 1].t);
        if (s->end == 1 && s->to == TS_CLOSE_WAIT) close_wait = s->t == 7202000;
        if (s->end == 1 && s->to == TS_LAST_ACK) last_ack = s->t == 7202000;
    }
    ck_assert(close_wait && last_ack);
    /* The server's delayed-ACK timer: armed when the FIN arrived, cancelled by its own FIN. */
    bool delack = false;
    for (size_t i = 0; i < v->ntimers; i++) {
        const ts_view_timer *t = &v->timers[i];
        if (t->end == 1 && t->kind == TS_TIMER_DELACK && t->set == 7202000) {
            ck_assert_int_eq(t->how, TS_VTIMER_CANCELLED);
            ck_assert_uint_eq(t->stop, 7202000);
            ck_assert_uint_gt(t->deadline, 7202000);
            delack = true;
        }
    }
    ck_assert_msg(delack, "no delayed-ACK timer cancelled at 7.202 s on the server");
    /* TIME-WAIT on the client fires 60 s later. */
    bool tw = false;
    for (size_t i = 0; i < v->ntimers; i++)
        if (v->timers[i].end == 0 && v->timers[i].kind == TS_TIMER_TIME_WAIT)
            tw = v->timers[i].how == TS_VTIMER_FIRED;
    ck_assert(tw);
    ts_view_set_free(&set);
}
END_TEST

START_TEST(scripted_drop_and_rto)
{
    ts_view_set set = record("lost-fin.scn");
    ck_assert_uint_eq(set.n, 1);
    const ts_view *v = set.conns[0];
    const ts_view_seg *lost = NULL, *again = NULL;
    for (size_t i = 0; i < v->nsegs; i++) {
        const ts_view_seg *s = &v->segs[i];
        if (s->from == 0 && (s->flags & TS_TH_FIN)) {
            if (!lost)
                lost = s;
            else if (!again)
                again = s;
        }
    }
    ck_assert_ptr_nonnull(lost);
    ck_assert_ptr_nonnull(again);
    ck_assert_uint_eq(lost->t_send, 1000000);
    ck_assert_uint_eq(lost->t_recv, TS_TIME_NEVER);
    ck_assert_ptr_nonnull(lost->lost);
    ck_assert_str_eq(lost->lost, "scripted drop (line 13)");
    ck_assert_int_eq(lost->cause, TS_VCAUSE_NEW);
    ck_assert_int_eq(lost->tcb[1], -1); /* never arrived */
    ck_assert_uint_eq(again->t_send, 1220000);
    ck_assert_uint_eq(again->t_recv, 1230000);
    ck_assert_int_eq(again->cause, TS_VCAUSE_RTO);
    ck_assert_uint_eq(again->rexmit_no, 1);
    ck_assert_uint_gt(again->rto, 0);
    ck_assert_ptr_nonnull(again->why);
    ck_assert_ptr_nonnull(strstr(again->why, "RTO"));
    /* The RTO timer that fired for it. */
    bool fired = false;
    for (size_t i = 0; i < v->ntimers; i++)
        if (v->timers[i].end == 0 && v->timers[i].kind == TS_TIMER_RETRANSMIT &&
            v->timers[i].stop == 1220000)
            fired = v->timers[i].how == TS_VTIMER_FIRED;
    ck_assert(fired);
    ts_view_set_free(&set);
}
END_TEST

/* Causes from the stack: the RTO backoff's resends (the timer's own and the rest of the
 * window resent in the recovery that follows), the SYN timer, a SYN-ACK that answers a
 * repeated SYN (a resend no timer sent), zero-window probes. */
START_TEST(causes)
{
    ts_view_set set = record("rto-backoff.scn");
    const ts_view *v = set.conns[0];
    size_t rto = 0, other = 0;
    uint32_t nos[2] = {0, 0};
    for (size_t i = 0; i < v->nsegs; i++) {
        const ts_view_seg *s = &v->segs[i];
        if (s->cause == TS_VCAUSE_RTO) {
            if (rto < 2) nos[rto] = s->rexmit_no;
            rto++;
        } else if (s->cause != TS_VCAUSE_NEW) {
            other++;
        }
    }
    ck_assert_uint_eq(rto, 11);
    ck_assert_uint_eq(other, 0);
    ck_assert_uint_eq(nos[0], 1);
    ck_assert_uint_eq(nos[1], 2);
    ts_view_set_free(&set);

    set = record("lost-synack.scn");
    v = set.conns[0];
    ck_assert_int_eq(v->segs[2].cause, TS_VCAUSE_SYN); /* the client's SYN, by its timer */
    ck_assert_uint_eq(v->segs[2].rexmit_no, 1);
    ck_assert_uint_eq(v->segs[2].rto, 2 * TS_SEC);
    ck_assert_int_eq(v->segs[3].cause, TS_VCAUSE_SYN);    /* the server's SYN-ACK, by its timer */
    ck_assert_int_eq(v->segs[4].cause, TS_VCAUSE_REXMIT); /* answering the repeated SYN */
    ck_assert_uint_eq(v->segs[4].rexmit_no, 2);
    ts_view_set_free(&set);

    set = record("zero-window.scn");
    v = set.conns[0];
    size_t probes = 0;
    for (size_t i = 0; i < v->nsegs; i++) probes += v->segs[i].cause == TS_VCAUSE_PROBE;
    ck_assert_uint_eq(probes, 5);
    ts_view_set_free(&set);
}
END_TEST

START_TEST(scripted_peer)
{
    ts_view_set set = record("rst-window.scn");
    ck_assert_uint_ge(set.n, 1);
    const ts_view *v = set.conns[0];
    ck_assert_str_eq(v->end[1].name, "server");
    size_t from_peer = 0;
    for (size_t i = 0; i < v->nsegs; i++) {
        const ts_view_seg *s = &v->segs[i];
        ck_assert_ptr_nonnull(s->line);
        if (s->from == 1) {
            from_peer++;
            ck_assert_int_eq(s->tcb[1], -1); /* no stack, no control block */
        }
    }
    ck_assert_uint_gt(from_peer, 0);
    for (size_t i = 0; i < v->nstates; i++) ck_assert_int_eq(v->states[i].end, 0);
    ts_view_set_free(&set);
}
END_TEST

/* The crossed SYN-ACKs of a simultaneous open are the handshake, not retransmissions
 * (they were drawn dashed, "retransmission after 5 ms"). */
START_TEST(simultaneous_open)
{
    ts_view_set set = record("simultaneous-open.scn");
    ck_assert_uint_ge(set.n, 1);
    const ts_view *v = set.conns[0];
    size_t synacks = 0;
    for (size_t i = 0; i < v->nsegs; i++) {
        ck_assert_msg(v->segs[i].cause == TS_VCAUSE_NEW, "segment %zu: cause %d", i,
                      v->segs[i].cause);
        synacks += (v->segs[i].flags & (TS_TH_SYN | TS_TH_ACK)) == (TS_TH_SYN | TS_TH_ACK);
    }
    ck_assert_uint_eq(synacks, 2);
    ts_view_set_free(&set);
}
END_TEST

/* A long run stops recording at the limit (memory stays bounded) and the view says so;
 * what it kept is whole and what came after is not half-recorded. */
START_TEST(stops_at_the_limit)
{
    ts_view_rec *rec = ts_view_rec_new(TS_VIEW_SIM);
    ck_assert_ptr_nonnull(rec);
    ts_view_rec_limit(rec, 3);
    char *out;
    size_t n;
    run("chapter-close.scn", rec, &out, &n);
    free(out);
    ts_view_set set;
    char err[256];
    ck_assert_int_eq(ts_view_rec_finish(rec, &set, err, sizeof err), 0);
    ck_assert_uint_eq(set.n, 1);
    const ts_view *v = set.conns[0];
    ck_assert_uint_eq(v->nsegs, 3); /* the handshake */
    ck_assert_ptr_nonnull(v->note);
    ck_assert_ptr_nonnull(strstr(v->note, "recording stopped after 3 segments"));
    for (size_t i = 0; i < v->nstates; i++) /* nothing of the close */
        ck_assert_int_le(v->states[i].to, TS_ESTABLISHED);
    ts_view_set_free(&set);
    /* the recorder starts over after finish, with the same limit */
    run("chapter-close.scn", rec, &out, &n);
    free(out);
    ck_assert_int_eq(ts_view_rec_finish(rec, &set, err, sizeof err), 0);
    ck_assert_uint_eq(set.conns[0]->nsegs, 3);
    ts_view_set_free(&set);
    ts_view_rec_free(rec);
}
END_TEST

/* The hooks change nothing the run prints. */
START_TEST(output_unchanged)
{
    static const char *const names[] = {"chapter-close.scn", "lost-fin.scn",   "rst-window.scn",
                                        "bulk-loss.scn",     "corruption.scn", "reorder.scn"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char *plain, *recorded;
        size_t np, nr;
        run(names[i], NULL, &plain, &np);
        ts_view_rec *rec = ts_view_rec_new(TS_VIEW_SIM);
        run(names[i], rec, &recorded, &nr);
        ts_view_set set;
        char err[256];
        ck_assert_int_eq(ts_view_rec_finish(rec, &set, err, sizeof err), 0);
        ck_assert_uint_ge(set.n, 1);
        ts_view_set_free(&set);
        ts_view_rec_free(rec);
        ck_assert_msg(np == nr && !memcmp(plain, recorded, np), "%s: output differs", names[i]);
        free(plain);
        free(recorded);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("view_rec");
    TCase *tc = tcase_create("recorder");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, chapter_close);
    tcase_add_test(tc, scripted_drop_and_rto);
    tcase_add_test(tc, causes);
    tcase_add_test(tc, scripted_peer);
    tcase_add_test(tc, output_unchanged);
    tcase_add_test(tc, stops_at_the_limit);
    tcase_add_test(tc, simultaneous_open);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
