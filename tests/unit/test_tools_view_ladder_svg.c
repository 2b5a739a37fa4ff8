/* test_tools_view_ladder_svg.c: the ladder as SVG and HTML, checked with real tools: the
 * SVG is well-formed (xmllint), renders without a complaint (rsvg-convert), has one arrow
 * per segment, the labels it must and a tooltip holding each tcpdump line; the HTML opens
 * in headless chromium at #step=N with that arrow highlighted and both control blocks
 * shown, and its buttons and arrow keys step through the segments. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ladder.h"
#include "ladder_fixtures.h"

static char dir[] = "/tmp/ts_ladder_XXXXXX";

static void write_file(ts_view *v, ts_ladder_format fmt, bool relative, const char *name,
                       char *path, size_t plen)
{
    ts_ladder_opts o;
    ts_ladder_opts_init(&o);
    o.format = fmt;
    o.relative = relative;
    snprintf(path, plen, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    char err[200] = "";
    ck_assert_msg(ts_ladder_write(v, &o, f, err, sizeof err) == 0, "%s", err);
    fclose(f);
    ts_view_free(v);
}

/* Run a shell command; its output (stdout and stderr) into a new string. */
static char *run(const char *cmd, int *status)
{
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    size_t k;
    while ((k = fread(b + n, 1, cap - n - 1, p)) > 0) {
        n += k;
        if (cap - n < 4096) b = realloc(b, cap *= 2);
    }
    b[n] = '\0';
    *status = pclose(p);
    return b;
}

/* Well-formed, and rsvg-convert renders it to a PNG without a word on stderr. */
static void check_svg_tools(const char *svg)
{
    char cmd[1200];
    int st;
    snprintf(cmd, sizeof cmd, "xmllint --noout '%s' 2>&1", svg);
    char *out = run(cmd, &st);
    ck_assert_msg(st == 0 && !out[0], "xmllint: %s", out);
    free(out);
    snprintf(cmd, sizeof cmd, "rsvg-convert -o '%s.png' '%s' 2>&1 && test -s '%s.png'", svg, svg,
             svg);
    out = run(cmd, &st);
    ck_assert_msg(st == 0 && !out[0], "rsvg-convert: %s", out);
    free(out);
}

START_TEST(close_svg)
{
    char path[600];
    write_file(fx_close(), TS_LADDER_SVG, false, "close.svg", path, sizeof path);
    check_svg_tools(path);
    char *s = fx_slurp(path);
    ck_assert_int_eq(fx_count(s, "<g class=\"seg"), 6);
    for (int i = 1; i <= 6; i++) {
        char id[32];
        snprintf(id, sizeof id, "id=\"seg-%d\"", i);
        ck_assert_msg(strstr(s, id), "no %s", id);
    }
    /* The tooltip is the whole tcpdump line, and why when it is known. */
    ck_assert_ptr_nonnull(strstr(s, "<title>IP 10.0.0.199.6379 &gt; 10.0.0.103.55570: Flags "
                                    "[F.], seq 515987658, ack 3685266301, win 510, length 0\n"
                                    "FIN; the delayed ACK rides on it</title>"));
    ck_assert_ptr_nonnull(strstr(s, ">F. seq 515987658 ack 3685266301</text>"));
    ck_assert_ptr_nonnull(strstr(s, ">delayed ACK: rides on F.</text>"));
    ck_assert_ptr_nonnull(strstr(s, ">\u2026 7.194 s \u2026</text>"));
    ck_assert_ptr_nonnull(strstr(s, ">LAST_ACK</text>"));
    /* Self-contained: nothing fetched from elsewhere, generic font families only. */
    ck_assert_ptr_null(strstr(s, "href"));
    ck_assert_ptr_null(strstr(s, "<script"));
    ck_assert_ptr_null(strstr(s, "@font-face"));
    ck_assert_ptr_null(strstr(s, "url("));
    free(s);
}
END_TEST

START_TEST(timeout_svg)
{
    char path[600];
    write_file(fx_timeout(), TS_LADDER_SVG, false, "timeout.svg", path, sizeof path);
    check_svg_tools(path);
    char *s = fx_slurp(path);
    ck_assert_int_eq(fx_count(s, "<g class=\"seg"), 5);
    ck_assert_int_eq(fx_count(s, "<g class=\"seg rexmit lost\""), 4);
    ck_assert_int_eq(fx_count(s, "class=\"cross\""), 5 + 1); /* and the legend's */
    const char *gaps[] = {">\u2026 1 s \u2026<", ">\u2026 2 s \u2026<", ">\u2026 4 s \u2026<",
                          ">\u2026 8 s \u2026<", ">\u2026 16 s \u2026<"};
    for (size_t i = 0; i < 5; i++) ck_assert_msg(strstr(s, gaps[i]), "no label %s", gaps[i]);
    ck_assert_ptr_nonnull(strstr(s, "(SYN retry #4 after 8 s)"));
    ck_assert_ptr_nonnull(strstr(s, ">SYN timer fired (16 s)<"));
    ck_assert_int_eq(fx_count(s, "class=\"bracket\""), 5 + 1);
    ck_assert_ptr_nonnull(strstr(s, "lost: scripted drop rule, line 12</title>"));
    free(s);
}
END_TEST

START_TEST(capture_svg)
{
    char path[600];
    write_file(fx_capture(), TS_LADDER_SVG, true, "capture.svg", path, sizeof path);
    check_svg_tools(path);
    char *s = fx_slurp(path);
    ck_assert_int_eq(fx_count(s, "<g class=\"seg"), 13);
    ck_assert_ptr_nonnull(strstr(s, "class=\"state inferred\""));
    ck_assert_ptr_nonnull(strstr(s, ">[ESTABLISHED]<"));
    free(s);
}
END_TEST

/* Something XML would choke on in a tcpdump line or a host name comes out escaped. */
START_TEST(svg_escapes)
{
    ts_view *v = fx_close();
    snprintf(v->end[0].name, sizeof v->end[0].name, "a<b>&\"c\"");
    v->segs[0].line = fx_str(v, "IP <weird> & \"odd\" \x01 \xff\xc3( \xed\xa0\x80 caf\xc3\xa9");
    snprintf(v->end[1].name, sizeof v->end[1].name, "\xe6\x9c\x8d\xe5\x8a\xa1\xe5\x99\xa8\xc0");
    char path[600];
    write_file(v, TS_LADDER_SVG, false, "escape.svg", path, sizeof path);
    check_svg_tools(path);
    char *t = fx_slurp(path);
    ck_assert_ptr_nonnull(strstr(t, "IP &lt;weird&gt; &amp; &quot;odd&quot; ? ?"
                                    "?( ??"
                                    "? caf\xc3\xa9"));
    ck_assert_ptr_nonnull(strstr(t, ">\xe6\x9c\x8d\xe5\x8a\xa1\xe5\x99\xa8?<")); /* 服务器 */
    free(t);
    /* The HTML keeps valid UTF-8 and the script's strings intact. */
    v = fx_close();
    v->segs[1].line = fx_str(v, "a</script>b\xff\\\"");
    write_file(v, TS_LADDER_HTML, false, "escape.html", path, sizeof path);
    t = fx_slurp(path);
    ck_assert_ptr_null(strstr(t, "a</script>"));
    ck_assert_ptr_nonnull(strstr(t, "line:\"a\\u003c/script>b?\\\\\\\"\""));
    free(t);
}
END_TEST

/* Open the page at #step=N in headless chromium, with extra script run after the page's
 * own; the DOM as chromium leaves it. */
static char *browse(const char *html, int step, const char *extra)
{
    char page[700], cmd[1600];
    snprintf(page, sizeof page, "%s.test.html", html);
    char *src = fx_slurp(html);
    char *end = strstr(src, "</body>");
    ck_assert_ptr_nonnull(end);
    FILE *f = fopen(page, "w");
    fwrite(src, 1, (size_t)(end - src), f);
    fprintf(f, "<script>%s</script>\n%s", extra ? extra : "", end);
    fclose(f);
    free(src);
    snprintf(cmd, sizeof cmd,
             "timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run "
             "--user-data-dir='%s/chrome' --virtual-time-budget=3000 --dump-dom "
             "'file://%s#step=%d' 2>/dev/null",
             dir, page, step);
    int st;
    char *dom = run(cmd, &st);
    ck_assert_msg(st == 0 && strstr(dom, "</html>"), "chromium failed (%d): %.300s", st, dom);
    return dom;
}

START_TEST(html_step)
{
    char path[600];
    write_file(fx_close(), TS_LADDER_HTML, true, "close.html", path, sizeof path);
    char *dom = browse(path, 3, NULL);
    ck_assert_int_eq(fx_count(dom, "seg current"), 1);
    ck_assert_ptr_nonnull(strstr(dom, "class=\"seg current\" id=\"seg-3\""));
    ck_assert_ptr_nonnull(strstr(dom, "<span id=\"pos\">step 3 of 6</span>"));
    ck_assert_ptr_nonnull(strstr(dom, "<pre id=\"line\">IP 10.0.0.103.55570 &gt; "
                                      "10.0.0.199.6379: Flags [.], seq 3685266300, ack "
                                      "515987658, win 502, length 0</pre>"));
    /* Both ends' control blocks after the handshake's last ACK, seq relative (--relative). */
    ck_assert_ptr_nonnull(strstr(dom, "<pre id=\"tcb0\">state    ESTABLISHED\nsnd_una  1 "));
    ck_assert_ptr_nonnull(strstr(dom, "<pre id=\"tcb1\">state    ESTABLISHED\n"));
    free(dom);

    dom = browse(path, 5, NULL);
    ck_assert_ptr_nonnull(strstr(dom, "class=\"seg current\" id=\"seg-5\""));
    ck_assert_ptr_nonnull(strstr(dom, "<pre id=\"tcb1\">state    LAST_ACK\n"));
    ck_assert_ptr_nonnull(strstr(dom, "<p id=\"why\">FIN; the delayed ACK rides on it</p>"));
    free(dom);
}
END_TEST

/* The buttons and the arrow keys move one step, and stop at the ends. */
START_TEST(html_buttons_and_keys)
{
    char path[600];
    write_file(fx_close(), TS_LADDER_HTML, false, "keys.html", path, sizeof path);
    const char *drive =
        "const trail = [];\n"
        "const note = () => trail.push(document.body.dataset.step + ':' +\n"
        "  document.querySelector('.seg.current').id);\n"
        "const key = k => document.dispatchEvent(new KeyboardEvent('keydown', {key: k}));\n"
        "document.getElementById('next').click(); note();\n"
        "key('ArrowRight'); note();\n"
        "key('ArrowRight'); note();\n"
        "key('ArrowLeft'); note();\n"
        "document.getElementById('prev').click(); note();\n"
        "document.body.setAttribute('data-trail', trail.join(' '));\n";
    char *dom = browse(path, 4, drive);
    ck_assert_msg(strstr(dom, "data-trail=\"5:seg-5 6:seg-6 6:seg-6 5:seg-5 4:seg-4\""), "%.400s",
                  strstr(dom, "data-trail") ? strstr(dom, "data-trail") : dom);
    free(dom);
}
END_TEST

START_TEST(html_capture_has_no_tcb)
{
    char path[600];
    write_file(fx_capture(), TS_LADDER_HTML, false, "capture.html", path, sizeof path);
    char *dom = browse(path, 99, NULL); /* past the end: the last step */
    ck_assert_ptr_nonnull(strstr(dom, "class=\"seg current\" id=\"seg-13\""));
    ck_assert_ptr_nonnull(strstr(dom, "<pre id=\"tcb0\">No control block is known: a capture "
                                      "shows only what was on the wire.</pre>"));
    ck_assert_ptr_nonnull(strstr(dom, "<pre id=\"tcb1\">No control block is known"));
    free(dom);
}
END_TEST

static void setup(void)
{
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) {
    }
}

int main(void)
{
    Suite *s = suite_create("ladder_svg_html");
    TCase *tc = tcase_create("svg");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, close_svg);
    tcase_add_test(tc, timeout_svg);
    tcase_add_test(tc, capture_svg);
    tcase_add_test(tc, svg_escapes);
    tcase_add_test(tc, html_step);
    tcase_add_test(tc, html_buttons_and_keys);
    tcase_add_test(tc, html_capture_has_no_tcb);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
