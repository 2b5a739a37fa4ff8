/* tcpsim/checksum.h: the Internet checksum (RFC 1071) and the TCP pseudo-header sum. */
#ifndef TS_CHECKSUM_H
#define TS_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/* One's-complement sum of len bytes (big-endian 16-bit words, odd byte padded), added to
 * the 32-bit accumulator sum; fold with ts_csum_fold. */
uint32_t ts_csum_add(uint32_t sum, const void *data, size_t len);
/* Fold a 32-bit accumulator to 16 bits and complement: the value to store (host order). */
uint16_t ts_csum_fold(uint32_t sum);
/* Checksum of a buffer (e.g. an IPv4 header with its checksum field included: 0 = valid). */
uint16_t ts_csum(const void *data, size_t len);
/* Accumulator for the TCP/UDP pseudo-header: src, dst (host order), protocol, length. */
uint32_t ts_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);

#endif
