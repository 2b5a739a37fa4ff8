/* test_sim_parse.c: the scenario language parser: a file using every directive parses into
 * the expected hosts, links, rules, actions and expectations; each kind of mistake gives
 * one "FILE:LINE: message" naming the problem. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scn.h"
#include "harness.h"

static int known_service(const char *name)
{
    return !strcmp(name, "echo");
}
static const ts_scn_parse_opts popts = {.service_known = known_service};

static ts_scn *parse(const char *text, char *err, size_t errlen)
{
    return ts_scn_parse("t.scn", text, strlen(text), &popts, err, errlen);
}

static const char *full =
    "# a comment line\n"
    "seed 42\n"
    "end 100s\n"
    "host client 10.0.0.103 profile=textbook delack=0   # trailing comment\n"
    "host server 10.0.0.199 rcvbuf=16384\n"
    "peer evil 10.0.0.66 isn=5000\n"
    "link client server delay=10ms rate=100Mbit queue=1000\n"
    "link client>server loss=1%\n"
    "link evil client\n"
    "drop client>server S nth=2,3\n"
    "hold server>client 5ms data nth=1-4 seq=100-200 from=1s until=2s\n"
    "dup client>server F.\n"
    "corrupt client>server data\n"
    "at 0s server listen 6379 read=off eof=keep send=4MB\n"
    "at 0s server serve echo 7\n"
    "at 0s client connect server:6379 port=55570\n"
    "at +1.5s client send \"quit\\r\\n\\x00\"\n"
    "at +0.5s client send 100MB\n"
    "at 3s client/1 shutdown wr\n"
    "at 4s client close\n"
    "at 4s server abort\n"
    "at 5s server read on\n"
    "at 5s client set delack=40ms nagle=off\n"
    "at 5s client default syn_retries=2\n"
    "at 6s evil inject R. seq 100 ack 1 win 0 opts [nop,nop,TS val 5 ecr echo]\n"
    "at 7s evil inject S sport 1234 dport 6379 len 10 rawopts 01010101 badsum\n"
    "expect 1 client>server S seq 0 win 64240 opts [mss 1460,sackOK,TS val * ecr 0,nop,wscale 7] "
    "at 0s\n"
    "expect 5 server>client [F.] seq 1:1 ack 2 len 0 at 7.2s\xc2\xb1"
    "1ms\n"
    "expect client>server#3 P. data \"hi\" at 1s+-2ms\n"
    "expect count client>server S == 5\n"
    "expect count data after 1s before 2s >= 3\n"
    "expect none server>client R after 1s\n"
    "expect packets <= 100\n"
    "expect link client>server lost > 0\n"
    "expect client connect ETIMEDOUT at 31s\n"
    "expect client/2 error ECONNRESET\n"
    "expect server accept at 10ms\n"
    "expect server eof\n"
    "expect client state TIME-WAIT at 8s\n"
    "expect client state CLOSED at end\n"
    "expect server received 1000 bytes whole\n"
    "expect server received \"quit\\r\\n\"\n"
    "expect client counter tcp_retransmits >= 1 at 10s\n"
    "expect client counter drop.tcp-checksum == 0\n";

START_TEST(full_file)
{
    char err[512] = "";
    ts_scn *s = parse(full, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    ck_assert_uint_eq(s->seed, 42);
    ck_assert(s->has_seed);
    ck_assert_uint_eq(s->end, 100 * TS_SEC);
    ck_assert_uint_eq(s->nhosts, 3);
    ck_assert_str_eq(s->hosts[0].name, "client");
    ck_assert_uint_eq(s->hosts[0].addr, TS_IP4(10, 0, 0, 103));
    ck_assert_uint_eq(s->hosts[0].params.syn_retries, 4); /* profile textbook */
    ck_assert_uint_eq(s->hosts[0].params.delack, 0);
    ck_assert_uint_eq(s->hosts[1].params.rcvbuf, 16384);
    ck_assert(s->hosts[2].peer);
    ck_assert_uint_eq(s->hosts[2].isn, 5000);

    ck_assert_uint_eq(s->ndirs, 4);
    const ts_scn_dir *cs = &s->dirs[0], *sc = &s->dirs[1];
    ck_assert_int_eq(cs->from, 0);
    ck_assert_int_eq(cs->to, 1);
    ck_assert_uint_eq(cs->params.delay, 10 * TS_MSEC);
    ck_assert_uint_eq(sc->params.rate_bps, 100000000);
    ck_assert_uint_eq(sc->params.queue, 1000);
    ck_assert_int_eq(cs->params.loss.kind, TS_LOSS_BERNOULLI);
    ck_assert_int_eq(sc->params.loss.kind, TS_LOSS_NONE); /* one direction only */
    ck_assert_uint_eq(cs->nrules, 3);
    ck_assert_int_eq(cs->rules[0].rule.action, TS_RULE_DROP);
    ck_assert_uint_eq(cs->rules[0].rule.nnth, 2);
    ck_assert_uint_eq(cs->rules[0].rule.nth[1].lo, 3);
    ck_assert_uint_eq(cs->rules[0].line, 10);
    ck_assert_uint_eq(sc->nrules, 1);
    const ts_link_rule *h = &sc->rules[0].rule;
    ck_assert_int_eq(h->action, TS_RULE_HOLD);
    ck_assert_uint_eq(h->hold, 5 * TS_MSEC);
    ck_assert_int_eq(h->payload, 1);
    ck_assert(h->has_seq && h->seq_rel);
    ck_assert_uint_eq(h->seq_lo, 100);
    ck_assert_uint_eq(h->seq_hi, 200);
    ck_assert_uint_eq(h->t_from, TS_SEC);
    ck_assert_uint_eq(h->t_to, 2 * TS_SEC);
    ck_assert_uint_eq(h->nth[0].hi, 4);

    ck_assert_uint_eq(s->nacts, 13);
    const ts_scn_action *a = s->acts;
    ck_assert_int_eq(a[0].kind, TS_ACT_LISTEN);
    ck_assert_int_eq(a[0].read, 0);
    ck_assert_int_eq(a[0].eof_close, 0);
    ck_assert_uint_eq(a[0].count, 4000000);
    ck_assert_int_eq(a[1].kind, TS_ACT_SERVE);
    ck_assert_uint_eq(a[1].count, 0);
    ck_assert_str_eq(a[1].service, "echo");
    ck_assert_int_eq(a[2].kind, TS_ACT_CONNECT);
    ck_assert_uint_eq(a[2].addr, TS_IP4(10, 0, 0, 199));
    ck_assert_uint_eq(a[2].port, 6379);
    ck_assert_uint_eq(a[2].lport, 55570);
    ck_assert_int_eq(a[3].kind, TS_ACT_SEND);
    ck_assert_uint_eq(a[3].at, 1500 * TS_MSEC);
    ck_assert_uint_eq(a[3].text_len, 7);
    ck_assert_mem_eq(a[3].text, "quit\r\n\0", 7);
    ck_assert_uint_eq(a[4].at, 2 * TS_SEC); /* +0.5s after +1.5s */
    ck_assert_uint_eq(a[4].count, 100000000);
    ck_assert_int_eq(a[5].kind, TS_ACT_SHUTDOWN);
    ck_assert_int_eq(a[5].conn, 1);
    ck_assert_int_eq(a[6].kind, TS_ACT_CLOSE);
    ck_assert_int_eq(a[7].kind, TS_ACT_ABORT);
    ck_assert_int_eq(a[8].kind, TS_ACT_READ);
    ck_assert_int_eq(a[8].read, 1);
    ck_assert_int_eq(a[9].kind, TS_ACT_SET);
    ck_assert_uint_eq(a[9].nkv, 2);
    ck_assert_str_eq(a[9].kv[1], "nagle=off");
    ck_assert_int_eq(a[10].kind, TS_ACT_DEFAULT);
    const ts_scn_seg *g = &a[11].seg;
    ck_assert_int_eq(a[11].kind, TS_ACT_INJECT);
    ck_assert_uint_eq(g->flags, TS_TH_RST | TS_TH_ACK);
    ck_assert(g->has_seq && g->seq == 100 && g->has_ack && g->ack == 1 && g->has_win &&
              g->win == 0);
    ck_assert(g->opts_set && g->out_opts.ts_on && g->ecr_echo && g->out_opts.tsval == 5);
    g = &a[12].seg;
    ck_assert(g->has_sport && g->sport == 1234 && g->has_dport && g->dport == 6379);
    ck_assert(g->has_len && g->len == 10 && g->bad_csum && g->has_raw_opts);
    ck_assert_uint_eq(g->raw_opts_len, 4);

    ck_assert_uint_eq(s->nexps, 18);
    const ts_scn_expect *e = s->exps;
    ck_assert_int_eq(e[0].kind, TS_EXP_SEG);
    ck_assert_uint_eq(e[0].nth, 1);
    ck_assert_str_eq(e[0].seg.opts, "mss 1460,sackOK,TS val * ecr 0,nop,wscale 7");
    ck_assert(e[0].has_at && e[0].at == 0 && e[0].tol == 0);
    ck_assert_uint_eq(e[0].seg.win, 64240);
    ck_assert_uint_eq(e[1].seg.flags, TS_TH_FIN | TS_TH_ACK);
    ck_assert(e[1].seg.has_seq_end);
    ck_assert_uint_eq(e[1].at, 7200 * TS_MSEC);
    ck_assert_uint_eq(e[1].tol, TS_MSEC);
    ck_assert_int_eq(e[2].kind, TS_EXP_SEG_DIR);
    ck_assert_uint_eq(e[2].nth, 3);
    ck_assert_uint_eq(e[2].tol, 2 * TS_MSEC);
    ck_assert(e[2].seg.has_data && e[2].seg.data_len == 2);
    ck_assert_uint_eq(e[2].seg.flags_mask & TS_TH_PSH, TS_TH_PSH); /* P written: compared */
    ck_assert_uint_eq(e[0].seg.flags_mask & TS_TH_PSH, 0);         /* not written: ignored */
    ck_assert_int_eq(e[3].kind, TS_EXP_COUNT);
    ck_assert_int_eq(e[3].op, TS_OP_EQ);
    ck_assert_uint_eq(e[3].value, 5);
    ck_assert(!e[4].has_dir);
    ck_assert_int_eq(e[4].seg.payload, 1);
    ck_assert_uint_eq(e[4].after, TS_SEC);
    ck_assert_uint_eq(e[4].before, 2 * TS_SEC);
    ck_assert_int_eq(e[5].kind, TS_EXP_NONE);
    ck_assert_int_eq(e[6].kind, TS_EXP_PACKETS);
    ck_assert_int_eq(e[7].kind, TS_EXP_LINK);
    ck_assert_int_eq(e[8].kind, TS_EXP_CONNECT);
    ck_assert_int_eq(e[8].err, -ETIMEDOUT);
    ck_assert_int_eq(e[9].kind, TS_EXP_ERROR);
    ck_assert_int_eq(e[9].conn, 2);
    ck_assert_int_eq(e[10].kind, TS_EXP_ACCEPT);
    ck_assert_int_eq(e[11].kind, TS_EXP_EOF);
    ck_assert_int_eq(e[12].state, TS_TIME_WAIT);
    ck_assert(e[13].at_end);
    ck_assert(e[14].whole);
    ck_assert_uint_eq(e[14].value, 1000);
    ck_assert(e[15].has_bytes && e[15].bytes_len == 6);
    ck_assert_int_eq(e[16].kind, TS_EXP_COUNTER);
    ck_assert_str_eq(e[16].text, "expect client counter tcp_retransmits >= 1 at 10s");
    ts_scn_free(s);
}
END_TEST

/* Each mistake, the line it is on, and words the message must contain. */
static const struct {
    const char *text;
    const char *want; /* "t.scn:LINE: ..." prefix and a fragment */
    const char *frag;
} mistakes[] = {
    {"host a 10.0.0.1\nfly a\n", "t.scn:2: ", "unknown directive 'fly'"},
    {"host a 10.0.0.300\n", "t.scn:1: ", "bad IPv4 address '10.0.0.300'"},
    {"host a 10.0.0.1\nhost a 10.0.0.2\n", "t.scn:2: ", "already declared on line 1"},
    {"host a 10.0.0.1\nhost b 10.0.0.1\n", "t.scn:2: ", "already host 'a'"},
    {"host a 10.0.0.1 delack=soon\n", "t.scn:1: ", "host a:"},
    {"host a 10.0.0.1 colour=red\n", "t.scn:1: ", "colour"},
    {"host a 10.0.0.1 profile=bsd\n", "t.scn:1: ", "unknown profile 'bsd'"},
    {"host a 10.0.0.1\nlink a b\n", "t.scn:2: ", "unknown host 'b'"},
    {"host a 10.0.0.1\nhost b 10.0.0.2\nlink a b loss=lots\n", "t.scn:3: ", "bad probability"},
    {"host a 10.0.0.1\nhost b 10.0.0.2\nlink a b speed=1\n",
     "t.scn:3: ", "unknown link parameter 'speed'"},
    {"host a 10.0.0.1\nhost b 10.0.0.2\ndrop a>b X\n", "t.scn:3: ", "unknown match 'X'"},
    {"host a 10.0.0.1\nhost b 10.0.0.2\ndrop a>b nth=0\n", "t.scn:3: ", "bad nth"},
    {"host a 10.0.0.1\nhost b 10.0.0.2\ndrop a-b S\n", "t.scn:3: ", "write FROM>TO"},
    {"host a 10.0.0.1\nat 1x a close\n", "t.scn:2: ", "bad time '1x'"},
    {"host a 10.0.0.1\nat 1s a dance\n", "t.scn:2: ", "unknown action 'dance'"},
    {"host a 10.0.0.1\nat 1s a connect nowhere\n", "t.scn:2: ", "bad destination"},
    {"host a 10.0.0.1\nat 1s a connect b:80\n", "t.scn:2: ", "unknown host 'b'"},
    {"host a 10.0.0.1\nat 1s a listen 70000\n", "t.scn:2: ", "listen PORT"},
    {"host a 10.0.0.1\nat 1s a listen 70 send=lots\n", "t.scn:2: ", "write send=N"},
    {"host a 10.0.0.1\nat 1s a listen 70 send=0\n", "t.scn:2: ", "write send=N"},
    {"host a 10.0.0.1\nat 1s a send \"oops\n", "t.scn:2: ", "unterminated string"},
    {"host a 10.0.0.1\nat 1s a send lots\n", "t.scn:2: ", "send N"},
    {"host a 10.0.0.1\nat 1s a serve gopher 70\n", "t.scn:2: ", "unknown service 'gopher'"},
    {"host a 10.0.0.1\nat 1s a set delack=never\n", "t.scn:2: ", "delack"},
    {"host a 10.0.0.1\nat 1s a inject S\n", "t.scn:2: ", "only on a 'peer'"},
    {"peer p 10.0.0.1\nat 1s p close\n", "t.scn:2: ", "scripted peer"},
    {"peer p 10.0.0.1\nat 1s p inject seq 1\n", "t.scn:2: ", "needs TCP flags"},
    {"peer p 10.0.0.1\nat 1s p inject S. opts [mss lots]\n", "t.scn:2: ", "bad option"},
    {"host a 10.0.0.1\nhost b 10.0.0.2\nexpect 1 a>b S colour red\n",
     "t.scn:3: ", "unknown field 'colour'"},
    {"host a 10.0.0.1\nhost b 10.0.0.2\nexpect 1 a>b S opts mss\n", "t.scn:3: ", "in brackets"},
    {"host a 10.0.0.1\nhost b 10.0.0.2\nexpect a>b S\n", "t.scn:3: ", "a>b#N"},
    {"host a 10.0.0.1\nhost b 10.0.0.2\nexpect count a>b S 5\n", "t.scn:3: ", "OP N"},
    {"host a 10.0.0.1\nexpect a state DANCING at 1s\n", "t.scn:2: ", "bad state 'DANCING'"},
    {"host a 10.0.0.1\nexpect a state CLOSED\n", "t.scn:2: ", "needs 'at TIME'"},
    {"host a 10.0.0.1\nexpect a connect EWHAT\n", "t.scn:2: ", "ETIMEDOUT"},
    {"host a 10.0.0.1\nexpect a counter retransmits == 1\n",
     "t.scn:2: ", "unknown counter 'retransmits'"},
    {"host a 10.0.0.1\nexpect a counter tcp_in ~ 1\n", "t.scn:2: ", "bad comparison '~'"},
    {"host a 10.0.0.1\nexpect a received \"x\" y\n", "t.scn:2: ", "unexpected 'y'"},
    {"host a 10.0.0.1\nexpect a state CLOSED at 1s\xc2\xb1soon\n", "t.scn:2: ", "bad tolerance"},
    {"host a 10.0.0.1\nseed many\n", "t.scn:2: ", "seed N"},
    {"host a 10.0.0.1\n[x]\n", "t.scn:2: ", "must start with a directive"},
    {"host a 10.0.0.1\nat 1s a send \"\\q\"\n", "t.scn:2: ", "unknown escape"},
    {"host count 10.0.0.1\n", "t.scn:1: ", "keyword"},
    {"# nothing here\n", "t.scn: ", "no hosts"},
    /* a quoted word with a newline, quoted back in the message: still one line */
    {"host a \"10.0.0.1\\nexpect\"\n", "t.scn:1: ", "bad IPv4 address '10.0.0.1?expect'"},
};

START_TEST(each_mistake)
{
    size_t i = (size_t)_i;
    char err[512] = "";
    ts_scn *s = parse(mistakes[i].text, err, sizeof err);
    ck_assert_msg(s == NULL, "parsed: %s", mistakes[i].text);
    ck_assert_msg(!strncmp(err, mistakes[i].want, strlen(mistakes[i].want)),
                  "case %zu: want prefix '%s', got '%s'", i, mistakes[i].want, err);
    ck_assert_msg(strstr(err, mistakes[i].frag), "case %zu: want '%s' in '%s'", i, mistakes[i].frag,
                  err);
    ck_assert_msg(!strchr(err, '\n'), "one line only: '%s'", err);
}
END_TEST

START_TEST(repeated_words_refused)
{
    /* A segment that says data "..." or opts [...] twice is a slip: refused with one line,
     * and the first copy is freed on the way out (ASan's leak check fails this otherwise). */
    static const char *const cases[] = {
        "host a 10.0.0.1\npeer b 10.0.0.2\nlink a b\n"
        "at 1s b inject S seq 0 data \"ab\" data \"cde\"\n",
        "host a 10.0.0.1\npeer b 10.0.0.2\nlink a b\n"
        "expect a>b#1 S opts [mss 1460] opts [mss 536]\n",
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char err[512] = "";
        ts_scn *s = parse(cases[k], err, sizeof err);
        ck_assert_ptr_null(s);
        ck_assert_msg(strstr(err, "given twice") != NULL, "%s", err);
        ck_assert_ptr_null(strchr(err, '\n'));
    }
}
END_TEST

START_TEST(load_missing_file)
{
    char err[512];
    ck_assert_ptr_null(ts_scn_load("/nonexistent/x.scn", &popts, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/x.scn: cannot open"));
}
END_TEST

START_TEST(garbage_never_crashes)
{
    /* Random bytes and truncations of a valid file: an error or a scenario, never a crash. */
    char buf[4096];
    uint64_t x = 12345;
    for (int round = 0; round < 2000; round++) {
        size_t n = strlen(full);
        size_t cut = (size_t)(x % n);
        memcpy(buf, full, cut);
        buf[cut] = '\0';
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        if (cut > 10 && round % 2) buf[x % cut] = (char)(x >> 40);
        char err[512];
        ts_scn *s = ts_scn_parse("g.scn", buf, strlen(buf), &popts, err, sizeof err);
        ts_scn_free(s);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sim_parse");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, full_file);
    tcase_add_loop_test(tc, each_mistake, 0, (int)(sizeof mistakes / sizeof mistakes[0]));
    tcase_add_test(tc, repeated_words_refused);
    tcase_add_test(tc, load_missing_file);
    tcase_add_test(tc, garbage_never_crashes);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
