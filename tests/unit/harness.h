/* harness.h: two tcpsim stacks wired back to back through their output callbacks, with a
 * manual virtual clock, a one-way delay, a drop hook and a log of every segment as tcpdump
 * prints it. Used by the TCP unit tests to assert exact segments at exact times. */
#ifndef TS_HARNESS_H
#define TS_HARNESS_H

#include <stdbool.h>
#include "tcpsim/format.h"
#include "tcpsim/tcpsim.h"

#define H_A         0 /* 10.0.0.103, the chapter's client */
#define H_B         1 /* 10.0.0.199, the chapter's server */
#define H_MAX_LOG   4096
#define H_MAX_QUEUE 8192

typedef struct h_pkt {
    ts_time_t t; /* when sent */
    int from;    /* H_A or H_B */
    size_t len;
    uint8_t data[1600];
    char line[512];
    uint8_t flags; /* TCP flags, 0 for non-TCP */
    uint32_t seq, ack, plen;
    uint16_t win;
} h_pkt;

typedef struct harness harness;
/* Return true to drop the packet (idx counts packets from that side, from 1). */
typedef bool (*h_drop_fn)(harness *h, int from, const h_pkt *p, unsigned idx);

struct harness {
    ts_stack *st[2];
    ts_time_t now;
    ts_time_t delay; /* one-way delay, both directions */
    h_drop_fn drop;
    void *user;
    unsigned sent_count[2];
    /* the log: every packet sent, dropped ones too (marked) */
    h_pkt *log;
    bool *log_dropped;
    size_t nlog;
    /* in flight */
    struct {
        ts_time_t at;
        int to;
        size_t idx;
    } q[H_MAX_QUEUE];
    size_t nq;
    bool verbose; /* print each packet to stderr */
};

/* Create with per-side parameter blocks (NULL = Linux defaults) and seed. */
harness *h_new(const ts_params *pa, const ts_params *pb);
void h_free(harness *h);
/* Advance the clock to t, delivering packets and running timers in time order. */
void h_run_until(harness *h, ts_time_t t);
/* Run until nothing is pending or t_max is reached. */
void h_run(harness *h, ts_time_t t_max);
/* Packets logged from side `from` (-1 = both) with these exact flags; count. */
size_t h_count(const harness *h, int from, uint8_t flags);
/* Number of packets logged (dropped included). */
static inline size_t h_nlog(const harness *h)
{
    return h->nlog;
}
/* Print the log to stderr (for failing tests). */
void h_dump(const harness *h);
/* Flag letters as tcpdump shows them: "S", "S.", ".", "F.", "P.", "R." */
const char *h_flags(uint8_t flags);

#define TH_FIN_ 0x01
#define TH_SYN_ 0x02
#define TH_RST_ 0x04
#define TH_PSH_ 0x08
#define TH_ACK_ 0x10

#endif
