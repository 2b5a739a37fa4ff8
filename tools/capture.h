/* capture.h: --pcap FILE for `tcpsim run` and `tcpsim tun`. A FILE ending in .pcapng is
 * pcapng whose packets carry comments: why a stack sent it ("RTO retransmission #2, rto
 * 800 ms", "delayed ACK timer fired after 40 ms", from why.h) and the state changes a
 * received one caused ("SYN_SENT -> ESTABLISHED"); any other name is plain pcap written by
 * libpcap, as before. The runner hands over the packets at its capture point and, for
 * pcapng, every event of each stack. A received packet's comment is known only once the
 * stack has taken it, so pcapng packets wait in a queue (in capture order) until their
 * fate is settled: delivered and processed, sent to a host that is no stack, or lost. */
#ifndef TS_CAPTURE_H
#define TS_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tcpsim/event.h"

typedef struct ts_capture ts_capture;

/* Open by the name's extension. NULL with one line in err. */
ts_capture *ts_capture_open(const char *path, char *err, size_t errlen);
/* True for pcapng: the capture wants ts_capture_event. */
bool ts_capture_annotated(const ts_capture *c);
/* Register a stack whose events will come (its name prefixes the comments when more than
 * one is registered; addr tells which packets it receives). Its index, or -1 (memory). */
int ts_capture_add_stack(ts_capture *c, const char *name, uint32_t addr);
/* Stamps in the file are the runner's time plus offset (e.g. monotonic to wall clock). */
void ts_capture_set_offset(ts_capture *c, ts_time_t offset);
/* One event of registered stack `stack`, in order. */
void ts_capture_event(ts_capture *c, int stack, const ts_event *ev);
/* A packet at the capture point, at the runner's time now. For a packet a stack sent,
 * call it right after that stack's SEG_OUT event (the output callback does). */
void ts_capture_packet(ts_capture *c, ts_time_t now, const uint8_t *pkt, size_t len);
/* Time has moved on to now: write the packets whose comments are settled. */
void ts_capture_tick(ts_capture *c, ts_time_t now);
/* Push what was written to the file (a live run does it every second). */
void ts_capture_flush(ts_capture *c);
/* Write everything still queued and close; -1 if writing failed. */
int ts_capture_close(ts_capture *c);

#endif
