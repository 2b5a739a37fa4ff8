/* cli_sweep_run.c: one run of a sweep, inside a worker process: the scenario text (read
 * once per worker) parsed with this run's -D values, run in the simulator with the
 * measurement collector on its observe hook, and turned into one CSV row. Nothing is
 * printed: the world's report goes to /dev/null, only the verdict is kept. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services.h"
#include "sim.h"
#include "sweep.h"
#include "sweep_cli.h"

static void on_observe(void *ctx, int host, ts_stack *s, const ts_event *ev)
{
    ts_sweep_collect_event(ctx, host, s, ev);
}

/* Seconds with microsecond resolution, exactly: "12.000340". */
static void put_time(char *row, size_t len, size_t *pos, ts_time_t t)
{
    char f[32];
    snprintf(f, sizeof f, "%llu.%06llu", (unsigned long long)(t / TS_SEC),
             (unsigned long long)(t % TS_SEC));
    ts_csv_put(row, len, pos, f, false);
}

static void put_u64(char *row, size_t len, size_t *pos, uint64_t v)
{
    char f[24];
    snprintf(f, sizeof f, "%llu", (unsigned long long)v);
    ts_csv_put(row, len, pos, f, false);
}

/* The columns of ts_sweep_columns, in that order. */
static void put_measures(char *row, size_t len, size_t *pos, const ts_sim_stats *st,
                         const ts_sim_app_stats *a, const ts_sweep_metrics *m,
                         const ts_counters *sum, bool ok)
{
    put_u64(row, len, pos, ok);
    put_u64(row, len, pos, st->failed);
    bool done = a->received && a->first_open != TS_TIME_NEVER && a->last_read > a->first_open;
    ts_time_t took = done ? a->last_read - a->first_open : 0;
    if (done) {
        put_time(row, len, pos, took);
        char f[32];
        snprintf(f, sizeof f, "%.6f", (double)a->received * 8.0 / ((double)took / TS_SEC) / 1e6);
        ts_csv_put(row, len, pos, f, false);
    } else {
        ts_csv_put(row, len, pos, "", false);
        ts_csv_put(row, len, pos, "", false);
    }
    put_u64(row, len, pos, a->to_send);
    put_u64(row, len, pos, a->received);
    put_u64(row, len, pos, a->received == a->to_send && !a->bad);
    put_u64(row, len, pos, sum->tcp_out);
    uint64_t all = 0;
    for (int k = 0; k < TS_SW_NCAUSES; k++) all += m->rexmit[k];
    put_u64(row, len, pos, all);
    for (int k = 0; k < TS_SW_NCAUSES; k++) put_u64(row, len, pos, m->rexmit[k]);
    put_u64(row, len, pos, sum->tcp_rto_timeouts);
    put_u64(row, len, pos, m->spurious);
    put_u64(row, len, pos, m->spurious_bytes);
    put_u64(row, len, pos, m->max_backoff);
    put_time(row, len, pos, m->max_rto);
    put_time(row, len, pos, m->recovery);
    put_time(row, len, pos, m->loss);
    if (a->connected)
        put_time(row, len, pos, a->connect_max);
    else
        ts_csv_put(row, len, pos, "", false);
    put_u64(row, len, pos, a->connect_failed);
    put_time(row, len, pos, st->end);
    put_u64(row, len, pos, st->packets);
    put_u64(row, len, pos, m->pure_acks);
}

/* The run's world: built, run, measured; 0, or -1 with err. */
static int simulate(const ts_scn *scn, uint64_t seed, FILE *devnull, char *row, size_t len,
                    size_t *pos, char *err, size_t errlen)
{
    ts_sweep_collect *col = ts_sweep_collect_new(scn->nhosts);
    if (!col) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    ts_sim_opts o = {.seed = seed, .seed_set = true, .out = devnull, .quiet = true};
    o.hooks.service_known = ts_service_known;
    o.hooks.service_start = ts_service_hook_start;
    o.hooks.service_stop = ts_service_hook_stop;
    o.hooks.observe = on_observe;
    o.hooks.observe_ctx = col;
    ts_sim *w = ts_sim_create(scn, &o, err, errlen);
    if (!w) {
        ts_sweep_collect_free(col);
        return -1;
    }
    ts_sim_run(w);
    bool ok = ts_sim_report(w) == 0;
    ts_sim_stats st;
    ts_sim_app_stats a;
    ts_sweep_metrics m;
    ts_counters sum = {0};
    ts_sim_get_stats(w, &st);
    ts_sim_get_app_stats(w, &a);
    ts_sweep_collect_finish(col, st.end, &m);
    for (size_t i = 0; i < ts_sim_nhosts(w); i++) {
        ts_stack *s = ts_sim_host_stack(w, i);
        if (!s) continue;
        const ts_counters *c = ts_stack_counters(s);
        sum.tcp_out += c->tcp_out;
        sum.tcp_rto_timeouts += c->tcp_rto_timeouts;
    }
    put_measures(row, len, pos, &st, &a, &m, &sum, ok);
    ts_sim_destroy(w);
    ts_sweep_collect_free(col);
    return 0;
}

int ts_sweep_run_one(const ts_sweep_job *j, uint64_t run, FILE *devnull, char *row, size_t len,
                     char *err, size_t errlen)
{
    const ts_sweep_grid *g = j->grid;
    size_t idx[64];
    uint64_t seed;
    ts_sweep_point(g, run, idx, &seed);
    char defbuf[4096];
    const char *defs[64];
    size_t dp = 0, pos = 0;
    for (size_t k = 0; k < g->nvars; k++) {
        const char *v = g->vars[k].vals[idx[k]];
        int n = snprintf(defbuf + dp, sizeof defbuf - dp, "%s=%s", g->vars[k].name, v);
        if (n < 0 || (size_t)n >= sizeof defbuf - dp) {
            snprintf(err, errlen, "the --vary values are too long");
            return -1;
        }
        defs[k] = defbuf + dp;
        dp += (size_t)n + 1;
        ts_csv_put(row, len, &pos, v, k == 0);
    }
    char f[64];
    snprintf(f, sizeof f, "%llu", (unsigned long long)seed);
    ts_csv_put(row, len, &pos, f, g->nvars == 0);
    put_u64(row, len, &pos, run);
    put_u64(row, len, &pos, g->runs);
    ts_scn_parse_opts po = {.service_known = ts_service_known, .defs = defs, .ndefs = g->nvars};
    ts_scn *scn = ts_scn_parse(j->file, j->text, j->len, &po, err, errlen);
    if (!scn) return -1;
    int rc = simulate(scn, seed, devnull, row, len, &pos, err, errlen);
    ts_scn_free(scn);
    if (rc == 0 && pos + 2 >= len) {
        snprintf(err, errlen, "the row is longer than %zu bytes", len);
        return -1;
    }
    if (rc == 0) {
        row[pos++] = '\n';
        row[pos] = '\0';
    }
    return rc;
}
