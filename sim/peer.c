/* sim/peer.c: scripted peers. A peer has no stack: it sends exactly the segments the
 * scenario's `inject` lines describe, with sequence numbers relative to its own ISN and
 * acknowledgements relative to the other side's (learned from the SYN it received), and
 * otherwise only watches what arrives. Expectations on the wire judge the answers. */
#include "world.h"

#include <string.h>

#include "tcpsim/checksum.h"
#include "tcpsim/tcp_opt.h"

static uint8_t obuf[65536 + 128];

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Where the injected segment goes: explicit ports win, then the connection the peer has
 * seen; the address is the partner's, or the only host the peer has a link to. */
static int resolve(ts_sim *w, sim_host *h, const ts_scn_seg *g, uint32_t *dst, uint16_t *sport,
                   uint16_t *dport, unsigned line)
{
    sim_peer *pf = &h->peer;
    if (pf->have)
        *dst = pf->raddr;
    else if (h->nroutes == 1)
        *dst = h->routes[0].addr;
    else {
        sim_runtime_error(w, line, "%s: inject: no partner yet and %zu links; nothing to aim at",
                          h->cfg->name, h->nroutes);
        return -1;
    }
    if (!g->has_sport && !pf->have) {
        sim_runtime_error(w, line, "%s: inject: no connection seen yet; give sport N and dport N",
                          h->cfg->name);
        return -1;
    }
    if (!g->has_dport && !pf->have) {
        sim_runtime_error(w, line, "%s: inject: no connection seen yet; give dport N",
                          h->cfg->name);
        return -1;
    }
    *sport = g->has_sport ? g->sport : pf->lport;
    *dport = g->has_dport ? g->dport : pf->rport;
    return 0;
}

static size_t build_options(sim_peer *pf, const ts_scn_seg *g, uint8_t *out)
{
    if (g->has_raw_opts) {
        memcpy(out, g->raw_opts, g->raw_opts_len);
        return g->raw_opts_len;
    }
    if (!g->opts_set) return 0;
    ts_tcp_opts_out o = g->out_opts;
    if (g->ecr_echo) o.tsecr = pf->ts_seen ? pf->ts_recent : 0;
    return ts_tcp_opts_write(out, &o);
}

void sim_peer_inject(ts_sim *w, sim_host *h, const ts_scn_action *a)
{
    const ts_scn_seg *g = &a->seg;
    sim_peer *pf = &h->peer;
    uint32_t dst;
    uint16_t sport, dport;
    if (resolve(w, h, g, &dst, &sport, &dport, a->line) < 0) return;

    uint8_t *ip = obuf, *th = obuf + 20;
    size_t optlen = build_options(pf, g, th + 20);
    size_t plen = g->has_data ? g->data_len : g->has_len ? g->len : 0;
    size_t tcplen = 20 + optlen + plen;
    if (g->has_data)
        memcpy(th + 20 + optlen, g->data, plen);
    else if (plen)
        memcpy(th + 20 + optlen, sim_pattern(), plen);

    uint32_t seq = g->has_seq ? pf->iss + g->seq : pf->snd_nxt;
    uint32_t ack = 0;
    if (g->has_ack)
        ack = pf->irs_known ? pf->irs + g->ack : g->ack;
    else if (g->flags & TS_TH_ACK)
        ack = pf->rcv_nxt;

    put16(th, sport);
    put16(th + 2, dport);
    put32(th + 4, seq);
    put32(th + 8, ack);
    th[12] = (uint8_t)(((20 + optlen) / 4) << 4);
    th[13] = g->flags;
    put16(th + 14, (uint16_t)(g->has_win ? g->win : 65535));
    put16(th + 16, 0);
    put16(th + 18, 0);
    uint32_t sum = ts_csum_pseudo(h->cfg->addr, dst, 6, (uint16_t)tcplen);
    uint16_t csum = ts_csum_fold(ts_csum_add(sum, th, tcplen));
    if (g->bad_csum) csum ^= 0x5a5a; /* never the equivalent 0x0000/0xffff of a good sum */
    put16(th + 16, csum);

    ip[0] = 0x45;
    ip[1] = 0;
    put16(ip + 2, (uint16_t)(20 + tcplen));
    put16(ip + 4, pf->ip_id++);
    put16(ip + 6, 0x4000); /* DF */
    ip[8] = 64;
    ip[9] = 6;
    put16(ip + 10, 0);
    put32(ip + 12, h->cfg->addr);
    put32(ip + 16, dst);
    put16(ip + 10, ts_csum(ip, 20));

    /* Remember the connection, and advance snd_nxt past what this segment occupies. */
    if (!pf->have) {
        pf->have = true;
        pf->raddr = dst;
        pf->lport = sport;
        pf->rport = dport;
    }
    uint32_t end = seq + (uint32_t)plen + ((g->flags & TS_TH_SYN) ? 1u : 0u) +
                   ((g->flags & TS_TH_FIN) ? 1u : 0u);
    if ((int32_t)(end - pf->snd_nxt) > 0) pf->snd_nxt = end;
    sim_tracef(w, "%s: inject (line %u)", h->cfg->name, a->line);
    sim_host_output(h, obuf, 20 + tcplen);
}

void sim_peer_receive(ts_sim *w, sim_host *h, const uint8_t *pkt, size_t len)
{
    (void)w;
    sim_view v;
    sim_view_parse(&v, pkt, len);
    if (!v.tcp || v.dst != h->cfg->addr) return;
    sim_peer *pf = &h->peer;
    bool syn = v.flags & TS_TH_SYN;
    if (!pf->have || syn) {
        pf->have = true;
        pf->raddr = v.src;
        pf->lport = v.dport;
        pf->rport = v.sport;
    }
    if (v.src != pf->raddr || v.sport != pf->rport || v.dport != pf->lport) return;
    uint32_t end = v.seq + sim_view_seqlen(&v);
    if (syn) {
        pf->irs_known = true;
        pf->irs = v.seq;
        pf->rcv_nxt = end;
    } else if (pf->irs_known && (int32_t)(end - pf->rcv_nxt) > 0 &&
               (int32_t)(v.seq - pf->rcv_nxt) <= 0) {
        pf->rcv_nxt = end; /* in order (or overlapping): the peer has it all up to end */
    }
    ts_tcp_opts o;
    if (v.optlen && ts_tcp_opts_parse(v.opt, v.optlen, &o) == 0 && o.has_ts) {
        pf->ts_seen = true;
        pf->ts_recent = o.tsval;
    }
}
