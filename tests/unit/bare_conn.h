/* bare_conn.h: a connection outside any stack, for the suites that drive one module's
 * functions directly (the RTO policies' estimators), with parameters of its own that the
 * test may change through P(c). One allocation: free(c) frees both. */
#ifndef TS_TEST_BARE_CONN_H
#define TS_TEST_BARE_CONN_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

typedef struct bare_conn {
    ts_conn c; /* first: the block's address is the connection's */
    ts_params p;
} bare_conn;

static inline ts_params *P(ts_conn *c)
{
    return &((bare_conn *)c)->p;
}

/* Linux's defaults with this RTO policy, its ops, and RTO = rto_init. */
static inline ts_conn *bare_conn_new(const char *rto_policy)
{
    bare_conn *b = calloc(1, sizeof *b);
    ck_assert_ptr_nonnull(b);
    ts_params_default(&b->p);
    snprintf(b->p.rto_policy, sizeof b->p.rto_policy, "%s", rto_policy);
    b->c.p = &b->p;
    b->c.rto_ops = ts_rto_find(rto_policy);
    ck_assert_ptr_nonnull(b->c.rto_ops);
    b->c.rto = b->p.rto_init;
    return &b->c;
}

#endif
