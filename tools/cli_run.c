/* cli_run.c: placeholder until the run subcommand lands (replaced by its owner). */
#include <stdio.h>

#include "cli.h"

int ts_cli_run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("tcpsim run: not built yet\n", stderr);
    return 2;
}
