/* sim/scn.h: a parsed scenario file (.scn): hosts, links and their impairments, timed
 * actions and expectations. The language is described in docs/scenarios.md; the parser
 * (scn_parse.c) reports the first mistake as "FILE:LINE: what is wrong". */
#ifndef TS_SIM_SCN_H
#define TS_SIM_SCN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tcpsim/event.h"
#include "tcpsim/params.h"
#include "tcpsim/tcp_opt.h"
#include "tcpsim/types.h"
#include "ts_link.h"

#define TS_SCN_NAME_MAX    32
#define TS_SCN_MAX_HOSTS   64
#define TS_SCN_SERVICE_MAX 16

typedef struct ts_scn_host {
    char name[TS_SCN_NAME_MAX];
    uint32_t addr;
    bool peer;        /* a scripted peer: no stack, injects and observes */
    uint32_t isn;     /* peer: its own initial sequence number */
    ts_params params; /* stack hosts: the stack-wide defaults */
    unsigned line;
} ts_scn_host;

typedef struct ts_scn_rule {
    ts_link_rule rule;
    unsigned line;
} ts_scn_rule;

/* One direction of a link: from host `from` to host `to`. */
typedef struct ts_scn_dir {
    int from, to;
    ts_link_params params;
    ts_scn_rule *rules;
    size_t nrules;
} ts_scn_dir;

/* A segment pattern: what an expectation looks for, or what a peer injects. Sequence and
 * acknowledgement numbers are relative to the sender's and the receiver's ISN. */
typedef struct ts_scn_seg {
    int src, dst; /* host indices */
    bool any_flags;
    uint8_t flags_mask, flags; /* (flags & mask) == flags */
    bool has_seq, has_seq_end;
    uint32_t seq, seq_end; /* "seq A:B" (B = A + payload length) as tcpdump prints */
    bool has_ack;
    uint32_t ack;
    bool has_win;
    uint32_t win;
    bool has_len;
    uint32_t len;
    int8_t payload; /* -1 any, 0 none ("nodata"), 1 some ("data") */
    char *opts;     /* expect: "mss 1460,sackOK,TS val * ecr 0,..." */
    uint8_t *data;  /* expect: payload bytes; inject: payload to send */
    size_t data_len;
    bool has_data;
    /* inject only */
    bool opts_set;
    ts_tcp_opts_out out_opts;
    bool ecr_echo; /* "TS ... ecr echo": echo the last TSval seen */
    uint8_t raw_opts[40];
    size_t raw_opts_len;
    bool has_raw_opts;
    bool has_sport, has_dport;
    uint16_t sport, dport;
    bool bad_csum;
} ts_scn_seg;

typedef enum {
    TS_ACT_LISTEN,   /* listen PORT [read=on|off] [eof=close|keep] [send=N] */
    TS_ACT_SERVE,    /* serve SERVICE PORT (tools/services via the driver) */
    TS_ACT_CONNECT,  /* connect HOST:PORT [port=LOCAL] [read=..] [eof=..] */
    TS_ACT_SEND,     /* send N | send "text" */
    TS_ACT_SHUTDOWN, /* shutdown [wr|rd|rdwr] */
    TS_ACT_CLOSE,
    TS_ACT_ABORT,
    TS_ACT_READ,    /* read on|off */
    TS_ACT_SET,     /* set K=V ...: this connection's parameters */
    TS_ACT_DEFAULT, /* default K=V ...: the stack's defaults for new sockets */
    TS_ACT_INJECT,  /* a scripted peer sends a segment */
} ts_scn_act_kind;

typedef struct ts_scn_action {
    ts_scn_act_kind kind;
    ts_time_t at;
    int host;
    int conn; /* 0 = the host's latest connection, N = its Nth */
    unsigned line;
    uint32_t addr;  /* connect */
    uint16_t port;  /* listen, serve, connect */
    uint16_t lport; /* connect: local port (0 = ephemeral) */
    int read;       /* listen/connect/read: 1 read what arrives, 0 leave it */
    int eof_close;  /* listen/connect: 1 close on EOF, 0 keep the socket */
    uint64_t count; /* send N; listen: send=N to each accepted connection (0 none) */
    uint8_t *text;  /* send "text" */
    size_t text_len;
    int how;   /* shutdown */
    char **kv; /* set/default */
    size_t nkv;
    char service[TS_SCN_SERVICE_MAX];
    ts_scn_seg seg; /* inject */
} ts_scn_action;

typedef enum {
    TS_EXP_SEG,      /* expect N DIR ...: the Nth packet on the wire */
    TS_EXP_SEG_DIR,  /* expect DIR#K ...: the Kth packet in that direction */
    TS_EXP_COUNT,    /* expect count DIR [pattern] OP N */
    TS_EXP_NONE,     /* expect none DIR [pattern] [after T] [before T] */
    TS_EXP_PACKETS,  /* expect packets OP N: all packets on the wire */
    TS_EXP_CONNECT,  /* expect HOST connect ok|ERRNO [at T] */
    TS_EXP_ACCEPT,   /* expect HOST accept [at T] */
    TS_EXP_EOF,      /* expect HOST eof [at T] */
    TS_EXP_ERROR,    /* expect HOST error ERRNO [at T] */
    TS_EXP_STATE,    /* expect HOST state STATE at T|end */
    TS_EXP_RECEIVED, /* expect HOST received N [whole] | "text" */
    TS_EXP_COUNTER,  /* expect HOST counter NAME OP N */
    TS_EXP_LINK,     /* expect link A>B delivered|lost|queue-drops|... OP N */
} ts_scn_exp_kind;

typedef enum { TS_OP_EQ, TS_OP_NE, TS_OP_LT, TS_OP_LE, TS_OP_GT, TS_OP_GE } ts_scn_op;

typedef struct ts_scn_expect {
    ts_scn_exp_kind kind;
    unsigned line;
    char *text; /* the source line, for the report */
    ts_scn_seg seg;
    bool has_dir; /* count/none: a direction was given */
    uint64_t nth; /* TS_EXP_SEG, TS_EXP_SEG_DIR */
    bool has_at;  /* a time, with tolerance */
    ts_time_t at, tol;
    bool at_end;
    ts_time_t after, before; /* none/count window: [after, before] */
    ts_scn_op op;
    uint64_t value;
    int host, conn;
    int err; /* connect/error: 0 = ok, else a negative errno */
    ts_state state;
    size_t counter; /* index into the counter table (world.c) */
    bool whole;
    uint8_t *bytes; /* received "text" */
    size_t bytes_len;
    bool has_bytes;
} ts_scn_expect;

typedef struct ts_scn {
    char *file;
    uint64_t seed;
    bool has_seed;
    ts_time_t end; /* TS_TIME_NEVER: run until idle (capped by idle_cap) */
    ts_time_t idle_cap;
    ts_scn_host *hosts;
    size_t nhosts;
    ts_scn_dir *dirs; /* two per link: [2k] a->b, [2k+1] b->a */
    size_t ndirs;
    ts_scn_action *acts;
    size_t nacts;
    ts_scn_expect *exps;
    size_t nexps;
} ts_scn;

/* What the parser needs to know of the driver (e.g. which services exist). */
typedef struct ts_scn_parse_opts {
    int (*service_known)(const char *name); /* NULL: `serve` is an error */
    /* Values for the file's `param NAME DEFAULT` lines, each "NAME=VALUE" (tcpsim run -D,
     * tcpsim sweep --vary). A name the file does not declare is an error. */
    const char *const *defs;
    size_t ndefs;
} ts_scn_parse_opts;

/* Parse a scenario file. NULL with "FILE:LINE: what is wrong" (or "FILE: ...") in err. */
ts_scn *ts_scn_load(const char *path, const ts_scn_parse_opts *o, char *err, size_t errlen);
/* Parse from memory (name is used in messages). */
ts_scn *ts_scn_parse(const char *name, const char *text, size_t len, const ts_scn_parse_opts *o,
                     char *err, size_t errlen);
void ts_scn_free(ts_scn *s);

/* Helpers shared with the world. */
int ts_scn_errno_parse(const char *name, int *err); /* "ETIMEDOUT" -> -ETIMEDOUT, "ok" -> 0 */
const char *ts_scn_errno_name(int err);             /* -ETIMEDOUT -> "ETIMEDOUT" */
/* Counters a scenario can name: "tcp_retransmits", "drop.tcp-checksum", ... */
size_t ts_scn_counter_count(void);
const char *ts_scn_counter_name(size_t i);
int ts_scn_counter_find(const char *name, size_t *idx);
uint64_t ts_scn_counter_value(const ts_counters *c, size_t idx);
const char *ts_scn_op_name(ts_scn_op op);
bool ts_scn_op_eval(ts_scn_op op, uint64_t a, uint64_t b);
/* Link statistics an expectation can name: delivered, lost, queue-drops, ... */
int ts_scn_link_stat_find(const char *name, size_t *idx);
const char *ts_scn_link_stat_name(size_t idx);
uint64_t ts_scn_link_stat_value(const ts_link_stats *st, size_t idx);

#endif
