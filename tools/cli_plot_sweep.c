/* cli_plot_sweep.c: `tcpsim plot sweep RESULTS.csv --x PARAM --y COLUMN [--by PARAM]
 * -o OUT.svg`: read a sweep's rows, group them by the --by param and the --x param, take
 * the median over the seeds (and over nothing else: every other param must hold one
 * value, chosen with --where), its 95% confidence interval from order statistics, and
 * draw them (tools/view/plot_sweep.c); the numbers drawn go to OUT.points.csv beside it. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "plot_sweep.h"
#include "sweep.h"

static void usage(FILE *f)
{
    fputs("usage: tcpsim plot sweep RESULTS.csv --x PARAM --y COLUMN [--by PARAM]\n"
          "                         [--where PARAM=VALUE]... -o OUT.svg\n"
          "\n"
          "Draw a sweep (tcpsim sweep): one line per value of --by, at each value of --x the\n"
          "median of --y over the seeds, with a shaded band for the 95% confidence interval\n"
          "of that median (order statistics: distribution-free, no normality assumed).\n"
          "The numbers drawn are written beside the picture, to OUT.points.csv.\n"
          "\n"
          "  --x PARAM          a varied param with numeric values (2%, 40ms, 8 ...)\n"
          "  --y COLUMN         a measured column (docs/sweeps.md): goodput_mbps,\n"
          "                     completion_s, rexmit_rto, spurious_rexmit, ... (goodput,\n"
          "                     completion: the unit suffix may be left out)\n"
          "  --by PARAM[,PARAM] one line per value, or per combination (at most 8)\n"
          "  --where PARAM=V    keep only rows with that value (a param neither x nor by\n"
          "                     that the sweep varied must be pinned this way)\n"
          "\n"
          "example:\n"
          "  tcpsim plot sweep rto.csv --x burst_start --y completion_s --by rto,rto_min \\\n"
          "      -o rto.svg\n"
          "Exit status: 0 drawn, 2 a usage or file error (one line on stderr).\n",
          f);
}

typedef struct ps_args {
    const char *in, *out, *x, *y, *by;
    const char *where[16];
    size_t nwhere;
} ps_args;

#define PS_FAIL(...)                                                                               \
    do {                                                                                           \
        fprintf(stderr, "tcpsim plot sweep: " __VA_ARGS__);                                        \
        return 2;                                                                                  \
    } while (0)

static int parse_args(int argc, char **argv, ps_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            usage(stdout);
            return 1;
        }
        const char **slot = !strcmp(s, "--x")    ? &a->x
                            : !strcmp(s, "--y")  ? &a->y
                            : !strcmp(s, "--by") ? &a->by
                            : !strcmp(s, "-o")   ? &a->out
                                                 : NULL;
        if (slot || !strcmp(s, "--where")) {
            if (!v) PS_FAIL("%s needs a value; see tcpsim plot sweep --help\n", s);
            i++;
            if (slot) {
                *slot = v;
            } else {
                if (!strchr(v, '=') || a->nwhere == 16)
                    PS_FAIL("--where '%s': write PARAM=VALUE, e.g. --where cc=cubic\n", v);
                a->where[a->nwhere++] = v;
            }
        } else if (s[0] == '-' && s[1]) {
            PS_FAIL("unknown option '%s'; try 'tcpsim plot sweep --help'\n", s);
        } else if (a->in) {
            PS_FAIL("one results file at a time ('%s' and '%s')\n", a->in, s);
        } else {
            a->in = s;
        }
    }
    if (!a->in)
        PS_FAIL("which results? e.g. tcpsim plot sweep r.csv --x loss --y goodput -o g.svg\n");
    if (!a->x || !a->y) PS_FAIL("say what to draw: --x PARAM and --y COLUMN\n");
    if (!a->out) PS_FAIL("where does the picture go? add -o OUT.svg\n");
    return 0;
}

/* A number with a unit suffix: "2.5%" -> 2.5, "%". */
static bool split_number(const char *s, double *v, const char **unit)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    if (end == s || errno || !isfinite(*v)) return false;
    *unit = end;
    return true;
}

/* Axis title and scale for a measured column, from its name's suffix. */
static void y_title(const char *col, double ymax, char *buf, size_t len, double *scale)
{
    size_t n = strlen(col);
    *scale = 1.0;
    if (n > 2 && !strcmp(col + n - 2, "_s")) {
        bool ms = ymax < 2.0;
        *scale = ms ? 1e3 : 1.0;
        snprintf(buf, len, "%.*s (%s)", (int)(n - 2), col, ms ? "ms" : "s");
    } else if (n > 5 && !strcmp(col + n - 5, "_mbps")) {
        snprintf(buf, len, "%.*s (Mbit/s)", (int)(n - 5), col);
    } else if (strstr(col, "bytes")) {
        snprintf(buf, len, "%s (bytes)", col);
    } else if (!strcmp(col, "expect_ok") || !strcmp(col, "whole")) {
        snprintf(buf, len, "%s (1 yes, 0 no)", col);
    } else {
        snprintf(buf, len, "%s (per run)", col);
    }
}

typedef struct ps_data {
    ts_csv c;
    int xcol, ycol;
    int bycols[4]; /* --by A[,B...] */
    size_t nby;
    char **bykey;   /* per row: "A=a, B=b", the line it belongs to */
    size_t nparams; /* the param columns come before seed */
    bool *keep;     /* rows that pass --where */
} ps_data;

/* The columns, --where, and the rule that every other varied param holds one value. */
static int check_columns(const ps_args *a, ps_data *d)
{
    ts_csv *c = &d->c;
    int seed = ts_csv_col(c, "seed");
    if (seed < 0 || ts_csv_col(c, "runs") < 0)
        PS_FAIL("%s: no seed and runs columns: not a tcpsim sweep results file\n", a->in);
    d->nparams = (size_t)seed;
    d->xcol = ts_csv_col(c, a->x);
    if (d->xcol < 0 || d->xcol >= seed)
        PS_FAIL("--x %s: not a param of this sweep (its params are the columns before seed)\n",
                a->x);
    for (const char *b = a->by; b && *b;) {
        size_t n = strcspn(b, ",");
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)n, b);
        int col = ts_csv_col(c, name);
        if (col < 0 || col >= seed || col == d->xcol || d->nby == 4)
            PS_FAIL("--by %s: not another param of this sweep (at most 4)\n", name);
        d->bycols[d->nby++] = col;
        b += n + (b[n] == ',');
    }
    d->ycol = ts_csv_col(c, a->y);
    static const char *const suffix[] = {"_s", "_mbps"};
    for (size_t k = 0; d->ycol < 0 && k < 2; k++) {
        char name[128];
        snprintf(name, sizeof name, "%s%s", a->y, suffix[k]);
        d->ycol = ts_csv_col(c, name);
    }
    if (d->xcol < 0 || d->xcol >= seed)
        PS_FAIL("--x %s: not a param of this sweep (its params are the columns before seed)\n",
                a->x);
    if (d->ycol <= seed + 2) PS_FAIL("--y %s: no such measured column (docs/sweeps.md)\n", a->y);
    d->keep = calloc(c->nrows + 1, sizeof *d->keep);
    if (!d->keep) PS_FAIL("out of memory\n");
    for (size_t r = 0; r < c->nrows; r++) {
        d->keep[r] = true;
        for (size_t w = 0; w < a->nwhere; w++) {
            size_t n = strcspn(a->where[w], "=");
            char name[128];
            snprintf(name, sizeof name, "%.*s", (int)n, a->where[w]);
            int col = ts_csv_col(c, name);
            if (col < 0 || col >= seed) PS_FAIL("--where %s: not a param of this sweep\n", name);
            if (strcmp(c->rows[r][col], a->where[w] + n + 1)) d->keep[r] = false;
        }
    }
    for (size_t col = 0; col < d->nparams; col++) {
        bool by = false;
        for (size_t k = 0; k < d->nby; k++) by |= (int)col == d->bycols[k];
        if ((int)col == d->xcol || by) continue;
        const char *first = NULL;
        for (size_t r = 0; r < c->nrows; r++) {
            if (!d->keep[r]) continue;
            if (!first) first = c->rows[r][col];
            if (strcmp(first, c->rows[r][col]))
                PS_FAIL("%s takes several values here (%s, %s, ...); pick one with --where "
                        "%s=%s\n",
                        c->hdr[col], first, c->rows[r][col], c->hdr[col], first);
        }
    }
    return 0;
}

/* Each kept row's line: its --by values as "A=a, B=b" ("all" without --by). */
static int make_keys(ps_data *d)
{
    d->bykey = calloc(d->c.nrows + 1, sizeof *d->bykey);
    if (!d->bykey) PS_FAIL("out of memory\n");
    for (size_t r = 0; r < d->c.nrows; r++) {
        char key[512] = "all";
        size_t n = 0;
        for (size_t k = 0; k < d->nby && n < sizeof key; k++)
            n += (size_t)snprintf(key + n, sizeof key - n, "%s%s=%s", k ? ", " : "",
                                  d->c.hdr[d->bycols[k]], d->c.rows[r][d->bycols[k]]);
        if (!(d->bykey[r] = strdup(key))) PS_FAIL("out of memory\n");
    }
    return 0;
}

/* Distinct values of a column (-1: the line keys) among the kept rows, in order of first
 * appearance; rep[k] the first row with value k (may be NULL). */
static size_t distinct(const ps_data *d, int col, const char **out, size_t *rep, size_t max)
{
    size_t n = 0;
    for (size_t r = 0; r < d->c.nrows; r++) {
        if (!d->keep[r]) continue;
        const char *v = col >= 0 ? d->c.rows[r][col] : d->bykey[r];
        size_t k = 0;
        while (k < n && strcmp(out[k], v)) k++;
        if (k == n && n < max) {
            if (rep) rep[n] = r;
            out[n++] = v;
        }
    }
    return n;
}

static int cmp_point(const void *a, const void *b)
{
    double x = ((const ts_sweep_mark *)a)->x, y = ((const ts_sweep_mark *)b)->x;
    return x < y ? -1 : x > y;
}

/* One line: for each x value, the y values of the kept rows with that by value. */
static int build_line(const ps_data *d, const char *byv, const char **xs, size_t nx,
                      ts_sweep_curve *l, double *vals, double *min_cov)
{
    l->pts = calloc(nx, sizeof *l->pts);
    if (!l->pts) return -1;
    for (size_t i = 0; i < nx; i++) {
        size_t n = 0;
        for (size_t r = 0; r < d->c.nrows; r++) {
            char **f = d->c.rows[r];
            if (!d->keep[r] || strcmp(f[d->xcol], xs[i]) || strcmp(d->bykey[r], byv)) continue;
            char *end;
            double v = strtod(f[d->ycol], &end);
            if (end != f[d->ycol] && !*end && isfinite(v)) vals[n++] = v; /* empty: no value */
        }
        if (!n) continue;
        ts_sweep_mark *pt = &l->pts[l->npts++];
        const char *unit;
        split_number(xs[i], &pt->x, &unit);
        pt->n = n;
        double cov;
        ts_median_ci(vals, n, &pt->med, &pt->lo, &pt->hi, &cov);
        if (cov < *min_cov) *min_cov = cov;
    }
    qsort(l->pts, l->npts, sizeof *l->pts, cmp_point);
    return 0;
}

static int write_numbers(const char *path, const ps_args *a, const ps_data *d,
                         const ts_sweep_curve *lines, size_t nl, const size_t *rep)
{
    FILE *f = fopen(path, "w");
    if (!f) PS_FAIL("%s: %s\n", path, strerror(errno));
    for (size_t k = 0; k < d->nby; k++) fprintf(f, "%s,", d->c.hdr[d->bycols[k]]);
    fprintf(f, "%s,y,n,median,ci_low,ci_high\n", a->x);
    for (size_t k = 0; k < nl; k++)
        for (size_t i = 0; i < lines[k].npts; i++) {
            const ts_sweep_mark *p = &lines[k].pts[i];
            for (size_t b = 0; b < d->nby; b++) {
                char v[512];
                size_t pos = 0;
                ts_csv_put(v, sizeof v, &pos, d->c.rows[rep[k]][d->bycols[b]], true);
                fprintf(f, "%s,", v);
            }
            fprintf(f, "%.9g,%s,%zu,%.9g,%.9g,%.9g\n", p->x, d->c.hdr[d->ycol], p->n, p->med, p->lo,
                    p->hi);
        }
    if (fclose(f) != 0) PS_FAIL("%s: writing failed\n", path);
    return 0;
}

/* Group, compute, draw, write the numbers. */
static int draw(const ps_args *a, ps_data *d)
{
    const char *xs[4096], *bys[9];
    size_t rep[9];
    size_t nx = distinct(d, d->xcol, xs, NULL, 4096), nb = distinct(d, -1, bys, rep, 9);
    if (nb > 8) PS_FAIL("--by %s has more than 8 values; pin some with --where\n", a->by);
    const char *unit0 = NULL, *unit;
    for (size_t i = 0; i < nx; i++) {
        double v;
        if (!split_number(xs[i], &v, &unit))
            PS_FAIL("--x %s: '%s' is not a number; put that param in --by\n", a->x, xs[i]);
        if (unit0 && strcmp(unit0, unit))
            PS_FAIL("--x %s: the values mix units ('%s' and '%s')\n", a->x, unit0, unit);
        unit0 = unit;
    }
    ts_sweep_curve lines[8] = {{0}};
    double *vals = malloc((d->c.nrows + 1) * sizeof *vals), min_cov = 1, ymax = 0;
    int rc = vals ? 0 : 2;
    for (size_t k = 0; !rc && k < nb; k++) {
        lines[k].label = bys[k];
        if (build_line(d, bys[k], xs, nx, &lines[k], vals, &min_cov) < 0) rc = 2;
        for (size_t i = 0; i < lines[k].npts; i++) ymax = fmax(ymax, lines[k].pts[i].hi);
    }
    char xt[160], yt[160], title[300], cap0[300], cap1[300];
    double ys;
    snprintf(xt, sizeof xt, unit0 && *unit0 ? "%s (%s)" : "%s", a->x, unit0);
    y_title(d->c.hdr[d->ycol], ymax, yt, sizeof yt, &ys);
    snprintf(title, sizeof title, "%s against %s%s%s", d->c.hdr[d->ycol], a->x,
             a->by ? ", by " : "", a->by ? a->by : "");
    snprintf(cap0, sizeof cap0,
             "Each point: the median over the seeds; band: its 95%% confidence interval from "
             "order statistics (binomial ranks, distribution-free)%s.",
             min_cov < 0.95 ? "; too few seeds for 95% at some points: band = min..max" : "");
    const char *caps[] = {cap0, cap1};
    ts_sweep_plot sp = {title, xt, yt, ys, lines, nb, caps, 2};
    char csv[4096], err[256];
    size_t ol = strlen(a->out);
    snprintf(csv, sizeof csv, "%.*s.points.csv",
             (int)(ol > 4 && !strcmp(a->out + ol - 4, ".svg") ? ol - 4 : ol), a->out);
    const char *bin = strrchr(a->in, '/'), *bcsv = strrchr(csv, '/');
    snprintf(cap1, sizeof cap1, "From %.120s; seeds per point and the numbers drawn: %.120s",
             bin ? bin + 1 : a->in, bcsv ? bcsv + 1 : csv);
    struct stat si, sc;
    if (!rc && stat(a->in, &si) == 0 && stat(csv, &sc) == 0 && si.st_ino == sc.st_ino &&
        si.st_dev == sc.st_dev) {
        fprintf(stderr,
                "tcpsim plot sweep: -o %s would write its numbers over %s; name the "
                "picture otherwise, e.g. -o %.*s-plot.svg\n",
                a->out, a->in, (int)(strlen(csv) - 11), csv);
        rc = 2;
    }
    FILE *f = rc ? NULL : fopen(a->out, "w");
    if (!rc && !f) {
        fprintf(stderr, "tcpsim plot sweep: %s: %s\n", a->out, strerror(errno));
        rc = 2;
    }
    if (f && ts_plot_sweep(&sp, f, err, sizeof err) < 0) {
        fprintf(stderr, "tcpsim plot sweep: %s: %s\n", a->in, err);
        rc = 2;
    }
    if (f && fclose(f) != 0 && !rc) {
        fprintf(stderr, "tcpsim plot sweep: -o %s: writing failed: %s\n", a->out, strerror(errno));
        rc = 2;
    }
    if (!rc) rc = write_numbers(csv, a, d, lines, nb, rep);
    for (size_t k = 0; k < nb; k++) free(lines[k].pts);
    free(vals);
    return rc;
}

int ts_cli_plot_sweep(int argc, char **argv)
{
    ps_args a;
    memset(&a, 0, sizeof a);
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc == 1 ? 0 : 2;
    ps_data d;
    memset(&d, 0, sizeof d);
    char err[600];
    if (ts_csv_read(a.in, &d.c, err, sizeof err) < 0) {
        fprintf(stderr, "tcpsim plot sweep: %s\n", err);
        rc = 2;
    }
    if (!rc) rc = check_columns(&a, &d);
    if (!rc) rc = make_keys(&d);
    if (!rc) rc = draw(&a, &d);
    for (size_t r = 0; d.bykey && r < d.c.nrows; r++) free(d.bykey[r]);
    free(d.bykey);
    free(d.keep);
    ts_csv_free(&d.c);
    return rc;
}
