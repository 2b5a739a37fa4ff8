/* view.c: the connection model's own small pieces: freeing, choosing a connection, the
 * names of causes and flags. Sources and renderers live in their own files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view.h"

const char *ts_view_cause_name(ts_view_cause c)
{
    static const char *const names[] = {"new", "syn", "rto", "fast", "tlp", "probe", "rexmit"};
    return (unsigned)c < sizeof names / sizeof names[0] ? names[c] : "?";
}

void ts_view_free(ts_view *v)
{
    if (!v) return;
    free(v->segs);
    free(v->states);
    free(v->timers);
    free(v->tcbs);
    free(v->arena);
    free(v);
}

void ts_view_set_free(ts_view_set *set)
{
    if (!set) return;
    for (size_t i = 0; i < set->n; i++) ts_view_free(set->conns[i]);
    free(set->conns);
    set->conns = NULL;
    set->n = 0;
}

static bool end_matches(const ts_view *v, uint32_t addr, uint16_t port)
{
    for (int e = 0; e < 2; e++)
        if (v->end[e].ep.addr == addr && v->end[e].ep.port == port) return true;
    return false;
}

ts_view *ts_view_set_pick(const ts_view_set *set, const char *which, char *err, size_t errlen)
{
    if (!set->n) {
        snprintf(err, errlen, "no TCP connection in the source");
        return NULL;
    }
    if (!which || !*which) return set->conns[0];
    char *end;
    unsigned long n = strtoul(which, &end, 10);
    if (!*end && n >= 1 && n <= set->n) return set->conns[n - 1];
    const char *colon = strrchr(which, ':');
    if (*end && colon) {
        char addr[32];
        size_t alen = (size_t)(colon - which);
        uint32_t a;
        unsigned long port = strtoul(colon + 1, &end, 10);
        if (alen < sizeof addr && !*end && port <= 65535) {
            memcpy(addr, which, alen);
            addr[alen] = '\0';
            if (ts_ip4_parse(addr, &a) == 0)
                for (size_t i = 0; i < set->n; i++)
                    if (end_matches(set->conns[i], a, (uint16_t)port)) return set->conns[i];
        }
    }
    snprintf(err, errlen,
             "--conn %s: no such connection; there %s %zu (1..%zu, or an "
             "address:port of either end)",
             which, set->n == 1 ? "is" : "are", set->n, set->n);
    return NULL;
}

const char *ts_view_flags(uint8_t flags, char *buf)
{
    size_t n = 0;
    if (flags & TS_TH_SYN) buf[n++] = 'S';
    if (flags & TS_TH_FIN) buf[n++] = 'F';
    if (flags & TS_TH_RST) buf[n++] = 'R';
    if (flags & TS_TH_PSH) buf[n++] = 'P';
    if (flags & TS_TH_ACK) buf[n++] = '.';
    if (!n) return strcpy(buf, "none"); /* as tcpdump prints a segment with no flags */
    buf[n] = '\0';
    return buf;
}
