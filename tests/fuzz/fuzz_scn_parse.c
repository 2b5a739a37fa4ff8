/* fuzz_scn_parse.c: libFuzzer target for the scenario parser (sim/scn_parse.c). Any bytes
 * are a scenario file; the parser must either return a scenario that frees cleanly or
 * refuse with exactly one line that starts with the file's name ("FILE:LINE: what is
 * wrong" or "FILE: what is wrong"). Leaks, overreads (the text is not NUL-terminated) and
 * undefined behaviour are caught by the sanitizers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scn.h"

#define NAME "fuzz.scn"

/* The services the `tcpsim run` driver knows, so `serve` lines parse as they would. */
static int service_known(const char *name)
{
    return !strcmp(name, "echo") || !strcmp(name, "discard") || !strcmp(name, "chargen") ||
           !strcmp(name, "telnet");
}

static void refused_well(const char *err)
{
    if (strncmp(err, NAME ":", sizeof NAME) != 0 || strchr(err, '\n') || !err[sizeof NAME]) {
        fprintf(stderr, "fuzz_scn_parse: a refusal that is not one line 'FILE:LINE: what': [%s]\n",
                err);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512] = "";
    ts_scn_parse_opts o = {.service_known = service_known};
    ts_scn *s = ts_scn_parse(NAME, (const char *)data, size, &o, err, sizeof err);
    if (s)
        ts_scn_free(s);
    else
        refused_well(err);
    return 0;
}
