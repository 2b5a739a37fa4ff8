/* addr.c: dotted-quad IPv4 text to and from host-order addresses. Strict on input:
 * exactly four decimal octets 0..255, no leading zeros (they read as octal elsewhere),
 * no trailing characters. */
#include <stdio.h>

#include "tcpsim/types.h"

/* One octet at *s; advances *s. -1 if not 1..3 digits in 0..255 without a leading zero. */
static int parse_octet(const char **s)
{
    const char *p = *s;
    unsigned v = 0;
    int n = 0;
    while (*p >= '0' && *p <= '9' && n < 4) v = v * 10 + (unsigned)(*p++ - '0'), n++;
    if (n == 0 || n > 3 || v > 255 || (n > 1 && **s == '0')) return -1;
    *s = p;
    return (int)v;
}

int ts_ip4_parse(const char *text, uint32_t *addr)
{
    const char *s = text;
    uint32_t a = 0;
    if (!s) return -1;
    for (int i = 0; i < 4; i++) {
        if (i > 0 && *s++ != '.') return -1;
        int o = parse_octet(&s);
        if (o < 0) return -1;
        a = a << 8 | (uint32_t)o;
    }
    if (*s) return -1;
    *addr = a;
    return 0;
}

char *ts_ip4_format(uint32_t addr, char *buf)
{
    snprintf(buf, 16, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff, (addr >> 8) & 0xff,
             addr & 0xff);
    return buf;
}
