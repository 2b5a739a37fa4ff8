/* cli_sweep.c: `tcpsim sweep FILE.scn --vary NAME=V1,V2 --seeds 1..30 -j N -o OUT.csv`:
 * run a scenario over a grid of parameter values and seeds, one CSV row per run
 * (docs/sweeps.md). The parent forks N workers once; each runs its runs in-process
 * (cli_sweep_run.c) and sends each row back through a pipe. The parent hands out run
 * numbers in grid order and writes rows in that order (a row that comes back early waits
 * for the ones before it), each with one write(2), so the file is always the header and
 * a prefix of the rows still to do, whole lines, whatever -j is. Rerunning with the same
 * -o reads the rows there, drops a torn last line, and runs only what is missing. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "services.h"
#include "sim.h"
#include "sweep_cli.h"

#define ROW_MAX 8192

static void usage(FILE *f)
{
    fputs("usage: tcpsim sweep FILE.scn --vary NAME=V1,V2,... [--vary ...] [--seeds LO..HI]\n"
          "                    [-j N] [--shard K/N] -o RESULTS.csv\n"
          "       tcpsim sweep merge OUT.csv SHARD.csv...\n"
          "\n"
          "Run a scenario over every combination of its params' values times every seed,\n"
          "one CSV row per run: the params and the seed, then what the run measured\n"
          "(completion time, goodput, retransmissions by cause, spurious ones, backoff,\n"
          "time in recovery, connect time, whether the expectations held).\n"
          "The scenario declares what may vary: 'param loss 1%' and then ${loss}.\n"
          "\n"
          "  --vary NAME=V1,V2  the values of one param (repeatable; the first --vary is\n"
          "                     the outermost loop, the seeds the innermost)\n"
          "  --seeds LO..HI     the seeds of every combination (default 1..1)\n"
          "  -j N               N worker processes (default: the number of cores)\n"
          "  --shard K/N        run only the K-th of N slices of the grid (runs i with\n"
          "                     i % N == K-1), for Slurm job arrays or GNU parallel;\n"
          "                     join the shards with 'tcpsim sweep merge'\n"
          "  -o RESULTS.csv     where the rows go; if it holds rows of this sweep already\n"
          "                     (an interrupted run), only the missing runs are run\n"
          "\n"
          "A progress line (done/total, runs/s, ETA) is shown when stderr is a terminal.\n"
          "\n"
          "examples:\n"
          "  tcpsim sweep sim/studies/rto-bursty.scn --vary rto=rfc6298,linux \\\n"
          "      --vary burst_start=0.5%,1%,2% --seeds 1..30 -o rto.csv\n"
          "  tcpsim plot sweep rto.csv --x burst_start --y completion_s --by rto -o rto.svg\n"
          "  tcpsim sweep FILE.scn --vary loss=0%,1%,2% --seeds 1..100 --shard 2/4 -o s2.csv\n"
          "  tcpsim sweep merge all.csv s1.csv s2.csv s3.csv s4.csv\n"
          "The columns: docs/sweeps.md. Exit status: 0 every run done, 2 a usage, file or\n"
          "run error (one line on stderr).\n",
          f);
}

typedef struct sweep_args {
    const char *file, *out;
    ts_sweep_grid grid;
    bool seeds_set;
    long jobs;
    unsigned shard_k, shard_n;
} sweep_args;

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "tcpsim sweep: " __VA_ARGS__);                                             \
        return 2;                                                                                  \
    } while (0)

static int parse_args(int argc, char **argv, sweep_args *a)
{
    char err[512];
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            usage(stdout);
            return 1;
        } else if (!strcmp(s, "--vary") || !strcmp(s, "--seeds") || !strcmp(s, "--shard") ||
                   !strcmp(s, "-o") || !strcmp(s, "-j")) {
            if (!v) FAIL("%s needs a value; see tcpsim sweep --help\n", s);
            i++;
            if (!strcmp(s, "-o")) {
                a->out = v;
            } else if (!strcmp(s, "-j")) {
                char *end;
                a->jobs = strtol(v, &end, 10);
                if (*end || a->jobs < 1 || a->jobs > 1024) FAIL("-j '%s': give 1 to 1024\n", v);
            } else if ((!strcmp(s, "--vary") && ts_sweep_add_vary(&a->grid, v, err, sizeof err)) ||
                       (!strcmp(s, "--seeds") &&
                        ts_sweep_set_seeds(&a->grid, v, err, sizeof err)) ||
                       (!strcmp(s, "--shard") &&
                        ts_sweep_parse_shard(v, &a->shard_k, &a->shard_n, err, sizeof err))) {
                FAIL("%s\n", err);
            }
            a->seeds_set |= !strcmp(s, "--seeds");
        } else if (s[0] == '-' && s[1]) {
            FAIL("unknown option '%s'; try 'tcpsim sweep --help'\n", s);
        } else if (a->file) {
            FAIL("one scenario at a time ('%s' and '%s')\n", a->file, s);
        } else {
            a->file = s;
        }
    }
    if (!a->file) FAIL("which scenario? e.g. tcpsim sweep FILE.scn --vary loss=0%%,1%% -o r.csv\n");
    if (!a->out) FAIL("where do the rows go? add -o RESULTS.csv\n");
    if (!a->seeds_set) a->grid.seed_lo = a->grid.seed_hi = 1;
    if (ts_sweep_finish(&a->grid, err, sizeof err) < 0) FAIL("%s\n", err);
    if (!a->shard_n) a->shard_k = a->shard_n = 1;
    if (!a->jobs) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        a->jobs = n > 0 ? n : 1;
    }
    return 0;
}

/* ---- checking the scenario and its values before anything runs ----------------------- */

/* Parse the file with the first value of every variable, then with each other value in
 * turn: a name the file does not declare, or a value it cannot take, is found here. */
static int check_values(const ts_sweep_job *j)
{
    const ts_sweep_grid *g = j->grid;
    char defs[32][512];
    const char *dp[32];
    for (size_t k = 0; k < g->nvars; k++) {
        snprintf(defs[k], sizeof defs[k], "%s=%s", g->vars[k].name, g->vars[k].vals[0]);
        dp[k] = defs[k];
    }
    for (size_t k = 0; k < g->nvars || k == 0; k++) {
        size_t nv = g->nvars ? g->vars[k].nvals : 1;
        for (size_t v = 0; v < nv; v++) {
            if (k > 0 && v == 0) continue;
            if (g->nvars)
                snprintf(defs[k], sizeof defs[k], "%s=%s", g->vars[k].name, g->vars[k].vals[v]);
            char err[600];
            ts_scn_parse_opts po = {
                .service_known = ts_service_known, .defs = dp, .ndefs = g->nvars};
            ts_scn *s = ts_scn_parse(j->file, j->text, j->len, &po, err, sizeof err);
            if (!s) {
                if (v > 0) FAIL("--vary %s: %s\n", defs[k], err);
                FAIL("%s\n", err);
            }
            ts_scn_free(s);
        }
        if (g->nvars)
            snprintf(defs[k], sizeof defs[k], "%s=%s", g->vars[k].name, g->vars[k].vals[0]);
    }
    return 0;
}

/* ---- the results file: header, resume ----------------------------------------------- */

static void header(const ts_sweep_grid *g, char *buf, size_t len)
{
    size_t pos = 0;
    for (size_t k = 0; k < g->nvars; k++) ts_csv_put(buf, len, &pos, g->vars[k].name, k == 0);
    ts_csv_put(buf, len, &pos, "seed", g->nvars == 0);
    ts_csv_put(buf, len, &pos, "run", false);
    ts_csv_put(buf, len, &pos, "runs", false);
    for (size_t c = 0; c < ts_sweep_ncolumns; c++)
        ts_csv_put(buf, len, &pos, ts_sweep_columns[c], false);
    if (pos + 1 < len) buf[pos++] = '\n';
    buf[pos] = '\0';
}

static bool parse_u64(const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    *v = strtoull(s, &end, 10);
    return *s && !*end && !errno;
}

/* A row already in the file: which run, and does it agree with this sweep's grid. */
static int known_row(const sweep_args *a, const ts_csv *c, size_t r, uint64_t *run)
{
    const ts_sweep_grid *g = &a->grid;
    char **f = c->rows[r];
    uint64_t runs, seed;
    size_t nv = g->nvars;
    if (!parse_u64(f[nv + 1], run) || !parse_u64(f[nv + 2], &runs) || runs != g->runs ||
        *run >= runs)
        FAIL("%s:%zu: a row of another sweep (run %s of %s; this one has %llu runs); pick "
             "another -o or remove that file\n",
             a->out, c->line[r], f[nv + 1], f[nv + 2], (unsigned long long)g->runs);
    size_t idx[32];
    ts_sweep_point(g, *run, idx, &seed);
    bool same = parse_u64(f[nv], &runs) && runs == seed;
    for (size_t k = 0; k < nv && same; k++) same = !strcmp(f[k], g->vars[k].vals[idx[k]]);
    if (!same)
        FAIL("%s:%zu: run %llu there has other values than run %llu of this sweep (were the "
             "--vary values changed?); pick another -o\n",
             a->out, c->line[r], (unsigned long long)*run, (unsigned long long)*run);
    if (*run % a->shard_n != a->shard_k - 1)
        FAIL("%s:%zu: run %llu belongs to shard %llu/%u, not %u/%u; pick another -o\n", a->out,
             c->line[r], (unsigned long long)*run, (unsigned long long)(*run % a->shard_n + 1),
             a->shard_n, a->shard_k, a->shard_n);
    return 0;
}

/* Open -o: a new file gets the header; an existing one must carry this sweep's header,
 * and its rows are marked done (a torn last line is cut off). Returns the fd or -1. */
static int open_results(const sweep_args *a, const char *hdr, uint8_t *done, bool *resumed,
                        bool *in_order)
{
    struct stat st;
    *resumed = false;
    *in_order = true;
    if (stat(a->out, &st) < 0 || st.st_size == 0) {
        int fd = open(a->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || write(fd, hdr, strlen(hdr)) != (ssize_t)strlen(hdr)) {
            fprintf(stderr, "tcpsim sweep: -o %s: %s\n", a->out, strerror(errno));
            if (fd >= 0) close(fd);
            return -1;
        }
        return fd;
    }
    ts_csv c;
    char err[600];
    if (ts_csv_read(a->out, &c, err, sizeof err) < 0) {
        fprintf(stderr, "tcpsim sweep: %s; pick another -o\n", err);
        ts_csv_free(&c);
        return -1;
    }
    if (strncmp(c.buf, hdr, strlen(hdr) - 1) || c.buf[strlen(hdr) - 1] != '\0') {
        fprintf(stderr,
                "tcpsim sweep: %s holds other columns than this sweep's; pick another -o "
                "or remove it\n",
                a->out);
        ts_csv_free(&c);
        return -1;
    }
    uint64_t last = 0;
    for (size_t r = 0; r < c.nrows; r++) {
        uint64_t run;
        if (known_row(a, &c, r, &run)) {
            ts_csv_free(&c);
            return -1;
        }
        if (done[run]) {
            fprintf(stderr, "tcpsim sweep: %s:%zu: run %llu is there twice; pick another -o\n",
                    a->out, c.line[r], (unsigned long long)run);
            ts_csv_free(&c);
            return -1;
        }
        if (r && run < last) *in_order = false;
        last = run;
        done[run] = 1;
    }
    *resumed = true;
    int fd = open(a->out, O_WRONLY | O_APPEND);
    if (fd < 0 || (c.torn && ftruncate(fd, (off_t)c.valid_len) < 0)) {
        fprintf(stderr, "tcpsim sweep: -o %s: %s\n", a->out, strerror(errno));
        if (fd >= 0) close(fd);
        fd = -1;
    }
    ts_csv_free(&c);
    return fd;
}

/* Rows were there before, not all first in grid order: write the file sorted, whole. */
static int rewrite_sorted(const char *path, uint64_t runs, size_t nv)
{
    ts_csv c;
    char err[600];
    if (ts_csv_read(path, &c, err, sizeof err) < 0) {
        fprintf(stderr, "tcpsim sweep: %s\n", err);
        ts_csv_free(&c);
        return 2;
    }
    size_t *at = malloc(runs * sizeof *at);
    for (uint64_t i = 0; at && i < runs; i++) at[i] = SIZE_MAX;
    for (size_t r = 0; at && r < c.nrows; r++) {
        uint64_t run;
        if (parse_u64(c.rows[r][nv + 1], &run) && run < runs) at[run] = r;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.sorting", path);
    FILE *f = at ? fopen(tmp, "wb") : NULL;
    if (f) {
        fwrite(c.buf, 1, strlen(c.buf), f);
        fputc('\n', f);
        for (uint64_t i = 0; i < runs; i++)
            if (at[i] != SIZE_MAX) {
                fwrite(c.raw[at[i]], 1, c.rawlen[at[i]], f);
                fputc('\n', f);
            }
    }
    int rc = f && fclose(f) == 0 && rename(tmp, path) == 0 ? 0 : 2;
    if (rc) fprintf(stderr, "tcpsim sweep: rewriting %s in grid order failed\n", path);
    free(at);
    ts_csv_free(&c);
    return rc;
}

/* ---- workers ------------------------------------------------------------------------ */

typedef struct worker {
    pid_t pid;
    int task, result; /* parent's ends */
    size_t busy;      /* runs handed out, not yet back */
} worker;

typedef struct reply {
    uint64_t pos; /* index in the to-do list */
    uint32_t len;
    int32_t status; /* 0 a row, else an error message */
} reply;

static bool read_all(int fd, void *buf, size_t n)
{
    for (size_t got = 0; got < n;) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        got += (size_t)r;
    }
    return true;
}

static bool write_all(int fd, const void *buf, size_t n)
{
    for (size_t put = 0; put < n;) {
        ssize_t r = write(fd, (const char *)buf + put, n - put);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        put += (size_t)r;
    }
    return true;
}

/* A worker: read to-do positions until the parent closes the pipe; answer each. */
static void worker_main(const ts_sweep_job *j, const uint64_t *todo, int in, int out)
{
    signal(SIGPIPE, SIG_DFL); /* the parent gone: die at the next reply */
    /* Every run allocates and frees the same large buffers (send and receive rings):
     * keep them in the heap rather than mmap and unmap them per run, which costs a page
     * fault per page touched, every run. The heap then stays at one run's size. */
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 128 << 20);
    FILE *devnull = fopen("/dev/null", "w");
    static char row[ROW_MAX];
    char err[600];
    uint64_t pos;
    while (read_all(in, &pos, sizeof pos)) {
        int rc = devnull ? ts_sweep_run_one(j, todo[pos], devnull, row, sizeof row, err, sizeof err)
                         : (snprintf(err, sizeof err, "/dev/null: %s", strerror(errno)), -1);
        const char *body = rc == 0 ? row : err;
        reply r = {pos, (uint32_t)strlen(body), rc};
        if (!write_all(out, &r, sizeof r) || !write_all(out, body, r.len)) break;
    }
    _exit(0);
}

static int spawn(worker *w, size_t k, const ts_sweep_job *j, const uint64_t *todo, int outfd)
{
    int tp[2], rp[2];
    if (pipe(tp) < 0) return -1;
    if (pipe(rp) < 0) {
        close(tp[0]);
        close(tp[1]);
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        /* only this worker's ends stay open: the parent's death must reach it as EOF */
        for (size_t i = 0; i < k; i++) close(w[i].task), close(w[i].result);
        close(tp[1]);
        close(rp[0]);
        close(outfd);
        worker_main(j, todo, tp[0], rp[1]);
    }
    close(tp[0]);
    close(rp[1]);
    w[k] = (worker){pid, tp[1], rp[0], 0};
    return 0;
}

/* ---- the parent's loop -------------------------------------------------------------- */

typedef struct progress {
    bool tty;
    struct timespec start, last;
    uint64_t total, done0;
} progress;

static double since(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void show(progress *p, uint64_t done, bool last)
{
    if (!p->tty) return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!last && since(&p->last, &now) < 0.2) return;
    p->last = now;
    double t = since(&p->start, &now);
    double rate = t > 0 ? (double)(done - p->done0) / t : 0;
    double eta = rate > 0 ? (double)(p->total - done) / rate : 0;
    fprintf(stderr, "\rsweep: %llu/%llu runs  %.1f runs/s  ETA %dm%02ds  ",
            (unsigned long long)done, (unsigned long long)p->total, rate, (int)eta / 60,
            (int)eta % 60);
    if (last) fputc('\n', stderr);
}

typedef struct pool {
    worker *w;
    size_t nw;
    const uint64_t *todo;
    uint64_t ntodo, next; /* next position to hand out */
    char **rows;          /* rows back early, by position */
    uint64_t written;     /* positions written so far */
    int outfd;
    const ts_sweep_grid *grid;
} pool;

static bool hand_out(pool *p, worker *w)
{
    if (p->next == p->ntodo) return true;
    uint64_t pos = p->next++;
    w->busy++;
    return write_all(w->task, &pos, sizeof pos);
}

/* Rows in order: write every row that no longer waits for an earlier one. */
static int flush_rows(pool *p, const char *out)
{
    while (p->written < p->ntodo && p->rows[p->written]) {
        char *row = p->rows[p->written];
        if (!write_all(p->outfd, row, strlen(row))) {
            fprintf(stderr, "tcpsim sweep: writing %s: %s\n", out, strerror(errno));
            return 2;
        }
        free(row);
        p->rows[p->written] = NULL;
        p->written++;
    }
    return 0;
}

static int run_failed(const pool *p, uint64_t pos, const char *msg)
{
    size_t idx[32];
    uint64_t seed, run = p->todo[pos];
    ts_sweep_point(p->grid, run, idx, &seed);
    char what[512];
    size_t n = 0;
    for (size_t k = 0; k < p->grid->nvars && n < sizeof what - 64; k++)
        n += (size_t)snprintf(what + n, sizeof what - n, "%s=%s, ", p->grid->vars[k].name,
                              p->grid->vars[k].vals[idx[k]]);
    fprintf(stderr, "tcpsim sweep: run %llu (%sseed %llu): %s\n", (unsigned long long)run, what,
            (unsigned long long)seed, msg);
    return 2;
}

/* One reply from worker w: store the row, hand out the next run. */
static int take_reply(pool *p, worker *w, const char *out)
{
    reply r;
    if (!read_all(w->result, &r, sizeof r)) {
        int status = 0;
        waitpid(w->pid, &status, 0);
        w->pid = 0;
        fprintf(stderr, "tcpsim sweep: a worker died (%s %d) with %zu runs in hand\n",
                WIFSIGNALED(status) ? "signal" : "exit status",
                WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), w->busy);
        return 2;
    }
    char *body = malloc(r.len + 1);
    if (!body || r.pos >= p->ntodo || !read_all(w->result, body, r.len)) {
        free(body);
        fprintf(stderr, "tcpsim sweep: a worker's reply was cut short\n");
        return 2;
    }
    body[r.len] = '\0';
    w->busy--;
    if (r.status) {
        int rc = run_failed(p, r.pos, body);
        free(body);
        return rc;
    }
    p->rows[r.pos] = body;
    if (!hand_out(p, w)) return 2;
    return flush_rows(p, out);
}

static int run_pool(pool *p, const char *out, progress *pr, uint64_t done_before)
{
    struct pollfd *fds = calloc(p->nw, sizeof *fds);
    if (!fds) return 2;
    int rc = 0;
    /* two runs in hand per worker: the next is waiting when one finishes */
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < p->nw; i++)
            if (!hand_out(p, &p->w[i])) rc = 2;
    while (!rc && p->written < p->ntodo) {
        for (size_t i = 0; i < p->nw; i++) fds[i] = (struct pollfd){p->w[i].result, POLLIN, 0};
        if (poll(fds, (nfds_t)p->nw, -1) < 0) {
            if (errno == EINTR) continue;
            rc = 2;
            break;
        }
        for (size_t i = 0; i < p->nw && !rc; i++)
            if (fds[i].revents) rc = take_reply(p, &p->w[i], out);
        show(pr, done_before + p->written, false);
    }
    free(fds);
    return rc;
}

static void stop_workers(worker *w, size_t n)
{
    for (size_t i = 0; i < n; i++) close(w[i].task);
    for (size_t i = 0; i < n; i++) {
        close(w[i].result);
        if (w[i].pid > 0) waitpid(w[i].pid, NULL, 0);
    }
}

/* The to-do list (this shard's runs not in the file yet), workers, rows in order. */
static int sweep(const sweep_args *a, const ts_sweep_job *j, int outfd, const uint8_t *done,
                 uint64_t *ran)
{
    const ts_sweep_grid *g = &a->grid;
    uint64_t n = 0, total = 0;
    uint64_t *todo = malloc((g->runs / a->shard_n + 1) * sizeof *todo);
    if (!todo) return 2;
    for (uint64_t i = a->shard_k - 1; i < g->runs; i += a->shard_n, total++)
        if (!done[i]) todo[n++] = i;
    *ran = n;
    progress pr = {.tty = isatty(2), .total = total, .done0 = total - n};
    clock_gettime(CLOCK_MONOTONIC, &pr.start);
    pr.last = pr.start;
    if (n == 0) {
        free(todo);
        return 0;
    }
    pool p = {.todo = todo, .ntodo = n, .outfd = outfd, .grid = g};
    p.nw = (size_t)a->jobs < n ? (size_t)a->jobs : (size_t)n;
    p.w = calloc(p.nw, sizeof *p.w);
    p.rows = calloc(n, sizeof *p.rows);
    int rc = p.w && p.rows ? 0 : 2;
    size_t started = 0;
    for (; !rc && started < p.nw; started++)
        if (spawn(p.w, started, j, todo, outfd) < 0) {
            fprintf(stderr, "tcpsim sweep: cannot start a worker: %s\n", strerror(errno));
            rc = 2;
        }
    if (!rc) rc = run_pool(&p, a->out, &pr, total - n);
    stop_workers(p.w, started);
    if (!rc) show(&pr, total, true);
    for (uint64_t i = 0; p.rows && i < n; i++) free(p.rows[i]);
    free(p.rows);
    free(p.w);
    free(todo);
    return rc;
}

int ts_cli_sweep(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "merge")) return ts_sweep_merge(argc - 1, argv + 1);
    sweep_args a;
    memset(&a, 0, sizeof a);
    int rc = parse_args(argc, argv, &a);
    if (rc) {
        ts_sweep_grid_free(&a.grid);
        return rc == 1 ? 0 : 2;
    }
    size_t len = 0;
    char rerr[600];
    char *text = ts_sweep_slurp(a.file, &len, rerr, sizeof rerr);
    ts_sweep_job j = {a.file, text, len, &a.grid};
    uint8_t *done = text ? calloc(a.grid.runs, 1) : NULL;
    if (!text) {
        fprintf(stderr, "tcpsim sweep: %s\n", rerr);
        rc = 2;
    } else if (!done) {
        fprintf(stderr, "tcpsim sweep: out of memory\n");
        rc = 2;
    }
    if (!rc) rc = check_values(&j);
    char hdr[ROW_MAX];
    header(&a.grid, hdr, sizeof hdr);
    bool resumed = false, in_order = true;
    int fd = rc ? -1 : open_results(&a, hdr, done, &resumed, &in_order);
    if (!rc && fd < 0) rc = 2;
    signal(SIGPIPE, SIG_IGN); /* a dead worker shows as EPIPE, not as our death */
    /* rows there before are the first ones in grid order unless the file came from
     * elsewhere (or an edit); then it is sorted once, at the end */
    bool gap = false;
    for (uint64_t i = a.shard_k - 1; !rc && resumed && i < a.grid.runs; i += a.shard_n) {
        if (!done[i])
            gap = true;
        else if (gap)
            in_order = false;
    }
    uint64_t ran = 0;
    if (!rc) rc = sweep(&a, &j, fd, done, &ran);
    if (fd >= 0 && close(fd) < 0 && !rc) {
        fprintf(stderr, "tcpsim sweep: writing %s: %s\n", a.out, strerror(errno));
        rc = 2;
    }
    if (!rc && resumed && ran && !in_order) rc = rewrite_sorted(a.out, a.grid.runs, a.grid.nvars);
    free(done);
    free(text);
    ts_sweep_grid_free(&a.grid);
    return rc;
}
