/* policy.c: the registry of policies by name. Adding a policy: write its file with an ops
 * struct, declare it here and list it in its table (and in params.c's name lists). */
#include <string.h>

#include "internal.h"

extern const ts_rto_ops ts_rto_linux, ts_rto_rfc6298, ts_rto_fixed;
extern const ts_backoff_ops ts_backoff_exponential, ts_backoff_linear, ts_backoff_constant;
extern const ts_delack_ops ts_delack_linux;
extern const ts_delack_ops ts_delack_fixed, ts_delack_bsd, ts_delack_every;
extern const ts_cc_ops ts_cc_newreno, ts_cc_reno, ts_cc_cubic;

static const ts_rto_ops *const rto_table[] = {&ts_rto_linux, &ts_rto_rfc6298, &ts_rto_fixed, NULL};
static const ts_backoff_ops *const backoff_table[] = {&ts_backoff_exponential, &ts_backoff_linear,
                                                      &ts_backoff_constant, NULL};
static const ts_delack_ops *const delack_table[] = {&ts_delack_linux, &ts_delack_fixed,
                                                    &ts_delack_bsd, &ts_delack_every, NULL};
static const ts_cc_ops *const cc_table[] = {&ts_cc_newreno, &ts_cc_reno, &ts_cc_cubic, NULL};

#define FIND(table, name)                                                                          \
    do {                                                                                           \
        for (size_t i = 0; table[i]; i++)                                                          \
            if (!strcmp(table[i]->name, name)) return table[i];                                    \
        return NULL;                                                                               \
    } while (0)

const ts_rto_ops *ts_rto_find(const char *name)
{
    FIND(rto_table, name);
}
const ts_backoff_ops *ts_backoff_find(const char *name)
{
    FIND(backoff_table, name);
}
const ts_delack_ops *ts_delack_find(const char *name)
{
    FIND(delack_table, name);
}
const ts_cc_ops *ts_cc_find(const char *name)
{
    FIND(cc_table, name);
}
