/* icmp.c: ICMP echo reply (RFC 792), so that ping works; other ICMP is counted and dropped. */
#include <string.h>

#include "internal.h"

void ts_icmp_input(ts_stack *s, uint32_t src, const uint8_t *icmp, size_t len)
{
    if (len < 8) {
        ts_drop(s, TS_DROP_ICMP_SHORT, icmp, len);
        return;
    }
    if (ts_csum(icmp, len) != 0) {
        ts_drop(s, TS_DROP_ICMP_CHECKSUM, icmp, len);
        return;
    }
    if (icmp[0] != 8 || icmp[1] != 0) { /* only echo request */
        ts_drop(s, TS_DROP_ICMP_TYPE, icmp, len);
        return;
    }
    if (len > TS_MAX_PKT - TS_IP4_HLEN) return; /* cannot happen: tot <= 65535 */
    s->cnt.icmp_echo_in++;
    uint8_t *out = s->pkt;
    memcpy(out + TS_IP4_HLEN, icmp, len);
    out[TS_IP4_HLEN] = 0; /* echo reply, same id, seq and data */
    wr16(out + TS_IP4_HLEN + 2, 0);
    wr16(out + TS_IP4_HLEN + 2, ts_csum(out + TS_IP4_HLEN, len));
    s->cnt.icmp_echo_out++;
    ts_ip_output(s, NULL, src, TS_IPPROTO_ICMP, out, TS_IP4_HLEN + len);
}
