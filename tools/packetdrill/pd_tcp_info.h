/* pd_tcp_info.h: Linux's struct tcp_info as the kernel returns it today (UAPI
 * include/uapi/linux/tcp.h, through the accurate-ECN fields of Linux 6.18). The C library's
 * <netinet/tcp.h> copy stops at tcpi_rcv_space, and packetdrill refuses a TCP_INFO answer
 * shorter than its own full copy, so the adapter declares the whole layout itself. Fields
 * tcpsim does not track stay 0, as on a kernel that predates them. */
#ifndef TS_PD_TCP_INFO_H
#define TS_PD_TCP_INFO_H

#include <stdint.h>

typedef struct pd_tcp_info {
    uint8_t state, ca_state, retransmits, probes, backoff, options;
    uint8_t snd_wscale : 4, rcv_wscale : 4;
    uint8_t delivery_rate_app_limited : 1, fastopen_client_fail : 2;

    uint32_t rto, ato, snd_mss, rcv_mss;
    uint32_t unacked, sacked, lost, retrans, fackets;
    uint32_t last_data_sent, last_ack_sent, last_data_recv, last_ack_recv; /* ms ago */
    uint32_t pmtu, rcv_ssthresh, rtt, rttvar, snd_ssthresh, snd_cwnd, advmss, reordering;
    uint32_t rcv_rtt, rcv_space;
    uint32_t total_retrans;

    uint64_t pacing_rate, max_pacing_rate, bytes_acked, bytes_received;
    uint32_t segs_out, segs_in;
    uint32_t notsent_bytes, min_rtt, data_segs_in, data_segs_out;
    uint64_t delivery_rate;
    uint64_t busy_time, rwnd_limited, sndbuf_limited;
    uint32_t delivered, delivered_ce;
    uint64_t bytes_sent, bytes_retrans;
    uint32_t dsack_dups, reord_seen;
    uint32_t rcv_ooopack;
    uint32_t snd_wnd, rcv_wnd;
    uint32_t rehash;
    uint16_t total_rto, total_rto_recoveries;
    uint32_t total_rto_time;
    uint32_t received_ce;
    uint32_t delivered_e1_bytes, delivered_e0_bytes, delivered_ce_bytes;
    uint32_t received_e1_bytes, received_e0_bytes, received_ce_bytes;
    uint32_t ecn_mode : 2, accecn_opt_seen : 2, accecn_fail_mode : 4, options2 : 24;
} pd_tcp_info;

#endif
