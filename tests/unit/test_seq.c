/* test_seq.c: sequence-number comparisons modulo 2^32 (RFC 9293 3.4), at and across the
 * wrap, and the half-space boundary. */
#include <check.h>

#include "internal.h"
#include "harness.h"

START_TEST(compare_across_wrap)
{
    const uint32_t top = 0xffffffffu;
    ck_assert(seq_lt(top, 0));
    ck_assert(seq_lt(top - 10, 5));
    ck_assert(seq_gt(5, top - 10));
    ck_assert(seq_le(top, top));
    ck_assert(seq_ge(0, top));
    ck_assert(!seq_lt(0, top));
    ck_assert(seq_lt(4294967000u, 4294967000u + 1000u)); /* the sum wraps to 704 */
    ck_assert_uint_eq(seq_max(top, 3), 3);
    ck_assert_uint_eq(seq_min(top, 3), top);
    ck_assert_uint_eq(seq_max(100, 200), 200);
    /* distance survives the wrap */
    ck_assert_uint_eq((uint32_t)(5 - (top - 10)), 16);
}
END_TEST

START_TEST(half_space_boundary)
{
    /* within 2^31 - 1 ahead is "greater"; exactly 2^31 apart counts as behind (int32 min) */
    for (uint32_t base = 0; base < 8; base++) {
        uint32_t a = base * 0x20000000u + 12345u;
        ck_assert(seq_gt(a + 0x7fffffffu, a));
        ck_assert(seq_lt(a + 0x80000000u, a));
        ck_assert(seq_lt(a, a + 1));
        ck_assert(seq_le(a, a) && seq_ge(a, a) && !seq_lt(a, a) && !seq_gt(a, a));
    }
}
END_TEST

START_TEST(ordering_is_consistent)
{
    /* for every pair within a window around the wrap, exactly one of lt, eq, gt holds and
     * le/ge agree with them */
    for (uint32_t i = 0; i < 64; i++) {
        for (uint32_t j = 0; j < 64; j++) {
            uint32_t a = 0xffffffe0u + i, b = 0xffffffe0u + j;
            int n = seq_lt(a, b) + (a == b) + seq_gt(a, b);
            ck_assert_int_eq(n, 1);
            ck_assert_int_eq(seq_le(a, b), seq_lt(a, b) || a == b);
            ck_assert_int_eq(seq_ge(a, b), seq_gt(a, b) || a == b);
            ck_assert_int_eq(seq_lt(a, b), i < j);
        }
    }
}
END_TEST

static Suite *seq_suite(void)
{
    Suite *s = suite_create("seq");
    TCase *tc = tcase_create("seq");
    tcase_add_test(tc, compare_across_wrap);
    tcase_add_test(tc, half_space_boundary);
    tcase_add_test(tc, ordering_is_consistent);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(seq_suite());
}
