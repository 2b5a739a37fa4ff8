/* cli_params.c: `tcpsim params`: the parameter table and the profiles, for discovery. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "tcpsim/params.h"

int ts_cli_params(int argc, char **argv)
{
    const char *profile = "linux";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--profile") && i + 1 < argc) {
            profile = argv[++i];
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            puts("usage: tcpsim params [--profile NAME]\n"
                 "Lists every stack parameter with its value in the profile (default linux)\n"
                 "and when a change on a live connection takes effect:\n"
                 "  now     at once, where it is next used\n"
                 "  timer   the next time the timer it sets is armed\n"
                 "  open    as a connection opens: new connections only\n"
                 "  syn     agreed in the handshake: refused once the SYN has gone\n"
                 "  listen  read by listen()\n"
                 "example: tcpsim params --profile rfc");
            return 0;
        } else {
            fprintf(stderr, "tcpsim params: unknown argument '%s'; try --help\n", argv[i]);
            return 2;
        }
    }
    ts_params p;
    char err[256];
    ts_params_default(&p);
    if (ts_params_profile(&p, profile, err, sizeof err) < 0) {
        fprintf(stderr, "tcpsim params: %s\n", err);
        return 2;
    }
    printf("parameters (profile %s; 'applies': when a change on a live connection takes "
           "effect, see --help):\n",
           profile);
    printf("  %-18s %-12s %-7s %s\n", "name", "value", "applies", "what");
    for (size_t i = 0; i < ts_params_count(); i++) {
        const ts_param_info *pi = ts_params_info(i);
        char val[64];
        ts_params_get(&p, pi->name, val, sizeof val);
        printf("  %-18s %-12s %-7s %s\n", pi->name, val, ts_params_when(pi->name), pi->help);
    }
    printf("policies (choose with NAME=VALUE, e.g. --set rto_policy=rfc6298):\n");
    printf("  %-15s %-12s %s\n", "parameter", "value", "where it comes from");
    for (size_t i = 0; i < ts_policies_count(); i++) {
        const ts_policy_info *pi = ts_policies_info(i);
        printf("  %-15s %-12s %s\n", pi->kind, pi->name, pi->source);
    }
    printf("profiles:");
    for (const char *const *n = ts_params_profiles(); *n; n++) printf(" %s", *n);
    printf("\n");
    return 0;
}
