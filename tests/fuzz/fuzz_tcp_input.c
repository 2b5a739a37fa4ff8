/* fuzz_tcp_input.c: libFuzzer target for the packet input path. Two tcpsim stacks, the
 * victim V (10.0.0.1) and a well-behaved peer P (10.0.0.2), talk through an in-memory link
 * with a fixed one-way delay in virtual time. The first input byte picks the victim's
 * starting state (LISTEN ... TIME_WAIT), its role and its options; the rest is a program
 * of operations: segments crafted relative to the victim's sequence space and injected as
 * if from P among the real ones, raw packets, time steps, application calls on either
 * side, parameter changes and drops on the link.
 *
 * What must hold, whatever the input:
 *  - stream integrity: every byte an application reads is the byte the other side wrote
 *    at that stream offset (both write one pattern; injected payloads carry the pattern at
 *    their offset, so a forged segment that TCP rightly accepts cannot fake a failure);
 *    P, which nobody forges for, never reads more than V wrote;
 *  - every connection ends: once both applications have closed everything and the peer
 *    has gone silent (the link is cut), both stacks reach zero connections within
 *    SILENT_FOR of virtual time, every timer having run out.
 * A violation aborts with one line saying what and where. Standalone: public API only. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpsim/format.h"
#include "tcpsim/tcpsim.h"
#include "tcpsim/wire.h"

#define V          0
#define P          1
#define ADDR_V     TS_IP4(10, 0, 0, 1)
#define ADDR_P     TS_IP4(10, 0, 0, 2)
#define ADDR_X     TS_IP4(10, 0, 0, 9) /* a third host: the source of every raw packet */
#define PORT_SRV   80
#define PORT_CLI   40000
#define DELAY      (5 * TS_MSEC)
#define QMAX       512 /* packets in flight on the link (more are dropped) */
#define NSOCK      8   /* sockets an application side keeps track of */
#define MAX_STEPS  400 /* clock steps per phase of an input: a bound on one input's cost */
#define SILENT_FOR (3 * 3600 * TS_SEC) /* far longer than any timer chain may last */

/* A packet on the link. */
typedef struct lpkt {
    ts_time_t at;
    int to;
    uint16_t len;
    uint8_t data[1600];
} lpkt;

/* One application socket: bytes read (checked against the pattern) and written. */
typedef struct asock {
    int sd;
    uint64_t rx, tx;
    bool checked; /* the remote is P: what is read must be the pattern */
} asock;

typedef struct world {
    ts_stack *st[2];
    ts_time_t now;
    lpkt q[QMAX];
    size_t qh, qn; /* ring: head and count */
    bool cut;      /* the link drops everything */
    int drop_next[2];
    asock s[2][NSOCK];
    int lsd[2];       /* listeners, -1 if none */
    bool reading[2];  /* the application reads what arrives */
    uint64_t v_wrote; /* bytes V's application wrote, over all its sockets */
    size_t steps;
    uint32_t ts_seen[2]; /* the latest TSval each side sent, for forged echoes */
} world;

static world W;

#ifdef FUZZ_TRACE /* -DFUZZ_TRACE: where an input spends its steps */
#define TRACE(phase)                                                                               \
    fprintf(stderr, "%s: %zu steps, t=%llu us, %llu+%llu packets out\n", phase, W.steps,           \
            (unsigned long long)W.now, (unsigned long long)ts_stack_counters(W.st[V])->tcp_out,    \
            (unsigned long long)ts_stack_counters(W.st[P])->tcp_out)
#define TRACE_PKT(pkt, len)                                                                        \
    do {                                                                                           \
        char line_[512];                                                                           \
        ts_format_packet(pkt, len, line_, sizeof line_);                                           \
        fprintf(stderr, "%llu.%06llu %s\n", (unsigned long long)(W.now / TS_SEC),                  \
                (unsigned long long)(W.now % TS_SEC), line_);                                      \
    } while (0)
#else
#define TRACE(phase)        ((void)0)
#define TRACE_PKT(pkt, len) ((void)0)
#endif

static uint8_t pattern(uint64_t i)
{
    return (uint8_t)(i * 131u + (i >> 13));
}

/* The byte loops below are not the code under test and touch only the harness's own
 * buffers: no coverage feedback and no sanitizer checks for them, so they run at full
 * speed and add no noise to libFuzzer's picture. */
#define NOCOV __attribute__((no_sanitize("coverage", "address", "undefined")))

NOCOV static void fill_pattern(uint8_t *buf, uint64_t off, size_t n)
{
    for (size_t i = 0; i < n; i++) buf[i] = pattern(off + i);
}

/* Index of the first byte that is not the pattern at its offset, or n. */
NOCOV static size_t check_pattern(const uint8_t *buf, uint64_t off, size_t n)
{
    size_t i = 0;
    while (i < n && buf[i] == pattern(off + i)) i++;
    return i;
}

static void fail(const char *what, int side, unsigned long long a, unsigned long long b)
{
    fprintf(stderr, "fuzz_tcp_input: %s (side %s, %llu vs %llu, t=%llu us)\n", what,
            side == V ? "V" : "P", a, b, (unsigned long long)W.now);
    abort();
}

/* ---- the link ---- */

static void remember_ts(int from, const uint8_t *pkt, size_t len)
{
    ts_pkt_view pv;
    ts_tcp_opts o;
    if (ts_pkt_view_parse(&pv, pkt, len) != TS_WIRE_OK || !pv.tcp) return;
    if (ts_tcp_opts_parse(pv.th.opt, pv.th.optlen, &o) == 0 && o.has_ts) W.ts_seen[from] = o.tsval;
}

static void link_out(void *ctx, const uint8_t *pkt, size_t len)
{
    int from = (int)(intptr_t)ctx;
    TRACE_PKT(pkt, len);
    remember_ts(from, pkt, len);
    if (W.cut || W.qn == QMAX || len > sizeof W.q[0].data) return;
    if (W.drop_next[1 - from] > 0) {
        W.drop_next[1 - from]--;
        return;
    }
    lpkt *k = &W.q[(W.qh + W.qn++) % QMAX];
    k->at = W.now + DELAY, k->to = 1 - from, k->len = (uint16_t)len;
    memcpy(k->data, pkt, len);
}

/* ---- the applications ---- */

static asock *slot(int side, int sd)
{
    for (int i = 0; i < NSOCK; i++)
        if (W.s[side][i].sd == sd) return &W.s[side][i];
    return NULL;
}

static void adopt(int side, int sd)
{
    asock *a = slot(side, -1);
    if (!a) { /* no room to track it: close it, as an application would */
        ts_close(W.st[side], sd);
        return;
    }
    ts_endpoint peer = {0};
    ts_getpeername(W.st[side], sd, &peer);
    *a = (asock){.sd = sd, .checked = peer.addr == (side == V ? ADDR_P : ADDR_V)};
}

static uint8_t iobuf[8192]; /* static: a large buffer on the stack costs ASan time */

static void read_all(int side, asock *a)
{
    if (!(ts_sock_events(W.st[side], a->sd) & TS_SOCK_READABLE)) return;
    ssize_t n;
    while ((n = ts_recv(W.st[side], a->sd, iobuf, sizeof iobuf)) > 0) {
        size_t bad = a->checked ? check_pattern(iobuf, a->rx, (size_t)n) : (size_t)n;
        if (bad < (size_t)n)
            fail("read a byte the other side never wrote", side, a->rx + bad, iobuf[bad]);
        a->rx += (uint64_t)n;
    }
    if (side == P && a->rx > W.v_wrote) fail("P read more than V wrote", P, a->rx, W.v_wrote);
}

static void app_step(int side)
{
    if (W.lsd[side] >= 0) {
        int sd;
        while ((sd = ts_accept(W.st[side], W.lsd[side], NULL)) >= 0) adopt(side, sd);
    }
    if (!W.reading[side]) return;
    for (int i = 0; i < NSOCK; i++)
        if (W.s[side][i].sd >= 0) read_all(side, &W.s[side][i]);
}

static void app_send(int side, asock *a, size_t n)
{
    if (n > sizeof iobuf) n = sizeof iobuf;
    fill_pattern(iobuf, a->tx, n);
    ssize_t k = ts_send(W.st[side], a->sd, iobuf, n);
    if (k <= 0) return;
    a->tx += (uint64_t)k;
    if (side == V) W.v_wrote += (uint64_t)k;
}

static void app_close_all(int side)
{
    for (int i = 0; i < NSOCK; i++)
        if (W.s[side][i].sd >= 0) ts_close(W.st[side], W.s[side][i].sd), W.s[side][i].sd = -1;
    if (W.lsd[side] >= 0) ts_close(W.st[side], W.lsd[side]), W.lsd[side] = -1;
}

/* ---- the clock ---- */

static ts_time_t next_event(void)
{
    ts_time_t t = W.qn ? W.q[W.qh].at : TS_TIME_NEVER;
    for (int i = 0; i < 2; i++) {
        ts_time_t d = ts_stack_next_deadline(W.st[i]);
        if (d < t) t = d;
    }
    return t;
}

/* One step: the earliest packet or timer, if it is due by t_end. false if none is. */
static bool step(ts_time_t t_end)
{
    ts_time_t t = next_event();
    if (t > t_end) return false;
    if (t > W.now) W.now = t;
    while (W.qn && W.q[W.qh].at <= W.now) {
        lpkt *k = &W.q[W.qh];
        W.qh = (W.qh + 1) % QMAX, W.qn--;
        ts_stack_input(W.st[k->to], W.now, k->data, k->len);
    }
    ts_stack_poll(W.st[V], W.now), ts_stack_poll(W.st[P], W.now);
    app_step(V), app_step(P);
    W.steps++;
    return true;
}

static void run_until(ts_time_t t_end)
{
    while (W.steps < MAX_STEPS && step(t_end)) {
    }
    if (t_end > W.now && t_end != TS_TIME_NEVER) W.now = t_end;
}

static uint64_t v_in_state(ts_state st)
{
    return ts_stack_counters(W.st[V])->conns_by_state[st];
}

static void run_to_state(ts_state st)
{
    ts_time_t end = W.now + 5 * TS_SEC;
    while (W.steps < MAX_STEPS && !v_in_state(st) && step(end)) {
    }
}

/* ---- the starting states ---- */

enum {
    S_LISTEN,
    S_SYN_SENT,
    S_SYN_RECEIVED,
    S_ESTABLISHED,
    S_FIN_WAIT_1,
    S_FIN_WAIT_2,
    S_CLOSE_WAIT,
    S_LAST_ACK,
    S_CLOSING,
    S_TIME_WAIT,
    S_COUNT
};

static uint16_t v_port, p_port; /* the real connection's ports */

static void make_stacks(uint8_t opt)
{
    for (int i = 0; i < 2; i++) {
        ts_stack_config cfg;
        ts_stack_config_init(&cfg);
        cfg.addr = i == V ? ADDR_V : ADDR_P;
        cfg.seed = 7 + (uint64_t)i;
        cfg.output = link_out, cfg.output_ctx = (void *)(intptr_t)i;
        cfg.max_sockets = 64;
        cfg.params.sack = !(opt & 0x02);
        cfg.params.timestamps = !(opt & 0x04);
        cfg.params.wscale_on = !(opt & 0x08);
        if (opt & 0x10) cfg.params.mss = 536;
        /* Buffers of 48 KB: windows still need scaling, and the rings stay below the size
         * at which ASan maps and unmaps every allocation (which would cost most of the
         * time of an execution). */
        cfg.params.rcvbuf = cfg.params.sndbuf = (opt & 0x20) ? 4096 : 48 * 1024;
        if (opt & 0x40) snprintf(cfg.params.cc, sizeof cfg.params.cc, "cubic");
        if (opt & 0x80) cfg.params.hz = 250;
        W.st[i] = ts_stack_create(&cfg, NULL, 0);
        if (!W.st[i]) fail("cannot create a stack", i, 0, 0);
    }
}

static void listen_on(int side, uint16_t port)
{
    int sd = ts_socket(W.st[side]);
    ts_bind(W.st[side], sd, 0, port);
    ts_listen(W.st[side], sd, 4);
    W.lsd[side] = sd;
}

static void connect_from(int side, uint16_t lport)
{
    int sd = ts_socket(W.st[side]);
    if (sd < 0) return;
    ts_bind(W.st[side], sd, 0, lport);
    ts_connect(W.st[side], sd, side == V ? ADDR_P : ADDR_V, PORT_SRV);
    adopt(side, sd);
}

static void shut(int side)
{
    for (int i = 0; i < NSOCK; i++)
        if (W.s[side][i].sd >= 0) ts_shutdown(W.st[side], W.s[side][i].sd, TS_SHUT_WR);
}

/* Bring the victim to its starting state: V client unless `server` (or the state needs a
 * listener), data queued both ways for the synchronized states. */
static void setup(int state, bool server)
{
    if (state == S_LISTEN || state == S_SYN_RECEIVED) server = true;
    if (state == S_SYN_SENT) server = false;
    int srv = server ? V : P, cli = server ? P : V;
    v_port = server ? PORT_SRV : PORT_CLI, p_port = server ? PORT_CLI : PORT_SRV;
    listen_on(srv, PORT_SRV);
    if (state == S_LISTEN) return;
    connect_from(cli, PORT_CLI);
    if (state == S_SYN_SENT) return;
    if (state == S_SYN_RECEIVED) return run_to_state(TS_SYN_RECEIVED);
    run_to_state(TS_ESTABLISHED);
    run_until(W.now + DELAY); /* the last ACK of the handshake reaches the server */
    app_send(V, &W.s[V][0], 2000), app_send(P, &W.s[P][0], 2000);
    run_until(W.now + DELAY / 2); /* data in flight both ways */
    switch (state) {
    case S_FIN_WAIT_1: shut(V); break;
    case S_FIN_WAIT_2: shut(V), run_to_state(TS_FIN_WAIT_2); break;
    case S_CLOSE_WAIT: shut(P), run_to_state(TS_CLOSE_WAIT); break;
    case S_LAST_ACK: shut(P), run_to_state(TS_CLOSE_WAIT), shut(V); break;
    case S_CLOSING: shut(V), shut(P), run_to_state(TS_CLOSING); break;
    case S_TIME_WAIT:
        shut(V), run_to_state(TS_FIN_WAIT_2), shut(P), run_to_state(TS_TIME_WAIT);
        break;
    default: break;
    }
}

/* ---- the operations ---- */

/* The input, consumed from the front; reads past the end give zeros. */
typedef struct in {
    const uint8_t *p;
    size_t n;
} in;

static uint8_t u8(in *d)
{
    if (!d->n) return 0;
    d->n--;
    return *d->p++;
}

static uint16_t u16(in *d)
{
    uint16_t hi = u8(d);
    return (uint16_t)(hi << 8 | u8(d));
}

/* V's connection with this remote port and local port, if any: from V's own sockets
 * first (O(1) each), else from the snapshot of every connection (orphans, half-open).
 * A socket whose connection is CLOSED (reset, or replaced by a new incarnation from a SYN
 * on the same ports) is not the one a segment reaches: the stack demultiplexes to the live
 * connection, so the forged payload must be the pattern at *its* stream offset. */
static bool conn_by_ports(uint16_t rport, uint16_t lport, ts_tcp_info *out)
{
    for (int i = 0; i < NSOCK; i++) {
        int sd = W.s[V][i].sd;
        if (sd >= 0 && ts_sock_info(W.st[V], sd, out) == 0 && out->state != TS_CLOSED &&
            out->remote.port == rport && out->local.port == lport && out->remote.addr == ADDR_P)
            return true;
    }
    ts_tcp_info ti[8];
    size_t n = ts_stack_conns(W.st[V], ti, 8);
    for (size_t i = 0; i < n && i < 8; i++)
        if (ti[i].state != TS_LISTEN && ti[i].state != TS_CLOSED && ti[i].remote.port == rport &&
            ti[i].local.port == lport && ti[i].remote.addr == ADDR_P) {
            *out = ti[i];
            return true;
        }
    return false;
}

/* Options for a forged segment: raw bytes, a timestamp echoing the real ones, or SACK
 * blocks relative to V's SND.UNA. Returns the length, a multiple of 4. */
static size_t forge_opts(in *d, uint8_t mode, const ts_tcp_info *c, uint8_t *o)
{
    size_t n = 0;
    switch (mode >> 6) {
    case 1: /* raw, padded with EOL to whole words (else the last ones would be payload) */
        n = (mode & 63u) % 41u;
        for (size_t i = 0; i < n; i++) o[i] = u8(d);
        while (n % 4) o[n++] = TS_OPT_EOL;
        return n;
    case 2: /* timestamps, as P would send them, give or take */
        o[n++] = TS_OPT_NOP, o[n++] = TS_OPT_NOP, o[n++] = TS_OPT_TS, o[n++] = 10;
        uint32_t val = W.ts_seen[P] + (uint32_t)(int8_t)u8(d);
        uint32_t ecr = (mode & 1) ? 0 : W.ts_seen[V];
        for (int i = 3; i >= 0; i--) o[n++] = (uint8_t)(val >> (8 * i));
        for (int i = 3; i >= 0; i--) o[n++] = (uint8_t)(ecr >> (8 * i));
        if (!(mode & 2)) return n;
        /* fall through: SACK blocks after the timestamp (3 fit) */
    case 3: {
        size_t blocks = (mode & 0x0c) >> 2 ? ((mode & 0x0c) >> 2) : 1;
        if (n + 4 + 8 * blocks > 40) blocks = (40 - n - 4) / 8;
        o[n++] = TS_OPT_NOP, o[n++] = TS_OPT_NOP, o[n++] = TS_OPT_SACK;
        o[n++] = (uint8_t)(2 + 8 * blocks);
        for (size_t b = 0; b < blocks; b++) {
            uint32_t start = c->snd_una + u16(d), end = start + u16(d);
            for (int i = 3; i >= 0; i--) o[n++] = (uint8_t)(start >> (8 * i));
            for (int i = 3; i >= 0; i--) o[n++] = (uint8_t)(end >> (8 * i));
        }
        return n;
    }
    default: return 0;
    }
}

/* A segment crafted relative to V's sequence space, sent to V as if from P (or from a
 * neighbouring port), payload from the pattern at its stream offset. */
static void op_inject(in *d)
{
    uint8_t flags = u8(d), sel = u8(d), omode = u8(d);
    int32_t dseq = (int16_t)u16(d), dack = (int16_t)u16(d);
    uint16_t win = u16(d), plen = u16(d) % 1461u;
    if (sel & 0x40) dseq *= 1024, dack *= 1024;
    uint16_t sport = p_port, dport = v_port;
    if ((sel & 0x30) == 0x10) sport = (uint16_t)(p_port + 1);
    if ((sel & 0x30) == 0x20) dport = (uint16_t)(v_port + 1);
    ts_tcp_info c = {0};
    bool have = conn_by_ports(sport, dport, &c);
    uint32_t sbase[4] = {c.rcv_nxt, c.irs, c.rcv_nxt + c.rcv_wnd, 0};
    uint32_t abase[4] = {c.snd_una, c.snd_nxt, c.iss, c.snd_max};
    uint32_t seq = sbase[sel & 3] + (uint32_t)dseq, ack = abase[(sel >> 2) & 3] + (uint32_t)dack;
    uint8_t opt[40], data[1460], pkt[1600];
    size_t olen = forge_opts(d, omode, &c, opt);
    uint32_t syn = (flags & TS_TH_SYN) ? 1u : 0u;
    uint32_t irs = have ? c.irs : seq + syn - 1;
    fill_pattern(data, (uint32_t)(seq + syn - irs - 1), plen);
    ts_ip4_hdr ip = {.ttl = 64, .src = ADDR_P, .dst = ADDR_V};
    ts_tcp_hdr th = {.sport = sport,
                     .dport = dport,
                     .seq = seq,
                     .ack = ack,
                     .flags = flags,
                     .win = win,
                     .urg = (flags & TS_TH_URG) ? u16(d) : 0};
    size_t len = ts_tcp_build(pkt, sizeof pkt, &ip, &th, opt, olen, data, plen);
    if (!len) return;
    if (sel & 0x80) pkt[len - 1] ^= 0x5a; /* a corrupt one now and then */
    ts_stack_input(W.st[V], W.now, pkt, len);
}

/* Raw bytes to V: a whole IPv4 packet, or a TCP header and payload under a good IPv4
 * header with the checksum fixed, so the header checks and the option walk see garbage
 * that passes the checksum. Each copied to a block of its exact size. Raw packets come
 * from a third host X (its address is forced): their payloads are not the pattern, and
 * V's connections with X are read but not checked. */
static void op_raw(in *d)
{
    uint8_t mode = u8(d);
    size_t n = u8(d), hdr = (mode & 1) ? 20 : 0;
    if (n > d->n) n = d->n;
    uint8_t *pkt = malloc(hdr + n + 1);
    if (!pkt) return;
    memcpy(pkt + hdr, d->p, n);
    d->p += n, d->n -= n;
    if (hdr) {
        ts_ip4_hdr ip = {.ttl = 64, .proto = 6, .src = ADDR_X, .dst = ADDR_V};
        ts_ip4_write(pkt, &ip, (uint16_t)(hdr + n));
        if (n >= 18) ts_tcp_write_csum(pkt + hdr, n, ADDR_X, ADDR_V);
    } else if (n >= 16) {
        for (int i = 0; i < 4; i++) pkt[12 + i] = (uint8_t)(ADDR_X >> (24 - 8 * i));
    }
    ts_stack_input(W.st[V], W.now, pkt, hdr + n);
    free(pkt);
}

static asock *pick(int side, uint8_t b)
{
    for (int i = 0; i < NSOCK; i++) {
        asock *a = &W.s[side][(b + i) % NSOCK];
        if (a->sd >= 0) return a;
    }
    return NULL;
}

/* Per-socket parameter changes an application (or the telnet service's `set`) may make
 * at any moment. */
static const char *const params[][2] = {
    {"recovery", "newreno"}, {"recovery", "sack"},  {"nagle", "off"},    {"delack", "0"},
    {"cc", "cubic"},         {"cc", "reno"},        {"rto_min", "1s"},   {"rcvbuf", "2048"},
    {"sndbuf", "2048"},      {"timestamps", "off"}, {"hz", "100"},       {"tlp", "off"},
    {"user_timeout", "3s"},  {"keepalive", "on"},   {"quickack", "off"}, {"delack_segs", "1"},
};

static void op_app(in *d, int side)
{
    uint8_t what = u8(d), arg = u8(d);
    asock *a = pick(side, what >> 4);
    ts_stack *st = W.st[side];
    switch (what & 15) {
    case 0:
        if (a) app_send(side, a, (size_t)arg * 32);
        break;
    case 1:
        if (a) ts_shutdown(st, a->sd, TS_SHUT_WR);
        break;
    case 2:
        if (a) ts_shutdown(st, a->sd, arg & 1 ? TS_SHUT_RDWR : TS_SHUT_RD);
        break;
    case 3:
        if (a) ts_close(st, a->sd), a->sd = -1;
        break;
    case 4:
        if (a) ts_abort(st, a->sd), a->sd = -1;
        break;
    case 5: W.reading[side] = !W.reading[side]; break;
    case 6:
        if (a) {
            const char *const *kv = params[arg % (sizeof params / sizeof params[0])];
            ts_sock_set_param(st, a->sd, kv[0], kv[1], NULL, 0);
        }
        break;
    case 7:
        if (a) ts_sock_set_cork(st, a->sd, arg & 1);
        break;
    case 8:
        if (a) ts_sock_push(st, a->sd);
        break;
    case 9:
        if (side == P) connect_from(P, (uint16_t)(PORT_CLI + (arg & 3)));
        break;
    case 10:
        if (a) app_send(side, a, (size_t)arg * 2);
        break;
    default: break;
    }
}

static void op_time(in *d)
{
    uint8_t b = u8(d);
    ts_time_t dt = ((ts_time_t)(b & 15) + 1) * 100 * TS_USEC << ((b >> 4) * 2 / 3 * 2);
    run_until(W.now + dt);
}

static void program(in *d)
{
    while (d->n && W.steps < MAX_STEPS) {
        switch (u8(d) % 8) {
        case 0:
        case 1: op_inject(d); break;
        case 2: op_raw(d); break;
        case 3: op_time(d); break;
        case 4: op_app(d, V); break;
        case 5: op_app(d, P); break;
        case 6: W.drop_next[u8(d) & 1] += 1; break;
        case 7: step(W.now + DELAY); break;
        }
    }
}

/* ---- the end: both close, the peer goes silent, every connection must end ---- */

static void must_be_empty(int side)
{
    ts_tcp_info ti;
    const ts_counters *k = ts_stack_counters(W.st[side]);
    if (ts_stack_conns(W.st[side], &ti, 1) == 0) {
        /* nothing left: the memory counters are exact, so nothing is held either */
        if (k->mem_rings || k->mem_ring_bytes || k->mem_conn_bytes)
            fail("memory still counted with no connection left (rings, ring bytes)", side,
                 k->mem_rings, k->mem_ring_bytes + k->mem_conn_bytes);
        return;
    }
    fprintf(stderr,
            "fuzz_tcp_input: side %s still has a connection in %s %llu s after both closed and "
            "the peer went silent (snd_wnd %u, unacked %u, backoff %u, retransmits %u)\n",
            side == V ? "V" : "P", ts_state_name(ti.state),
            (unsigned long long)(SILENT_FOR / TS_SEC), ti.snd_wnd, ti.snd_max - ti.snd_una,
            ti.backoff, ti.retransmits);
    abort();
}

static void finish(void)
{
    W.reading[V] = W.reading[P] = true;
    app_step(V), app_step(P);
    app_close_all(V), app_close_all(P);
    W.steps = 0;
    run_until(W.now + 2 * TS_SEC); /* the link still works: a graceful close may finish */
    TRACE("graceful close");
    W.cut = true, W.qn = 0;
    ts_time_t end = W.now + SILENT_FOR;
    W.steps = 0;
    while (W.steps < 10 * MAX_STEPS && step(end)) {
    }
    if (W.steps >= 10 * MAX_STEPS)
        fail("timers keep firing after the peer went silent", V, W.steps, 0);
    must_be_empty(V), must_be_empty(P);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    in d = {data, size};
    uint8_t state = u8(&d), opt = u8(&d);
    for (int i = 0; i < 2; i++) {
        W.lsd[i] = -1, W.reading[i] = true, W.drop_next[i] = 0, W.ts_seen[i] = 0;
        for (int k = 0; k < NSOCK; k++) W.s[i][k] = (asock){.sd = -1};
    }
    W.now = 0, W.qh = W.qn = 0, W.cut = false, W.v_wrote = 0, W.steps = 0;
    make_stacks(opt);
    setup(state % S_COUNT, opt & 1);
    TRACE("setup");
    W.steps = 0;
    program(&d);
    TRACE("program");
    finish();
    TRACE("finish");
    ts_stack_destroy(W.st[V]), ts_stack_destroy(W.st[P]);
    return 0;
}
