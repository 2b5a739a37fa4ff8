/* sweep.h: `tcpsim sweep`'s parts (docs/sweeps.md): the grid of a sweep (the --vary
 * values times the seeds, in a fixed order, cut into --shard slices), the results CSV
 * (columns, quoting, reading back for resume, merge and plots), and the measurements
 * taken from a run's stack events (retransmissions by cause, spurious ones, backoff,
 * time in recovery). The grid and the CSV are in lib_sweep.c, the measurements in
 * lib_sweep_metrics.c; cli_sweep.c runs the grid in worker processes. */
#ifndef TS_SWEEP_H
#define TS_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tcpsim/tcpsim.h"

/* ---- the grid ---------------------------------------------------------------------- */

typedef struct ts_sweep_var {
    char *name;  /* a `param` of the scenario */
    char **vals; /* its values, in the order given */
    size_t nvals;
} ts_sweep_var;

typedef struct ts_sweep_grid {
    ts_sweep_var *vars; /* the first --vary is the outermost loop, the seeds the innermost */
    size_t nvars;
    uint64_t seed_lo, seed_hi; /* --seeds LO..HI */
    uint64_t runs;             /* product of the value counts times the seeds */
} ts_sweep_grid;

#define TS_SWEEP_MAX_RUNS 10000000ull

/* "--vary NAME=V1,V2,...": 0, or -1 with one line in err. */
int ts_sweep_add_vary(ts_sweep_grid *g, const char *arg, char *err, size_t errlen);
/* "--seeds 1..30" or "--seeds 7": 0, or -1 with one line in err. */
int ts_sweep_set_seeds(ts_sweep_grid *g, const char *arg, char *err, size_t errlen);
/* Count the runs (seeds default to 1..1); -1 with err when there are too many. */
int ts_sweep_finish(ts_sweep_grid *g, char *err, size_t errlen);
void ts_sweep_grid_free(ts_sweep_grid *g);
/* Run number i (0-based): the index of each variable's value (idx[nvars]) and the seed. */
void ts_sweep_point(const ts_sweep_grid *g, uint64_t i, size_t *idx, uint64_t *seed);
/* "--shard K/N" (1 <= K <= N): 0, or -1 with err. Run i belongs to shard (i % N) + 1. */
int ts_sweep_parse_shard(const char *arg, unsigned *k, unsigned *n, char *err, size_t errlen);
/* A whole file in memory, NUL-terminated (the scenario, a results CSV); NULL with
 * "PATH: why" in err. */
char *ts_sweep_slurp(const char *path, size_t *len, char *err, size_t errlen);

/* ---- the CSV ----------------------------------------------------------------------- */

/* The measured columns, after the parameters, seed, run and runs. */
extern const char *const ts_sweep_columns[];
extern const size_t ts_sweep_ncolumns;

/* Append one CSV field to buf (quoted when it holds a comma, quote or line break). */
void ts_csv_put(char *buf, size_t len, size_t *pos, const char *field, bool first);
/* Split one CSV line (no line break) in place into at most max fields; returns the count,
 * or -1 for a malformed quote. */
int ts_csv_split(char *line, char **fields, int max);

/* A results file read whole: the header's fields and each row's fields. */
typedef struct ts_csv {
    char *buf; /* the file's text, split in place */
    char **hdr;
    int ncols;
    char ***rows; /* rows[r][c] */
    size_t nrows;
    size_t *line; /* each row's line number, for messages */
    char **raw;   /* each row's text as it was (for merge: rows are copied verbatim) */
    size_t *rawlen;
    size_t valid_len; /* bytes up to the end of the last complete line */
    bool torn;        /* the last line had no line break (an interrupted write) */
} ts_csv;

/* Read a whole CSV file; a last line without its line break is left out (torn). 0, or -1
 * with "FILE:LINE: what is wrong" in err. */
int ts_csv_read(const char *path, ts_csv *c, char *err, size_t errlen);
void ts_csv_free(ts_csv *c);
int ts_csv_col(const ts_csv *c, const char *name); /* column index or -1 */

/* ---- measurements ------------------------------------------------------------------ */

typedef enum {
    TS_SW_RTO,
    TS_SW_FAST,
    TS_SW_PARTIAL,
    TS_SW_TLP,
    TS_SW_RACK,
    TS_SW_PROBE,
    TS_SW_SYN,
    TS_SW_NCAUSES
} ts_sweep_cause;

typedef struct ts_sweep_metrics {
    uint64_t rexmit[TS_SW_NCAUSES];
    uint64_t spurious, spurious_bytes; /* retransmitted data the receiver already had */
    uint32_t max_backoff;              /* the highest RTO or SYN retransmission count */
    ts_time_t max_rto;                 /* the longest data retransmission timer armed */
    ts_time_t recovery, loss;          /* time in fast recovery, in RTO recovery (loss) */
    uint64_t pure_acks;                /* segments sent with ACK alone: no data, SYN, FIN or RST */
} ts_sweep_metrics;

typedef struct ts_sweep_collect ts_sweep_collect;

/* A collector for one run of a world with nhosts hosts. NULL when out of memory. */
ts_sweep_collect *ts_sweep_collect_new(size_t nhosts);
/* Every stack event of the run, in order (the simulator's observe hook). */
void ts_sweep_collect_event(ts_sweep_collect *c, int host, ts_stack *s, const ts_event *ev);
/* The run ended at `end`: close open recovery episodes and return the numbers. */
void ts_sweep_collect_finish(ts_sweep_collect *c, ts_time_t end, ts_sweep_metrics *m);
void ts_sweep_collect_free(ts_sweep_collect *c);

#endif
