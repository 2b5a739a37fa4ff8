/* test_opts.c: TCP option emit in Linux's exact byte layout, parse of what peers send, and
 * every malformed case rejected without reading past the end (options sit at the very end
 * of a malloc'd block so ASan sees any overread). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tcpsim/tcp_opt.h"
#include "harness.h"

/* Parse len bytes copied to the very end of a heap block of exactly len bytes. */
static int parse_at_end(const uint8_t *bytes, size_t len, ts_tcp_opts *o)
{
    uint8_t *p = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(p);
    if (len) memcpy(p, bytes, len);
    int r = ts_tcp_opts_parse(p, len, o);
    free(p);
    return r;
}

#define PARSE(o, ...)                                                                              \
    ({                                                                                             \
        const uint8_t b_[] = {__VA_ARGS__};                                                        \
        parse_at_end(b_, sizeof b_, (o));                                                          \
    })

static ts_tcp_opts_out syn_out(void)
{
    ts_tcp_opts_out o = {.syn = true,
                         .mss_on = true,
                         .mss = 1460,
                         .sackok_on = true,
                         .wscale_on = true,
                         .wscale = 7,
                         .ts_on = true,
                         .tsval = 1154875489,
                         .tsecr = 0};
    return o;
}

static void assert_bytes(const uint8_t *got, size_t n, const uint8_t *want, size_t wn)
{
    ck_assert_uint_eq(n, wn);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(got[i] == want[i], "byte %zu: %02x != %02x", i, got[i], want[i]);
}

START_TEST(linux_syn_with_ts)
{
    ts_tcp_opts_out o = syn_out();
    uint8_t buf[40];
    size_t n = ts_tcp_opts_write(buf, &o);
    const uint8_t want[] = {0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x44, 0xd6,
                            0x00, 0x61, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07};
    assert_bytes(buf, n, want, sizeof want);
}
END_TEST

START_TEST(linux_syn_without_ts)
{
    ts_tcp_opts_out o = syn_out();
    o.ts_on = false;
    uint8_t buf[40];
    const uint8_t want[] = {0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x04, 0x02, 0x01, 0x03, 0x03, 0x07};
    assert_bytes(buf, ts_tcp_opts_write(buf, &o), want, sizeof want);
}
END_TEST

START_TEST(syn_combinations)
{
    uint8_t buf[40];
    ts_tcp_opts_out o = syn_out();
    o.sackok_on = false; /* TS without SACK: NOP NOP TS */
    o.tsval = 0x01020304, o.tsecr = 0x05060708;
    const uint8_t ts_nosack[] = {2, 4, 5, 0xb4, 1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 3, 3, 7};
    assert_bytes(buf, ts_tcp_opts_write(buf, &o), ts_nosack, sizeof ts_nosack);

    o.ts_on = false; /* MSS, NOP, WS */
    const uint8_t ws_only[] = {2, 4, 5, 0xb4, 1, 3, 3, 7};
    assert_bytes(buf, ts_tcp_opts_write(buf, &o), ws_only, sizeof ws_only);

    o = syn_out(); /* no WS, no TS: MSS, NOP, NOP, SACK-perm */
    o.ts_on = false, o.wscale_on = false;
    const uint8_t sack_only[] = {2, 4, 5, 0xb4, 1, 1, 4, 2};
    assert_bytes(buf, ts_tcp_opts_write(buf, &o), sack_only, sizeof sack_only);

    o = syn_out(); /* no WS, with TS: 16 bytes */
    o.wscale_on = false, o.mss = 1250, o.tsval = 9, o.tsecr = 10;
    const uint8_t no_ws[] = {2, 4, 0x04, 0xe2, 4, 2, 8, 10, 0, 0, 0, 9, 0, 0, 0, 10};
    assert_bytes(buf, ts_tcp_opts_write(buf, &o), no_ws, sizeof no_ws);

    o = syn_out(); /* nothing but MSS */
    o.ts_on = o.sackok_on = o.wscale_on = false;
    const uint8_t mss_only[] = {2, 4, 5, 0xb4};
    assert_bytes(buf, ts_tcp_opts_write(buf, &o), mss_only, sizeof mss_only);

    o.mss_on = false;
    ck_assert_uint_eq(ts_tcp_opts_write(buf, &o), 0);
}
END_TEST

START_TEST(non_syn_ts_and_sack)
{
    uint8_t buf[40];
    ts_tcp_opts_out o = {.ts_on = true,
                         .tsval = 1154875493,
                         .tsecr = 1543289971,
                         .mss_on = true,
                         .sackok_on = true,
                         .wscale_on = true};
    /* SYN-only options never appear on other segments. */
    const uint8_t ts_only[] = {1, 1, 8, 10, 0x44, 0xd6, 0x00, 0x65, 0x5b, 0xfc, 0xbc, 0x73};
    assert_bytes(buf, ts_tcp_opts_write(buf, &o), ts_only, sizeof ts_only);

    o.nsack = 4;
    for (uint32_t i = 0; i < 4; i++) o.sack[i] = (ts_sack_block){100 * i + 10, 100 * i + 20};
    size_t n = ts_tcp_opts_write(buf, &o); /* with TS only 3 blocks fit */
    ck_assert_uint_eq(n, 40);
    const uint8_t sack_hdr[] = {1, 1, 5, 26};
    assert_bytes(buf + 12, 4, sack_hdr, 4);
    ts_tcp_opts in;
    ck_assert_int_eq(ts_tcp_opts_parse(buf, n, &in), 0);
    ck_assert(in.has_ts);
    ck_assert_uint_eq(in.tsval, 1154875493);
    ck_assert_uint_eq(in.tsecr, 1543289971);
    ck_assert_uint_eq(in.nsack, 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_uint_eq(in.sack[i].start, o.sack[i].start);
        ck_assert_uint_eq(in.sack[i].end, o.sack[i].end);
    }

    o.ts_on = false; /* without TS all 4 fit: 4 + 32 = 36 */
    n = ts_tcp_opts_write(buf, &o);
    ck_assert_uint_eq(n, 36);
    ck_assert_int_eq(ts_tcp_opts_parse(buf, n, &in), 0);
    ck_assert(!in.has_ts);
    ck_assert_uint_eq(in.nsack, 4);
    ck_assert_uint_eq(in.sack[3].start, 310);
    ck_assert_uint_eq(in.sack[3].end, 320);

    o.nsack = 0;
    ck_assert_uint_eq(ts_tcp_opts_write(buf, &o), 0);
}
END_TEST

START_TEST(sack_round_trip_each_count)
{
    for (uint8_t want = 1; want <= 4; want++) {
        ts_tcp_opts_out o = {.nsack = want};
        for (uint32_t i = 0; i < want; i++)
            o.sack[i] = (ts_sack_block){0xfffffff0u + 1000 * i, 0xfffffff0u + 1000 * i + 500};
        uint8_t buf[40];
        size_t n = ts_tcp_opts_write(buf, &o);
        ck_assert_uint_eq(n % 4, 0);
        ck_assert_uint_eq(n, 4 + 8u * want);
        ts_tcp_opts in;
        ck_assert_int_eq(parse_at_end(buf, n, &in), 0);
        ck_assert_uint_eq(in.nsack, want);
        for (uint32_t i = 0; i < want; i++) {
            ck_assert_uint_eq(in.sack[i].start, o.sack[i].start);
            ck_assert_uint_eq(in.sack[i].end, o.sack[i].end);
        }
    }
}
END_TEST

START_TEST(parse_chapter_syn)
{
    ts_tcp_opts o;
    ck_assert_int_eq(PARSE(&o, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x44, 0xd6, 0x00,
                           0x61, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07),
                     0);
    ck_assert(o.has_mss && o.has_sackok && o.has_ts && o.has_wscale);
    ck_assert_uint_eq(o.mss, 1460);
    ck_assert_uint_eq(o.tsval, 1154875489);
    ck_assert_uint_eq(o.tsecr, 0);
    ck_assert_uint_eq(o.wscale, 7);
    ck_assert_uint_eq(o.nsack, 0);
}
END_TEST

START_TEST(parse_round_trip_syn)
{
    for (int mask = 0; mask < 16; mask++) {
        ts_tcp_opts_out o = syn_out();
        o.mss_on = mask & 1, o.sackok_on = mask & 2, o.ts_on = mask & 4, o.wscale_on = mask & 8;
        o.mss = 536, o.wscale = 14, o.tsval = 0xdeadbeef, o.tsecr = 0x12345678;
        uint8_t buf[40];
        size_t n = ts_tcp_opts_write(buf, &o);
        ck_assert_uint_eq(n % 4, 0);
        ts_tcp_opts in;
        ck_assert_int_eq(parse_at_end(buf, n, &in), 0);
        ck_assert_int_eq(in.has_mss, o.mss_on);
        ck_assert_int_eq(in.has_sackok, o.sackok_on);
        ck_assert_int_eq(in.has_ts, o.ts_on);
        ck_assert_int_eq(in.has_wscale, o.wscale_on);
        if (o.mss_on) ck_assert_uint_eq(in.mss, 536);
        if (o.wscale_on) ck_assert_uint_eq(in.wscale, 14);
        if (o.ts_on) ck_assert_uint_eq(in.tsval, 0xdeadbeef);
        if (o.ts_on) ck_assert_uint_eq(in.tsecr, 0x12345678);
    }
}
END_TEST

START_TEST(parse_benign)
{
    ts_tcp_opts o;
    ck_assert_int_eq(parse_at_end(NULL, 0, &o), 0);
    ck_assert(!o.has_mss && !o.has_ts && !o.has_sackok && !o.has_wscale && o.nsack == 0);
    ck_assert_int_eq(PARSE(&o, 1, 1, 1, 1), 0);
    /* EOL ends parsing: what follows (even garbage) is not read as options. */
    ck_assert_int_eq(PARSE(&o, 2, 4, 0x05, 0xb4, 0, 2, 0, 0xff, 0xff), 0);
    ck_assert(o.has_mss);
    ck_assert_uint_eq(o.mss, 1460);
    ck_assert_int_eq(PARSE(&o, 0, 2, 4, 0x05, 0xb4), 0);
    ck_assert(!o.has_mss);
    /* Unknown kinds with a sane length are skipped; later options still count. */
    ck_assert_int_eq(PARSE(&o, 30, 4, 0xaa, 0xbb, 253, 2, 3, 3, 9, 1), 0);
    ck_assert(o.has_wscale);
    ck_assert_uint_eq(o.wscale, 9);
    /* Window scale above 14 is reported as received; the caller clamps. */
    ck_assert_int_eq(PARSE(&o, 3, 3, 200), 0);
    ck_assert_uint_eq(o.wscale, 200);
}
END_TEST

START_TEST(parse_malformed)
{
    ts_tcp_opts o;
    /* length byte 0 or 1 */
    ck_assert_int_eq(PARSE(&o, 30, 0), -1);
    ck_assert_int_eq(PARSE(&o, 30, 1, 1, 1), -1);
    ck_assert_int_eq(PARSE(&o, 2, 0, 5, 0xb4), -1);
    ck_assert_int_eq(PARSE(&o, 8, 1), -1);
    /* a kind byte with no room for its length */
    ck_assert_int_eq(PARSE(&o, 2), -1);
    ck_assert_int_eq(PARSE(&o, 1, 1, 8), -1);
    ck_assert_int_eq(PARSE(&o, 30), -1);
    /* an option running past the end */
    ck_assert_int_eq(PARSE(&o, 2, 4, 5), -1);
    ck_assert_int_eq(PARSE(&o, 8, 10, 0, 0, 0, 1, 0, 0, 0), -1);
    ck_assert_int_eq(PARSE(&o, 30, 5, 0, 0), -1);
    ck_assert_int_eq(PARSE(&o, 5, 10, 0, 0, 0, 1, 0, 0, 0), -1);
    ck_assert_int_eq(PARSE(&o, 1, 30, 255), -1);
    /* wrong lengths for known kinds */
    ck_assert_int_eq(PARSE(&o, 2, 3, 5), -1);
    ck_assert_int_eq(PARSE(&o, 2, 5, 5, 0xb4, 0), -1);
    ck_assert_int_eq(PARSE(&o, 3, 2), -1);
    ck_assert_int_eq(PARSE(&o, 3, 4, 7, 0), -1);
    ck_assert_int_eq(PARSE(&o, 4, 3, 0), -1);
    ck_assert_int_eq(PARSE(&o, 5, 2), -1);
    ck_assert_int_eq(PARSE(&o, 5, 9, 0, 0, 0, 1, 0, 0, 2), -1);
    ck_assert_int_eq(PARSE(&o, 5, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0), -1);
    ck_assert_int_eq(PARSE(&o, 8, 8, 0, 0, 0, 1, 0, 0), -1);
    ck_assert_int_eq(PARSE(&o, 8, 12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0), -1);
    /* five SACK blocks (len 42) never fit in a real header and are rejected */
    uint8_t five[42] = {5, 42};
    ck_assert_int_eq(parse_at_end(five, sizeof five, &o), -1);
    /* a bad option after good ones still fails the whole segment */
    ck_assert_int_eq(PARSE(&o, 2, 4, 5, 0xb4, 1, 3, 3), -1);
}
END_TEST

START_TEST(parse_every_truncation)
{
    /* Every prefix of a full Linux SYN either parses or fails; never reads past the end. */
    ts_tcp_opts_out out = syn_out();
    uint8_t buf[40];
    size_t n = ts_tcp_opts_write(buf, &out);
    ts_tcp_opts o;
    int ok = 0;
    for (size_t len = 0; len <= n; len++) ok += parse_at_end(buf, len, &o) == 0;
    /* 0, 4 (MSS), 6 (+SACK-perm), 16 (+TS), 17 (+NOP), 20 (+WS) */
    ck_assert_int_eq(ok, 6);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tcp_opt");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, linux_syn_with_ts);
    tcase_add_test(tc, linux_syn_without_ts);
    tcase_add_test(tc, syn_combinations);
    tcase_add_test(tc, non_syn_ts_and_sack);
    tcase_add_test(tc, sack_round_trip_each_count);
    tcase_add_test(tc, parse_chapter_syn);
    tcase_add_test(tc, parse_round_trip_syn);
    tcase_add_test(tc, parse_benign);
    tcase_add_test(tc, parse_malformed);
    tcase_add_test(tc, parse_every_truncation);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
