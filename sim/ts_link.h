/* sim/ts_link.h: one direction of a network link and its impairments, as a sans-IO model.
 *
 * The model never reads a clock, never holds a packet and never allocates per packet. The
 * driver hands it (now, packet) and gets back a verdict: dropped (and why), or delivered
 * once or twice at given times, each copy maybe with one bit to flip. The driver keeps the
 * bytes and delivers them when their time comes. Every random choice is drawn from the
 * ts_rng passed in, in a fixed order, so a driver that owns one seeded generator gets the
 * same verdicts for the same packets.
 *
 * The simulator (sim/world.c) calls it from its event loop in virtual time; a real-time
 * loop (the TUN runner's --link) can call exactly the same functions with the wall clock as
 * `now`, queue the copies in a timer heap of its own and write them out when due.
 *
 * What one packet goes through, in this order:
 *   1. scripted rules (drop / hold / dup / corrupt), matched on TCP flags, payload, a
 *      sequence range, a time window and the Nth match;
 *   2. random loss: Bernoulli, or Gilbert-Elliott (two states, bursty);
 *   3. random corruption (one bit), duplication, reordering (hold back by reorder_gap);
 *   4. the drop-tail queue and the serialiser (rate): a packet waits behind earlier ones;
 *   5. propagation delay plus jitter (uniform in [-jitter, +jitter]); jitter alone never
 *      reorders: a copy never arrives before the one sent before it, unless it was held.
 *
 * A real-time loop uses it like this (one ts_link per direction, one ts_rng for both):
 *
 *     ts_link_params p = {0};
 *     ts_link_param_set_kv(&p, "loss=2%", err, sizeof err);   // from --link 'loss=2% ...'
 *     ts_link_param_set_kv(&p, "delay=20ms", err, sizeof err);
 *     ts_link_init(&out_dir, &p);
 *     ts_rng_seed(&rng, seed);
 *     ...
 *     ts_link_verdict v;
 *     for (unsigned i = 0; i < ts_link_send(&out_dir, &rng, now_us, pkt, len, &v); i++) {
 *         // keep a copy of pkt; flip v.copy[i].bit if v.copy[i].corrupt (ts_link_flip);
 *         // write it to the TUN device when the clock reaches v.copy[i].when
 *     }
 */
#ifndef TS_SIM_TS_LINK_H
#define TS_SIM_TS_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tcpsim/types.h"
#include "tcpsim/wire.h" /* rules match TCP flags, TS_TH_* */
#include "ts_rng.h"

typedef enum {
    TS_LOSS_NONE,
    TS_LOSS_BERNOULLI, /* each packet lost with probability p */
    TS_LOSS_GE,        /* Gilbert-Elliott: good/bad states, per-state loss */
} ts_loss_kind;

typedef struct ts_loss_model {
    ts_loss_kind kind;
    double p;         /* Bernoulli: loss probability. GE: P(good -> bad) per packet */
    double r;         /* GE: P(bad -> good) per packet; mean burst length 1/r */
    double loss_bad;  /* GE: loss probability in the bad state (1 - h; default 1) */
    double loss_good; /* GE: loss probability in the good state (1 - k; default 0) */
} ts_loss_model;

typedef enum {
    TS_RULE_DROP,    /* drop the packet */
    TS_RULE_HOLD,    /* deliver it `hold` later than it would have arrived (reorders) */
    TS_RULE_DUP,     /* deliver it twice */
    TS_RULE_CORRUPT, /* flip one random bit (the receiver's checksum must catch it) */
} ts_rule_action;

#define TS_RULE_MAX_NTH 8

/* A scripted rule. A packet matches when every predicate given holds; the rule acts on
 * the matches whose 1-based count is in one of the nth ranges (all matches if none). */
typedef struct ts_link_rule {
    ts_rule_action action;
    ts_time_t hold;            /* TS_RULE_HOLD: extra delay */
    bool tcp;                  /* predicates below need a TCP segment */
    uint8_t flags_mask, flags; /* (tcp flags & flags_mask) == flags */
    int8_t payload;            /* -1 any, 0 no payload, 1 some payload */
    bool has_seq, seq_rel;     /* seq range; relative to the last SYN's seq seen here */
    uint32_t seq_lo, seq_hi;   /* the segment's first seq in [lo, hi] (wrap-safe) */
    ts_time_t t_from, t_to;    /* sent in [from, to); 0 / TS_TIME_NEVER for always */
    uint8_t nnth;
    struct {
        uint32_t lo, hi;
    } nth[TS_RULE_MAX_NTH];
    uint32_t seen; /* state: matches so far */
} ts_link_rule;

/* Bounds on what a link may be told (scenario `link` lines and tcpsim tun --link): beyond
 * them a value is a slip (100000000s), and honouring it would hold packets, and the memory
 * under them, for ever. delay, jitter and a reorder gap: up to 60 s each; rate: 0 (no
 * limit) or 1 kbit/s..1 Tbit/s (a 1500-byte packet then takes at most 12 s); queue: up to
 * 100,000 packets (more than a 6 MB window in 88-byte segments). */
#define TS_LINK_MAX_DELAY (60 * TS_SEC)
#define TS_LINK_MIN_RATE  1000ull
#define TS_LINK_MAX_RATE  1000000000000ull
#define TS_LINK_MAX_QUEUE 100000u

typedef struct ts_link_params {
    ts_time_t delay;   /* one-way propagation delay */
    ts_time_t jitter;  /* uniform in [-jitter, +jitter], never below 0 */
    uint64_t rate_bps; /* serialisation rate in bit/s; 0 = infinitely fast */
    uint32_t queue;    /* drop-tail limit in packets (incl. the one on the wire); 0 = none */
    ts_loss_model loss;
    double corrupt; /* probability of one flipped bit */
    double dup;     /* probability of a second copy */
    double reorder; /* probability of holding a packet back by reorder_gap */
    ts_time_t reorder_gap;
} ts_link_params;

/* Why a packet was not delivered. */
typedef enum {
    TS_LINK_OK,
    TS_LINK_DROP_RULE,  /* a scripted drop rule */
    TS_LINK_DROP_LOSS,  /* the random loss model */
    TS_LINK_DROP_QUEUE, /* the drop-tail queue was full */
} ts_link_drop;

const char *ts_link_drop_name(ts_link_drop d); /* "scripted drop", "random loss", ... */

typedef struct ts_link_copy {
    ts_time_t when; /* delivery time */
    bool corrupt;   /* flip bit `bit` (counted from the first byte's MSB) */
    uint32_t bit;
    bool held; /* delivered late on purpose (hold rule or reorder) */
} ts_link_copy;

typedef struct ts_link_verdict {
    unsigned ncopies;  /* 0 (dropped), 1, or 2 (duplicated) */
    ts_link_drop drop; /* why 0 copies */
    int rule;          /* index of the last rule that acted, -1 if none */
    ts_link_copy copy[2];
} ts_link_verdict;

typedef struct ts_link_stats {
    uint64_t packets, bytes; /* offered */
    uint64_t delivered;      /* copies delivered */
    uint64_t drop_rule, drop_loss, drop_queue;
    uint64_t dups, corrupted, held;
    uint32_t max_queue; /* peak queue occupancy in packets */
} ts_link_stats;

typedef struct ts_link {
    ts_link_params p;
    ts_link_rule *rules;
    size_t nrules, rules_cap;
    /* state */
    bool ge_bad;
    uint64_t busy_until_ns; /* when the serialiser is free */
    ts_time_t last_arrival; /* FIFO floor for the next copy */
    uint64_t *q_fin;        /* ring of serialisation end times (ns) of queued packets */
    uint32_t q_head, q_len, q_cap;
    bool syn_seen;
    uint32_t syn_seq;
    ts_link_stats stats;
} ts_link;

/* Start a direction with these parameters (copied). Zeroed params = a perfect wire. */
void ts_link_init(ts_link *l, const ts_link_params *p);
void ts_link_free(ts_link *l);
/* Add a scripted rule (copied; its match count starts at 0). -1 if memory ran out. */
int ts_link_add_rule(ts_link *l, const ts_link_rule *r);

/* Decide the fate of one packet offered at `now`. The packet is only read. Returns
 * v->ncopies. */
unsigned ts_link_send(ts_link *l, ts_rng *rng, ts_time_t now, const uint8_t *pkt, size_t len,
                      ts_link_verdict *v);

/* Flip bit `bit` of a packet (a copy's corruption); bits past len are ignored. */
void ts_link_flip(uint8_t *pkt, size_t len, uint32_t bit);

/* Set one parameter from text, as in a scenario file or `--link`:
 *   delay=10ms jitter=1ms rate=100Mbit queue=1000 loss=1% ge=P,R[,BAD[,GOOD]]
 *   corrupt=0.1% dup=1% reorder=2%[,GAP]
 * Returns 0, or -1 with a one-line message in err naming the problem and the fix. */
int ts_link_param_set(ts_link_params *p, const char *key, const char *value, char *err,
                      size_t errlen);
/* "key=value" form of the same. */
int ts_link_param_set_kv(ts_link_params *p, const char *assignment, char *err, size_t errlen);

/* Parse "1%", "0.5%" or "0.01" into a probability in [0, 1]. 0 or -1. */
int ts_prob_parse(const char *text, double *out);
/* Parse a rate: "100Mbit", "1Gbit", "64kbit", "1500bit", also "...bps" = bit/s. 0 or -1. */
int ts_rate_parse(const char *text, uint64_t *bps);

#endif
