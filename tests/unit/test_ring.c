/* test_ring.c: the byte ring behind send and receive streams: wrap-around at the end of the
 * buffer, growth that keeps out-of-order bytes beyond len, and consume. */
#include <check.h>
#include <string.h>

#include "ring.h"
#include "harness.h"

static uint8_t pat(uint32_t i)
{
    return (uint8_t)(i * 7 + 3);
}

START_TEST(put_get_wraps)
{
    ts_ring r = {0};
    ck_assert_int_eq(ts_ring_reserve(&r, 100), 0);
    ck_assert_uint_eq(r.cap, 4096); /* smallest capacity */
    uint8_t buf[3000], out[3000];
    uint32_t written = 0, read = 0;
    /* push and pop 3000-byte chunks so the data crosses the end of the buffer many times */
    for (int round = 0; round < 20; round++) {
        for (uint32_t i = 0; i < 3000; i++) buf[i] = pat(written + i);
        ts_ring_put(&r, r.len, buf, 3000);
        r.len += 3000;
        written += 3000;
        ck_assert_uint_eq(r.cap, 4096);
        ts_ring_get(&r, 0, out, 3000);
        for (uint32_t i = 0; i < 3000; i++) ck_assert_uint_eq(out[i], pat(read + i));
        ts_ring_consume(&r, 3000);
        read += 3000;
        ck_assert_uint_eq(r.len, 0);
    }
    ck_assert_uint_ne(r.head, 0);
    ts_ring_free(&r);
    ck_assert_ptr_null(r.buf);
    ck_assert_uint_eq(r.cap, 0);
}
END_TEST

START_TEST(growth_keeps_out_of_order_bytes)
{
    ts_ring r = {0};
    ck_assert_int_eq(ts_ring_reserve(&r, 4096), 0);
    /* move head near the end so the held data wraps */
    uint8_t tmp[4000];
    memset(tmp, 0xee, sizeof tmp);
    ts_ring_put(&r, 0, tmp, 4000);
    r.len = 4000;
    ts_ring_consume(&r, 4000);
    ck_assert_uint_eq(r.head, 4000);
    /* in-order bytes [0, 1000), a hole, out-of-order bytes at [2000, 3000) */
    uint8_t a[1000], b[1000];
    for (uint32_t i = 0; i < 1000; i++) a[i] = pat(i), b[i] = pat(2000 + i);
    ts_ring_put(&r, 0, a, 1000);
    r.len = 1000;
    ts_ring_put(&r, 2000, b, 1000);
    /* growing to 3 pages doubles to 8192 and keeps both, offsets unchanged */
    ck_assert_int_eq(ts_ring_reserve(&r, 5000), 0);
    ck_assert_uint_eq(r.cap, 8192);
    ck_assert_uint_eq(r.len, 1000);
    uint8_t out[1000];
    ts_ring_get(&r, 0, out, 1000);
    ck_assert_int_eq(memcmp(out, a, 1000), 0);
    ts_ring_get(&r, 2000, out, 1000);
    ck_assert_int_eq(memcmp(out, b, 1000), 0);
    /* fill the hole; consume past the old data; the out-of-order bytes keep their place */
    uint8_t c[1000];
    for (uint32_t i = 0; i < 1000; i++) c[i] = pat(1000 + i);
    ts_ring_put(&r, 1000, c, 1000);
    r.len = 3000;
    ts_ring_consume(&r, 1500);
    ck_assert_uint_eq(r.len, 1500);
    uint8_t all[1500];
    ts_ring_get(&r, 0, all, 1500);
    for (uint32_t i = 0; i < 1500; i++) ck_assert_uint_eq(all[i], pat(1500 + i));
    /* reserve never shrinks and a smaller need is a no-op */
    ck_assert_int_eq(ts_ring_reserve(&r, 10), 0);
    ck_assert_uint_eq(r.cap, 8192);
    ts_ring_free(&r);
}
END_TEST

/* Growth copies the bytes put (in order and out of order), not the old capacity: a
 * connection whose window grew past 64 KB while it held 2 KB must not touch 128 KB. */
START_TEST(growth_copies_only_what_was_put)
{
    ts_ring r = {0};
    ck_assert_int_eq(ts_ring_reserve(&r, 65536), 0);
    uint8_t a[100], b[50], out[100];
    for (uint32_t i = 0; i < 100; i++) a[i] = pat(i);
    for (uint32_t i = 0; i < 50; i++) b[i] = pat(3000 + i);
    ts_ring_put(&r, 0, a, 100);
    r.len = 100;
    ts_ring_put(&r, 3000, b, 50); /* out of order, past a hole */
    ck_assert_uint_eq(r.hi, 3050);
    ts_ring_get(&r, 0, out, 100);
    ck_assert_int_eq(memcmp(out, a, 100), 0);
    ts_ring_consume(&r, 100);
    ck_assert_uint_eq(r.hi, 2950); /* counted from the new head */
    ck_assert_int_eq(ts_ring_reserve(&r, 65537), 0);
    ck_assert_uint_eq(r.cap, 131072);
    ck_assert_uint_eq(r.hi, 2950);
    ts_ring_get(&r, 2900, out, 50);
    ck_assert_int_eq(memcmp(out, b, 50), 0);
    /* consuming everything put leaves nothing to copy */
    static const uint8_t fill[2900];
    ts_ring_put(&r, 0, fill, sizeof fill);
    r.len = 2950;
    ts_ring_consume(&r, 2950);
    ck_assert_uint_eq(r.hi, 0);
    ck_assert_uint_eq(r.len, 0);
    ck_assert_int_eq(ts_ring_reserve(&r, 262144), 0);
    ck_assert_uint_eq(r.hi, 0);
    ts_ring_free(&r);
    ck_assert_uint_eq(r.hi, 0);
}
END_TEST

START_TEST(large_growth)
{
    ts_ring r = {0};
    ck_assert_int_eq(ts_ring_reserve(&r, 6291456), 0);
    ck_assert_uint_eq(r.cap, 8388608);
    ck_assert_int_eq(ts_ring_reserve(&r, 4097), 0);
    ck_assert_uint_eq(r.cap, 8388608);
    ts_ring_free(&r);
}
END_TEST

static Suite *ring_suite(void)
{
    Suite *s = suite_create("ring");
    TCase *tc = tcase_create("ring");
    tcase_add_test(tc, put_get_wraps);
    tcase_add_test(tc, growth_keeps_out_of_order_bytes);
    tcase_add_test(tc, growth_copies_only_what_was_put);
    tcase_add_test(tc, large_growth);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(ring_suite());
}
