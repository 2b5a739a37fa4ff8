/* syncookie.c: SYN cookies (RFC 4987 3.6): the ISN of a SYN-ACK sent without keeping any
 * state, which the returning ACK proves it saw. The cookie is a keyed hash (the stack's
 * SipHash key, the one ISNs use) of the connection's 4-tuple, the peer's ISN, a coarse
 * time counter and the index of the MSS in a small table; the counter's low bits and the
 * MSS index ride in the cookie's top bits beside 28 bits of the hash. With timestamps the
 * options a cookie cannot hold (window scale, SACK) ride in the low bits of our TSval and
 * come back in the ACK's TSecr, as Linux does; they are not secret (the hash already
 * proves the peer saw our SYN-ACK), only checked for sense. The layout is tcpsim's own. */
#include <string.h>

#include "internal.h"

#define COOKIE_PERIOD   (64 * TS_SEC) /* the time counter's unit: a cookie lives 64 to 128 s */
#define COOKIE_HASHBITS 28
#define COOKIE_HASHMASK ((1u << COOKIE_HASHBITS) - 1)
#define TSOPT_BITS      6   /* TSval bits 0-3: window scale (15: none), bit 4: SACK, bit 5: 0 */
#define TSOPT_NO_WS     15u /* no window scale */
#define TSOPT_SACK      16u

/* The MSS values a cookie can say, by index (2 bits): the common IPv4 ones, smallest first
 * (Linux's table has the same shape: 536, 1300, 1440, 1460). */
static const uint16_t mss_table[4] = {536, 1300, 1440, 1460};

/* The hash input: every field fixed, so the bytes hashed are the same on every host. */
typedef struct cookie_in {
    uint32_t saddr, daddr, peer_isn, count;
    uint16_t sport, dport;
    uint8_t mss_idx, tag;
    uint8_t pad[2];
} cookie_in;

static uint32_t cookie_hash(const ts_stack *s, const ts_seg *g, uint32_t peer_isn, uint32_t count,
                            uint32_t mss_idx)
{
    cookie_in in;
    memset(&in, 0, sizeof in);
    in.saddr = g->src, in.daddr = g->dst, in.peer_isn = peer_isn, in.count = count;
    in.sport = g->sport, in.dport = g->dport;
    in.mss_idx = (uint8_t)mss_idx;
    in.tag = 'C'; /* a domain apart from the ISN's and the TS offset's hashes */
    return (uint32_t)ts_siphash(s->key, &in, sizeof in) & COOKIE_HASHMASK;
}

static uint32_t cookie_count(ts_time_t now)
{
    return (uint32_t)(now / COOKIE_PERIOD);
}

uint32_t ts_cookie_make(const ts_stack *s, const ts_seg *g, uint16_t *mss)
{
    uint16_t peer = g->opts.has_mss && g->opts.mss ? g->opts.mss : 536;
    uint32_t idx = 3;
    while (idx > 0 && mss_table[idx] > peer) idx--; /* the largest the peer can take */
    *mss = mss_table[idx];
    uint32_t count = cookie_count(s->now);
    return (count & 3u) << 30 | idx << COOKIE_HASHBITS | cookie_hash(s, g, g->seq, count, idx);
}

/* RFC 4987 3.6: the ACK of a cookie acknowledges cookie + 1 and starts at the peer's ISN
 * + 1. Valid for the current period and the one before (64 to 128 s). */
bool ts_cookie_check(const ts_stack *s, const ts_seg *g, uint16_t *mss)
{
    uint32_t cookie = g->ack - 1, now = cookie_count(s->now);
    uint32_t idx = cookie >> COOKIE_HASHBITS & 3u;
    for (uint32_t age = 0; age < 2 && age <= now; age++) {
        uint32_t count = now - age;
        if ((count & 3u) != cookie >> 30) continue;
        if (cookie_hash(s, g, g->seq - 1, count, idx) != (cookie & COOKIE_HASHMASK)) return false;
        *mss = mss_table[idx];
        return true;
    }
    return false;
}

/* The SYN-ACK's TSval with the options in its low bits, never above the clock's value so
 * that later TSvals still grow (RFC 7323 5.4). */
uint32_t ts_cookie_tsval(uint32_t tsval, bool ws_ok, uint8_t wscale, bool sack_ok)
{
    uint32_t bits = (ws_ok ? wscale : TSOPT_NO_WS) | (sack_ok ? TSOPT_SACK : 0);
    uint32_t v = (tsval & ~((1u << TSOPT_BITS) - 1)) | bits;
    return seq_gt(v, tsval) ? v - (1u << TSOPT_BITS) : v;
}

/* The options a TSecr says; false if they make no sense (a shift over 14, bit 5 set). */
bool ts_cookie_ts_decode(uint32_t tsecr, bool *ws_ok, uint8_t *wscale, bool *sack_ok)
{
    uint32_t ws = tsecr & 15u;
    if (tsecr & 32u || (ws > 14 && ws != TSOPT_NO_WS)) return false;
    *ws_ok = ws != TSOPT_NO_WS;
    *wscale = *ws_ok ? (uint8_t)ws : 0;
    *sack_ok = (tsecr & TSOPT_SACK) != 0;
    return true;
}
