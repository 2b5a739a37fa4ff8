/* cli_run.c: `tcpsim run FILE.scn`: load a scenario, run it in the virtual-time simulator
 * (sim/), print the packets as tcpdump does, then the connections and the expectations.
 * This file joins sim/ to what lives in tools/: pcap files, text traces and services. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "cli.h"
#include "diagram.h"
#include "evfan.h"
#include "series.h"
#include "services.h"
#include "sim.h"
#include "trace.h"

static void usage(FILE *f)
{
    fputs("usage: tcpsim run FILE.scn [--seed N] [--pcap FILE] [--trace] [--quiet]\n"
          "                           [-D NAME=VALUE]... [--set NAME=VALUE]...\n"
          "                           [--diagram OUT [--conn N]]\n"
          "                           [--series OUT.csv|OUT.jsonl [--series-events all]]\n"
          "\n"
          "Run a scenario in virtual time: a 31-second SYN timeout takes milliseconds and the\n"
          "same seed gives the same bytes. Prints every packet as tcpdump does, stamped with\n"
          "virtual seconds, then each connection and each expectation (held or not).\n"
          "\n"
          "  --seed N           seed for every random choice (overrides the file's 'seed')\n"
          "  --pcap FILE        write the packets to FILE (pcap, raw IPv4, virtual time);\n"
          "                     FILE.pcapng: each packet commented with why it was sent\n"
          "                     (\"RTO retransmission #1, rto 200 ms\") or the state change\n"
          "                     it caused: tshark -r FILE -Y frame.comment -T fields\n"
          "                     -e frame.comment\n"
          "  --trace            show state changes, timers, retransmissions and socket calls\n"
          "  --quiet            print only failed expectations and the verdict\n"
          "  -D NAME=VALUE      give the file's 'param NAME DEFAULT' this value (its ${NAME}),\n"
          "                     e.g. -D loss=2%; repeatable (tcpsim sweep varies them)\n"
          "  --set NAME=VALUE   set a stack parameter on every host, after the file's settings\n"
          "  --diagram OUT      draw the first connection's ladder into OUT (.txt, .svg,\n"
          "                     .html; '-' for text on stdout); --conn N or A:P picks another\n"
          "                     (see tcpsim diagram --help)\n"
          "  --series OUT.csv   one row per stack event with the sender's variables (cwnd,\n"
          "                     ssthresh, srtt, rto, ...); .jsonl for JSON lines; docs/series.md\n"
          "                     Leaves out a timer set or cancel that changes no variable\n"
          "  --series-events all  a row for those too: every event (e.g. to study timers)\n"
          "\n"
          "Exit status: 0 every expectation holds, 1 one does not, 2 a usage or file error.\n"
          "The scenario language: docs/scenarios.md; ready scenarios: sim/scenarios/.\n",
          f);
}

/* What watches every stack event: the annotated capture, and the services' fan-outs. */
typedef struct run_obs {
    ts_capture *cap;
    int *cap_stack; /* per scenario host: its index in the capture, -1 none */
    ts_evfan *fans[16];
    size_t nfans;
    ts_view_rec *rec;  /* --diagram */
    ts_series *series; /* --series: rows name their hosts as the scenario does */
    const ts_scn *scn;
} run_obs;

static void on_packet(void *ctx, ts_time_t t, const uint8_t *pkt, size_t len)
{
    run_obs *o = ctx;
    ts_capture_packet(o->cap, t, pkt, len);
}

static void on_observe(void *ctx, int host, ts_stack *s, const ts_event *ev)
{
    run_obs *o = ctx;
    if (o->cap_stack) ts_capture_event(o->cap, o->cap_stack[host], ev);
    if (o->nfans) ts_evfan_emit(ts_evfan_of(s), ev);
    if (o->rec) ts_view_rec_event(o->rec, host, ev);
    if (o->series) ts_series_event(o->series, s, o->scn->hosts[host].name, ev);
}

static bool on_settle(void *ctx)
{
    run_obs *o = ctx;
    bool any = false;
    for (size_t i = 0; i < o->nfans; i++)
        if (ts_evfan_active(o->fans[i])) {
            ts_evfan_settle(o->fans[i]);
            any = true;
        }
    return any;
}

static void on_event(void *ctx, FILE *out, const char *host, const ts_event *ev)
{
    (void)ctx;
    if (ev->type == TS_EV_SEG_IN || ev->type == TS_EV_SEG_OUT) return; /* printed already */
    char line[512];
    ts_trace_format(ev, true, line, sizeof line);
    fprintf(out, "       %s  (%s)\n", line, host);
}

static void *svc_start(void *ctx, ts_stack *s, const char *name, uint16_t port, char *err,
                       size_t errlen)
{
    run_obs *o = ctx; /* services may watch their stack's events (telnet's trace) */
    if (!ts_evfan_of(s) && o->nfans < sizeof o->fans / sizeof o->fans[0]) {
        ts_evfan *f = ts_evfan_attach(s, NULL, NULL);
        if (f) o->fans[o->nfans++] = f;
    }
    return ts_service_start(s, name, port, err, errlen);
}

static void svc_stop(void *ctx, void *svc)
{
    (void)ctx;
    ts_service_stop(svc);
}

typedef struct run_args {
    const char *file, *pcap, *series;
    ts_series_rows series_rows; /* --series-events */
    bool series_rows_set;
    ts_diagram_opts diagram;
    uint64_t seed;
    bool seed_set, trace, quiet;
    char **sets;
    size_t nsets;
    const char **defs; /* -D NAME=VALUE */
    size_t ndefs;
} run_args;

/* 0 ok, 1 --help shown, 2 usage error (message printed). */
static int parse_args(int argc, char **argv, run_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        bool has_next = i + 1 < argc;
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            usage(stdout);
            return 1;
        } else if (!strcmp(s, "--trace")) {
            a->trace = true;
        } else if (!strcmp(s, "--quiet") || !strcmp(s, "-q")) {
            a->quiet = true;
        } else if (!strcmp(s, "--seed")) {
            char *end;
            errno = 0;
            if (!has_next || !argv[i + 1][0] || argv[i + 1][0] == '-' ||
                (a->seed = strtoull(argv[i + 1], &end, 0), *end || errno)) {
                fprintf(stderr, "tcpsim run: --seed needs a number, e.g. --seed 42\n");
                return 2;
            }
            a->seed_set = true;
            i++;
        } else if (!strcmp(s, "--pcap")) {
            if (!has_next || !argv[i + 1][0]) {
                fprintf(stderr, "tcpsim run: --pcap needs a file name, e.g. --pcap run.pcap\n");
                return 2;
            }
            a->pcap = argv[++i];
        } else if (!strcmp(s, "--series")) {
            if (!has_next || !argv[i + 1][0]) {
                fprintf(stderr, "tcpsim run: --series needs a file name, e.g. --series run.csv\n");
                return 2;
            }
            a->series = argv[++i];
        } else if (!strcmp(s, "--series-events")) {
            if (!has_next || ts_series_rows_from_name(argv[i + 1], &a->series_rows) < 0) {
                fprintf(stderr, "tcpsim run: --series-events wants 'all' (every event) or "
                                "'changes' (the default), e.g. --series-events all\n");
                return 2;
            }
            a->series_rows_set = true;
            i++;
        } else if (!strcmp(s, "--diagram") || !strcmp(s, "--conn")) {
            if (!has_next || !argv[i + 1][0]) {
                fprintf(stderr, "tcpsim run: %s needs a value, e.g. %s\n", s,
                        s[2] == 'd' ? "--diagram close.svg" : "--conn 2");
                return 2;
            }
            *(s[2] == 'd' ? &a->diagram.out : &a->diagram.conn) = argv[++i];
        } else if (!strcmp(s, "--set")) {
            if (!has_next || !strchr(argv[i + 1], '=')) {
                fprintf(stderr, "tcpsim run: --set needs NAME=VALUE, e.g. --set delack=0\n");
                return 2;
            }
            a->sets[a->nsets++] = argv[++i];
        } else if (!strncmp(s, "-D", 2)) {
            const char *d = s[2] ? s + 2 : has_next ? argv[++i] : "";
            if (!strchr(d, '=') || d[0] == '=') {
                fprintf(stderr, "tcpsim run: -D needs NAME=VALUE, e.g. -D loss=2%%\n");
                return 2;
            }
            a->defs[a->ndefs++] = d;
        } else if (s[0] == '-' && s[1]) {
            fprintf(stderr, "tcpsim run: unknown option '%s'; try 'tcpsim run --help'\n", s);
            return 2;
        } else if (a->file) {
            fprintf(stderr, "tcpsim run: one scenario file at a time ('%s' and '%s')\n", a->file,
                    s);
            return 2;
        } else {
            a->file = s;
        }
    }
    if (a->diagram.conn && !a->diagram.out) {
        fprintf(stderr, "tcpsim run: --conn picks the connection --diagram draws; add "
                        "--diagram OUT\n");
        return 2;
    }
    if (a->series_rows_set && !a->series) {
        fprintf(stderr, "tcpsim run: --series-events chooses the rows --series writes; add "
                        "--series OUT.csv\n");
        return 2;
    }
    if (a->diagram.out && ts_diagram_check(&a->diagram, "tcpsim run: --diagram")) return 2;
    if (!a->file) {
        fprintf(stderr, "tcpsim run: which scenario? e.g. tcpsim run "
                        "sim/scenarios/chapter-close.scn (tcpsim run --help)\n");
        return 2;
    }
    return 0;
}

/* --set applies on top of every stack host's own settings. */
static int apply_sets(ts_scn *scn, const run_args *a)
{
    char err[256];
    for (size_t k = 0; k < a->nsets; k++)
        for (size_t i = 0; i < scn->nhosts; i++) {
            if (scn->hosts[i].peer) continue;
            if (ts_params_set_kv(&scn->hosts[i].params, a->sets[k], err, sizeof err) < 0) {
                fprintf(stderr, "tcpsim run: --set %s: %s\n", a->sets[k], err);
                return -1;
            }
        }
    return 0;
}

/* --diagram: after the report, so the run's own output stays as it was. */
static int write_diagram(ts_view_rec *rec, const ts_diagram_opts *d)
{
    char err[256];
    ts_view_set set;
    fflush(stdout);
    if (ts_view_rec_finish(rec, &set, err, sizeof err) < 0) {
        fprintf(stderr, "tcpsim run: --diagram: %s\n", err);
        return 2;
    }
    int rc = ts_diagram_write(&set, d, "tcpsim run: --diagram");
    ts_view_set_free(&set);
    return rc;
}

int ts_cli_run(int argc, char **argv)
{
    run_args a;
    memset(&a, 0, sizeof a);
    a.sets = calloc((size_t)argc + 1, sizeof *a.sets);
    a.defs = calloc((size_t)argc + 1, sizeof *a.defs);
    if (!a.sets || !a.defs) {
        free(a.sets);
        free(a.defs);
        return 2;
    }
    int rc = parse_args(argc, argv, &a);
    if (rc) {
        free(a.sets);
        free(a.defs);
        return rc == 1 ? 0 : 2;
    }
    char err[600];
    ts_scn_parse_opts po = {ts_service_known, a.defs, a.ndefs};
    ts_scn *scn = ts_scn_load(a.file, &po, err, sizeof err);
    if (!scn) {
        fprintf(stderr, "%s\n", err);
        free(a.sets);
        free(a.defs);
        return 2;
    }
    run_obs obs = {0};
    ts_sim *w = NULL;
    rc = 2;
    if (apply_sets(scn, &a) < 0) goto out;
    if (a.pcap && !(obs.cap = ts_capture_open(a.pcap, err, sizeof err))) {
        fprintf(stderr, "tcpsim run: %s\n", err);
        goto out;
    }
    if (ts_capture_annotated(obs.cap)) { /* pcapng: every stack's events explain packets */
        obs.cap_stack = calloc(scn->nhosts + 1, sizeof *obs.cap_stack);
        for (size_t i = 0; obs.cap_stack && i < scn->nhosts; i++)
            obs.cap_stack[i] =
                scn->hosts[i].peer
                    ? -1
                    : ts_capture_add_stack(obs.cap, scn->hosts[i].name, scn->hosts[i].addr);
    }
    obs.scn = scn;
    if (a.series && !(obs.series = ts_series_open(a.series, 0, a.series_rows, err, sizeof err))) {
        fprintf(stderr, "tcpsim run: %s\n", err);
        goto out;
    }
    static char obuf[1 << 16];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    ts_sim_opts o = {
        .seed = a.seed, .seed_set = a.seed_set, .out = stdout, .quiet = a.quiet, .trace = a.trace};
    o.hooks.service_known = ts_service_known;
    o.hooks.service_start = svc_start;
    o.hooks.service_stop = svc_stop;
    o.hooks.service_ctx = &obs;
    if (obs.cap) {
        o.hooks.packet = on_packet;
        o.hooks.packet_ctx = &obs;
    }
    o.hooks.observe = on_observe;
    o.hooks.observe_ctx = &obs;
    o.hooks.settle = on_settle;
    o.hooks.settle_ctx = &obs;
    o.hooks.event = on_event;
    if (a.diagram.out) {
        if (!(obs.rec = ts_view_rec_new(TS_VIEW_SIM))) goto out;
        ts_diagram_sim_hooks(&o, obs.rec);
    }
    w = ts_sim_create(scn, &o, err, sizeof err);
    if (!w) {
        fprintf(stderr, "%s\n", err);
        goto out;
    }
    if (obs.rec && ts_diagram_sim_hosts(obs.rec, w) < 0) goto out;
    ts_sim_run(w);
    rc = ts_sim_report(w);
    if (obs.rec) {
        int drc = write_diagram(obs.rec, &a.diagram);
        if (drc) rc = drc;
    }
out:
    ts_view_rec_free(obs.rec);
    ts_sim_destroy(w);
    if (obs.cap && ts_capture_close(obs.cap) < 0 && rc != 2) {
        fprintf(stderr, "tcpsim run: --pcap %s: writing failed (disk full?)\n", a.pcap);
        rc = 2;
    }
    if (obs.series && ts_series_close(obs.series, err, sizeof err) < 0) {
        fprintf(stderr, "tcpsim run: %s\n", err);
        rc = 2;
    }
    free(obs.cap_stack);
    for (size_t i = 0; i < obs.nfans; i++) ts_evfan_detach(obs.fans[i]);
    fflush(stdout);
    ts_scn_free(scn);
    free(a.sets);
    free(a.defs);
    return rc;
}
