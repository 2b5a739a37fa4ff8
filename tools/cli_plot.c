/* cli_plot.c: `tcpsim plot KIND SOURCE -o OUT.svg`: the time-sequence graph of a
 * connection from a capture or a scenario, and the sender's cwnd and RTT graphs from a
 * scenario (run here in the simulator with the series recorder: the stack's own values).
 * A capture shows only the wire, so cwnd and rtt from one are refused. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "diagram.h"
#include "plot.h"
#include "series.h"
#include "services.h"
#include "sim.h"
#include "view.h"
#include "view_pcap.h"
#include "view_rec.h"

static void usage(FILE *f)
{
    fputs("usage: tcpsim plot KIND SOURCE [-o OUT.svg] [--conn N|A.B.C.D:PORT]\n"
          "                               [--from S] [--to S] [--seed N] [--set NAME=VALUE]...\n"
          "\n"
          "Draw a graph of one connection as SVG (to stdout without -o). KIND:\n"
          "  tseq   sequence number against time (Stevens/tcptrace style): a bar per data\n"
          "         segment, retransmissions lettered by cause (R RTO, F fast, T tail loss\n"
          "         probe), the ACK line, the ACK + receive window line, SACK blocks\n"
          "  cwnd   cwnd, ssthresh and bytes in flight; fast recovery shaded grey, RTO\n"
          "         recovery hatched\n"
          "  rtt    RTT samples, SRTT and RTO\n"
          "  sweep  a sweep's results: medians over seeds with confidence bands\n"
          "         (tcpsim plot sweep --help)\n"
          "SOURCE is a scenario (FILE.scn, run in the simulator: the values are the stack's\n"
          "own) or, for tseq, a capture (pcap or pcapng). A capture shows only the wire, so\n"
          "cwnd and rtt need a scenario.\n"
          "\n"
          "  -o OUT.svg         write there (render it: rsvg-convert -o out.png OUT.svg)\n"
          "  --conn N|ADDR:PORT which connection: the Nth (from 1) or either end's address\n"
          "                     and port; default the first\n"
          "  --from S, --to S   draw only that window of time, in seconds on the graph's\n"
          "                     clock (a scenario's virtual time; a capture's from its\n"
          "                     first segment), e.g. --from 0.09 --to 0.16\n"
          "  --seed N, --set NAME=VALUE   as for tcpsim run (scenarios only)\n"
          "\n"
          "examples:\n"
          "  tcpsim plot cwnd sim/scenarios/bulk-loss.scn -o cwnd.svg   # recovery shaded\n"
          "  tcpsim plot rtt sim/scenarios/rto-backoff.scn -o rtt.svg\n"
          "  tcpsim plot tseq sim/scenarios/fast-retransmit.scn -o tseq.svg\n"
          "  tcpsim plot tseq sim/scenarios/fast-retransmit.scn --from 0.09 --to 0.16 -o z.svg\n"
          "  tcpsim run sim/scenarios/bulk-loss.scn --pcap bulk.pcap\n"
          "  tcpsim plot tseq bulk.pcap --conn 10.0.0.103:5001 -o bulk.svg\n"
          "Exit status: 0 drawn, 2 a usage, file or source error (one line on stderr).\n",
          f);
}

typedef enum { K_TSEQ, K_CWND, K_RTT } plot_kind;

typedef struct plot_args {
    plot_kind kind;
    const char *kind_name, *source, *out, *conn;
    uint64_t seed;
    bool seed_set;
    ts_plot_opts po;
    const char **sets;
    size_t nsets;
} plot_args;

static int fail(const char *fmt, const char *a, const char *b)
{
    fputs("tcpsim plot: ", stderr);
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return 2;
}

static bool is_scenario(const char *path)
{
    size_t n = strlen(path);
    return n > 4 && !strcmp(path + n - 4, ".scn");
}

/* 0 ok, 1 --help shown, 2 usage error (printed). */
static int parse_args(int argc, char **argv, plot_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            usage(stdout);
            return 1;
        }
        if (!strcmp(s, "-o") || !strcmp(s, "--conn") || !strcmp(s, "--seed") ||
            !strcmp(s, "--set") || !strcmp(s, "--from") || !strcmp(s, "--to")) {
            if (!val || !*val) return fail("%s needs a value; see tcpsim plot --help", s, NULL);
            i++;
            if (!strcmp(s, "-o")) {
                a->out = val;
            } else if (!strcmp(s, "--conn")) {
                a->conn = val;
            } else if (!strcmp(s, "--from") || !strcmp(s, "--to")) {
                char *end;
                double t = strtod(val, &end);
                if (*end || end == val || !(t >= 0) || t > 1e9)
                    return fail("%s needs seconds, e.g. %s 0.1", s, s);
                *(s[2] == 'f' ? &a->po.from : &a->po.to) = t;
            } else if (!strcmp(s, "--set")) {
                if (!strchr(val, '='))
                    return fail("--set needs NAME=VALUE, e.g. --set delack=0", NULL, NULL);
                a->sets[a->nsets++] = val;
            } else {
                char *end;
                errno = 0;
                a->seed = strtoull(val, &end, 0);
                if (*end || errno || val[0] == '-')
                    return fail("--seed needs a number, e.g. --seed 42", NULL, NULL);
                a->seed_set = true;
            }
        } else if (s[0] == '-' && s[1]) {
            return fail("unknown option '%s'; see tcpsim plot --help", s, NULL);
        } else if (!a->kind_name) {
            a->kind_name = s;
        } else if (!a->source) {
            a->source = s;
        } else {
            return fail("one source at a time ('%s' and '%s')", a->source, s);
        }
    }
    if (!a->kind_name || !a->source)
        return fail("which graph of what? e.g. tcpsim plot cwnd sim/scenarios/bulk-loss.scn -o "
                    "cwnd.svg (tcpsim plot --help)",
                    NULL, NULL);
    if (!strcmp(a->kind_name, "tseq"))
        a->kind = K_TSEQ;
    else if (!strcmp(a->kind_name, "cwnd"))
        a->kind = K_CWND;
    else if (!strcmp(a->kind_name, "rtt"))
        a->kind = K_RTT;
    else
        return fail("unknown graph '%s'; use tseq, cwnd or rtt", a->kind_name, NULL);
    return 0;
}

static ts_scn *load_scenario(const plot_args *a)
{
    char err[600];
    ts_scn_parse_opts po = {.service_known = ts_service_known};
    ts_scn *scn = ts_scn_load(a->source, &po, err, sizeof err);
    if (!scn) {
        fprintf(stderr, "%s\n", err);
        return NULL;
    }
    for (size_t k = 0; k < a->nsets; k++)
        for (size_t i = 0; i < scn->nhosts; i++)
            if (!scn->hosts[i].peer &&
                ts_params_set_kv(&scn->hosts[i].params, a->sets[k], err, sizeof err) < 0) {
                fail("--set %s: %s", a->sets[k], err);
                ts_scn_free(scn);
                return NULL;
            }
    return scn;
}

/* Run the scenario quietly with the recorders' hooks; ready (may be NULL) is told the
 * world before it runs. 0, or 2 with the message printed. */
static int run_scenario(const plot_args *a, const ts_scn *scn, const ts_sim_hooks *rec,
                        int (*ready)(void *ctx, ts_sim *w), void *ctx)
{
    char err[600];
    FILE *devnull = fopen("/dev/null", "w");
    if (!devnull) return fail("/dev/null: %s", strerror(errno), NULL);
    ts_sim_opts o = {.seed = a->seed, .seed_set = a->seed_set, .out = devnull, .quiet = true};
    o.hooks = *rec;
    o.hooks.service_known = ts_service_known;
    o.hooks.service_start = ts_service_hook_start;
    o.hooks.service_stop = ts_service_hook_stop;
    ts_sim *w = ts_sim_create(scn, &o, err, sizeof err);
    int rc = 0;
    if (!w) {
        fprintf(stderr, "%s\n", err);
        rc = 2;
    } else if (ready && ready(ctx, w) < 0) {
        rc = fail("out of memory", NULL, NULL);
    }
    if (!rc) ts_sim_run(w);
    ts_sim_destroy(w);
    fclose(devnull);
    return rc;
}

typedef struct collect_ctx {
    ts_series_set *set;
    const ts_scn *scn;
} collect_ctx;

static void collect(void *ctx, int host, ts_stack *s, const ts_event *ev)
{
    collect_ctx *c = ctx;
    ts_series_collect(c->set, s, c->scn->hosts[host].name, ev);
}

static FILE *open_out(const plot_args *a)
{
    if (!a->out || !strcmp(a->out, "-")) return stdout;
    FILE *f = fopen(a->out, "w");
    if (!f) fail("-o %s: %s", a->out, strerror(errno));
    return f;
}

static int close_out(const plot_args *a, FILE *f, int rc)
{
    /* one line per failure: a plot that failed writing has said so already */
    if (f == stdout)
        return fflush(f) && !rc ? fail("writing stdout: %s", strerror(errno), NULL) : rc;
    if (fclose(f) && !rc) return fail("-o %s: %s", a->out, strerror(errno));
    if (rc) remove(a->out); /* no half-written picture left behind */
    return rc;
}

/* cwnd and rtt: from a scenario's series. */
static int plot_state(const plot_args *a)
{
    if (!is_scenario(a->source))
        return fail("%s: a capture shows only the wire, not the sender's cwnd, ssthresh or "
                    "RTT estimate; plot them from a scenario (FILE.scn), or draw 'tseq' "
                    "from the capture",
                    a->source, NULL);
    ts_scn *scn = load_scenario(a);
    if (!scn) return 2;
    collect_ctx cc = {ts_series_set_new(), scn};
    ts_sim_hooks h = {.observe = collect, .observe_ctx = &cc};
    int rc = cc.set ? run_scenario(a, scn, &h, NULL, NULL) : fail("out of memory", NULL, NULL);
    ts_series_set *set = cc.set;
    char err[300];
    const ts_series_conn *c = NULL;
    if (!rc && !ts_series_set_ok(set)) rc = fail("out of memory recording the run", NULL, NULL);
    if (!rc && !(c = ts_series_set_pick(set, a->conn, err, sizeof err)))
        rc = fail("%s: %s", a->source, err);
    FILE *f = rc ? NULL : open_out(a);
    if (!rc && !f) rc = 2;
    if (!rc) {
        int r = a->kind == K_CWND ? ts_plot_cwnd(c, &a->po, f, err, sizeof err)
                                  : ts_plot_rtt(c, &a->po, f, err, sizeof err);
        if (r < 0) rc = fail("%s: %s", a->source, err);
        rc = close_out(a, f, rc);
    }
    ts_series_set_free(set);
    ts_scn_free(scn);
    return rc;
}

/* The recorder as tcpsim diagram drives it: every event, the packets' fates (its hooks),
 * then the world's hosts. */
static void rec_observe(void *ctx, int host, ts_stack *s, const ts_event *ev)
{
    (void)s;
    ts_view_rec_event(ctx, host, ev);
}

static int rec_ready(void *ctx, ts_sim *w)
{
    return ts_diagram_sim_hosts(ctx, w);
}

/* The connection models of the source: a capture through libpcap, a scenario through the
 * simulator's recorder. */
static int load_views(const plot_args *a, ts_view_set *set)
{
    char err[600];
    if (!is_scenario(a->source)) {
        if (ts_view_read_pcap(a->source, set, err, sizeof err) < 0) return fail("%s", err, NULL);
        return 0;
    }
    ts_scn *scn = load_scenario(a);
    if (!scn) return 2;
    ts_view_rec *rec = ts_view_rec_new(TS_VIEW_SIM);
    ts_sim_opts ho = {0};
    if (rec) ts_diagram_sim_hooks(&ho, rec);
    ho.hooks.observe = rec_observe;
    ho.hooks.observe_ctx = rec;
    int rc =
        rec ? run_scenario(a, scn, &ho.hooks, rec_ready, rec) : fail("out of memory", NULL, NULL);
    if (!rc && ts_view_rec_finish(rec, set, err, sizeof err) < 0) rc = fail("%s", err, NULL);
    ts_view_rec_free(rec);
    ts_scn_free(scn);
    return rc;
}

static int plot_tseq(const plot_args *a)
{
    ts_view_set set = {NULL, 0};
    int rc = load_views(a, &set);
    char err[300];
    const ts_view *v = NULL;
    if (!rc && !(v = ts_view_set_pick(&set, a->conn, err, sizeof err)))
        rc = fail("%s: %s", a->source, err);
    FILE *f = rc ? NULL : open_out(a);
    if (!rc && !f) rc = 2;
    if (!rc) {
        if (ts_plot_tseq(v, &a->po, f, NULL, err, sizeof err) < 0)
            rc = fail("%s: %s", a->source, err);
        rc = close_out(a, f, rc);
    }
    ts_view_set_free(&set);
    return rc;
}

int ts_cli_plot(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "sweep")) return ts_cli_plot_sweep(argc - 1, argv + 1);
    plot_args a;
    memset(&a, 0, sizeof a);
    ts_plot_opts_init(&a.po);
    a.sets = calloc((size_t)argc + 1, sizeof *a.sets);
    if (!a.sets) return 2;
    int rc = parse_args(argc, argv, &a);
    if (!rc) rc = a.kind == K_TSEQ ? plot_tseq(&a) : plot_state(&a);
    free(a.sets);
    return rc == 1 ? 0 : rc;
}
