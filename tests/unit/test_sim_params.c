/* test_sim_params.c: scenario parameters (docs/sweeps.md): `param NAME DEFAULT` and
 * ${NAME} give the default, -D values (the parse options' defs) replace it, text in
 * strings is expanded and comments are not; each mistake (undeclared, unused, declared
 * twice, a -D the file does not declare, a -D given twice) is one "FILE:LINE: message". */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "scn.h"

static const char *base = "param loss 1%\n"
                          "param size 2000\n"
                          "param word hi\n"
                          "host a 10.0.0.1   # ${not_expanded} in a comment\n"
                          "host b 10.0.0.2\n"
                          "link a>b loss=${loss}\n"
                          "link b>a delay=10ms\n"
                          "at 0s b listen 80\n"
                          "at 0s a connect b:80\n"
                          "at 1s a send ${size}\n"
                          "at 2s a send \"${word} there\"\n";

static ts_scn *parse(const char *text, const char *const *defs, size_t ndefs, char *err,
                     size_t errlen)
{
    ts_scn_parse_opts o = {.service_known = NULL, .defs = defs, .ndefs = ndefs};
    err[0] = '\0';
    return ts_scn_parse("p.scn", text, strlen(text), &o, err, errlen);
}

START_TEST(defaults_and_defines)
{
    char err[512];
    ts_scn *s = parse(base, NULL, 0, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    ck_assert_double_eq_tol(s->dirs[0].params.loss.p, 0.01, 1e-12);
    ck_assert_uint_eq(s->acts[2].count, 2000);
    ck_assert_uint_eq(s->acts[3].text_len, 8);
    ck_assert(!memcmp(s->acts[3].text, "hi there", 8));
    ts_scn_free(s);
    const char *defs[] = {"size=64KB", "loss=0.5%", "word=bye"};
    s = parse(base, defs, 3, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    ck_assert_double_eq_tol(s->dirs[0].params.loss.p, 0.005, 1e-12);
    ck_assert_uint_eq(s->acts[2].count, 64000);
    ck_assert(!memcmp(s->acts[3].text, "bye there", 9));
    ts_scn_free(s);
}
END_TEST

static const struct {
    const char *text;
    const char *def; /* one -D, or NULL */
    const char *want;
} mistakes[] = {
    {"host a 10.0.0.1 cc=${cc}\n", NULL,
     "p.scn:1: ${cc} is not declared; add 'param cc DEFAULT' above this line"},
    {"host a 10.0.0.1 cc=${cc}\nparam cc reno\n", NULL, "p.scn:1: ${cc} is not declared"},
    {"param cc reno\nhost a 10.0.0.1\n", NULL, "p.scn:1: param 'cc' is never used"},
    {"param cc reno\nparam cc cubic\nhost a 10.0.0.1 cc=${cc}\n", NULL,
     "p.scn:2: param 'cc' is declared twice (first at line 1)"},
    {"param 9x reno\n", NULL, "p.scn:1: bad param name '9x'"},
    {"param cc\n", NULL, "p.scn:1: write 'param NAME DEFAULT'"},
    {"param cc reno\nhost a 10.0.0.1 cc=${cc\n", NULL, "p.scn:2: '${' without its '}'"},
    {"param cc reno\nhost a 10.0.0.1 cc=${cc}\n", "c=cubic",
     "p.scn: c=cubic is set but the file declares no 'param c' (its params: cc)"},
    {"param cc reno\nhost a 10.0.0.1 cc=${cc}\n", "cc=bogus", "p.scn:2: host a: cc:"},
    {"param cc reno\nhost a 10.0.0.1 cc=${cc}\n", "cc", "p.scn: 'cc' is not NAME=VALUE"},
};

START_TEST(each_mistake)
{
    char err[512];
    const char *defs[] = {mistakes[_i].def};
    ts_scn *s = parse(mistakes[_i].text, defs, mistakes[_i].def ? 1 : 0, err, sizeof err);
    ck_assert_ptr_null(s);
    ck_assert_msg(strstr(err, mistakes[_i].want) != NULL, "got '%s', want '%s'", err,
                  mistakes[_i].want);
}
END_TEST

START_TEST(define_twice)
{
    char err[512];
    const char *defs[] = {"cc=reno", "cc=cubic"};
    ts_scn *s = parse("param cc reno\nhost a 10.0.0.1 cc=${cc}\n", defs, 2, err, sizeof err);
    ck_assert_ptr_null(s);
    ck_assert_str_eq(err, "p.scn: cc is set twice ('cc=reno' and 'cc=cubic')");
}
END_TEST

START_TEST(expectation_text_shows_the_value)
{
    /* the report prints the expanded line: what was checked, not the template */
    char err[512];
    const char *text = "param n 1000\nhost a 10.0.0.1\nhost b 10.0.0.2\nlink a b\n"
                       "expect b received ${n} whole   # ${n} bytes\n";
    const char *defs[] = {"n=5000"};
    ts_scn *s = parse(text, defs, 1, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    ck_assert_str_eq(s->exps[0].text, "expect b received 5000 whole");
    ts_scn_free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sim_params");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, defaults_and_defines);
    tcase_add_loop_test(tc, each_mistake, 0, (int)(sizeof mistakes / sizeof mistakes[0]));
    tcase_add_test(tc, define_twice);
    tcase_add_test(tc, expectation_text_shows_the_value);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
