/* sweep_cli.h: what cli_sweep.c (the command, its workers, resume), cli_sweep_run.c (one
 * run, one row) and cli_sweep_merge.c (joining shards) share. */
#ifndef TS_SWEEP_CLI_H
#define TS_SWEEP_CLI_H

#include <stdint.h>
#include <stdio.h>
#include "sweep.h"

/* A sweep's scenario, read once, and its grid. */
typedef struct ts_sweep_job {
    const char *file; /* for messages */
    const char *text; /* the scenario's text */
    size_t len;
    const ts_sweep_grid *grid;
} ts_sweep_job;

/* Run number `run` of the grid and format its CSV row (with its line break) into row.
 * 0, or -1 with one line in err (a scenario or world error). */
int ts_sweep_run_one(const ts_sweep_job *j, uint64_t run, FILE *devnull, char *row, size_t len,
                     char *err, size_t errlen);

/* tcpsim sweep merge OUT.csv SHARD.csv...: exit status. */
int ts_sweep_merge(int argc, char **argv);

#endif
