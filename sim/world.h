/* sim/world.h: the simulator's internals shared by world.c (clock, events, packets,
 * links), app.c (scripted socket calls), peer.c (scripted peers), flows.c (connections
 * seen on the wire) and expect.c (expectations and the report). Not a public header. */
#ifndef TS_SIM_WORLD_H
#define TS_SIM_WORLD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "tcpsim/tcpsim.h"
#include "tcpsim/wire.h"
#include "evq.h"
#include "ts_link.h"
#include "ts_rng.h"
#include "scn.h"
#include "sim.h"

/* Event kinds in the queue, and their priorities among events of the same time. */
enum { EV_DELIVER, EV_POLL, EV_ACTION, EV_CHECK };
enum { PRIO_NORMAL = 0, PRIO_ACTION = 1, PRIO_CHECK = 2 };

/* A packet in flight. Buffers of SIM_PKT_CAP come from a free list; larger ones are
 * allocated singly (never on the usual path: MTU-sized packets fit). */
#define SIM_PKT_CAP 2048
typedef struct sim_pkt {
    struct sim_pkt *next;
    uint64_t no; /* the packet's number (for the arrived hook) */
    uint32_t len, cap;
    uint8_t data[];
} sim_pkt;

/* A parsed IPv4/TCP header (filled from the wire layer's ts_pkt_view_parse: structure
 * checked, checksums not); tcp false for anything else. */
typedef struct sim_view {
    bool ip, tcp;
    uint32_t src, dst;
    uint8_t proto;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t win;
    uint32_t payload;
    const uint8_t *data;
    const uint8_t *opt;
    size_t optlen;
} sim_view;

void sim_view_parse(sim_view *v, const uint8_t *pkt, size_t len);
/* Sequence space one segment takes: payload + SYN + FIN. */
static inline uint32_t sim_view_seqlen(const sim_view *v)
{
    return v->payload + ((v->flags & TS_TH_SYN) ? 1u : 0u) + ((v->flags & TS_TH_FIN) ? 1u : 0u);
}

/* One end of a connection as seen on the wire and through its stack's events. */
typedef struct sim_end {
    uint32_t addr;
    uint16_t port;
    int host;
    bool isn_known;
    uint32_t isn;
    uint64_t segs, data_segs, bytes;
    uint64_t rexmit_syn, rexmit_rto, rexmit_fast, rexmit_probe, timeouts;
    bool state_known;
    ts_state state;
    ts_time_t state_at;
} sim_end;

typedef struct sim_flow {
    uint32_t id; /* 1-based, in order of first packet */
    sim_end end[2];
    ts_time_t first, last;
    uint64_t last_pkt_no;
    bool ended; /* a FIN or RST was seen: a later SYN may start a new incarnation */
} sim_flow;

typedef struct sim_flows {
    sim_flow *v;
    size_t n, cap;
    uint32_t *slots; /* open addressing: flow index + 1, 0 = empty */
    size_t nslots;
    size_t last; /* cache: the flow of the previous packet */
} sim_flows;

/* One application send: bytes [start, start + len) of the stream, from text or the
 * pattern. The log lets the receiving side check every byte it reads. */
typedef struct sim_sendop {
    uint64_t start, len;
    const uint8_t *text;
} sim_sendop;

typedef enum { OBJ_CONN, OBJ_LISTENER } sim_obj_kind;

struct sim_host;

typedef struct sim_conn {
    sim_obj_kind kind;
    struct sim_host *h;
    int sd; /* -1 once closed or aborted */
    int num;
    bool active;
    bool tuple;
    ts_endpoint local, remote;
    int read, eof_close;
    bool connected, dead;
    sim_sendop *log;
    size_t nlog, caplog, log_next;
    uint64_t queued; /* bytes handed to the stack */
    uint64_t total;  /* bytes the app asked to send */
    bool close_pending, shut_pending;
    int shut_how;
    uint64_t received, bad_bytes;
    uint64_t unchecked; /* read with no application at the other end to compare with */
    size_t peer_log_i;
    struct sim_conn *peer;
    uint8_t head[4096];
    size_t head_len;
    bool connect_done;
    int connect_err;
    ts_time_t open_at; /* the connect call */
    ts_time_t connect_at;
    bool accepted;
    ts_time_t accept_at;
    bool eof;
    ts_time_t eof_at;
    int error;
    ts_time_t error_at;
    ts_time_t last_read_at;
} sim_conn;

typedef struct sim_listener {
    sim_obj_kind kind;
    struct sim_host *h;
    int sd;
    uint16_t port;
    int read, eof_close;
    uint64_t send; /* listen send=N: pattern bytes each accepted connection sends */
    unsigned line; /* the listen line, for run-time errors */
} sim_listener;

typedef struct sim_route {
    uint32_t addr;
    int host;
    ts_link *link;
} sim_route;

/* A scripted peer's view of its one connection, learned from what it receives. */
typedef struct sim_peer {
    bool have;
    uint32_t raddr;
    uint16_t lport, rport;
    uint32_t iss, snd_nxt;
    bool irs_known;
    uint32_t irs, rcv_nxt;
    bool ts_seen;
    uint32_t ts_recent;
    uint16_t ip_id;
} sim_peer;

typedef struct sim_host {
    const ts_scn_host *cfg;
    int idx;
    struct ts_sim *w;
    ts_stack *stack;
    ts_time_t poll_at;
    uint32_t poll_gen;
    sim_conn **conns;
    size_t nconns, capconns;
    sim_listener **lsn;
    size_t nlsn;
    void **svcs;
    size_t nsvcs;
    sim_route *routes;
    size_t nroutes;
    sim_peer peer;
} sim_host;

/* Per-expectation outcome. */
typedef struct sim_result {
    int state; /* 0 not decided yet, 1 holds, 2 fails */
    uint64_t count;
    char seen[384];
} sim_result;

struct ts_sim {
    const ts_scn *scn;
    ts_sim_opts o;
    FILE *out;
    ts_rng rng;
    uint64_t seed;
    ts_evq q;
    ts_time_t now;
    ts_time_t end;
    bool stopped_at_cap;
    sim_host *hosts;
    size_t nhosts;
    ts_link *links; /* one per scenario direction */
    size_t nlinks;
    sim_pkt *free_pkts;
    uint64_t pkt_no;
    uint64_t *dir_count; /* [src * nhosts + dst] packets sent in that direction */
    uint64_t delivered, events;
    sim_flows flows;
    sim_result *res;
    bool have_seg_exps; /* any expectation looks at packets as they pass */
    size_t *pkt_exps;   /* indices of those expectations */
    size_t npkt_exps;
    uint64_t runtime_errors;
    char *stuck; /* set when the loop had to stop (livelock guard) */
};

/* world.c */
void sim_host_resched(sim_host *h);
void sim_host_output(void *ctx, const uint8_t *pkt, size_t len);
void sim_tracef(ts_sim *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sim_runtime_error(ts_sim *w, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const uint8_t *sim_pattern(void); /* 64 KiB: byte i of a stream is pattern[i & 0xffff] */
#define SIM_PATTERN_MASK 0xffffu

/* app.c */
void sim_app_action(ts_sim *w, const ts_scn_action *a);
sim_conn *sim_host_conn(sim_host *h, int num); /* 0 = latest; NULL if none */
void sim_app_destroy(sim_host *h);

/* peer.c */
void sim_peer_inject(ts_sim *w, sim_host *h, const ts_scn_action *a);
void sim_peer_receive(ts_sim *w, sim_host *h, const uint8_t *pkt, size_t len);

/* flows.c */
int sim_flows_init(sim_flows *f);
void sim_flows_free(sim_flows *f);
/* The flow of a packet (created on first sight); NULL for non-TCP or out of memory.
 * *from is the index of the sending end. */
sim_flow *sim_flows_packet(ts_sim *w, const sim_view *v, int src_host, int *from);
sim_flow *sim_flows_find(sim_flows *f, uint32_t a, uint16_t ap, uint32_t b, uint16_t bp, int *from);
void sim_flows_event(ts_sim *w, sim_host *h, const ts_event *ev);
/* A connection's state in its stack right now (TS_CLOSED when gone). */
ts_state sim_conn_state(sim_host *h, const ts_endpoint *local, const ts_endpoint *remote);

/* expect.c */
int sim_expect_init(ts_sim *w);
void sim_expect_packet(ts_sim *w, const sim_view *v, int src, int dst);
void sim_expect_check(ts_sim *w, size_t idx); /* a timed check came due */
void sim_expect_finish(ts_sim *w);            /* decide everything still open */
void sim_report_connections(ts_sim *w);
int sim_report_expectations(ts_sim *w);

#endif
