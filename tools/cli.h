/* cli.h: the tcpsim subcommands; each lives in its own cli_*.c file. */
#ifndef TS_CLI_H
#define TS_CLI_H

/* Each returns the process exit status: 0 success, 1 a failed run or expectation,
 * 2 a usage or environment error (one line on stderr naming the problem and the fix). */
int ts_cli_tun(int argc, char **argv);        /* tcpsim tun ...: the TUN runner */
int ts_cli_run(int argc, char **argv);        /* tcpsim run FILE.scn ...: the simulator */
int ts_cli_params(int argc, char **argv);     /* tcpsim params: list parameters and profiles */
int ts_cli_diagram(int argc, char **argv);    /* tcpsim diagram SOURCE: the ladder diagram */
int ts_cli_plot(int argc, char **argv);       /* tcpsim plot KIND SOURCE: tseq, cwnd, rtt graphs */
int ts_cli_sweep(int argc, char **argv);      /* tcpsim sweep FILE.scn --vary ...: a grid of runs */
int ts_cli_plot_sweep(int argc, char **argv); /* tcpsim plot sweep RESULTS.csv: medians, CIs */

#endif
