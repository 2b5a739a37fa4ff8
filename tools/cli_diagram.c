/* cli_diagram.c: `tcpsim diagram SOURCE`: the ladder (sequence) diagram of one connection,
 * from a scenario (run quietly in the simulator and recorded from the stacks' events) or
 * from a capture (read with libpcap). Also the pieces `run --diagram` and `tun --diagram`
 * share (diagram.h): the recorder on the simulator's hooks, and writing the picture. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli.h"
#include "diagram.h"
#include "services.h"
#include "view_pcap.h"

static void usage(FILE *f)
{
    fputs("usage: tcpsim diagram SOURCE [-o OUT] [--format text|svg|html] [--conn N|ADDR:PORT]\n"
          "                      [--relative] [--ascii] [--seed N] [--set NAME=VALUE]...\n"
          "\n"
          "Draw one TCP connection as a ladder (sequence) diagram, the way the founding\n"
          "chapter draws its captures: a lifeline per end, an arrow per segment sloped by its\n"
          "real flight time, long idle gaps compressed and labelled, each end's TCP state at\n"
          "every change, timers, losses (an arrow that ends in a cross) and retransmissions\n"
          "with their cause. In text, where more segments were in flight than the columns\n"
          "can slope apart (a bulk transfer), each is drawn as one row, and a caption says so.\n"
          "\n"
          "SOURCE is a scenario (FILE.scn: run quietly in the simulator; states, timers and\n"
          "causes are the stacks' own) or a capture (anything else: pcap or pcapng from\n"
          "tcpdump or Wireshark; raw IP, Ethernet, Linux cooked or loopback). A capture shows\n"
          "only the wire at one tap: its states are inferred from the segments and marked so,\n"
          "it has no timers, and the far end's times are estimated from the round trips seen.\n"
          "\n"
          "  -o OUT             write to OUT; its extension picks the format (.txt .svg .html)\n"
          "  --format F         text (the default, to stdout), svg or html\n"
          "  --conn N|A:P       which connection: the Nth (from 1) or the one with an end at\n"
          "                     address A port P; the default is the first\n"
          "  --relative         sequence numbers relative to each end's ISN\n"
          "  --ascii            text: plain ASCII instead of UTF-8 box drawing\n"
          "  --seed N, --set NAME=VALUE   a scenario's seed and stack parameters (as for run)\n"
          "\n"
          "examples:\n"
          "  tcpsim diagram sim/scenarios/chapter-close.scn          # the chapter's close\n"
          "  tcpsim diagram sim/scenarios/chapter-close.scn --set delack=0   # 7 segments\n"
          "  tcpsim diagram sim/scenarios/connect-timeout.scn -o timeout.svg # 1, 2, 4, 8 s\n"
          "  tcpsim run sim/scenarios/chapter-close.scn --pcap close.pcap\n"
          "  tcpsim diagram close.pcap --relative                   # the same, from the wire\n"
          "  sudo tcpdump -i any -w web.pcap port 80; tcpsim diagram web.pcap --conn 2\n"
          "  tcpsim diagram web.pcap --conn 10.0.0.1:80 -o web.html # step through it\n"
          "\n"
          "Exit status: 0 drawn, 2 a usage error or a source that cannot be read (one line\n"
          "says which: not a capture, truncated, empty, no TCP, no such --conn).\n",
          f);
}

/* ---- shared with run --diagram and tun --diagram ---- */

int ts_diagram_format_parse(const char *name, ts_ladder_format *out)
{
    if (!strcasecmp(name, "text") || !strcasecmp(name, "txt"))
        *out = TS_LADDER_TEXT;
    else if (!strcasecmp(name, "svg"))
        *out = TS_LADDER_SVG;
    else if (!strcasecmp(name, "html"))
        *out = TS_LADDER_HTML;
    else
        return -1;
    return 0;
}

static void on_observe(void *ctx, int host, ts_stack *s, const ts_event *ev)
{
    (void)s;
    ts_view_rec_event(ctx, host, ev);
}

/* The first copy that arrives whole is the segment's arrival; copies the link corrupted
 * reach the host but its checksum throws them away. */
static void on_fate(void *ctx, const ts_sim_fate *f)
{
    ts_time_t arrive = TS_TIME_NEVER;
    for (unsigned c = 0; c < f->ncopies && c < 2; c++)
        if (!f->corrupt[c] && f->arrive[c] < arrive) arrive = f->arrive[c];
    const char *lost = f->ncopies ? "corrupted on the link" : f->lost;
    ts_view_rec_packet(ctx, f->no, f->from, f->t, f->pkt, f->len, arrive, lost);
}

static void on_arrived(void *ctx, uint64_t no, int host, ts_time_t t)
{
    ts_view_rec_arrived(ctx, no, host, t);
}

void ts_diagram_sim_hooks(ts_sim_opts *o, ts_view_rec *rec)
{
    o->hooks.fate = on_fate;
    o->hooks.arrived = on_arrived;
    o->hooks.rec_ctx = rec;
}

int ts_diagram_sim_hosts(ts_view_rec *rec, const ts_sim *w)
{
    for (size_t i = 0; i < ts_sim_nhosts(w); i++)
        if (ts_view_rec_host(rec, (int)i, ts_sim_host_name(w, i), ts_sim_host_addr(w, i),
                             ts_sim_host_stack(w, i)) < 0)
            return -1;
    return 0;
}

static bool to_stdout(const ts_diagram_opts *d)
{
    return !d->out || !strcmp(d->out, "-");
}

static int resolve_format(const ts_diagram_opts *d, ts_ladder_format *fmt, const char *cmd)
{
    *fmt = TS_LADDER_TEXT;
    if (d->format_set) {
        *fmt = d->format;
    } else if (!to_stdout(d) && ts_ladder_format_from_name(d->out, fmt) < 0) {
        fprintf(stderr,
                "%s: %s: which format? name it .txt, .svg or .html, or give --format "
                "text|svg|html\n",
                cmd, d->out);
        return 2;
    }
    return 0;
}

int ts_diagram_check(const ts_diagram_opts *d, const char *cmd)
{
    ts_ladder_format fmt;
    return resolve_format(d, &fmt, cmd);
}

/* No half-written picture left behind, but only a regular file is ours to remove: -o
 * /dev/full or /dev/null (or a link to one) names something that must stay. */
static void remove_partial(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) == 0 && S_ISREG(sb.st_mode)) remove(path);
}

int ts_diagram_write(const ts_view_set *set, const ts_diagram_opts *d, const char *cmd)
{
    char err[512];
    ts_ladder_opts lo;
    ts_ladder_opts_init(&lo);
    if (resolve_format(d, &lo.format, cmd)) return 2;
    lo.relative = d->relative;
    lo.ascii = d->ascii;
    const ts_view *v = ts_view_set_pick(set, d->conn, err, sizeof err);
    if (!v) {
        fprintf(stderr, "%s: %s\n", cmd, err);
        return 2;
    }
    FILE *f = to_stdout(d) ? stdout : fopen(d->out, "w");
    if (!f) {
        fprintf(stderr, "%s: cannot write %s: %s\n", cmd, d->out, strerror(errno));
        return 2;
    }
    int rc = ts_ladder_write(v, &lo, f, err, sizeof err);
    if (f != stdout && fclose(f) != 0 && rc == 0) {
        snprintf(err, sizeof err, "cannot write %s: %s", d->out, strerror(errno));
        rc = -1;
    }
    if (rc < 0) {
        if (f != stdout) remove_partial(d->out);
        fprintf(stderr, "%s: %s\n", cmd, err);
        return 2;
    }
    return 0;
}

/* ---- tcpsim diagram ---- */

typedef struct diag_args {
    const char *source;
    ts_diagram_opts d;
    uint64_t seed;
    bool seed_set;
    char **sets;
    size_t nsets;
} diag_args;

#define CMD "tcpsim diagram"

static int need(int i, int argc, char **argv, const char *example)
{
    if (i + 1 < argc && argv[i + 1][0]) return 0;
    fprintf(stderr, CMD ": %s needs a value, e.g. %s\n", argv[i], example);
    return 2;
}

/* 0 to draw, 1 after --help, 2 on a usage error (reported). */
static int parse_args(int argc, char **argv, diag_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            usage(stdout);
            return 1;
        } else if (!strcmp(s, "-o") || !strcmp(s, "--output")) {
            if (need(i, argc, argv, "-o close.svg")) return 2;
            a->d.out = argv[++i];
        } else if (!strcmp(s, "--format")) {
            if (need(i, argc, argv, "--format svg")) return 2;
            if (ts_diagram_format_parse(argv[++i], &a->d.format) < 0) {
                fprintf(stderr, CMD ": --format %s: use text, svg or html\n", argv[i]);
                return 2;
            }
            a->d.format_set = true;
        } else if (!strcmp(s, "--conn")) {
            if (need(i, argc, argv, "--conn 2 or --conn 10.0.0.1:80")) return 2;
            a->d.conn = argv[++i];
        } else if (!strcmp(s, "--relative")) {
            a->d.relative = true;
        } else if (!strcmp(s, "--ascii")) {
            a->d.ascii = true;
        } else if (!strcmp(s, "--seed")) {
            char *end;
            errno = 0;
            if (need(i, argc, argv, "--seed 42")) return 2;
            a->seed = strtoull(argv[++i], &end, 0);
            if (*end || errno || argv[i][0] == '-') {
                fprintf(stderr, CMD ": --seed needs a number, e.g. --seed 42\n");
                return 2;
            }
            a->seed_set = true;
        } else if (!strcmp(s, "--set")) {
            if (i + 1 >= argc || !strchr(argv[i + 1], '=')) {
                fprintf(stderr, CMD ": --set needs NAME=VALUE, e.g. --set delack=0\n");
                return 2;
            }
            a->sets[a->nsets++] = argv[++i];
        } else if (s[0] == '-' && s[1]) {
            fprintf(stderr, CMD ": unknown option '%s'; try '" CMD " --help'\n", s);
            return 2;
        } else if (a->source) {
            fprintf(stderr, CMD ": one source at a time ('%s' and '%s')\n", a->source, s);
            return 2;
        } else {
            a->source = s;
        }
    }
    if (!a->source) {
        fprintf(stderr, CMD ": what to draw? e.g. " CMD " sim/scenarios/chapter-close.scn or " CMD
                            " capture.pcap (" CMD " --help)\n");
        return 2;
    }
    return 0;
}

static bool is_scenario(const char *path)
{
    size_t n = strlen(path);
    return n > 4 && !strcmp(path + n - 4, ".scn");
}

/* Run the scenario quietly with the recorder on; 0 with the connections in set, or 2. */
static int record_scenario(const diag_args *a, ts_view_set *set)
{
    char err[600];
    ts_scn_parse_opts po = {.service_known = ts_service_known};
    ts_scn *scn = ts_scn_load(a->source, &po, err, sizeof err);
    if (!scn) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    int rc = 2;
    ts_sim *w = NULL;
    ts_view_rec *rec = ts_view_rec_new(TS_VIEW_SIM);
    for (size_t k = 0; k < a->nsets; k++)
        for (size_t i = 0; i < scn->nhosts; i++)
            if (!scn->hosts[i].peer &&
                ts_params_set_kv(&scn->hosts[i].params, a->sets[k], err, sizeof err) < 0) {
                fprintf(stderr, CMD ": --set %s: %s\n", a->sets[k], err);
                goto out;
            }
    if (!rec) {
        fprintf(stderr, CMD ": out of memory\n");
        goto out;
    }
    ts_sim_opts o = {.seed = a->seed, .seed_set = a->seed_set, .out = stderr, .quiet = true};
    o.hooks.service_known = ts_service_known;
    o.hooks.service_start = ts_service_hook_start;
    o.hooks.service_stop = ts_service_hook_stop;
    ts_diagram_sim_hooks(&o, rec);
    o.hooks.observe = on_observe;
    o.hooks.observe_ctx = rec;
    w = ts_sim_create(scn, &o, err, sizeof err);
    if (!w) {
        fprintf(stderr, "%s\n", err);
        goto out;
    }
    if (ts_diagram_sim_hosts(rec, w) < 0) {
        fprintf(stderr, CMD ": out of memory\n");
        goto out;
    }
    ts_sim_run(w);
    if (ts_view_rec_finish(rec, set, err, sizeof err) < 0) {
        fprintf(stderr, CMD ": %s\n", err);
        goto out;
    }
    rc = 0;
out:
    ts_sim_destroy(w);
    ts_view_rec_free(rec);
    ts_scn_free(scn);
    return rc;
}

int ts_cli_diagram(int argc, char **argv)
{
    diag_args a;
    memset(&a, 0, sizeof a);
    a.sets = calloc((size_t)argc + 1, sizeof *a.sets);
    if (!a.sets) return 2;
    int rc = parse_args(argc, argv, &a);
    if (rc || (rc = ts_diagram_check(&a.d, CMD))) {
        free(a.sets);
        return rc == 1 ? 0 : 2;
    }
    ts_view_set set = {NULL, 0};
    if (is_scenario(a.source)) {
        rc = record_scenario(&a, &set);
    } else if (a.seed_set || a.nsets) {
        fprintf(stderr, CMD ": --seed and --set are for scenarios; %s is read as a capture\n",
                a.source);
        rc = 2;
    } else {
        /* The text ladder does not show the segments' tcpdump lines (SVG and HTML do). */
        char err[600];
        ts_ladder_format fmt;
        resolve_format(&a.d, &fmt, CMD);
        unsigned flags = fmt == TS_LADDER_TEXT ? TS_VREAD_NO_LINES : 0;
        rc = ts_view_read_pcap_flags(a.source, flags, &set, err, sizeof err);
        if (rc < 0) {
            fprintf(stderr, CMD ": %s\n", err);
            rc = 2;
        }
    }
    if (!rc) rc = ts_diagram_write(&set, &a.d, CMD);
    ts_view_set_free(&set);
    free(a.sets);
    return rc;
}
