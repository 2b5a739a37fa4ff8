/* placeholder replaced below */
#include "cli.h"
int ts_cli_plot_sweep(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return 2;
}
