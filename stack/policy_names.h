/* policy_names.h: the policy names each pluggable kind accepts, for parameter validation
 * and help texts. The list lives in params.c until the policy registry exists. */
#ifndef TS_POLICY_NAMES_H
#define TS_POLICY_NAMES_H

/* kind: "rto_policy", "backoff_policy", "delack_policy", "cc" or "recovery". Returns a
 * NULL-terminated list of the names that kind accepts, or NULL for an unknown kind. */
const char *const *ts_policy_names(const char *kind);

#endif
