/* connhist.h: the recent history of one connection as its stack reported it (events, with
 * a copy of each segment), kept in fixed rings so a live session can draw its last N
 * segments at any moment: the telnet shell's `ladder N`. The drawing replays the history
 * into the view recorder (view_rec.h) and draws it with the ladder renderer (ladder.h),
 * the same as `tcpsim diagram`. */
#ifndef TS_CONNHIST_H
#define TS_CONNHIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "tcpsim/tcpsim.h"

typedef struct ts_connhist ts_connhist;

/* Keep the last max_segs segments of connection conn_id and the events between them.
 * NULL when out of memory. */
ts_connhist *ts_connhist_new(uint32_t conn_id, size_t max_segs);
void ts_connhist_free(ts_connhist *h);
/* One event of the stack (those of other connections are ignored). No allocation once
 * the rings are warm. */
void ts_connhist_event(ts_connhist *h, const ts_event *ev);
/* The last n segments (at most max_segs) as a text ladder into f; local_name and
 * remote_name head the lifelines. 0, or -1 with one line in err. */
int ts_connhist_ladder(const ts_connhist *h, size_t n, bool ascii, const char *local_name,
                       const char *remote_name, FILE *f, char *err, size_t errlen);

#endif
