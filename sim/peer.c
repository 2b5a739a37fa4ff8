/* sim/peer.c: scripted peers. A peer has no stack: it sends exactly the segments the
 * scenario's `inject` lines describe, with sequence numbers relative to its own ISN and
 * acknowledgements relative to the other side's (learned from the SYN it received), and
 * otherwise only watches what arrives. Expectations on the wire judge the answers. */
#include "world.h"

#include <string.h>

#include "tcpsim/tcp_opt.h"
#include "tcpsim/wire.h"

static uint8_t obuf[65536 + 128];

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

    uint8_t *ip = obuf, *th = obuf + TS_IP4_HLEN;
    size_t optlen = build_options(pf, g, th + TS_TCP_HLEN);
    size_t plen = g->has_data ? g->data_len : g->has_len ? g->len : 0;
    size_t tcplen = TS_TCP_HLEN + optlen + plen;
    if (g->has_data)
        memcpy(th + TS_TCP_HLEN + optlen, g->data, plen);
    else if (plen)
        memcpy(th + TS_TCP_HLEN + optlen, sim_pattern(), plen);

    uint32_t seq = g->has_seq ? pf->iss + g->seq : pf->snd_nxt;
    uint32_t ack = 0;
    if (g->has_ack)
        ack = pf->irs_known ? pf->irs + g->ack : g->ack;
    else if (g->flags & TS_TH_ACK)
        ack = pf->rcv_nxt;

    ts_tcp_hdr th_fields = {
        .sport = sport,
        .dport = dport,
        .seq = seq,
        .ack = ack,
        .flags = g->flags,
        .win = (uint16_t)(g->has_win ? g->win : 65535),
    };
    ts_tcp_write(th, &th_fields, optlen);
    ts_tcp_write_csum(th, tcplen, h->cfg->addr, dst);
    if (g->bad_csum) { /* never the equivalent 0x0000/0xffff of a good sum */
        th[16] ^= 0x5a;
        th[17] ^= 0x5a;
    }
    ts_ip4_hdr ip_fields = {.ttl = 64,
                            .proto = TS_IPPROTO_TCP,
                            .id = pf->ip_id++,
                            .frag = TS_IP4_DF,
                            .src = h->cfg->addr,
                            .dst = dst};
    ts_ip4_write(ip, &ip_fields, (uint16_t)(TS_IP4_HLEN + tcplen));

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
    sim_host_output(h, obuf, TS_IP4_HLEN + tcplen);
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
