/* tcpsim.c: the command-line entry point; dispatches to the subcommands in cli_*.c. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
    fputs("usage: tcpsim COMMAND [ARGS...]\n"
          "\n"
          "commands:\n"
          "  tun      run the stack on a TUN device; Linux programs talk to it\n"
          "           (tcpsim tun --help; e.g. tcpsim tun --listen 23:telnet)\n"
          "  run      run a scenario file in the virtual-time simulator\n"
          "           (tcpsim run --help; e.g. tcpsim run sim/scenarios/chapter-close.scn)\n"
          "  sweep    run a scenario over a grid of param values and seeds into a CSV\n"
          "           (tcpsim sweep --help; e.g. tcpsim sweep FILE.scn --vary loss=0%,1% "
          "-o r.csv)\n"
          "  params   list every stack parameter, its default and the profiles\n"
          "  plot     draw a connection's time-sequence, cwnd or RTT graph as SVG\n"
          "           (tcpsim plot --help; e.g. tcpsim plot cwnd sim/scenarios/bulk-loss.scn)\n"
          "  diagram  draw a connection as a ladder diagram, from a scenario or a capture\n"
          "           (tcpsim diagram --help; e.g. tcpsim diagram "
          "sim/scenarios/chapter-close.scn)\n"
          "\n"
          "Stack parameters are set with --set NAME=VALUE and --profile NAME in both modes.\n",
          f);
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "tun")) return ts_cli_tun(argc - 1, argv + 1);
    if (!strcmp(cmd, "run")) return ts_cli_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "sweep")) return ts_cli_sweep(argc - 1, argv + 1);
    if (!strcmp(cmd, "params")) return ts_cli_params(argc - 1, argv + 1);
    if (!strcmp(cmd, "plot")) return ts_cli_plot(argc - 1, argv + 1);
    if (!strcmp(cmd, "diagram")) return ts_cli_diagram(argc - 1, argv + 1);
    fprintf(stderr, "tcpsim: unknown command '%s'; try 'tcpsim --help'\n", cmd);
    return 2;
}

/* Every command writes its results to stdout through stdio: a write that failed (disk full)
 * shows only in the stream's error flag, so check it once here rather than exit 0 having
 * lost the output. */
int main(int argc, char **argv)
{
    int rc = dispatch(argc, argv);
    errno = 0;
    bool bad = fflush(stdout) != 0 || ferror(stdout);
    if (bad && rc == 0) { /* a command that failed has said why already */
        fprintf(
            stderr,
            "tcpsim %s: writing standard output failed%s%s; free some space or send it elsewhere\n",
            argc > 1 ? argv[1] : "", errno ? ": " : "", errno ? strerror(errno) : "");
        rc = 2;
    }
    return rc;
}
