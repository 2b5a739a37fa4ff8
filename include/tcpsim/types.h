/* tcpsim/types.h: the scalar types every other public header shares (time, addresses). */
#ifndef TCPSIM_TYPES_H
#define TCPSIM_TYPES_H

#include <stddef.h>
#include <stdint.h>

/* Time is a count of microseconds supplied by the driver: real time over TUN, virtual
 * time in the simulator. The core never reads a clock. */
typedef uint64_t ts_time_t;

#define TS_USEC       ((ts_time_t)1)
#define TS_MSEC       ((ts_time_t)1000)
#define TS_SEC        ((ts_time_t)1000000)
#define TS_TIME_NEVER UINT64_MAX

/* IPv4 addresses and ports are in host byte order everywhere in the API. */
typedef struct ts_endpoint {
    uint32_t addr;
    uint16_t port;
} ts_endpoint;

/* Build a host-order address from dotted quads: TS_IP4(10, 0, 0, 2). */
#define TS_IP4(a, b, c, d)                                                                         \
    (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

typedef struct ts_stack ts_stack;

/* Parse "A.B.C.D" into a host-order address; 0 on success, -1 if malformed. */
int ts_ip4_parse(const char *text, uint32_t *addr);
/* Format a host-order address into buf (at least 16 bytes); returns buf. */
char *ts_ip4_format(uint32_t addr, char *buf);

#endif
