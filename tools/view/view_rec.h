/* view_rec.h: the connection model recorded from a run: the stacks' own events (states,
 * timers, retransmissions and their causes, control blocks) and every packet's journey
 * (sent when, arrived when or lost and why). The simulator's driver and the TUN runner
 * feed it through their hooks; hosts without a stack (the simulator's scripted peers) are
 * seen through their packets only. */
#ifndef TS_VIEW_REC_H
#define TS_VIEW_REC_H

#include <stddef.h>
#include <stdint.h>
#include "tcpsim/tcpsim.h"
#include "view.h"

typedef struct ts_view_rec ts_view_rec;

ts_view_rec *ts_view_rec_new(ts_view_origin origin); /* NULL when out of memory */
void ts_view_rec_free(ts_view_rec *r);
/* Host number host (the index the calls below use): its name, address, and its stack
 * (NULL for a host seen only through its packets). 0, or -1 out of memory. */
int ts_view_rec_host(ts_view_rec *r, int host, const char *name, uint32_t addr, ts_stack *s);
/* Every event of host's stack, in order, from inside its observer. */
void ts_view_rec_event(ts_view_rec *r, int host, const ts_event *ev);
/* Packet number no (unique, rising) left host from at t; it reaches the other end at
 * arrive, or never (TS_TIME_NEVER) for the reason lost. */
void ts_view_rec_packet(ts_view_rec *r, uint64_t no, int from, ts_time_t t, const uint8_t *pkt,
                        size_t len, ts_time_t arrive, const char *lost);
/* Packet no was taken in by host (its stack has processed it): the receiver's control
 * block is read now. */
void ts_view_rec_arrived(ts_view_rec *r, uint64_t no, int host, ts_time_t t);
/* Every connection recorded, in order of first appearance; the recorder is left empty.
 * 0, or -1 with one line in err. */
int ts_view_rec_finish(ts_view_rec *r, ts_view_set *out, char *err, size_t errlen);

#endif
