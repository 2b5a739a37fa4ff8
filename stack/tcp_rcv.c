/* tcp_rcv.c: the receive stream: in-window data into the ring, out-of-order ranges held
 * and merged when the hole fills, SACK blocks (RFC 2018) and the D-SACK block for data
 * received twice (RFC 2883), and the advertised window with scaling (RFC 7323) and
 * receiver-side silly-window avoidance (RFC 9293 3.8.6.2.2). */
#include <string.h>

#include "internal.h"

void ts_rcv_init(ts_conn *c, uint32_t irs)
{
    c->irs = irs;
    c->rcv_nxt = irs + 1;
    c->rcv_adv = c->rcv_nxt;
    c->last_ack_sent = c->rcv_nxt;
}

uint32_t ts_rcv_space(const ts_conn *c)
{
    return seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
}

/* The window we may offer now, in bytes, before scaling. */
static uint32_t window_budget(const ts_conn *c)
{
    uint32_t used = c->rcvq.len;
    uint32_t free_space = c->p->rcvbuf > used ? c->p->rcvbuf - used : 0;
    return c->rcv_ssthresh < free_space ? c->rcv_ssthresh : free_space;
}

uint32_t ts_rcv_window(ts_stack *s, ts_conn *c)
{
    uint32_t cur = ts_rcv_space(c);
    uint32_t win = window_budget(c);
    uint32_t sws = c->rcv_mss < c->p->rcvbuf / 2 ? c->rcv_mss : c->p->rcvbuf / 2;
    if (win < cur)
        win = cur; /* never move the right edge left */
    else if (win - cur < sws && win < c->p->rcvbuf / 2)
        win = cur; /* too small an increase to be worth offering */
    uint32_t shift = c->ws_ok ? c->rcv_wscale : 0;
    /* Linux rounds the scaled window up, so 64240 bytes advertise as 502 << 7 */
    uint64_t field = ((uint64_t)win + (1u << shift) - 1) >> shift;
    if (field > 65535) field = 65535;
    uint32_t bytes = (uint32_t)field << shift;
    /* The ring grows as data arrives (ts_rcv_data), not for the window: an offer costs no
     * memory. Under mem_max, no more is offered than the ring may grow to now. */
    uint32_t reach = ts_mem_reach(s, &c->rcvq);
    if (bytes > cur && (uint64_t)c->rcvq.len + bytes > reach) {
        s->cnt.mem_cap_hits++;
        bytes = reach > c->rcvq.len ? reach - c->rcvq.len : 0;
        if (bytes < cur) bytes = cur; /* never take back what was offered */
        field = bytes >> shift;
        bytes = (uint32_t)field << shift;
    }
    if (seq_gt(c->rcv_nxt + bytes, c->rcv_adv)) c->rcv_adv = c->rcv_nxt + bytes;
    return (uint32_t)field;
}

/* Insert [start, end) into the sorted, disjoint out-of-order set, merging neighbours
 * (c->ooo exists: ts_rcv_data made it); -1 when the set is full. */
static int ooo_insert(ts_conn *c, uint32_t start, uint32_t end)
{
    uint32_t i = 0;
    while (i < c->ooo_n && seq_lt(c->ooo[i].end, start)) i++;
    uint32_t j = i;
    while (j < c->ooo_n && seq_le(c->ooo[j].start, end)) {
        start = seq_min(start, c->ooo[j].start);
        end = seq_max(end, c->ooo[j].end);
        j++;
    }
    if (i == j && c->ooo_n == TS_OOO_MAX) return -1;
    /* ranges i..j-1 merge into one at i */
    uint32_t removed = j - i;
    if (removed == 0) {
        memmove(&c->ooo[i + 1], &c->ooo[i], (c->ooo_n - i) * sizeof c->ooo[0]);
        c->ooo_n++;
    } else if (removed > 1) {
        memmove(&c->ooo[i + 1], &c->ooo[j], (c->ooo_n - j) * sizeof c->ooo[0]);
        c->ooo_n -= removed - 1;
    }
    c->ooo[i].start = start;
    c->ooo[i].end = end;
    return 0;
}

/* RFC 2883 4: the D-SACK block reports the duplicate range of the segment that arrived
 * last, replacing any older one; only when SACK was negotiated (RFC 2883 4 needs the
 * peer to understand SACK) and the dsack parameter is on (Linux tcp_dsack). */
static void dsack_set(ts_conn *c, uint32_t start, uint32_t end)
{
    if (!c->sack_ok || !c->p->dsack || !seq_lt(start, end)) return;
    c->dsack.start = start;
    c->dsack.end = end;
    c->dsack_pending = true;
}

/* RFC 2883 4 (4): when one segment duplicates several ranges, only the first is reported;
 * a later one that touches it widens it (Linux tcp_dsack_extend). */
static void dsack_extend(ts_conn *c, uint32_t start, uint32_t end)
{
    if (!c->dsack_pending) {
        dsack_set(c, start, end);
    } else if (seq_le(start, c->dsack.end) && seq_le(c->dsack.start, end)) {
        c->dsack.start = seq_min(c->dsack.start, start);
        c->dsack.end = seq_max(c->dsack.end, end);
    }
}

void ts_rcv_dup(ts_conn *c, uint32_t seq, uint32_t end)
{
    if (seq_lt(seq, c->rcv_nxt)) dsack_set(c, seq, seq_lt(end, c->rcv_nxt) ? end : c->rcv_nxt);
}

/* RFC 2883 4.1.3: the first out-of-order range [start, end) already held overlaps. */
static void dsack_ooo(ts_conn *c, uint32_t start, uint32_t end)
{
    for (uint32_t i = 0; i < c->ooo_n && seq_lt(c->ooo[i].start, end); i++) {
        if (seq_gt(c->ooo[i].end, start)) {
            dsack_set(c, seq_max(start, c->ooo[i].start), seq_min(end, c->ooo[i].end));
            return;
        }
    }
}

/* RFC 2018 4: the first SACK block reports the most recently received segment. */
static void sack_note(ts_conn *c, uint32_t start, uint32_t end)
{
    uint32_t n = c->sack_recent_n < TS_MAX_SACK_BLOCKS ? c->sack_recent_n : TS_MAX_SACK_BLOCKS - 1;
    memmove(&c->sack_recent[1], &c->sack_recent[0], n * sizeof c->sack_recent[0]);
    c->sack_recent[0].start = start;
    c->sack_recent[0].end = end;
    c->sack_recent_n = n + 1;
}

int ts_rcv_data(ts_stack *s, ts_conn *c, uint32_t seq, const uint8_t *data, uint32_t len,
                bool *in_order, bool *filled_hole)
{
    *in_order = *filled_hole = false;
    if (seq_lt(seq, c->rcv_nxt)) { /* trim what we already have (RFC 2883 4.2: report it) */
        if (len) ts_rcv_dup(c, seq, seq + len);
        uint32_t skip = c->rcv_nxt - seq;
        if (skip >= len) return 0;
        data += skip;
        len -= skip;
        seq = c->rcv_nxt;
    }
    uint32_t space = ts_rcv_space(c), off = seq - c->rcv_nxt;
    if (off >= space) return 0;
    if (len > space - off) len = space - off; /* trim to the window */
    /* The out-of-order set's array is a side block (mem.c) made at the first segment past
     * a hole, as most connections never see one; before the ring grows for that segment,
     * so that a refused malloc leaves nothing behind. The sender sends it again. */
    if (off > 0 && !c->ooo && !(c->ooo = ts_mem_block(s, TS_OOO_MAX * sizeof *c->ooo))) {
        ts_drop(s, TS_DROP_TCP_NO_MEMORY, NULL, 0);
        return 0;
    }
    /* the ring grows for what arrives; what it cannot hold (mem_max, or no memory) is
     * not taken: the sender sends it again (Linux's TCPRcvQDrop) */
    if (ts_mem_reserve(s, &c->rcvq, c->rcvq.len + off + len) < 0) {
        uint32_t room = c->rcvq.cap > c->rcvq.len + off ? c->rcvq.cap - c->rcvq.len - off : 0;
        if (!room) {
            ts_drop(s, TS_DROP_TCP_NO_MEMORY, NULL, 0);
            return 0;
        }
        len = room < len ? room : len;
    }
    if (off > 0) dsack_ooo(c, seq, seq + len);
    if (off > 0 && ooo_insert(c, seq, seq + len) < 0) {
        ts_drop(s, TS_DROP_TCP_OOO_FULL, NULL, 0);
        return 0;
    }
    ts_ring_put(&c->rcvq, c->rcvq.len + off, data, len);
    if (off > 0) {
        sack_note(c, seq, seq + len);
        return (int)len;
    }
    *in_order = true;
    /* RFC 5681 4.2: a segment that fills all or part of a gap is ACKed at once; in order
     * with data held beyond it, it fills (part of) the first gap */
    if (c->ooo_n) *filled_hole = true;
    c->rcv_nxt += len;
    c->rcvq.len += len;
    uint32_t end = c->rcv_nxt;
    while (c->ooo_n && seq_le(c->ooo[0].start, c->rcv_nxt)) { /* the hole is filled */
        if (seq_lt(c->ooo[0].start, end)) /* held already: the segment overlapped it */
            dsack_extend(c, c->ooo[0].start, seq_min(end, c->ooo[0].end));
        if (seq_gt(c->ooo[0].end, c->rcv_nxt)) {
            c->rcvq.len += c->ooo[0].end - c->rcv_nxt;
            c->rcv_nxt = c->ooo[0].end;
        }
        memmove(&c->ooo[0], &c->ooo[1], (c->ooo_n - 1) * sizeof c->ooo[0]);
        c->ooo_n--;
    }
    /* grow the window budget as data flows (Linux's rcv_ssthresh growth) */
    uint32_t grown = c->rcv_ssthresh + 2 * len;
    c->rcv_ssthresh = grown < c->p->rcvbuf ? grown : c->p->rcvbuf;
    return (int)len;
}

size_t ts_rcv_sack_blocks(const ts_conn *c, ts_sack_block *out, size_t max, bool *dsack)
{
    size_t n = 0;
    *dsack = c->dsack_pending && max > 0;
    if (*dsack) { /* RFC 2883 4 (1): first, then the SACK blocks as RFC 2018 orders them */
        out[0] = c->dsack;
        out++;
        max--;
    }
    for (uint32_t r = 0; r < c->sack_recent_n && n < max; r++) {
        uint32_t at = c->sack_recent[r].start;
        for (uint32_t i = 0; i < c->ooo_n; i++) {
            if (seq_le(c->ooo[i].start, at) && seq_lt(at, c->ooo[i].end)) {
                bool dup = false;
                for (size_t k = 0; k < n; k++) dup |= out[k].start == c->ooo[i].start;
                if (!dup) out[n++] = c->ooo[i];
                break;
            }
        }
    }
    for (uint32_t i = 0; i < c->ooo_n && n < max; i++) { /* then any others, lowest first */
        bool dup = false;
        for (size_t k = 0; k < n; k++) dup |= out[k].start == c->ooo[i].start;
        if (!dup) out[n++] = c->ooo[i];
    }
    return n + *dsack;
}

/* After the application read: is the opened window worth an ACK now? Linux's
 * tcp_cleanup_rbuf(): only while the window now offered is at most half the largest we
 * could offer (window_clamp: the buffer, and no more than 65535 << shift, RFC 7323 2.3),
 * and when the window we would offer (__tcp_select_window) is at least twice it. RFC 1122
 * 4.2.3.3 and RFC 9293 3.8.6.2.2 ask for an update only when the window grows by a
 * significant amount. The largest offer matters: comparing with the buffer alone, a
 * window capped by the scale (8 MiB at shift 7 under a 16 MiB buffer) stays below half the
 * budget, and every read would send a window update: an ACK per segment in a bulk
 * transfer. The caller (socket.c, above tcp_out.c) sends it: the receive stream does not. */
bool ts_rcv_window_update_due(const ts_conn *c)
{
    if (c->state != TS_ESTABLISHED && c->state != TS_FIN_WAIT_1 && c->state != TS_FIN_WAIT_2)
        return false;
    uint64_t max_field = (uint64_t)65535 << (c->ws_ok ? c->rcv_wscale : 0);
    uint64_t clamp = c->p->rcvbuf < max_field ? c->p->rcvbuf : max_field;
    uint64_t cur = ts_rcv_space(c);
    if (2 * cur > clamp) return false;
    uint64_t budget = window_budget(c);
    if (budget > clamp) budget = clamp;
    return budget >= c->rcv_mss && budget >= 2 * cur;
}
