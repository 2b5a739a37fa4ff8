/* tcpsim/tcp_opt.h: TCP options: parsing received ones safely and emitting ours in Linux's order.
 */
#ifndef TS_TCP_OPT_H
#define TS_TCP_OPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TS_OPT_EOL    0
#define TS_OPT_NOP    1
#define TS_OPT_MSS    2 /* len 4 (RFC 9293) */
#define TS_OPT_WSCALE 3 /* len 3 (RFC 7323) */
#define TS_OPT_SACKOK 4 /* len 2 (RFC 2018) */
#define TS_OPT_SACK   5 /* len 2 + 8n, n = 1..4 */
#define TS_OPT_TS     8 /* len 10 */

#define TS_MAX_SACK_BLOCKS 4

typedef struct ts_sack_block {
    uint32_t start, end; /* [start, end) absolute sequence numbers */
} ts_sack_block;

/* What a segment's options said. has_* tell which were present. */
typedef struct ts_tcp_opts {
    bool has_mss, has_wscale, has_sackok, has_ts;
    uint16_t mss;
    uint8_t wscale; /* as received (may exceed 14: the caller clamps, RFC 7323 2.3) */
    uint32_t tsval, tsecr;
    uint8_t nsack;
    ts_sack_block sack[TS_MAX_SACK_BLOCKS];
} ts_tcp_opts;

/* Parse len bytes of options. Returns 0, or -1 if they are malformed: a length byte of 0
 * or 1, an option running past the end, or a wrong length for MSS/WS/SACK-permitted/
 * SACK/TS. Unknown kinds with a sane length are skipped. Never reads past opt + len. */
int ts_tcp_opts_parse(const uint8_t *opt, size_t len, ts_tcp_opts *out);

/* One option as a walk over the list finds it. */
typedef struct ts_tcp_opt {
    uint8_t kind;
    uint8_t len;        /* the whole option: 1 for NOP, else its length byte (>= 2) */
    const uint8_t *val; /* len - 2 value bytes, inside the list (NULL for NOP) */
} ts_tcp_opt;

/* The option of the len-byte list at opt that starts at *off (begin with 0): returns 1
 * with *o filled and *off moved past it (NOPs included); 0 at the end of the list (its
 * last byte, or EOL); -1 if the option there is malformed (no length byte, a length below
 * 2 or past the end), *off left on it. A reader that keeps what came before a malformed
 * option (tcpdump, the views) stops there; ts_tcp_opts_parse refuses the whole list.
 * Never reads past opt + len. */
int ts_tcp_opt_next(const uint8_t *opt, size_t len, size_t *off, ts_tcp_opt *o);
/* Decode one option into out (MSS, WS, SACK-permitted, SACK, TS set their fields; other
 * kinds change nothing). -1 if a known kind has the wrong length. */
int ts_tcp_opt_decode(const ts_tcp_opt *o, ts_tcp_opts *out);

/* What to emit on a segment. */
typedef struct ts_tcp_opts_out {
    bool syn;    /* SYN or SYN-ACK: MSS/SACK-perm/WS may go out */
    bool mss_on; /* emit MSS (SYN only) */
    uint16_t mss;
    bool sackok_on; /* emit SACK-permitted (SYN only) */
    bool wscale_on; /* emit window scale (SYN only) */
    uint8_t wscale;
    bool ts_on; /* emit timestamps */
    uint32_t tsval, tsecr;
    uint8_t nsack; /* SACK blocks to emit (non-SYN); trimmed to what fits */
    ts_sack_block sack[TS_MAX_SACK_BLOCKS];
} ts_tcp_opts_out;

/* Write options into buf (at least 40 bytes) in Linux's order and layout:
 * SYN with TS:     MSS, SACK-perm+TS (04 02 08 0a ...), NOP, WS      -> 20 bytes
 * SYN without TS:  MSS, NOP, NOP, SACK-perm, NOP, WS                  -> 12 bytes
 *                  (no SACK: MSS, NOP, WS; no WS: MSS, NOP, NOP, SACK-perm)
 * other segments:  NOP, NOP, TS (if on), then NOP, NOP, SACK blocks (as many as fit).
 * Returns the length written, always a multiple of 4. */
size_t ts_tcp_opts_write(uint8_t *buf, const ts_tcp_opts_out *o);

#endif
