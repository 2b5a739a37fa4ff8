/* cli_sweep_merge.c: `tcpsim sweep merge OUT.csv SHARD.csv...`: join the results of a
 * sharded sweep into the file one unsharded run would have written, byte for byte: the
 * shared header, then every row in grid order, copied as written. Each row carries its
 * run number and the grid's size (columns run and runs), so a missing row (a shard not
 * run, or stopped early) and a doubled one (a shard given twice) are both found. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sweep_cli.h"

#define MERGE_FAIL(...)                                                                            \
    do {                                                                                           \
        fprintf(stderr, "tcpsim sweep merge: " __VA_ARGS__);                                       \
        goto out;                                                                                  \
    } while (0)

typedef struct where {
    int file; /* -1: not seen */
    size_t row;
} where;

static bool parse_u64(const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    *v = strtoull(s, &end, 10);
    return *s && !*end && !errno;
}

static int write_out(const char *out, const ts_csv *in, const where *at, uint64_t runs)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.merging", out);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        fprintf(stderr, "tcpsim sweep merge: %s: %s\n", tmp, strerror(errno));
        return 2;
    }
    fputs(in[0].buf, f); /* the header line, split off at its line break */
    fputc('\n', f);
    for (uint64_t i = 0; i < runs; i++) {
        const ts_csv *c = &in[at[i].file];
        fwrite(c->raw[at[i].row], 1, c->rawlen[at[i].row], f);
        fputc('\n', f);
    }
    if (fclose(f) != 0 || rename(tmp, out) != 0) {
        fprintf(stderr, "tcpsim sweep merge: writing %s failed: %s\n", out, strerror(errno));
        remove(tmp);
        return 2;
    }
    return 0;
}

int ts_sweep_merge(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        puts("usage: tcpsim sweep merge OUT.csv SHARD.csv...\n"
             "Join the shards of one sweep (tcpsim sweep --shard K/N) into OUT.csv, in grid\n"
             "order: the same bytes one unsharded run writes. Refuses a missing or doubled\n"
             "row, and shards of different sweeps.");
        return 0;
    }
    if (argc < 3) {
        fprintf(stderr, "tcpsim sweep merge: give OUT.csv and the shards, e.g. tcpsim sweep "
                        "merge all.csv s1.csv s2.csv\n");
        return 2;
    }
    const char *out = argv[1];
    int n = argc - 2, rc = 2;
    ts_csv *in = calloc((size_t)n, sizeof *in);
    where *at = NULL;
    uint64_t runs = 0;
    char err[600];
    if (!in) return 2;
    for (int i = 0; i < n; i++) {
        const char *path = argv[i + 2];
        if (!strcmp(path, out)) MERGE_FAIL("%s is both the output and a shard\n", out);
        if (ts_csv_read(path, &in[i], err, sizeof err) < 0) MERGE_FAIL("%s\n", err);
        if (strcmp(in[i].buf, in[0].buf))
            MERGE_FAIL("%s and %s have different columns: shards of different sweeps?\n", argv[2],
                       path);
        int crun = ts_csv_col(&in[i], "run"), cruns = ts_csv_col(&in[i], "runs");
        if (crun < 0 || cruns < 0)
            MERGE_FAIL("%s: no run and runs columns: not a tcpsim sweep "
                       "results file\n",
                       path);
        for (size_t r = 0; r < in[i].nrows; r++) {
            uint64_t run, rs;
            if (!parse_u64(in[i].rows[r][crun], &run) || !parse_u64(in[i].rows[r][cruns], &rs) ||
                !rs || run >= rs || rs > TS_SWEEP_MAX_RUNS)
                MERGE_FAIL("%s:%zu: a bad run or runs field\n", path, in[i].line[r]);
            if (!at) {
                runs = rs;
                if (!(at = malloc(runs * sizeof *at))) MERGE_FAIL("out of memory\n");
                for (uint64_t k = 0; k < runs; k++) at[k].file = -1;
            }
            if (rs != runs)
                MERGE_FAIL("%s:%zu: a grid of %llu runs, the others %llu: shards of different "
                           "sweeps?\n",
                           path, in[i].line[r], (unsigned long long)rs, (unsigned long long)runs);
            if (at[run].file >= 0)
                MERGE_FAIL("run %llu is doubled: %s:%zu and %s:%zu (a shard given twice?)\n",
                           (unsigned long long)run, argv[at[run].file + 2],
                           in[at[run].file].line[at[run].row], path, in[i].line[r]);
            at[run] = (where){i, r};
        }
    }
    if (!at) MERGE_FAIL("the shards hold no rows\n");
    uint64_t missing = 0, first = 0;
    for (uint64_t k = runs; k-- > 0;)
        if (at[k].file < 0) missing++, first = k;
    if (missing) {
        int shard_hint = 0;
        for (int i = 0; i < n; i++) shard_hint |= in[i].torn;
        MERGE_FAIL("%llu of %llu runs are missing (the first: run %llu); a shard not given or "
                   "not finished? rerun it with the same command: it resumes%s\n",
                   (unsigned long long)missing, (unsigned long long)runs, (unsigned long long)first,
                   shard_hint ? " (a shard ends in a torn line)" : "");
    }
    rc = write_out(out, in, at, runs);
out:
    for (int i = 0; i < n; i++) ts_csv_free(&in[i]);
    free(in);
    free(at);
    return rc;
}
