/* sim/ts_link.c: per-direction link impairments as a sans-IO model (see ts_link.h). */
#include "ts_link.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpsim/params.h"

const char *ts_link_drop_name(ts_link_drop d)
{
    switch (d) {
    case TS_LINK_OK: return "delivered";
    case TS_LINK_DROP_RULE: return "scripted drop";
    case TS_LINK_DROP_LOSS: return "random loss";
    case TS_LINK_DROP_QUEUE: return "queue full";
    }
    return "?";
}

void ts_link_init(ts_link *l, const ts_link_params *p)
{
    memset(l, 0, sizeof *l);
    if (p) l->p = *p;
}

void ts_link_free(ts_link *l)
{
    free(l->rules);
    free(l->q_fin);
    memset(l, 0, sizeof *l);
}

int ts_link_add_rule(ts_link *l, const ts_link_rule *r)
{
    if (l->nrules == l->rules_cap) {
        size_t ncap = l->rules_cap ? l->rules_cap * 2 : 4;
        ts_link_rule *n = realloc(l->rules, ncap * sizeof *n);
        if (!n) return -1;
        l->rules = n;
        l->rules_cap = ncap;
    }
    l->rules[l->nrules] = *r;
    l->rules[l->nrules].seen = 0;
    l->nrules++;
    return 0;
}

/* What the rules look at, read with bounds checks: a malformed packet is simply "not TCP". */
typedef struct pkt_view {
    bool tcp;
    uint8_t flags;
    uint32_t seq;
    uint32_t payload;
} pkt_view;

static pkt_view view_packet(const uint8_t *pkt, size_t len)
{
    pkt_view v = {0};
    ts_pkt_view pv;
    ts_pkt_view_parse(&pv, pkt, len);
    if (!pv.tcp) return v;
    v.tcp = true;
    v.flags = pv.th.flags;
    v.seq = pv.th.seq;
    v.payload = (uint32_t)pv.th.len;
    return v;
}

static bool rule_matches(const ts_link *l, const ts_link_rule *r, const pkt_view *v, ts_time_t now)
{
    if (now < r->t_from || now >= r->t_to) return false;
    if (!r->tcp) return true;
    if (!v->tcp) return false;
    if ((v->flags & r->flags_mask) != r->flags) return false;
    if (r->payload >= 0 && (v->payload > 0) != (r->payload > 0)) return false;
    if (r->has_seq) {
        uint32_t base = r->seq_rel ? (l->syn_seen ? l->syn_seq : 0) : 0;
        uint32_t off = v->seq - base - r->seq_lo; /* wrap-safe: distance from lo */
        if (off > r->seq_hi - r->seq_lo) return false;
    }
    return true;
}

static bool nth_selected(const ts_link_rule *r)
{
    if (r->nnth == 0) return true;
    for (unsigned i = 0; i < r->nnth; i++)
        if (r->seen >= r->nth[i].lo && r->seen <= r->nth[i].hi) return true;
    return false;
}

/* Random loss, RFC-free textbook models. GE moves state first, then draws the loss. */
static bool lose(ts_link *l, ts_rng *rng)
{
    const ts_loss_model *m = &l->p.loss;
    switch (m->kind) {
    case TS_LOSS_NONE: return false;
    case TS_LOSS_BERNOULLI: return ts_rng_chance(rng, m->p);
    case TS_LOSS_GE:
        if (l->ge_bad) {
            if (ts_rng_chance(rng, m->r)) l->ge_bad = false;
        } else if (ts_rng_chance(rng, m->p)) {
            l->ge_bad = true;
        }
        return ts_rng_chance(rng, l->ge_bad ? m->loss_bad : m->loss_good);
    }
    return false;
}

static int queue_grow(ts_link *l)
{
    uint32_t ncap = l->q_cap ? l->q_cap * 2 : 64;
    uint64_t *n = malloc((size_t)ncap * sizeof *n);
    if (!n) return -1;
    for (uint32_t i = 0; i < l->q_len; i++) n[i] = l->q_fin[(l->q_head + i) % l->q_cap];
    free(l->q_fin);
    l->q_fin = n;
    l->q_cap = ncap;
    l->q_head = 0;
    return 0;
}

/* Serialise one packet behind the queue; false if the drop-tail queue is full. */
static bool serialise(ts_link *l, uint64_t now_ns, size_t len, uint64_t *done_ns)
{
    if (l->p.rate_bps == 0) {
        *done_ns = now_ns;
        return true;
    }
    while (l->q_len && l->q_fin[l->q_head] <= now_ns) {
        l->q_head = (l->q_head + 1) % l->q_cap;
        l->q_len--;
    }
    if (l->p.queue && l->q_len >= l->p.queue) return false;
    if (l->q_len == l->q_cap && queue_grow(l) < 0) return false;
    uint64_t start = l->busy_until_ns > now_ns ? l->busy_until_ns : now_ns;
    /* ns = bits * 1e9 / rate, rounded up; in 128 bits so huge rates and sizes are safe. */
    unsigned __int128 bits = (unsigned __int128)len * 8u * 1000000000u;
    uint64_t tx = (uint64_t)((bits + l->p.rate_bps - 1) / l->p.rate_bps);
    l->busy_until_ns = start + tx;
    l->q_fin[(l->q_head + l->q_len) % l->q_cap] = l->busy_until_ns;
    l->q_len++;
    if (l->q_len > l->stats.max_queue) l->stats.max_queue = l->q_len;
    *done_ns = l->busy_until_ns;
    return true;
}

/* Arrival time of a copy that left the serialiser at done_ns. */
static ts_time_t arrival(ts_link *l, ts_rng *rng, uint64_t done_ns)
{
    ts_time_t t = (done_ns + 999) / 1000 + l->p.delay;
    if (l->p.jitter) {
        uint64_t span = 2 * l->p.jitter + 1;
        int64_t j = (int64_t)ts_rng_below(rng, span) - (int64_t)l->p.jitter;
        if (j < 0 && (ts_time_t)-j > t)
            t = 0;
        else
            t = (ts_time_t)((int64_t)t + j);
        ts_time_t floor = (done_ns + 999) / 1000;
        if (t < floor) t = floor;
    }
    if (t < l->last_arrival) t = l->last_arrival;
    l->last_arrival = t;
    return t;
}

unsigned ts_link_send(ts_link *l, ts_rng *rng, ts_time_t now, const uint8_t *pkt, size_t len,
                      ts_link_verdict *v)
{
    memset(v, 0, sizeof *v);
    v->rule = -1;
    l->stats.packets++;
    l->stats.bytes += len;

    pkt_view pv = view_packet(pkt, len);
    if (pv.tcp && (pv.flags & TS_TH_SYN)) {
        l->syn_seen = true;
        l->syn_seq = pv.seq;
    }

    /* 1. Scripted rules. */
    ts_time_t hold = 0;
    bool force_dup = false, force_corrupt = false;
    for (size_t i = 0; i < l->nrules; i++) {
        ts_link_rule *r = &l->rules[i];
        if (!rule_matches(l, r, &pv, now)) continue;
        r->seen++;
        if (!nth_selected(r)) continue;
        v->rule = (int)i;
        switch (r->action) {
        case TS_RULE_DROP:
            v->drop = TS_LINK_DROP_RULE;
            l->stats.drop_rule++;
            return 0;
        case TS_RULE_HOLD: hold += r->hold; break;
        case TS_RULE_DUP: force_dup = true; break;
        case TS_RULE_CORRUPT: force_corrupt = true; break;
        }
    }

    /* 2. Random loss. */
    if (lose(l, rng)) {
        v->drop = TS_LINK_DROP_LOSS;
        l->stats.drop_loss++;
        return 0;
    }

    /* 3. Corruption, duplication, reordering: always drawn in this order. */
    bool corrupt = force_corrupt || ts_rng_chance(rng, l->p.corrupt);
    bool dup = force_dup || ts_rng_chance(rng, l->p.dup);
    if (ts_rng_chance(rng, l->p.reorder)) hold += l->p.reorder_gap;
    uint32_t bit = corrupt && len ? (uint32_t)ts_rng_below(rng, (uint64_t)len * 8) : 0;

    /* 4 and 5. Queue, serialiser, propagation; a duplicate queues behind the original. */
    uint64_t now_ns = now * 1000;
    for (unsigned c = 0; c < (dup ? 2u : 1u); c++) {
        uint64_t done;
        if (!serialise(l, now_ns, len, &done)) {
            if (c == 0) {
                v->drop = TS_LINK_DROP_QUEUE;
                l->stats.drop_queue++;
                return 0;
            }
            break;
        }
        ts_link_copy *cp = &v->copy[v->ncopies++];
        cp->when = arrival(l, rng, done);
        if (c == 0 && hold) {
            /* Held copies arrive late without raising the FIFO floor, so later packets
             * overtake them. */
            cp->when += hold;
            cp->held = true;
            l->stats.held++;
        }
        if (c == 0 && corrupt && len) {
            cp->corrupt = true;
            cp->bit = bit;
            l->stats.corrupted++;
        }
    }
    if (v->ncopies == 2) l->stats.dups++;
    l->stats.delivered += v->ncopies;
    return v->ncopies;
}

void ts_link_flip(uint8_t *pkt, size_t len, uint32_t bit)
{
    if (bit / 8 < len) pkt[bit / 8] ^= (uint8_t)(0x80u >> (bit % 8));
}

int ts_prob_parse(const char *text, double *out)
{
    if (!text || !*text) return -1;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || errno || !isfinite(v)) return -1;
    if (*end == '%') {
        v /= 100.0;
        end++;
    }
    if (*end || v < 0.0 || v > 1.0) return -1;
    *out = v;
    return 0;
}

int ts_rate_parse(const char *text, uint64_t *bps)
{
    if (!text || !*text) return -1;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || errno || !isfinite(v) || v < 0) return -1;
    static const struct {
        const char *unit;
        double mult;
    } units[] = {
        {"bit", 1},    {"bps", 1},    {"kbit", 1e3}, {"kbps", 1e3},  {"Kbit", 1e3},
        {"mbit", 1e6}, {"Mbit", 1e6}, {"Mbps", 1e6}, {"mbps", 1e6},  {"gbit", 1e9},
        {"Gbit", 1e9}, {"Gbps", 1e9}, {"gbps", 1e9}, {"tbit", 1e12}, {"Tbit", 1e12},
    };
    double mult = 0;
    if (!*end) mult = 1; /* bare number: bit/s */
    for (size_t i = 0; !mult && i < sizeof units / sizeof units[0]; i++)
        if (!strcmp(end, units[i].unit)) mult = units[i].mult;
    if (!mult || v * mult > 1e15) return -1;
    *bps = (uint64_t)llround(v * mult);
    return 0;
}

static int fail(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
    if (err && errlen) snprintf(err, errlen, fmt, a, b);
    return -1;
}

/* ge=P,R[,BAD[,GOOD]] */
static int parse_ge(ts_loss_model *m, const char *value)
{
    char buf[128];
    if (strlen(value) >= sizeof buf) return -1;
    strcpy(buf, value);
    double v[4] = {0, 0, 1.0, 0.0};
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (n == 4 || ts_prob_parse(tok, &v[n]) < 0) return -1;
        n++;
    }
    if (n < 2) return -1;
    m->kind = TS_LOSS_GE;
    m->p = v[0];
    m->r = v[1];
    m->loss_bad = v[2];
    m->loss_good = v[3];
    return 0;
}

int ts_link_param_set(ts_link_params *p, const char *key, const char *value, char *err,
                      size_t errlen)
{
    ts_link_params n = *p;
    if (!strcmp(key, "delay") || !strcmp(key, "jitter")) {
        ts_time_t t;
        if (ts_duration_parse(value, &t) < 0)
            return fail(err, errlen, "%s: bad duration '%s'; write e.g. 10ms, 1.5s or 250us", key,
                        value);
        if (t > TS_LINK_MAX_DELAY)
            return fail(err, errlen, "%s: %s is too long; a link takes at most 60s", key, value);
        if (key[0] == 'd')
            n.delay = t;
        else
            n.jitter = t;
    } else if (!strcmp(key, "rate")) {
        if (ts_rate_parse(value, &n.rate_bps) < 0)
            return fail(err, errlen, "%s: bad rate '%s'; write e.g. 100Mbit, 1Gbit or 64kbit", key,
                        value);
        if (n.rate_bps && (n.rate_bps < TS_LINK_MIN_RATE || n.rate_bps > TS_LINK_MAX_RATE))
            return fail(err, errlen, "%s: %s is out of range; use 1kbit..1Tbit (or 0: no limit)",
                        key, value);
    } else if (!strcmp(key, "queue")) {
        char *end;
        errno = 0;
        unsigned long q = strtoul(value, &end, 10);
        if (end == value || *end || errno || value[0] == '-')
            return fail(err, errlen, "%s: bad queue length '%s'; give a packet count, e.g. 1000",
                        key, value);
        if (q > TS_LINK_MAX_QUEUE)
            return fail(err, errlen, "%s: %s packets is too many; use at most 100000", key, value);
        n.queue = (uint32_t)q;
    } else if (!strcmp(key, "loss")) {
        double v;
        if (ts_prob_parse(value, &v) < 0)
            return fail(err, errlen, "%s: bad probability '%s'; write e.g. 1%% or 0.01", key,
                        value);
        n.loss.kind = v > 0 ? TS_LOSS_BERNOULLI : TS_LOSS_NONE;
        n.loss.p = v;
    } else if (!strcmp(key, "ge")) {
        if (parse_ge(&n.loss, value) < 0)
            return fail(err, errlen,
                        "%s: bad Gilbert-Elliott model '%s'; write P,R[,LOSS_BAD[,LOSS_GOOD]] "
                        "as probabilities, e.g. ge=1%%,25%%",
                        key, value);
    } else if (!strcmp(key, "corrupt") || !strcmp(key, "dup")) {
        double v;
        if (ts_prob_parse(value, &v) < 0)
            return fail(err, errlen, "%s: bad probability '%s'; write e.g. 1%% or 0.01", key,
                        value);
        if (key[0] == 'c')
            n.corrupt = v;
        else
            n.dup = v;
    } else if (!strcmp(key, "reorder")) {
        char buf[64];
        if (strlen(value) >= sizeof buf)
            return fail(err, errlen, "%s: value too long: '%s'", key, value);
        strcpy(buf, value);
        char *gap = strchr(buf, ',');
        if (gap) *gap++ = '\0';
        double v;
        ts_time_t g = n.reorder_gap ? n.reorder_gap : 1 * TS_MSEC;
        if (ts_prob_parse(buf, &v) < 0 || (gap && ts_duration_parse(gap, &g) < 0))
            return fail(err, errlen, "%s: bad value '%s'; write PROB[,GAP], e.g. 2%% or 2%%,5ms",
                        key, value);
        if (g > TS_LINK_MAX_DELAY)
            return fail(err, errlen, "%s: the gap in '%s' is too long; hold a packet at most 60s",
                        key, value);
        n.reorder = v;
        n.reorder_gap = g;
    } else {
        return fail(err, errlen,
                    "unknown link parameter '%s'%s; known: delay jitter rate queue loss ge "
                    "corrupt dup reorder",
                    key, "");
    }
    *p = n;
    return 0;
}

int ts_link_param_set_kv(ts_link_params *p, const char *assignment, char *err, size_t errlen)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment)
        return fail(err, errlen, "'%s' is not KEY=VALUE%s; write e.g. loss=1%%", assignment, "");
    char key[32];
    size_t kl = (size_t)(eq - assignment);
    if (kl >= sizeof key) return fail(err, errlen, "unknown link parameter '%s'%s", assignment, "");
    memcpy(key, assignment, kl);
    key[kl] = '\0';
    return ts_link_param_set(p, key, eq + 1, err, errlen);
}
