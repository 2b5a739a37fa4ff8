/* test_tools_view_sweep.c: a sweep's grid (run numbers to values and seeds, shards, the
 * --vary and --seeds syntax), its CSV quoting both ways, and the median's order-statistic
 * confidence interval against the binomial ranks worked out by hand. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "plot_sweep.h"
#include "sweep.h"

START_TEST(grid_order)
{
    ts_sweep_grid g = {0};
    char err[256];
    ck_assert_int_eq(ts_sweep_add_vary(&g, "loss=0%,1%,2%", err, sizeof err), 0);
    ck_assert_int_eq(ts_sweep_add_vary(&g, "cc=reno,cubic", err, sizeof err), 0);
    ck_assert_int_eq(ts_sweep_set_seeds(&g, "5..8", err, sizeof err), 0);
    ck_assert_int_eq(ts_sweep_finish(&g, err, sizeof err), 0);
    ck_assert_uint_eq(g.runs, 3 * 2 * 4);
    size_t idx[2];
    uint64_t seed;
    /* seeds innermost, the first --vary outermost */
    ts_sweep_point(&g, 0, idx, &seed);
    ck_assert(idx[0] == 0 && idx[1] == 0 && seed == 5);
    ts_sweep_point(&g, 3, idx, &seed);
    ck_assert(idx[0] == 0 && idx[1] == 0 && seed == 8);
    ts_sweep_point(&g, 4, idx, &seed);
    ck_assert(idx[0] == 0 && idx[1] == 1 && seed == 5);
    ts_sweep_point(&g, 23, idx, &seed);
    ck_assert(idx[0] == 2 && idx[1] == 1 && seed == 8);
    ck_assert_str_eq(g.vars[1].vals[1], "cubic");
    ts_sweep_grid_free(&g);
}
END_TEST

START_TEST(bad_specs)
{
    ts_sweep_grid g = {0};
    char err[256];
    ck_assert_int_eq(ts_sweep_add_vary(&g, "loss", err, sizeof err), -1);
    ck_assert_int_eq(ts_sweep_add_vary(&g, "=1,2", err, sizeof err), -1);
    ck_assert_int_eq(ts_sweep_add_vary(&g, "loss=1%,,2%", err, sizeof err), -1);
    ck_assert_int_eq(ts_sweep_add_vary(&g, "run=1", err, sizeof err), -1);
    ck_assert_int_eq(ts_sweep_add_vary(&g, "goodput_mbps=1", err, sizeof err), -1);
    ck_assert_int_eq(ts_sweep_set_seeds(&g, "3..2", err, sizeof err), -1);
    ck_assert_int_eq(ts_sweep_set_seeds(&g, "..2", err, sizeof err), -1);
    ck_assert_int_eq(ts_sweep_set_seeds(&g, "1..99999999999999999999", err, sizeof err), -1);
    ck_assert_int_eq(ts_sweep_set_seeds(&g, "7", err, sizeof err), 0);
    ck_assert(g.seed_lo == 7 && g.seed_hi == 7);
    ck_assert_int_eq(ts_sweep_set_seeds(&g, "1..6000000", err, sizeof err), 0);
    ck_assert_int_eq(ts_sweep_add_vary(&g, "a=1,2", err, sizeof err), 0);
    ck_assert_int_eq(ts_sweep_finish(&g, err, sizeof err), -1); /* too many runs */
    unsigned k, n;
    ck_assert_int_eq(ts_sweep_parse_shard("3/8", &k, &n, err, sizeof err), 0);
    ck_assert(k == 3 && n == 8);
    ck_assert_int_eq(ts_sweep_parse_shard("0/8", &k, &n, err, sizeof err), -1);
    ck_assert_int_eq(ts_sweep_parse_shard("9/8", &k, &n, err, sizeof err), -1);
    ck_assert_int_eq(ts_sweep_parse_shard("3/", &k, &n, err, sizeof err), -1);
    ck_assert_int_eq(ts_sweep_parse_shard("3/8x", &k, &n, err, sizeof err), -1);
    ts_sweep_grid_free(&g);
}
END_TEST

START_TEST(csv_round_trip)
{
    char line[256];
    size_t pos = 0;
    ts_csv_put(line, sizeof line, &pos, "plain", true);
    ts_csv_put(line, sizeof line, &pos, "a,b", false);
    ts_csv_put(line, sizeof line, &pos, "say \"hi\"", false);
    ts_csv_put(line, sizeof line, &pos, "", false);
    ck_assert_str_eq(line, "plain,\"a,b\",\"say \"\"hi\"\"\",");
    char *f[8];
    ck_assert_int_eq(ts_csv_split(line, f, 8), 4);
    ck_assert_str_eq(f[0], "plain");
    ck_assert_str_eq(f[1], "a,b");
    ck_assert_str_eq(f[2], "say \"hi\"");
    ck_assert_str_eq(f[3], "");
    char bad[] = "\"open,field";
    ck_assert_int_eq(ts_csv_split(bad, f, 8), -1);
}
END_TEST

START_TEST(median_ci_ranks)
{
    double v[30], med, lo, hi, cov;
    for (int i = 0; i < 30; i++) v[i] = (double)(30 - i); /* 30..1, sorted by the call */
    ts_median_ci(v, 30, &med, &lo, &hi, &cov);
    /* n = 30: P(B <= 9) = 0.0214 <= 2.5% < P(B <= 10) = 0.0494: ranks 10 and 21 */
    ck_assert_double_eq_tol(med, 15.5, 1e-12);
    ck_assert_double_eq_tol(lo, 10, 1e-12);
    ck_assert_double_eq_tol(hi, 21, 1e-12);
    ck_assert_double_eq_tol(cov, 1 - 2 * 0.021387, 1e-5);
    double w[5] = {3, 1, 5, 2, 4};
    ts_median_ci(w, 5, &med, &lo, &hi, &cov);
    /* fewer than 6: the range, covering 1 - 2^-4 */
    ck_assert(med == 3 && lo == 1 && hi == 5);
    ck_assert_double_eq_tol(cov, 0.9375, 1e-12);
    double x[6] = {6, 5, 4, 3, 2, 1};
    ts_median_ci(x, 6, &med, &lo, &hi, &cov);
    ck_assert(med == 3.5 && lo == 1 && hi == 6); /* 1 - 2/64 = 96.9% */
    ck_assert_double_eq_tol(cov, 1 - 2.0 / 64, 1e-12);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tools_view_sweep");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, grid_order);
    tcase_add_test(tc, bad_specs);
    tcase_add_test(tc, csv_round_trip);
    tcase_add_test(tc, median_ci_ranks);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
