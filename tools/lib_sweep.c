/* lib_sweep.c: a sweep's grid and its results CSV (sweep.h). The grid is the product of
 * the --vary values (the first --vary outermost) with the seeds innermost, numbered from
 * 0 in that order; shard K of N holds the runs i with i % N == K - 1, so that every shard
 * gets a share of every combination. The CSV is RFC 4180: comma-separated, a header line,
 * fields quoted only when they must be, LF line ends. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sweep.h"

const char *const ts_sweep_columns[] = {
    "expect_ok",       "expect_failed",  "completion_s",    "goodput_mbps",   "bytes_offered",
    "bytes_delivered", "whole",          "segs_sent",       "rexmit",         "rexmit_rto",
    "rexmit_fast",     "rexmit_partial", "rexmit_tlp",      "rexmit_rack",    "rexmit_probe",
    "rexmit_syn",      "rto_expiries",   "spurious_rexmit", "spurious_bytes", "max_backoff",
    "max_rto_s",       "recovery_s",     "rto_recovery_s",  "connect_s",      "connect_failures",
    "end_s",           "packets",        "pure_acks",
};
const size_t ts_sweep_ncolumns = sizeof ts_sweep_columns / sizeof ts_sweep_columns[0];

/* ---- the grid --------------------------------------------------------------------------- */

static bool good_value(const char *v)
{
    if (!*v) return false;
    for (; *v; v++)
        if (iscntrl((unsigned char)*v)) return false;
    return true;
}

int ts_sweep_add_vary(ts_sweep_grid *g, const char *arg, char *err, size_t errlen)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || !eq[1]) {
        snprintf(err, errlen, "--vary '%s': write NAME=V1,V2,..., e.g. --vary loss=0%%,1%%,2%%",
                 arg);
        return -1;
    }
    size_t nlen = (size_t)(eq - arg);
    for (size_t i = 0; i < g->nvars; i++)
        if (strlen(g->vars[i].name) == nlen && !strncmp(g->vars[i].name, arg, nlen)) {
            snprintf(err, errlen, "--vary %.*s is given twice; list all its values in one",
                     (int)nlen, arg);
            return -1;
        }
    if (g->nvars == 32) {
        snprintf(err, errlen, "more than 32 --vary options; that grid would never finish");
        return -1;
    }
    if (nlen == 4 && !strncmp(arg, "seed", nlen)) {
        snprintf(err, errlen, "--vary seed: seeds are varied with --seeds LO..HI");
        return -1;
    }
    bool clash = (nlen == 3 && !strncmp(arg, "run", 3)) || (nlen == 4 && !strncmp(arg, "runs", 4));
    for (size_t i = 0; i < ts_sweep_ncolumns; i++)
        clash |= strlen(ts_sweep_columns[i]) == nlen && !strncmp(ts_sweep_columns[i], arg, nlen);
    if (clash) {
        snprintf(err, errlen, "--vary %.*s: that is the name of a results column; rename the param",
                 (int)nlen, arg);
        return -1;
    }
    ts_sweep_var *vars = realloc(g->vars, (g->nvars + 1) * sizeof *vars);
    if (!vars) goto oom;
    g->vars = vars;
    ts_sweep_var *v = &g->vars[g->nvars];
    memset(v, 0, sizeof *v);
    if (!(v->name = strndup(arg, nlen))) goto oom;
    g->nvars++;
    for (const char *s = eq + 1;;) {
        size_t n = strcspn(s, ",");
        char *val = strndup(s, n);
        char **vals = val ? realloc(v->vals, (v->nvals + 1) * sizeof *vals) : NULL;
        if (!vals) {
            free(val);
            goto oom;
        }
        v->vals = vals;
        v->vals[v->nvals++] = val;
        if (!good_value(val)) {
            snprintf(err, errlen, "--vary %s: an empty value or a control character in '%s'",
                     v->name, eq + 1);
            return -1;
        }
        for (size_t k = 0; k + 1 < v->nvals; k++)
            if (!strcmp(v->vals[k], val)) {
                snprintf(err, errlen, "--vary %s: the value '%s' is listed twice", v->name, val);
                return -1;
            }
        if (!s[n]) break;
        s += n + 1;
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

static int parse_seed(const char *s, size_t n, uint64_t *out)
{
    if (!n || n > 19) return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

int ts_sweep_set_seeds(ts_sweep_grid *g, const char *arg, char *err, size_t errlen)
{
    const char *dots = strstr(arg, "..");
    uint64_t lo = 0, hi = 0;
    int rc = dots ? parse_seed(arg, (size_t)(dots - arg), &lo) |
                        parse_seed(dots + 2, strlen(dots + 2), &hi)
                  : parse_seed(arg, strlen(arg), &lo);
    if (!dots) hi = lo;
    if (rc < 0 || lo > hi) {
        snprintf(err, errlen,
                 "--seeds '%s': write LO..HI with LO <= HI, e.g. --seeds 1..30 (or one seed: "
                 "--seeds 7)",
                 arg);
        return -1;
    }
    g->seed_lo = lo;
    g->seed_hi = hi;
    return 0;
}

int ts_sweep_finish(ts_sweep_grid *g, char *err, size_t errlen)
{
    if (g->seed_hi < g->seed_lo) g->seed_lo = g->seed_hi = 1;
    uint64_t n = g->seed_hi - g->seed_lo + 1;
    if (g->seed_hi - g->seed_lo >= TS_SWEEP_MAX_RUNS) n = TS_SWEEP_MAX_RUNS + 1;
    for (size_t i = 0; i < g->nvars && n <= TS_SWEEP_MAX_RUNS; i++) n *= g->vars[i].nvals;
    if (n > TS_SWEEP_MAX_RUNS) {
        snprintf(err, errlen, "the grid has more than %llu runs; split the study",
                 (unsigned long long)TS_SWEEP_MAX_RUNS);
        return -1;
    }
    g->runs = n;
    return 0;
}

void ts_sweep_grid_free(ts_sweep_grid *g)
{
    for (size_t i = 0; i < g->nvars; i++) {
        for (size_t k = 0; k < g->vars[i].nvals; k++) free(g->vars[i].vals[k]);
        free(g->vars[i].vals);
        free(g->vars[i].name);
    }
    free(g->vars);
    memset(g, 0, sizeof *g);
}

void ts_sweep_point(const ts_sweep_grid *g, uint64_t i, size_t *idx, uint64_t *seed)
{
    uint64_t nseeds = g->seed_hi - g->seed_lo + 1;
    *seed = g->seed_lo + i % nseeds;
    i /= nseeds;
    for (size_t k = g->nvars; k-- > 0;) {
        idx[k] = (size_t)(i % g->vars[k].nvals);
        i /= g->vars[k].nvals;
    }
}

int ts_sweep_parse_shard(const char *arg, unsigned *k, unsigned *n, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    unsigned long a = isdigit((unsigned char)arg[0]) ? strtoul(arg, &end, 10) : 0;
    unsigned long b = 0;
    if (a && *end == '/' && isdigit((unsigned char)end[1])) b = strtoul(end + 1, &end, 10);
    if (errno || !a || !b || *end || a > b || b > 1000000) {
        snprintf(err, errlen,
                 "--shard '%s': write K/N with 1 <= K <= N, e.g. --shard 3/8 (Slurm: --shard "
                 "$SLURM_ARRAY_TASK_ID/8)",
                 arg);
        return -1;
    }
    *k = (unsigned)a;
    *n = (unsigned)b;
    return 0;
}

/* ---- CSV -------------------------------------------------------------------------------- */

void ts_csv_put(char *buf, size_t len, size_t *pos, const char *field, bool first)
{
    size_t p = *pos;
    if (!first && p + 1 < len) buf[p++] = ',';
    bool quote = strpbrk(field, ",\"\r\n") != NULL;
    if (quote && p + 1 < len) buf[p++] = '"';
    for (const char *s = field; *s && p + 2 < len; s++) {
        if (*s == '"') buf[p++] = '"';
        buf[p++] = *s;
    }
    if (quote && p + 1 < len) buf[p++] = '"';
    buf[p < len ? p : len - 1] = '\0';
    *pos = p;
}

int ts_csv_split(char *line, char **fields, int max)
{
    int n = 0;
    char *s = line;
    for (;;) {
        if (n == max) return -1;
        if (*s == '"') {
            char *out = ++s;
            fields[n++] = out;
            for (;;) {
                if (!*s) return -1; /* no closing quote */
                if (*s == '"' && s[1] == '"') {
                    *out++ = '"';
                    s += 2;
                } else if (*s == '"') {
                    s++;
                    break;
                } else {
                    *out++ = *s++;
                }
            }
            if (*s && *s != ',') return -1;
            *out = '\0'; /* out <= s - 1: the closing quote's place at least */
            if (!*s) return n;
            s++;
        } else {
            fields[n++] = s;
            char *c = strchr(s, ',');
            if (!c) return n;
            *c = '\0';
            s = c + 1;
        }
    }
}

void ts_csv_free(ts_csv *c)
{
    if (c->rows)
        for (size_t i = 0; i < c->nrows; i++) free(c->rows[i]);
    free(c->rows);
    free(c->hdr);
    free(c->line);
    free(c->raw);
    free(c->rawlen);
    free(c->buf);
    memset(c, 0, sizeof *c);
}

int ts_csv_col(const ts_csv *c, const char *name)
{
    for (int i = 0; i < c->ncols; i++)
        if (!strcmp(c->hdr[i], name)) return i;
    return -1;
}

char *ts_sweep_slurp(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    for (size_t got = 1; buf && got;) {
        if (n == cap) {
            char *b = realloc(buf, cap * 2 + 1);
            if (!b) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    }
    bool bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        snprintf(err, errlen, "%s: %s", path, buf ? "read error" : "out of memory");
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Each complete line: split into fields; the count must match the header's. */
static int read_rows(const char *path, ts_csv *c, char *s, char *end, char *err, size_t errlen)
{
    size_t cap = 0;
    for (size_t lineno = 2; s < end; lineno++) {
        char *nl = memchr(s, '\n', (size_t)(end - s));
        if (!nl) { /* torn: written in part when the run was stopped */
            c->torn = true;
            break;
        }
        *nl = '\0';
        size_t rawlen = (size_t)(nl - s);
        if (rawlen && s[rawlen - 1] == '\r') s[--rawlen] = '\0';
        if (c->nrows == cap) {
            cap = cap ? cap * 2 : 256;
            char ***r = realloc(c->rows, cap * sizeof *r);
            size_t *l = realloc(c->line, cap * sizeof *l);
            if (r) c->rows = r;
            if (l) c->line = l;
            char **raw = realloc(c->raw, cap * sizeof *raw);
            if (raw) c->raw = raw;
            size_t *rl = realloc(c->rawlen, cap * sizeof *rl);
            if (rl) c->rawlen = rl;
            if (!r || !l || !raw || !rl) goto oom;
        }
        c->raw[c->nrows] = s;
        c->rawlen[c->nrows] = rawlen;
        char **f = malloc(((size_t)c->ncols + 1) * sizeof *f);
        if (!f) goto oom;
        c->rows[c->nrows] = f;
        c->line[c->nrows] = lineno;
        c->nrows++;
        c->valid_len = (size_t)(nl + 1 - c->buf);
        s = nl + 1;
    }
    return 0;
oom:
    snprintf(err, errlen, "%s: out of memory", path);
    return -1;
}

int ts_csv_read(const char *path, ts_csv *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    size_t len;
    char *text = ts_sweep_slurp(path, &len, err, errlen);
    if (!text) return -1;
    /* Two copies: one split into fields, one kept verbatim for merge. */
    c->buf = malloc(2 * len + 2);
    if (!c->buf) {
        free(text);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    memcpy(c->buf, text, len + 1);
    memcpy(c->buf + len + 1, text, len + 1);
    free(text);
    char *split = c->buf + len + 1, *end = c->buf + len;
    char *nl = memchr(c->buf, '\n', len);
    if (!nl) {
        snprintf(err, errlen, "%s:1: no header line; is this a tcpsim sweep results file?", path);
        return -1;
    }
    *nl = '\0';
    size_t hlen = (size_t)(nl - c->buf);
    char *hs = split;
    hs[hlen] = '\0';
    if (hlen && hs[hlen - 1] == '\r') hs[hlen - 1] = '\0';
    c->hdr = malloc(4096 * sizeof *c->hdr);
    if (!c->hdr) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    c->ncols = ts_csv_split(hs, c->hdr, 4096);
    if (c->ncols < 1) {
        snprintf(err, errlen, "%s:1: a malformed header line", path);
        return -1;
    }
    c->valid_len = hlen + 1;
    if (read_rows(path, c, nl + 1, end, err, errlen) < 0) return -1;
    for (size_t r = 0; r < c->nrows; r++) {
        char *row = split + (c->raw[r] - c->buf);
        row[c->rawlen[r]] = '\0';
        int n = ts_csv_split(row, c->rows[r], c->ncols + 1);
        if (n != c->ncols) {
            snprintf(err, errlen, "%s:%zu: %d fields where the header has %d", path, c->line[r],
                     n < 0 ? c->ncols + 1 : n, c->ncols);
            return -1;
        }
    }
    return 0;
}
