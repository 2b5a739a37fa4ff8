/* sim/sim.h: the simulator's entry points for a driver (tools/cli_run.c, tests, benches):
 * load a scenario, build the world, run it in virtual time, print the report. sim/ never
 * includes tools/: whatever the driver adds (pcap, text traces, services) comes in
 * through the hooks below. */
#ifndef TS_SIM_SIM_H
#define TS_SIM_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "tcpsim/tcpsim.h"
#include "scn.h"

/* One packet's fate on its link, for recorders (tools/view): who sent it, to whom, and
 * when each copy arrives, or why none does. */
typedef struct ts_sim_fate {
    uint64_t no;  /* the packet's number, as the packet lines print it */
    ts_time_t t;  /* sent */
    int from, to; /* host indices; to is -1 when there is no link to the destination */
    const uint8_t *pkt;
    size_t len;
    unsigned ncopies;    /* 0: lost; 2: duplicated */
    ts_time_t arrive[2]; /* when each copy reaches its host */
    bool corrupt[2];     /* a bit of that copy was flipped on the way */
    const char *lost;    /* ncopies 0: "random loss", "queue full", "scripted drop (line 12)",
                            "no link to the destination"; valid during the call */
} ts_sim_fate;

typedef struct ts_sim_hooks {
    /* Services (echo, discard, ...) for `serve`; all NULL = `serve` unavailable. */
    int (*service_known)(const char *name);
    void *(*service_start)(void *ctx, ts_stack *s, const char *name, uint16_t port, char *err,
                           size_t errlen);
    void (*service_stop)(void *ctx, void *svc);
    void *service_ctx;
    /* Every packet as it enters a link (the capture point), stamped with virtual time. */
    void (*packet)(void *ctx, ts_time_t t, const uint8_t *pkt, size_t len);
    void *packet_ctx;
    /* Every stack event, with the name of the host whose stack raised it (--trace).
     * Called only when trace is on. */
    void (*event)(void *ctx, FILE *out, const char *host, const ts_event *ev);
    void *event_ctx;
    /* Every event of every stack host, trace or not (NULL: none), for annotated captures
     * and for services that watch events; host indexes the scenario's hosts. */
    void (*observe)(void *ctx, int host, ts_stack *s, const ts_event *ev);
    void *observe_ctx;
    /* After each step of the world, when no stack is inside a call: socket calls made here
     * are allowed; return true after making some (every host's timers are then
     * rescheduled). NULL: none. */
    bool (*settle)(void *ctx);
    void *settle_ctx;
    /* Recorders (diagrams): each packet's fate, right after `packet`; and each copy once
     * its host has taken it in (its stack's input done, so the receiver's control block
     * can be read). With observe (the stack's events, from inside the observer, where
     * ts_stack_conn_info is O(1)) they see a run whole. None of them changes what the run
     * prints or writes. */
    void (*fate)(void *ctx, const ts_sim_fate *f);
    void (*arrived)(void *ctx, uint64_t no, int host, ts_time_t t);
    void *rec_ctx;
} ts_sim_hooks;

typedef struct ts_sim_opts {
    uint64_t seed; /* used when seed_set; else the file's `seed`, else 1 */
    bool seed_set;
    FILE *out;  /* where packet lines, trace and report go (stdout if NULL) */
    bool quiet; /* no packet lines and no connection summary; failures and totals only */
    bool trace; /* stack events and the simulator's own actions between the packets */
    ts_sim_hooks hooks;
} ts_sim_opts;

typedef struct ts_sim ts_sim;

/* Totals of a run, for benches and tests. */
typedef struct ts_sim_stats {
    uint64_t packets;   /* packets offered to links (data and ACKs, every copy counted once) */
    uint64_t delivered; /* copies handed to a host */
    uint64_t events;    /* events processed */
    ts_time_t end;      /* virtual time the run stopped at */
    uint64_t expectations, failed;
} ts_sim_stats;

/* What the applications of a run saw, over all their connections (for sweeps). */
typedef struct ts_sim_app_stats {
    uint64_t active;         /* active opens (connect) */
    uint64_t connected;      /* of them, established */
    uint64_t connect_failed; /* of them, refused, timed out or never established */
    ts_time_t connect_max;   /* the slowest of those established: connect call to ESTABLISHED */
    ts_time_t first_open;    /* the first connect call (TS_TIME_NEVER: none) */
    uint64_t to_send;        /* bytes the applications asked to send */
    uint64_t received;       /* bytes the applications read */
    uint64_t bad;            /* of them, bytes that differ from what was sent */
    ts_time_t last_read;     /* when the last byte was read (TS_TIME_NEVER: none) */
} ts_sim_app_stats;

/* Build the world (stacks, links, peers). NULL with a one-line message on failure, e.g.
 * invalid parameters. The scenario must outlive the world. */
ts_sim *ts_sim_create(const ts_scn *scn, const ts_sim_opts *o, char *err, size_t errlen);
/* Run to the scenario's end (or until nothing is left to do). */
void ts_sim_run(ts_sim *w);
/* Print the connection summary and the expectations; 0 when every expectation holds,
 * 1 otherwise. */
int ts_sim_report(ts_sim *w);
void ts_sim_get_stats(const ts_sim *w, ts_sim_stats *st);
/* After ts_sim_run: the applications' totals. */
void ts_sim_get_app_stats(const ts_sim *w, ts_sim_app_stats *st);
/* The world's hosts, in the scenario's order (the indices the hooks pass). */
size_t ts_sim_nhosts(const ts_sim *w);
const char *ts_sim_host_name(const ts_sim *w, size_t i);
uint32_t ts_sim_host_addr(const ts_sim *w, size_t i);
ts_stack *ts_sim_host_stack(const ts_sim *w, size_t i); /* NULL for a scripted peer */
void ts_sim_destroy(ts_sim *w);

#endif
