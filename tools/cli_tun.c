/* cli_tun.c: placeholder until the tun subcommand lands (replaced by its owner). */
#include <stdio.h>

#include "cli.h"

int ts_cli_tun(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("tcpsim tun: not built yet\n", stderr);
    return 2;
}
