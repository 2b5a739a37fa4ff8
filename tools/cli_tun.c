/* cli_tun.c: `tcpsim tun`, the stack live on a TUN device. Parses the flags, builds the
 * parameter block (profile, then --set in order), creates the device and the stack, starts
 * the services or the nc-like client, and runs the real-time loop until the client is done
 * or a signal asks to stop; then closes connections (FIN), gives them a short grace, resets
 * what is left and removes the device. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "capture.h"
#include "cli.h"
#include "diagram.h"
#include "evfan.h"
#include "ts_link.h"
#include "ts_rng.h"
#include "series.h"
#include "services.h"
#include "trace.h"
#include "tun.h"

#define MAX_LISTEN 16
#define MAX_SETS   64
#define CLIENT_BUF 65536
#define ERR_LEN    512
#define PCAP_FLUSH (1 * TS_SEC)

typedef struct listen_spec {
    uint16_t port;
    const char *service;
} listen_spec;

typedef struct tun_opts {
    ts_tun_config tun;
    listen_spec listen[MAX_LISTEN];
    size_t nlisten;
    bool client;
    ts_endpoint connect_to;
    const char *profile;
    const char *sets[MAX_SETS];
    size_t nsets;
    const char *pcap;
    const char *series;         /* --series FILE.csv|.jsonl */
    ts_series_rows series_rows; /* --series-events */
    bool series_rows_set;
    ts_diagram_opts diagram; /* --diagram OUT [--conn N]: written when tcpsim exits */
    bool trace;
    bool stats; /* --stats: the counters on stderr at exit */
    bool seed_set;
    uint64_t seed;
    ts_time_t grace;
    bool offload_off;           /* --offload off */
    bool io_rw;                 /* --io rw: a system call per packet, no io_uring */
    ts_time_t busy_poll;        /* --busy-poll DURATION */
    char ring_why[96];          /* why the ring is not there, if it is not */
    uint32_t max_conns;         /* --max-conns N: connections and socket handles */
    const char *link;           /* --link SPEC as given */
    ts_link_params link_params; /* parsed: the same model in each direction */
} tun_opts;

typedef struct tun_run {
    tun_opts *o;
    ts_tun *tun;
    ts_loop *loop;
    ts_stack *stack;
    ts_capture *pcap;  /* --pcap: plain pcap, or pcapng with comments (events) */
    ts_series *series; /* --series */
    ts_time_t pcap_flushed;
    ts_evfan *fan;          /* stack events for the services that ask (telnet's trace) */
    int wake_fd;            /* a timerfd for the fan-out's timed settles (telnet's watch) */
    ts_view_rec *rec;       /* --diagram: the recorder */
    uint64_t rec_no;        /* packets recorded */
    uint64_t rec_arrived;   /* a received packet whose TCB is still to be read (0: none) */
    ts_time_t mono0, wall0; /* to turn the stack's monotonic stamps into wall clock */
    ts_service *svcs[MAX_LISTEN];
    size_t nsvc;
    /* client mode */
    int sd;
    bool connected, stdin_watched, stdin_eof, peer_eof, done;
    int exit_code;
    ts_time_t connect_start;
    size_t in_off, in_len;
    char in[CLIENT_BUF];
    char outb[CLIENT_BUF];
    /* --link: one model per direction (0: stack -> Linux, 1: Linux -> stack) */
    ts_link links[2];
    ts_rng rng;
    /* shutting down */
    int signals;
    bool grace_mode;
    bool ring_lost_said;                   /* the loop let go of its io_uring ring: said once */
    uint64_t conns_at_stop[TS_NUM_STATES]; /* --stats: the table when the run ended */
} tun_run;

static void usage(FILE *f)
{
    fputs("usage: tcpsim tun [OPTIONS]\n"
          "\n"
          "Run the stack on a TUN device: Linux gets one address, the stack another, and\n"
          "Linux programs (telnet, nc, ping, curl) talk to the stack's services, or the\n"
          "stack connects out like nc. Needs CAP_NET_ADMIN (root, or a namespace of its own).\n"
          "\n"
          "device:\n"
          "  --dev NAME            TUN device name (tun0)\n"
          "  --addr A.B.C.D        the stack's address (10.0.0.2)\n"
          "  --peer A.B.C.D/N      the Linux side's address and prefix (10.0.0.1/24)\n"
          "  --mtu N               device MTU, 128..65535 (1500); the MSS follows it\n"
          "                        (MTU-40; --set mss may lower it, never raise it)\n"
          "  --offload on|off      TSO and checksum offload through the device (on): the\n"
          "                        stack's segments of one burst leave as one super-segment\n"
          "                        of up to 64 KB and Linux's arrive as such (tcpdump -i\n"
          "                        tun0 shows them so); off: every segment as the stack cut\n"
          "                        it. Off by itself with --link, --pcap and --diagram\n"
          "  --busy-poll DURATION  before sleeping, poll the device this long (50us; 0:\n"
          "                        sleep at once; at most 10ms): a peer that answers within\n"
          "                        microseconds finds the stack awake, for some CPU\n"
          "  --io uring|rw         how packets cross the device (uring): a wake-up's reads\n"
          "                        and a burst's writes in one io_uring call each; rw: one\n"
          "                        read() or write() per packet (also where io_uring is\n"
          "                        missing or disabled, said on the ready line)\n"
          "services (server mode):\n"
          "  --listen PORT:SERVICE serve SERVICE (telnet, echo, discard, chargen) on PORT;\n"
          "                        repeatable; a bare SERVICE uses its well-known port.\n"
          "                        Without --listen and --connect: 23:telnet 7:echo 9:discard\n"
          "                        19:chargen\n"
          "client mode:\n"
          "  --connect A.B.C.D:PORT connect out like nc: stdin goes to the connection, what\n"
          "                        arrives goes to stdout; EOF on stdin half-closes (FIN).\n"
          "                        Exit 0 on a clean close, 1 if refused, timed out or reset\n"
          "stack parameters (see tcpsim params):\n"
          "  --profile NAME        a named set: linux (default), rfc, textbook, linux65;\n"
          "                        applied first, --set overrides it\n"
          "  --set NAME=VALUE      one parameter, repeatable: durations take units (200ms,\n"
          "                        1s, 1.5s), booleans on|off\n"
          "  --seed N              seed for ISNs, ephemeral ports and --link (random)\n"
          "  --max-conns N         connections (TIME-WAIT included) and socket handles the\n"
          "                        stack holds at once (1048576); past it a SYN gets no\n"
          "                        answer. An idle connection costs about 1.4 KB\n"
          "impairments (the simulator's link models, in real time, each direction):\n"
          "  --link 'SPEC'         e.g. 'loss=2% delay=20ms'; keys: delay, jitter, rate\n"
          "                        (100Mbit), queue (packets), loss (1%), ge=P,R (bursty),\n"
          "                        corrupt, dup, reorder=P[,GAP]; see docs/scenarios.md\n"
          "observing:\n"
          "  --pcap FILE           write every packet received and sent (tcpdump -r FILE);\n"
          "                        FILE.pcapng: each packet commented with why the stack\n"
          "                        sent it or the state change it caused (Wireshark shows\n"
          "                        them; tshark -r FILE -Y frame.comment)\n"
          "  --trace               state changes, timers, retransmissions on stderr\n"
          "  --stats               at exit, the stack's counters and drops by reason, and\n"
          "                        the device's, on stderr: 'tcpsim: stat NAME VALUE'\n"
          "                        (tcp_rto_timeouts, drop.tcp-checksum, device.tx_dropped)\n"
          "                        and the connection table as the run ended (conns 1,\n"
          "                        conns.LISTEN 1: what a signal found still open)\n"
          "  --series FILE.csv     one row per stack event with the sender's variables\n"
          "                        (cwnd, ssthresh, srtt, rto, ...; .jsonl: JSON lines;\n"
          "                        time_s counts from start-up); see docs/series.md\n"
          "  --series-events all   also the rows of timers set or cancelled that change no\n"
          "                        variable (left out by default): every event\n"
          "  --diagram OUT         when tcpsim exits (SIGINT too), draw the first connection's\n"
          "                        ladder into OUT (.txt .svg .html); --conn N|A:P picks\n"
          "                        another (tcpsim diagram --help)\n"
          "  --grace DURATION      on SIGINT/SIGTERM, wait this long for FINs to finish\n"
          "                        before resetting what is left (1s)\n"
          "  -h, --help            this text\n"
          "\n"
          "Once up it prints, on stderr:\n"
          "  tcpsim: tun0 up: stack 10.0.0.2, linux 10.0.0.1/24, listening 23 7 9 19\n"
          "\n"
          "examples:\n"
          "  tcpsim tun                                  # then: telnet 10.0.0.2\n"
          "  tcpsim tun --set delack=0 --pcap out.pcap   # every ACK at once, captured\n"
          "  tcpsim tun --listen 8080:echo --mtu 9000\n"
          "  tcpsim tun --profile textbook --connect 10.0.0.1:23   # 5 SYNs, 31 s\n"
          "  echo hello | tcpsim tun --connect 10.0.0.1:7\n"
          "Run it inside a network namespace of its own: ip netns add t; ip netns exec t ...\n",
          f);
}

static int fail_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("tcpsim: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 2;
}

static unsigned shape(void *ctx, bool out, ts_time_t now, const uint8_t *pkt, size_t len,
                      ts_loop_copy copy[2]);

/* ---- parsing ------------------------------------------------------------------------- */

/* --link 'loss=2% delay=20ms': space-separated KEY=VALUE items for sim/ts_link.h. */
static int parse_link(tun_opts *o, const char *spec)
{
    char buf[512], err[256];
    if (strlen(spec) >= sizeof buf) return fail_usage("--link: the description is too long");
    strcpy(buf, spec);
    o->link = spec;
    int n = 0;
    for (char *save = NULL, *kv = strtok_r(buf, " \t", &save); kv;
         kv = strtok_r(NULL, " \t", &save), n++)
        if (ts_link_param_set_kv(&o->link_params, kv, err, sizeof err) < 0)
            return fail_usage("--link: %s", err);
    if (n == 0) return fail_usage("--link: empty; give e.g. --link 'loss=2%% delay=20ms'");
    return 0;
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    if (!s || !*s || *s == '-' || *s == '+') return false;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v > max) return false;
    *out = v;
    return true;
}

static uint16_t well_known_port(const char *service)
{
    if (!strcmp(service, "telnet")) return 23;
    if (!strcmp(service, "echo")) return 7;
    if (!strcmp(service, "discard")) return 9;
    if (!strcmp(service, "chargen")) return 19;
    return 0;
}

static int parse_listen(tun_opts *o, const char *arg)
{
    if (o->nlisten == MAX_LISTEN)
        return fail_usage("--listen %s: at most %d services; drop some --listen", arg, MAX_LISTEN);
    const char *colon = strchr(arg, ':');
    const char *service = colon ? colon + 1 : arg;
    unsigned long port = 0;
    if (colon) {
        char num[16];
        size_t n = (size_t)(colon - arg);
        if (n == 0 || n >= sizeof num) goto bad;
        memcpy(num, arg, n);
        num[n] = '\0';
        if (!parse_uint(num, 65535, &port) || port == 0) goto bad;
    }
    if (!ts_service_known(service))
        return fail_usage("--listen %s: unknown service '%s'; use telnet, echo, discard or "
                          "chargen, e.g. --listen 23:telnet",
                          arg, service);
    if (!colon) port = well_known_port(service);
    for (size_t i = 0; i < o->nlisten; i++)
        if (o->listen[i].port == port)
            return fail_usage("--listen %s: port %lu is already taken by --listen %u:%s; give "
                              "each service its own port",
                              arg, port, o->listen[i].port, o->listen[i].service);
    o->listen[o->nlisten++] = (listen_spec){(uint16_t)port, service};
    return 0;
bad:
    return fail_usage("--listen '%s': expected PORT:SERVICE with PORT 1..65535, e.g. --listen "
                      "23:telnet",
                      arg);
}

static int parse_connect(tun_opts *o, const char *arg)
{
    char host[32];
    const char *colon = strrchr(arg, ':');
    unsigned long port;
    size_t n = colon ? (size_t)(colon - arg) : 0;
    if (!colon || n == 0 || n >= sizeof host || !parse_uint(colon + 1, 65535, &port) || port == 0)
        return fail_usage("--connect '%s': expected A.B.C.D:PORT, e.g. --connect 10.0.0.1:80", arg);
    memcpy(host, arg, n);
    host[n] = '\0';
    if (ts_ip4_parse(host, &o->connect_to.addr) < 0)
        return fail_usage("--connect '%s': '%s' is not an IPv4 address; use A.B.C.D:PORT, e.g. "
                          "--connect 10.0.0.1:80",
                          arg, host);
    o->connect_to.port = (uint16_t)port;
    o->client = true;
    return 0;
}

static int parse_peer(tun_opts *o, const char *arg)
{
    char host[32];
    const char *slash = strchr(arg, '/');
    unsigned long prefix = 24;
    size_t n = slash ? (size_t)(slash - arg) : strlen(arg);
    if (n == 0 || n >= sizeof host) goto bad;
    memcpy(host, arg, n);
    host[n] = '\0';
    if (slash && (!parse_uint(slash + 1, 32, &prefix) || prefix == 0)) goto bad;
    if (ts_ip4_parse(host, &o->tun.peer_addr) < 0) goto bad;
    o->tun.prefix = (unsigned)prefix;
    return 0;
bad:
    return fail_usage("--peer '%s': expected A.B.C.D/N with N 1..32, e.g. --peer 10.0.0.1/24", arg);
}

enum {
    OPT_DEV = 256,
    OPT_ADDR,
    OPT_PEER,
    OPT_MTU,
    OPT_LISTEN,
    OPT_CONNECT,
    OPT_SET,
    OPT_PROFILE,
    OPT_PCAP,
    OPT_TRACE,
    OPT_SEED,
    OPT_GRACE,
    OPT_LINK,
    OPT_SERIES,
    OPT_SERIES_EVENTS,
    OPT_DIAGRAM,
    OPT_CONN,
    OPT_STATS,
    OPT_OFFLOAD,
    OPT_IO,
    OPT_BUSY_POLL,
    OPT_MAX_CONNS,
};

static const struct option long_opts[] = {
    {"dev", required_argument, NULL, OPT_DEV},
    {"addr", required_argument, NULL, OPT_ADDR},
    {"peer", required_argument, NULL, OPT_PEER},
    {"mtu", required_argument, NULL, OPT_MTU},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"connect", required_argument, NULL, OPT_CONNECT},
    {"set", required_argument, NULL, OPT_SET},
    {"profile", required_argument, NULL, OPT_PROFILE},
    {"pcap", required_argument, NULL, OPT_PCAP},
    {"trace", no_argument, NULL, OPT_TRACE},
    {"seed", required_argument, NULL, OPT_SEED},
    {"grace", required_argument, NULL, OPT_GRACE},
    {"link", required_argument, NULL, OPT_LINK},
    {"series", required_argument, NULL, OPT_SERIES},
    {"series-events", required_argument, NULL, OPT_SERIES_EVENTS},
    {"diagram", required_argument, NULL, OPT_DIAGRAM},
    {"conn", required_argument, NULL, OPT_CONN},
    {"stats", no_argument, NULL, OPT_STATS},
    {"offload", required_argument, NULL, OPT_OFFLOAD},
    {"io", required_argument, NULL, OPT_IO},
    {"busy-poll", required_argument, NULL, OPT_BUSY_POLL},
    {"max-conns", required_argument, NULL, OPT_MAX_CONNS},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* 0 to run, 1 after --help (exit 0), 2 on a usage error (already reported). */
static int parse_args(tun_opts *o, int argc, char **argv)
{
    unsigned long v = 0;
    opterr = 0;
    optind = 1;
    for (;;) {
        int prev = optind;
        int c = getopt_long(argc, argv, ":h", long_opts, NULL);
        if (c == -1) break;
        const char *opt = argv[prev] ? argv[prev] : "?";
        int r = 0;
        switch (c) {
        case 'h': usage(stdout); return 1;
        case OPT_DEV: o->tun.dev = optarg; break;
        case OPT_ADDR:
            if (ts_ip4_parse(optarg, &o->tun.stack_addr) < 0)
                r = fail_usage("--addr '%s': not an IPv4 address; use A.B.C.D, e.g. --addr "
                               "10.0.0.2",
                               optarg);
            break;
        case OPT_PEER: r = parse_peer(o, optarg); break;
        case OPT_MTU:
            if (!parse_uint(optarg, 65535, &v) || v < TS_TUN_MTU_MIN)
                r = fail_usage("--mtu '%s': use a number %u..65535 (40 bytes of headers and an "
                               "MSS of at least 88), e.g. --mtu 1500",
                               optarg, TS_TUN_MTU_MIN);
            else
                o->tun.mtu = (unsigned)v;
            break;
        case OPT_LISTEN: r = parse_listen(o, optarg); break;
        case OPT_CONNECT: r = parse_connect(o, optarg); break;
        case OPT_SET:
            if (o->nsets == MAX_SETS)
                r = fail_usage("--set: at most %d of them; use --profile for a whole set",
                               MAX_SETS);
            else
                o->sets[o->nsets++] = optarg;
            break;
        case OPT_PROFILE: o->profile = optarg; break;
        case OPT_PCAP: o->pcap = optarg; break;
        case OPT_TRACE: o->trace = true; break;
        case OPT_STATS: o->stats = true; break;
        case OPT_OFFLOAD:
            if (strcmp(optarg, "on") && strcmp(optarg, "off"))
                r = fail_usage("--offload '%s': use on or off, e.g. --offload off", optarg);
            o->offload_off = !strcmp(optarg, "off");
            break;
        case OPT_IO:
            if (strcmp(optarg, "uring") && strcmp(optarg, "rw"))
                r = fail_usage("--io '%s': use uring or rw, e.g. --io rw", optarg);
            o->io_rw = !strcmp(optarg, "rw");
            break;
        case OPT_BUSY_POLL:
            if (ts_duration_parse(optarg, &o->busy_poll) < 0 || o->busy_poll > 10 * TS_MSEC)
                r = fail_usage("--busy-poll '%s': use a duration 0..10ms, e.g. --busy-poll 50us "
                               "or --busy-poll 0",
                               optarg);
            break;
        case OPT_MAX_CONNS:
            if (!parse_uint(optarg, 1u << 24, &v) || v == 0)
                r = fail_usage("--max-conns '%s': use a number 1..16777216, e.g. --max-conns "
                               "200000",
                               optarg);
            else
                o->max_conns = (uint32_t)v;
            break;
        case OPT_SERIES: o->series = optarg; break;
        case OPT_SERIES_EVENTS:
            if (ts_series_rows_from_name(optarg, &o->series_rows) < 0)
                r = fail_usage("--series-events wants 'all' (every event) or 'changes' (the "
                               "default), e.g. --series-events all");
            o->series_rows_set = true;
            break;
        case OPT_SEED:
            if (!parse_uint(optarg, ULONG_MAX, &v))
                r = fail_usage("--seed '%s': use a non-negative number, e.g. --seed 1", optarg);
            o->seed = v;
            o->seed_set = true;
            break;
        case OPT_LINK: r = parse_link(o, optarg); break;
        case OPT_DIAGRAM: o->diagram.out = optarg; break;
        case OPT_CONN: o->diagram.conn = optarg; break;
        case OPT_GRACE:
            if (ts_duration_parse(optarg, &o->grace) < 0)
                r = fail_usage("--grace '%s': use a duration such as 1s or 500ms", optarg);
            break;
        case ':': r = fail_usage("%s needs a value; see tcpsim tun --help", opt); break;
        default: r = fail_usage("unknown option '%s'; see tcpsim tun --help", opt); break;
        }
        if (r) return r;
    }
    if (o->series_rows_set && !o->series)
        return fail_usage("--series-events chooses the rows --series writes; add --series "
                          "FILE.csv");
    if (o->diagram.conn && !o->diagram.out)
        return fail_usage("--conn picks the connection --diagram draws; add --diagram OUT");
    if (o->diagram.out && ts_diagram_check(&o->diagram, "tcpsim: --diagram")) return 2;
    if (optind < argc)
        return fail_usage("unexpected argument '%s'; options start with --, see tcpsim tun "
                          "--help",
                          argv[optind]);
    return 0;
}

/* The parameter block: the profile first, the MSS from the MTU, then every --set in order. */
static int build_params(const tun_opts *o, ts_params *p)
{
    char err[ERR_LEN];
    ts_params_default(p);
    if (o->profile && ts_params_profile(p, o->profile, err, sizeof err) < 0)
        return fail_usage("--profile %s: %s", o->profile, err);
    /* The MSS follows the MTU (parse_args refused an MTU too small for it). */
    char mss[16];
    unsigned max_mss = o->tun.mtu - 40;
    snprintf(mss, sizeof mss, "%u", max_mss);
    if (ts_params_set(p, "mss", mss, err, sizeof err) < 0)
        return fail_usage("--mtu %u: %s", o->tun.mtu, err);
    for (size_t i = 0; i < o->nsets; i++) {
        if (ts_params_set_kv(p, o->sets[i], err, sizeof err) < 0)
            return fail_usage("--set %s: %s", o->sets[i], err);
        if (p->mss > max_mss) /* segments the device could not carry */
            return fail_usage("--set %s: MSS %u does not fit the MTU %u; use mss=%u or less, or "
                              "raise --mtu",
                              o->sets[i], p->mss, o->tun.mtu, max_mss);
    }
    if (ts_params_validate(p, err, sizeof err) < 0) return fail_usage("parameters: %s", err);
    return 0;
}

/* ---- observing ----------------------------------------------------------------------- */

/* --diagram: the stack is host 0, Linux host 1. The TUN device adds no delay: a packet
 * arrives when it is written or read; with --link the shaper's verdict says when. The
 * stack's TCB for a received packet is read once it has taken it in, i.e. at the next
 * packet or idle moment. */
static void rec_flush(tun_run *r)
{
    if (r->rec && r->rec_arrived) ts_view_rec_arrived(r->rec, r->rec_arrived, 0, ts_loop_clock());
    r->rec_arrived = 0;
}

static void rec_packet(tun_run *r, bool out, ts_time_t now, const uint8_t *pkt, size_t len,
                       ts_time_t arrive, const char *lost)
{
    rec_flush(r);
    ts_view_rec_packet(r->rec, ++r->rec_no, out ? 0 : 1, now, pkt, len, arrive, lost);
    if (!out && !r->o->link) r->rec_arrived = r->rec_no;
}

static void tap(void *ctx, ts_time_t now, const uint8_t *pkt, size_t len, bool out)
{
    tun_run *r = ctx;
    ts_capture_packet(r->pcap, now, pkt, len);
    if (r->rec && !r->o->link) rec_packet(r, out, now, pkt, len, now, NULL);
}

static void on_event(void *ctx, const ts_event *ev)
{
    tun_run *r = ctx;
    ts_capture_event(r->pcap, 0, ev);
    ts_evfan_emit(r->fan, ev);
    if (r->series) ts_series_event(r->series, r->stack, "stack", ev);
    if (r->rec) ts_view_rec_event(r->rec, 0, ev);
    if (!r->o->trace) return;
    ts_event e = *ev;
    e.now = r->wall0 + (ev->now - r->mono0);
    ts_trace_print(stderr, &e, false, true);
}

/* The stack gets an observer only while someone wants its events: --trace, a pcapng
 * capture, or a service subscribed to the fan-out. */
static void observe_update(void *ctx, bool on)
{
    tun_run *r = ctx;
    (void)on;
    bool want = r->o->trace || ts_capture_annotated(r->pcap) || ts_evfan_active(r->fan) || r->rec ||
                r->series;
    ts_stack_set_event_fn(r->stack, want ? on_event : NULL, r);
}

/* The fan-out asks to settle at `when` (CLOCK_MONOTONIC, as the stack's clock). */
static void waker(void *ctx, ts_time_t when)
{
    tun_run *r = ctx;
    struct itimerspec it = {0};
    it.it_value.tv_sec = (time_t)(when / TS_SEC);
    it.it_value.tv_nsec = (long)(when % TS_SEC) * 1000 + 1; /* never 0: that disarms */
    timerfd_settime(r->wake_fd, TFD_TIMER_ABSTIME, &it, NULL);
}

static void wake_cb(ts_loop *l, int fd, uint32_t events, void *ctx)
{
    tun_run *r = ctx;
    uint64_t n;
    (void)l;
    (void)events;
    if (read(fd, &n, sizeof n) < 0) return;
    ts_evfan_woke(r->fan); /* idle_cb settles right after this iteration */
}

/* ---- client mode --------------------------------------------------------------------- */

static void client_finish(tun_run *r, int code)
{
    if (r->done) return;
    r->done = true;
    r->exit_code = code;
    if (r->stdin_watched) {
        ts_loop_unwatch(r->loop, STDIN_FILENO);
        r->stdin_watched = false;
    }
    ts_loop_stop(r->loop);
}

static void client_error(tun_run *r, int err)
{
    char a[16];
    const char *host = ts_ip4_format(r->o->connect_to.addr, a);
    unsigned port = r->o->connect_to.port;
    if (!r->connected) {
        double secs = (double)(ts_stack_now(r->stack) - r->connect_start) / TS_SEC;
        unsigned long long syns = ts_stack_counters(r->stack)->tcp_syn_retransmits + 1;
        if (err == -ETIMEDOUT)
            fprintf(stderr, "tcpsim: connect %s:%u: timed out after %.1f s (%llu SYN%s sent)\n",
                    host, port, secs, syns, syns == 1 ? "" : "s");
        else if (err == -ECONNREFUSED)
            fprintf(stderr, "tcpsim: connect %s:%u: refused (RST)\n", host, port);
        else
            fprintf(stderr, "tcpsim: connect %s:%u: %s\n", host, port, strerror(-err));
    } else if (err == -ECONNRESET) {
        fprintf(stderr, "tcpsim: %s:%u: connection reset (RST)\n", host, port);
    } else if (err == -ETIMEDOUT) {
        fprintf(stderr, "tcpsim: %s:%u: timed out (data not acknowledged)\n", host, port);
    } else {
        fprintf(stderr, "tcpsim: %s:%u: %s\n", host, port, strerror(-err));
    }
    client_finish(r, 1);
}

static void write_stdout(const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(STDOUT_FILENO, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return; /* stdout gone (EPIPE): the data has nowhere to go */
        }
        p += w;
        n -= (size_t)w;
    }
}

/* Push buffered stdin bytes; true when nothing is left. */
static bool client_push(tun_run *r)
{
    while (r->in_len) {
        ssize_t n = ts_send(r->stack, r->sd, r->in + r->in_off, r->in_len);
        if (n == -EAGAIN || n == 0) return false;
        if (n < 0) {
            client_error(r, (int)n);
            return false;
        }
        r->in_off += (size_t)n;
        r->in_len -= (size_t)n;
    }
    return true;
}

static void client_maybe_done(tun_run *r)
{
    if (r->stdin_eof && r->peer_eof && r->in_len == 0) client_finish(r, 0);
}

static void stdin_cb(ts_loop *l, int fd, uint32_t events, void *ctx)
{
    tun_run *r = ctx;
    (void)events;
    if (r->done || r->in_len) return;
    ssize_t n = read(fd, r->in, sizeof r->in);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) { /* EOF (or an unreadable stdin): half-close */
        r->stdin_eof = true;
        ts_loop_unwatch(l, fd);
        r->stdin_watched = false;
        int e = ts_shutdown(r->stack, r->sd, TS_SHUT_WR);
        if (e < 0 && e != -ENOTCONN) client_error(r, e);
        client_maybe_done(r);
        return;
    }
    r->in_off = 0;
    r->in_len = (size_t)n;
    if (!client_push(r) && !r->done) ts_loop_modify(l, fd, 0); /* resume when writable */
}

static void client_cb(ts_stack *s, int sd, unsigned events, void *ctx)
{
    tun_run *r = ctx;
    if (r->done) return;
    if (!r->connected) {
        if (events & TS_SOCK_CONNECTED) {
            r->connected = true;
            if (ts_loop_watch(r->loop, STDIN_FILENO, EPOLLIN, stdin_cb, r) == 0)
                r->stdin_watched = true;
        } else if (events & (TS_SOCK_ERROR | TS_SOCK_CLOSED)) {
            int e = ts_sock_error(s, sd);
            client_error(r, e ? e : -ECONNREFUSED);
            return;
        } else {
            return;
        }
    }
    while (!r->peer_eof) {
        ssize_t n = ts_recv(s, sd, r->outb, sizeof r->outb);
        if (n == -EAGAIN) break;
        if (n < 0) {
            client_error(r, (int)n);
            return;
        }
        if (n == 0)
            r->peer_eof = true;
        else
            write_stdout(r->outb, (size_t)n);
    }
    if (r->in_len && client_push(r) && r->stdin_watched)
        ts_loop_modify(r->loop, STDIN_FILENO, EPOLLIN);
    if (r->done) return;
    if (events & TS_SOCK_ERROR) {
        int e = ts_sock_error(s, sd);
        if (e) {
            client_error(r, e);
            return;
        }
    }
    if ((events & TS_SOCK_CLOSED) && !(r->stdin_eof && r->peer_eof)) {
        client_error(r, -ECONNRESET);
        return;
    }
    client_maybe_done(r);
}

static int client_start(tun_run *r)
{
    r->sd = ts_socket(r->stack);
    if (r->sd < 0) {
        fprintf(stderr, "tcpsim: socket: %s\n", strerror(-r->sd));
        return 1;
    }
    ts_sock_set_callback(r->stack, r->sd, client_cb, r);
    r->connect_start = ts_loop_clock();
    ts_stack_poll(r->stack, r->connect_start);
    int e = ts_connect(r->stack, r->sd, r->o->connect_to.addr, r->o->connect_to.port);
    if (e < 0 && e != -EINPROGRESS) {
        client_error(r, e);
        return 1;
    }
    return 0;
}

/* ---- shutting down ------------------------------------------------------------------- */

/* True when no connection needs the network any more (TIME-WAIT only answers). */
static bool stack_quiet(ts_stack *s)
{
    const ts_counters *k = ts_stack_counters(s);
    for (int st = 0; st < TS_NUM_STATES; st++)
        if (st != TS_CLOSED && st != TS_LISTEN && st != TS_TIME_WAIT && k->conns_by_state[st])
            return false;
    return true;
}

static void idle_cb(ts_loop *l, void *ctx)
{
    tun_run *r = ctx;
    if (!r->ring_lost_said && ts_loop_ring_lost(l)) {
        fprintf(stderr, "tcpsim: %s; one read() or write() per packet from now on (--io rw)\n",
                ts_loop_ring_lost(l));
        r->ring_lost_said = true;
    }
    ts_evfan_settle(r->fan); /* services show the events they gathered */
    rec_flush(r);
    if (r->pcap) {
        ts_time_t now = ts_loop_clock();
        ts_capture_tick(r->pcap, now);
        if (now - r->pcap_flushed >= PCAP_FLUSH) {
            ts_capture_flush(r->pcap);
            r->pcap_flushed = now;
        }
    }
    if (r->grace_mode && stack_quiet(r->stack)) ts_loop_stop(l);
}

static void on_signal(ts_loop *l, int signo, void *ctx)
{
    tun_run *r = ctx;
    (void)signo;
    r->signals++;
    ts_loop_stop(l);
}

/* Close everything gracefully and drive the stack until it is quiet or the grace ends (a
 * second signal ends it too). The client's socket is only shut for writing, so that what
 * the grace did not finish can still be reset in teardown. */
static void graceful_close(tun_run *r, bool client_done)
{
    for (size_t i = 0; i < r->nsvc; i++) ts_service_stop(r->svcs[i]);
    r->nsvc = 0;
    if (r->sd >= 0) {
        if (r->stdin_watched) ts_loop_unwatch(r->loop, STDIN_FILENO);
        r->stdin_watched = false;
        ts_sock_set_callback(r->stack, r->sd, NULL, NULL);
        if (client_done) {
            ts_close(r->stack, r->sd); /* both FINs seen: only the last ACKs remain */
            r->sd = -1;
        } else {
            ts_shutdown(r->stack, r->sd, TS_SHUT_WR);
        }
    }
    r->grace_mode = true;
    ts_loop_run(r->loop, ts_loop_clock() + r->o->grace);
    r->grace_mode = false;
}

/* ---- main ---------------------------------------------------------------------------- */

/* Offloads unless --offload off, or an option that needs every segment as the stack cut
 * it and as Linux sent it: --link decides each segment's fate, --pcap and --diagram
 * record them. NULL, or the option that turns them off (the ready line says so). */
static const char *offload_blocker(const tun_opts *o)
{
    if (o->offload_off) return NULL;
    return o->link ? "--link" : o->pcap ? "--pcap" : o->diagram.out ? "--diagram" : NULL;
}

static void ready_line(tun_run *r)
{
    char sa[16], pa[16], ca[16];
    const tun_opts *o = r->o;
    fprintf(stderr, "tcpsim: %s up: stack %s, linux %s/%u", ts_tun_name(r->tun),
            ts_ip4_format(o->tun.stack_addr, sa), ts_ip4_format(o->tun.peer_addr, pa),
            o->tun.prefix);
    if (o->nlisten) {
        fputs(", listening", stderr);
        for (size_t i = 0; i < o->nlisten; i++) fprintf(stderr, " %u", o->listen[i].port);
    }
    if (o->client)
        fprintf(stderr, ", connecting to %s:%u", ts_ip4_format(o->connect_to.addr, ca),
                o->connect_to.port);
    /* Offloads off by themselves: say why on the same line (other lines mean trouble). */
    const char *blocker = offload_blocker(o);
    if (blocker)
        fprintf(stderr, "; offload off: %s needs every segment as the stack and Linux cut it",
                blocker);
    else if (!o->offload_off && !ts_tun_offload(r->tun))
        fprintf(stderr, "; offload off: %s", ts_tun_offload_why(r->tun));
    if (!o->io_rw && !ts_loop_ring(r->loop)) fprintf(stderr, "; io rw: %s", o->ring_why);
    fputc('\n', stderr);
}

static int setup(tun_run *r, ts_params *params)
{
    char err[ERR_LEN];
    tun_opts *o = r->o;
    if (o->pcap) {
        r->pcap = ts_capture_open(o->pcap, err, sizeof err);
        if (!r->pcap) return fail_usage("--pcap %s: %s", o->pcap, err);
    }
    if (o->series &&
        !(r->series = ts_series_open(o->series, ts_loop_clock(), o->series_rows, err, sizeof err)))
        return fail_usage("%s", err);
    o->tun.offload = !o->offload_off && !offload_blocker(o);
    r->tun = ts_tun_open(&o->tun, err, sizeof err);
    if (!r->tun) return fail_usage("%s", err);
    r->loop = ts_loop_create(ts_tun_fd(r->tun), err, sizeof err);
    if (!r->loop) return fail_usage("%s", err);
    if (ts_loop_set_offload(r->loop, ts_tun_vnet_hdr(r->tun), ts_tun_offload(r->tun)) < 0)
        return fail_usage("--offload: out of memory");
    if (!o->io_rw) ts_loop_set_ring(r->loop, o->ring_why, sizeof o->ring_why);
    ts_loop_set_busy_poll(r->loop, o->busy_poll);

    ts_stack_config cfg;
    ts_stack_config_init(&cfg);
    cfg.addr = o->tun.stack_addr;
    cfg.params = *params;
    ts_loop_stack_config(r->loop, &cfg); /* burst mode: the loop writes each burst */
    cfg.max_sockets = o->max_conns;
    cfg.seed = o->seed;
    if (!o->seed_set && getrandom(&cfg.seed, sizeof cfg.seed, 0) != sizeof cfg.seed)
        cfg.seed = (uint64_t)ts_loop_wallclock() ^ ((uint64_t)getpid() << 32);
    r->stack = ts_stack_create(&cfg, err, sizeof err);
    if (!r->stack) return fail_usage("creating the stack: %s", err);
    ts_loop_set_stack(r->loop, r->stack);
    if (ts_capture_annotated(r->pcap) && ts_capture_add_stack(r->pcap, "stack", cfg.addr) < 0)
        return fail_usage("--pcap: out of memory");
    r->fan = ts_evfan_attach(r->stack, observe_update, r);
    observe_update(r, false);
    r->wake_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (r->wake_fd >= 0 && ts_loop_watch(r->loop, r->wake_fd, EPOLLIN, wake_cb, r) == 0)
        ts_evfan_set_waker(r->fan, waker, r);
    ts_loop_set_signal(r->loop, on_signal, r);
    ts_loop_set_idle(r->loop, idle_cb, r);
    r->mono0 = ts_loop_clock();
    r->wall0 = ts_loop_wallclock();
    ts_capture_set_offset(r->pcap, r->wall0 - r->mono0);
    ts_stack_poll(r->stack, r->mono0);
    if (o->diagram.out && (!(r->rec = ts_view_rec_new(TS_VIEW_LIVE)) ||
                           ts_view_rec_host(r->rec, 0, "stack", o->tun.stack_addr, r->stack) < 0 ||
                           ts_view_rec_host(r->rec, 1, "linux", o->tun.peer_addr, NULL) < 0))
        return fail_usage("--diagram: out of memory");
    if (r->rec) observe_update(r, true); /* the recorder wants every event */
    if (r->pcap || r->rec) ts_loop_set_tap(r->loop, tap, r);
    if (o->link) {
        ts_link_init(&r->links[0], &o->link_params);
        ts_link_init(&r->links[1], &o->link_params);
        ts_rng_seed(&r->rng, cfg.seed);
        if (ts_loop_set_shaper(r->loop, shape, r, 16384) < 0)
            return fail_usage("--link: out of memory for the packet pool");
    }

    for (size_t i = 0; i < o->nlisten; i++) {
        ts_service *svc =
            ts_service_start(r->stack, o->listen[i].service, o->listen[i].port, err, sizeof err);
        if (!svc)
            return fail_usage("--listen %u:%s: %s", o->listen[i].port, o->listen[i].service, err);
        r->svcs[r->nsvc++] = svc;
    }
    return 0;
}

/* --link: the simulator's link model decides each packet's fate in real time. */
static unsigned shape(void *ctx, bool out, ts_time_t now, const uint8_t *pkt, size_t len,
                      ts_loop_copy copy[2])
{
    tun_run *r = ctx;
    ts_link_verdict v;
    unsigned n = ts_link_send(&r->links[out ? 0 : 1], &r->rng, now, pkt, len, &v);
    if (r->rec) {
        ts_time_t arrive = TS_TIME_NEVER;
        for (unsigned i = 0; i < n; i++)
            if (!v.copy[i].corrupt && v.copy[i].when < arrive) arrive = v.copy[i].when;
        rec_packet(r, out, now, pkt, len, arrive,
                   n ? "corrupted on the link" : ts_link_drop_name(v.drop));
    }
    for (unsigned i = 0; i < n; i++) {
        copy[i].when = v.copy[i].when;
        copy[i].flip_bit = v.copy[i].corrupt ? (int64_t)v.copy[i].bit : -1;
    }
    return n;
}

static void link_summary(tun_run *r)
{
    static const char *const dir[2] = {"stack->linux", "linux->stack"};
    for (int i = 0; i < 2; i++) {
        const ts_link_stats *k = &r->links[i].stats;
        fprintf(stderr,
                "tcpsim: link %s: %llu packets, %llu delivered, %llu lost, %llu queue drops, "
                "%llu duplicated, %llu corrupted, %llu reordered\n",
                dir[i], (unsigned long long)k->packets, (unsigned long long)k->delivered,
                (unsigned long long)(k->drop_loss + k->drop_rule),
                (unsigned long long)k->drop_queue, (unsigned long long)k->dups,
                (unsigned long long)k->corrupted, (unsigned long long)k->held);
    }
}

/* --stats: one 'tcpsim: stat NAME VALUE' line per counter, names as a scenario's
 * `expect counter` spells them (drops as drop.REASON, only those that happened), then the
 * device's: what the loop read and wrote, writes the device refused, and what the kernel
 * dropped on its way to us (tun0's tx_dropped: its queue was full when Linux sent). */
static void print_stats(tun_run *r)
{
#define K(f)                                                                                       \
    {                                                                                              \
#f, offsetof(ts_counters, f)                                                               \
    }
    static const struct {
        const char *name;
        size_t off;
    } names[] = {
        K(ip_in),
        K(ip_out),
        K(icmp_echo_in),
        K(icmp_echo_out),
        K(tcp_in),
        K(tcp_out),
        K(tcp_bytes_in),
        K(tcp_bytes_out),
        K(tcp_retransmits),
        K(tcp_rto_timeouts),
        K(tcp_fast_retransmits),
        K(tcp_syn_retransmits),
        K(tcp_rst_out),
        K(tcp_rst_in),
        K(tcp_challenge_acks),
        K(tcp_oow_ratelimited),
        K(tcp_delayed_acks),
        K(tcp_conn_opened),
        K(tcp_conn_accepted),
        K(tcp_conn_failed),
        K(checksum_errors),
        K(mem_ring_bytes),
        K(mem_ring_peak),
        K(mem_rings),
        K(mem_conn_bytes),
        K(tw_blocks),
        K(tw_bytes),
        K(req_blocks),
        K(req_bytes),
        K(mem_cap_hits),
        K(mem_alloc_failed),
    };
#undef K
    const ts_counters *k = ts_stack_counters(r->stack);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        fprintf(stderr, "tcpsim: stat %s %llu\n", names[i].name,
                (unsigned long long)*(const uint64_t *)((const char *)k + names[i].off));
    for (int i = 0; i < TS_DROP_NUM_REASONS; i++)
        if (k->drops[i])
            fprintf(stderr, "tcpsim: stat drop.%s %llu\n", ts_drop_reason_name((ts_drop_reason)i),
                    (unsigned long long)k->drops[i]);
    const ts_loop_stats *d = ts_loop_get_stats(r->loop);
    fprintf(stderr,
            "tcpsim: stat device.read %llu\ntcpsim: stat device.written %llu\n"
            "tcpsim: stat device.write_errors %llu\ntcpsim: stat device.wakeups %llu\n",
            (unsigned long long)d->pkts_in, (unsigned long long)d->pkts_out,
            (unsigned long long)d->write_errors, (unsigned long long)d->wakeups);
    fprintf(stderr,
            "tcpsim: stat device.offload %d\ntcpsim: stat device.segs_out %llu\n"
            "tcpsim: stat device.gso_out %llu\ntcpsim: stat device.gso_in %llu\n"
            "tcpsim: stat device.csum_in %llu\ntcpsim: stat device.bad_vnet_in %llu\n",
            ts_tun_offload(r->tun) ? 1 : 0, (unsigned long long)d->segs_out,
            (unsigned long long)d->gso_out, (unsigned long long)d->gso_in,
            (unsigned long long)d->csum_in, (unsigned long long)d->bad_vnet_in);
    if (ts_tun_offload(r->tun) || ts_loop_ring(r->loop))
        fprintf(stderr, "tcpsim: stat device.bursts %llu\n", (unsigned long long)d->bursts);
    fprintf(stderr,
            "tcpsim: stat device.uring %d\ntcpsim: stat device.submits %llu\n"
            "tcpsim: stat device.empty_polls %llu\n",
            ts_loop_ring(r->loop) ? 1 : 0, (unsigned long long)d->submits,
            (unsigned long long)d->empty_polls);
    if (r->o->link)
        fprintf(stderr, "tcpsim: stat device.held_overflow %llu\n",
                (unsigned long long)d->held_overflow);
    /* The connection table as the run ended (signal or client done), before the grace
     * and the teardown empty it: `conns` is every connection, listeners included. */
    uint64_t all = 0;
    for (int st = 0; st < TS_NUM_STATES; st++) all += r->conns_at_stop[st];
    fprintf(stderr, "tcpsim: stat conns %llu\n", (unsigned long long)all);
    for (int st = 0; st < TS_NUM_STATES; st++)
        if (r->conns_at_stop[st])
            fprintf(stderr, "tcpsim: stat conns.%s %llu\n", ts_state_name((ts_state)st),
                    (unsigned long long)r->conns_at_stop[st]);
    long long txd = ts_tun_tx_dropped(r->tun);
    if (txd >= 0) fprintf(stderr, "tcpsim: stat device.tx_dropped %lld\n", txd);
}

/* --diagram, once the last packet (the resets of teardown included) has gone. 0, or 2 if
 * it could not be drawn or written (already said). */
static int write_diagram(tun_run *r)
{
    if (!r->rec) return 0;
    rec_flush(r);
    char err[256];
    ts_view_set set;
    int rc = 0;
    if (ts_view_rec_finish(r->rec, &set, err, sizeof err) < 0) {
        fprintf(stderr, "tcpsim: --diagram: %s\n", err);
        rc = 2;
    } else if (!set.n) {
        fprintf(stderr, "tcpsim: --diagram %s: no TCP connection was seen; nothing drawn\n",
                r->o->diagram.out);
    } else if (ts_diagram_write(&set, &r->o->diagram, "tcpsim: --diagram")) {
        rc = 2;
    }
    ts_view_set_free(&set);
    ts_view_rec_free(r->rec);
    r->rec = NULL;
    return rc;
}

/* Close everything. 0, or 2 when an output (--pcap, --series, --diagram) could not be
 * written: each says so in one line, and the exit status says it too. */
static int teardown(tun_run *r)
{
    int rc = 0;
    if (r->o->link && r->loop) {
        link_summary(r);
        ts_link_free(&r->links[0]);
        ts_link_free(&r->links[1]);
    }
    for (size_t i = 0; i < r->nsvc; i++) ts_service_stop(r->svcs[i]);
    r->nsvc = 0;
    /* Reset what the grace did not finish, orphans included, so no Linux socket is left
     * hanging in CLOSE_WAIT or FIN_WAIT_2. */
    if (r->stack && r->sd >= 0) ts_abort(r->stack, r->sd);
    r->sd = -1;
    if (r->stack) ts_stack_reset_all(r->stack);
    if (r->o->stats && r->stack && r->loop && r->tun) print_stats(r);
    char err[ERR_LEN]; /* the series ends here: destroying the stack is not an event */
    ts_series *sw = r->series;
    r->series = NULL;
    if (sw && ts_series_close(sw, err, sizeof err) < 0) {
        fprintf(stderr, "tcpsim: %s\n", err);
        rc = 2;
    }
    if (write_diagram(r)) rc = 2;
    if (r->stack) ts_stack_destroy(r->stack);
    ts_evfan_detach(r->fan);
    if (r->wake_fd >= 0) {
        if (r->loop) ts_loop_unwatch(r->loop, r->wake_fd);
        close(r->wake_fd);
    }
    if (r->loop) ts_loop_destroy(r->loop);
    if (r->tun) ts_tun_close(r->tun); /* the device disappears with its descriptor */
    if (r->pcap && ts_capture_close(r->pcap) < 0) {
        fprintf(stderr, "tcpsim: --pcap %s: writing failed (disk full?)\n", r->o->pcap);
        rc = 2;
    }
    return rc;
}

int ts_cli_tun(int argc, char **argv)
{
    static tun_opts o;
    static tun_run r;
    memset(&o, 0, sizeof o);
    memset(&r, 0, sizeof r);
    o.tun = (ts_tun_config){.dev = "tun0",
                            .stack_addr = TS_IP4(10, 0, 0, 2),
                            .peer_addr = TS_IP4(10, 0, 0, 1),
                            .prefix = 24,
                            .mtu = 1500};
    o.grace = 1 * TS_SEC;
    o.max_conns = 1u << 20; /* a server's scale; the library's default is 65536 */
    /* Linux's suggested net.core.busy_poll: on this project's VM it lifts connect+close
     * by about a fifth and cuts the echo round trip by a quarter (README, Performance) */
    o.busy_poll = 50;
    int rc = parse_args(&o, argc, argv);
    if (rc == 1) return 0;
    if (rc) return rc;
    if (!o.client && o.nlisten == 0) {
        static const char *const defaults[] = {"telnet", "echo", "discard", "chargen"};
        for (size_t i = 0; i < 4; i++)
            o.listen[o.nlisten++] = (listen_spec){well_known_port(defaults[i]), defaults[i]};
    }
    ts_params params;
    if ((rc = build_params(&o, &params))) return rc;
    char err[ERR_LEN];
    if (ts_tun_check(&o.tun, err, sizeof err) < 0) return fail_usage("%s", err);
    if (o.client && o.connect_to.addr == o.tun.stack_addr)
        return fail_usage("--connect: %s is the stack's own address; connect to the Linux side, "
                          "e.g. --connect 10.0.0.1:80",
                          ts_ip4_format(o.connect_to.addr, err));

    signal(SIGPIPE, SIG_IGN);
    r.o = &o;
    r.sd = -1;
    r.wake_fd = -1;
    if ((rc = setup(&r, &params))) {
        teardown(&r);
        return rc;
    }
    ready_line(&r);
    if (o.client && client_start(&r)) {
        int trc = teardown(&r);
        return trc ? trc : 1;
    }
    int exit_code = 0;
    int lr = ts_loop_run(r.loop, TS_TIME_NEVER);
    memcpy(r.conns_at_stop, ts_stack_counters(r.stack)->conns_by_state, sizeof r.conns_at_stop);
    if (lr < 0) {
        fprintf(stderr, "tcpsim: reading %s: %s\n", ts_tun_name(r.tun), strerror(-lr));
        exit_code = 1;
    } else if (r.signals) {
        graceful_close(&r, false);
    } else if (o.client) {
        exit_code = r.exit_code;
        if (exit_code == 0) graceful_close(&r, true);
    }
    int trc = teardown(&r);
    return exit_code ? exit_code : trc;
}
