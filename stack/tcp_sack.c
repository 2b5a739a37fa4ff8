/* tcp_sack.c: the sender's SACK scoreboard and what RFC 6675 derives from it: which
 * unSACKed data is lost (IsLost), the data in flight (SetPipe), the next hole to
 * retransmit (NextSeg rule 1). It decides nothing and writes no cwnd: tcp_loss.c does,
 * from what this file answers. The scoreboard is a
 * small sorted array of SACKed ranges above SND.UNA, merged as blocks arrive and trimmed
 * as SND.UNA moves, at most TS_SACK_MAX ranges walked per call.
 * It also remembers recovery's hole retransmissions (up to TS_RXT_MAX), in which
 * tcp_loss.c finds a lost retransmission as RACK does (RFC 8985 6.2), which RFC 6675
 * alone cannot. Both arrays are side blocks (mem.c), allocated once, when the first range
 * is kept: most connections never see a SACK block, and an idle one should stay small. */
#include <string.h>

#include "internal.h"

void ts_sack_clear(ts_conn *c)
{
    c->sb_n = 0;
    c->sacked_bytes = 0;
    c->high_rxt = c->snd_una;
    c->rack_lost = c->snd_una;
    ts_rxt_reset(c);
}

static void recount(ts_conn *c)
{
    uint32_t sum = 0;
    for (uint32_t i = 0; i < c->sb_n; i++) sum += c->sb[i].end - c->sb[i].start;
    c->sacked_bytes = sum;
}

void ts_sack_trim(ts_conn *c)
{
    uint32_t drop = 0;
    while (drop < c->sb_n && seq_le(c->sb[drop].end, c->snd_una)) drop++;
    if (drop) {
        memmove(c->sb, c->sb + drop, (c->sb_n - drop) * sizeof c->sb[0]);
        c->sb_n -= drop;
    }
    if (c->sb_n && seq_lt(c->sb[0].start, c->snd_una)) c->sb[0].start = c->snd_una;
    if (seq_lt(c->high_rxt, c->snd_una) || seq_gt(c->high_rxt, c->snd_max))
        c->high_rxt = c->snd_una;
    if (seq_lt(c->rack_lost, c->snd_una) || seq_gt(c->rack_lost, c->snd_max))
        c->rack_lost = c->snd_una;
    recount(c);
}

/* Merge [s, e) into the sorted, non-adjacent ranges. When the array is full, the highest
 * range gives way: forgetting a SACK costs at most a needless retransmission. So does
 * a scoreboard malloc refused (counted in mem_alloc_failed): the range is not kept. */
static void insert(ts_stack *st, ts_conn *c, uint32_t s, uint32_t e)
{
    if (!c->sb) c->sb = ts_mem_block(st, TS_SACK_MAX * sizeof *c->sb);
    if (!c->sb) return;
    uint32_t i = 0, j;
    while (i < c->sb_n && seq_lt(c->sb[i].end, s)) i++;
    for (j = i; j < c->sb_n && seq_le(c->sb[j].start, e); j++) {
        s = seq_min(s, c->sb[j].start);
        e = seq_max(e, c->sb[j].end);
    }
    if (j == i) {
        if (i == TS_SACK_MAX) return;
        if (c->sb_n == TS_SACK_MAX) c->sb_n--;
        memmove(c->sb + i + 1, c->sb + i, (c->sb_n - i) * sizeof c->sb[0]);
        c->sb_n++;
    } else if (j > i + 1) {
        memmove(c->sb + i + 1, c->sb + j, (c->sb_n - j) * sizeof c->sb[0]);
        c->sb_n -= j - i - 1;
    }
    c->sb[i].start = s;
    c->sb[i].end = e;
}

/* RFC 2018 / RFC 6675: only blocks inside (SND.UNA, SND.MAX] count. A D-SACK (RFC 2883)
 * reports data below SND.UNA (ignored here) or inside another block (merging it is a
 * no-op); anything else outside is a broken or lying receiver, and is ignored. */
void ts_sack_add(ts_stack *st, ts_conn *c, const ts_sack_block *blk, uint32_t n)
{
    bool changed = false;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t s = blk[k].start, e = blk[k].end;
        if (!seq_lt(s, e) || !seq_gt(s, c->snd_una) || seq_gt(e, c->snd_max)) continue;
        insert(st, c, s, e);
        changed = true;
    }
    if (changed) recount(c);
}

uint32_t ts_sack_below(const ts_conn *c, uint32_t seq)
{
    uint32_t sum = 0;
    for (uint32_t i = 0; i < c->sb_n && seq_lt(c->sb[i].start, seq); i++)
        sum += seq_min(c->sb[i].end, seq) - c->sb[i].start;
    return sum;
}

/* Bytes of [snd_una, seq) that are not SACKed. */
static uint32_t unsacked_below(const ts_conn *c, uint32_t seq)
{
    if (!seq_gt(seq, c->snd_una)) return 0;
    return seq - c->snd_una - ts_sack_below(c, seq);
}

/* RFC 6675 IsLost: a byte is lost when more than (DupThresh-1)*SMSS bytes, or DupThresh
 * discontiguous ranges, above it are SACKed (DupThresh 3). That holds for every byte
 * below some range start, so the answer is one boundary; the reordering timer (RACK,
 * RFC 8985) may have pushed it higher. */
uint32_t ts_sack_lost_end(const ts_conn *c)
{
    uint32_t lost = c->snd_una, acc = 0;
    for (uint32_t i = c->sb_n; i-- > 0;) {
        acc += c->sb[i].end - c->sb[i].start;
        if (acc > 2u * c->snd_mss || c->sb_n - i >= 3) {
            lost = c->sb[i].start;
            break;
        }
    }
    if (seq_gt(c->rack_lost, lost) && seq_le(c->rack_lost, c->snd_max)) lost = c->rack_lost;
    return lost;
}

/* RFC 6675 SetPipe: every byte in flight not SACKed and not lost, plus every byte
 * retransmitted (below HighRxt) and not SACKed since, less retransmissions found lost
 * again (RFC 8985: they have left the network too). */
uint32_t ts_sack_pipe(const ts_conn *c)
{
    uint32_t flight = c->snd_max - c->snd_una;
    uint32_t lost = unsacked_below(c, ts_sack_lost_end(c));
    uint32_t out = flight - c->sacked_bytes - lost;
    if (seq_gt(c->high_rxt, c->snd_una) && seq_le(c->high_rxt, c->snd_max))
        out += unsacked_below(c, c->high_rxt);
    for (uint32_t i = 0; i < c->rxt_n; i++) {
        if (!c->rxt[i].lost) continue;
        uint32_t n = ts_sack_unsacked_in(c, c->rxt[i].start, c->rxt[i].end);
        out = out > n ? out - n : 0;
    }
    return out;
}

uint32_t ts_sack_skip(const ts_conn *c, uint32_t seq)
{
    for (uint32_t i = 0; i < c->sb_n && seq_le(c->sb[i].start, seq); i++)
        if (seq_lt(seq, c->sb[i].end)) return c->sb[i].end;
    return seq;
}

bool ts_sack_next_lost(const ts_conn *c, uint32_t *seq, uint32_t *len)
{
    uint32_t s = c->snd_una;
    if (seq_gt(c->high_rxt, s) && seq_le(c->high_rxt, c->snd_max)) s = c->high_rxt;
    s = ts_sack_skip(c, s);
    uint32_t lost = ts_sack_lost_end(c);
    if (!seq_lt(s, lost)) return false;
    uint32_t end = lost; /* the hole ends at the next SACKed range (lost is one's start) */
    for (uint32_t i = 0; i < c->sb_n; i++)
        if (seq_gt(c->sb[i].start, s)) {
            end = seq_min(end, c->sb[i].start);
            break;
        }
    uint32_t data_end = c->snd_buf_seq + c->sndq.len; /* past it only the FIN */
    uint32_t n = end - s;
    if (n > c->snd_mss) n = c->snd_mss;
    if (seq_ge(s, data_end))
        n = 0;
    else if (n > data_end - s)
        n = data_end - s;
    *seq = s;
    *len = n;
    return true;
}

void ts_rxt_reset(ts_conn *c)
{
    c->rxt_n = 0;
    c->rxt_order = 0;
    c->rxt_delivered = 0;
}

/* A hole retransmission went out: a lost one resent takes a new place in the order;
 * past TS_RXT_MAX (or with the records' malloc refused) a retransmission goes unrecorded
 * and only the RTO can recover it. */
void ts_rxt_sent(ts_stack *s, ts_conn *c, uint32_t seq, uint32_t len)
{
    if (!len) return;
    if (!c->rxt) c->rxt = ts_mem_block(s, TS_RXT_MAX * sizeof *c->rxt);
    if (!c->rxt) return;
    uint32_t i = c->rxt_n;
    for (uint32_t k = 0; k < c->rxt_n; k++) /* the one resent, lost ones first */
        if (seq_le(c->rxt[k].start, seq) && seq_lt(seq, c->rxt[k].end) &&
            (i == c->rxt_n || c->rxt[k].lost))
            i = k;
    if (i == c->rxt_n) {
        if (c->rxt_n == TS_RXT_MAX) return;
        c->rxt_n++;
    }
    c->rxt[i].start = seq;
    c->rxt[i].end = seq + len;
    c->rxt[i].order = ++c->rxt_order;
    c->rxt[i].high = c->snd_max;
    c->rxt[i].lost = false;
}

/* The lowest retransmission found lost again: its first part not yet ACKed or SACKed,
 * at most one SMSS. */
bool ts_rxt_next(const ts_conn *c, uint32_t *seq, uint32_t *len)
{
    uint32_t best = c->rxt_n;
    for (uint32_t i = 0; i < c->rxt_n; i++)
        if (c->rxt[i].lost && (best == c->rxt_n || seq_lt(c->rxt[i].start, c->rxt[best].start)))
            best = i;
    if (best == c->rxt_n) return false;
    const struct ts_rxt *r = &c->rxt[best];
    uint32_t s = ts_sack_skip(c, seq_lt(r->start, c->snd_una) ? c->snd_una : r->start);
    uint32_t end = r->end;
    for (uint32_t i = 0; i < c->sb_n; i++)
        if (seq_gt(c->sb[i].start, s)) {
            end = seq_min(end, c->sb[i].start);
            break;
        }
    if (!seq_lt(s, end)) return false; /* delivered: dropped at the next ACK (tcp_loss.c) */
    uint32_t data_end = c->snd_buf_seq + c->sndq.len;
    uint32_t n = end - s;
    if (n > c->snd_mss) n = c->snd_mss;
    if (seq_ge(s, data_end)) return false; /* only the FIN: the RTO's */
    if (n > data_end - s) n = data_end - s;
    *seq = s;
    *len = n;
    return true;
}
