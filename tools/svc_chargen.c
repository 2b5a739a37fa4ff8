/* svc_chargen.c: the character generator (RFC 864): lines of 72 printable ASCII characters,
 * each starting one character later in the 95-character set, ended by CR LF, for as long as
 * the socket is writable. The whole pattern repeats every 95 lines (7030 bytes); a table of
 * several periods lets every send be one contiguous slice. Input is read and dropped; the
 * peer's FIN only ends its direction (it may still be reading), so sending goes on until
 * the connection is reset or closed. */
#include <errno.h>

#include "svc_common.h"

#define CG_LINE   72
#define CG_CHARS  95                         /* ' ' .. '~' */
#define CG_PERIOD (CG_CHARS * (CG_LINE + 2)) /* 7030 bytes */
#define CG_COPIES 10
#define CG_CHUNK  (CG_PERIOD * (CG_COPIES - 1)) /* the most one send takes */

typedef struct chargen_conn {
    svc_conn base;
    size_t pos; /* offset in the pattern, 0 .. CG_PERIOD-1 */
} chargen_conn;

static char pattern[CG_PERIOD * CG_COPIES];

static void fill_pattern(void)
{
    if (pattern[0]) return;
    size_t k = 0;
    for (int copy = 0; copy < CG_COPIES; copy++)
        for (int line = 0; line < CG_CHARS; line++) {
            for (int j = 0; j < CG_LINE; j++) pattern[k++] = (char)(' ' + (line + j) % CG_CHARS);
            pattern[k++] = '\r';
            pattern[k++] = '\n';
        }
}

static bool chargen_open(svc_conn *c)
{
    (void)c;
    fill_pattern();
    return true;
}

static bool chargen_event(svc_conn *c, unsigned events)
{
    static char scratch[4096];
    chargen_conn *g = (chargen_conn *)c;
    (void)events;
    for (;;) { /* drop whatever the peer sends */
        ssize_t n = ts_recv(c->stack, c->sd, scratch, sizeof scratch);
        if (n > 0) continue;
        if (n == 0 || n == -EAGAIN) break;
        return false;
    }
    for (;;) {
        ssize_t n = ts_send(c->stack, c->sd, pattern + g->pos, CG_CHUNK);
        if (n == -EAGAIN || n == 0) return true;
        if (n < 0) return false;
        g->pos = (g->pos + (size_t)n) % CG_PERIOD;
    }
}

const svc_ops ts_svc_chargen_ops = {
    .name = "chargen",
    .conn_size = sizeof(chargen_conn),
    .open = chargen_open,
    .event = chargen_event,
};
