/* pd_flags.c: the adapter's own --so_flags syntax: comma-separated NAME=VALUE items.
 *   local=A.B.C.D   the stack's address (packetdrill's --local_ip; default 192.168.0.1)
 *   profile=NAME    a parameter profile, applied before every other item (default
 *                   "packetdrill": Linux with packetdrill's sysctls, i.e. wscale 8,
 *                   a 15 MB receive buffer and 5 SYN retries)
 *   seed=N          keys ISNs and ephemeral ports
 *   NAME=VALUE      any stack parameter (delack=40ms, cc=reno, rto_min=1s, ...) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pd.h"

#define PD_FLAGS_MAX 1024

static void pd_fmt(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
    snprintf(err, errlen, fmt, a, b);
}

/* The profile must be applied first, so that later items override it wherever they are. */
static int apply_profile(char *items, size_t n, ts_params *p, char *err, size_t errlen)
{
    const char *name = "packetdrill";
    for (char *it = items; it < items + n + 1; it += strlen(it) + 1)
        if (!strncmp(it, "profile=", 8)) name = it + 8;
    ts_params_default(p);
    return ts_params_profile(p, name, err, errlen);
}

static int apply_item(const char *it, ts_stack_config *cfg, char *err, size_t errlen)
{
    if (!strncmp(it, "profile=", 8)) return 0;
    if (!strncmp(it, "local=", 6)) {
        if (ts_ip4_parse(it + 6, &cfg->addr) == 0) return 0;
        pd_fmt(err, errlen, "'%s' is not an IPv4 address; use local=A.B.C.D%s", it + 6, "");
        return -1;
    }
    if (!strncmp(it, "seed=", 5)) {
        char *end;
        cfg->seed = strtoull(it + 5, &end, 0);
        if (*end == 0 && end != it + 5) return 0;
        pd_fmt(err, errlen, "'%s' is not a number; use seed=N%s", it + 5, "");
        return -1;
    }
    if (!strchr(it, '=')) {
        pd_fmt(err, errlen, "'%s' is not NAME=VALUE; use e.g. local=192.168.0.1,delack=40ms%s", it,
               "");
        return -1;
    }
    return ts_params_set_kv(&cfg->params, it, err, errlen);
}

int pd_parse_flags(const char *flags, ts_stack_config *cfg, char *err, size_t errlen)
{
    char items[PD_FLAGS_MAX];
    ts_stack_config_init(cfg);
    cfg->addr = TS_IP4(192, 168, 0, 1);
    if (!flags) flags = "";
    if (strlen(flags) >= sizeof items) {
        pd_fmt(err, errlen, "the flags are longer than %s bytes%s", "1023", "");
        return -1;
    }
    strcpy(items, flags);
    size_t n = strlen(items);
    for (size_t i = 0; i < n; i++)
        if (items[i] == ',') items[i] = 0;
    if (apply_profile(items, n, &cfg->params, err, errlen) < 0) return -1;
    for (char *it = items; it < items + n + 1; it += strlen(it) + 1)
        if (*it && apply_item(it, cfg, err, errlen) < 0) return -1;
    return 0;
}
