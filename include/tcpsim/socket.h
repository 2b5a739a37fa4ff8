/* tcpsim/socket.h: the in-process, non-blocking, BSD-shaped socket API. Errors are negative
 * errno values (-ECONNREFUSED, -ETIMEDOUT, -ECONNRESET, -EAGAIN, ...). A socket is a small
 * integer handle, valid until ts_close/ts_abort. Calls act at the stack's current time. */
#ifndef TCPSIM_SOCKET_H
#define TCPSIM_SOCKET_H

#include <stdbool.h>
#include <sys/types.h>
#include "tcpsim/event.h"
#include "tcpsim/params.h"
#include "tcpsim/types.h"

/* Readiness bits, passed to the socket callback and returned by ts_sock_events. */
#define TS_SOCK_READABLE  0x01u /* data or EOF to read, or a connection to accept */
#define TS_SOCK_WRITABLE  0x02u /* room in the send buffer */
#define TS_SOCK_CONNECTED 0x04u /* the handshake completed (active or passive) */
#define TS_SOCK_CLOSED    0x08u /* the connection ended: fully closed, reset or timed out */
#define TS_SOCK_ERROR     0x10u /* an error is pending (ts_sock_error) */

/* The callback runs after the stack call that caused it (input, poll or a socket call)
 * has finished its work, so it may call any socket function. */
typedef void (*ts_sock_fn)(ts_stack *s, int sd, unsigned events, void *ctx);

#define TS_SHUT_RD   0
#define TS_SHUT_WR   1
#define TS_SHUT_RDWR 2

int ts_socket(ts_stack *s); /* handle >= 0, or -EMFILE (max_sockets), -ENOMEM */
/* addr 0 means the stack's address; port 0 picks an ephemeral port. */
int ts_bind(ts_stack *s, int sd, uint32_t addr, uint16_t port);
int ts_listen(ts_stack *s, int sd, int backlog); /* backlog <= 0: the parameter's */
/* A new handle for an established connection, or -EAGAIN. peer may be NULL. */
int ts_accept(ts_stack *s, int sd, ts_endpoint *peer);
/* Sends the SYN; returns -EINPROGRESS. Completion: TS_SOCK_CONNECTED, or TS_SOCK_ERROR
 * with ts_sock_error() = -ETIMEDOUT / -ECONNREFUSED. */
int ts_connect(ts_stack *s, int sd, uint32_t addr, uint16_t port);
/* Bytes queued (may be fewer than len), or -EAGAIN (buffer full), -EPIPE (write side shut),
 * -ENOTCONN, or the connection's error. */
ssize_t ts_send(ts_stack *s, int sd, const void *buf, size_t len);
/* Bytes read; 0 once the peer's FIN is reached and every byte before it was read;
 * -EAGAIN when nothing is there yet; or the connection's error. */
ssize_t ts_recv(ts_stack *s, int sd, void *buf, size_t len);
/* Flags for ts_send_flags and ts_recv_flags (tcpsim's own bits, not Linux's MSG_*).
 * TS_MSG_MORE: more data follows (Linux MSG_MORE): this call holds a partial segment as
 *   TCP_CORK does, and marks no PSH at its end.
 * TS_MSG_EOR: end of record (MSG_EOR): no segment, first transmission or retransmission,
 *   ever carries bytes from both sides of the record's end.
 * TS_MSG_PEEK: receive: copy without consuming (MSG_PEEK). */
#define TS_MSG_MORE 0x01u
#define TS_MSG_EOR  0x02u
#define TS_MSG_PEEK 0x04u
/* ts_send with flags (TS_MSG_MORE, TS_MSG_EOR). With TS_MSG_EOR it returns -EAGAIN while
 * TS_EOR_MAX record ends wait for their ACK (the socket does not read writable then). */
ssize_t ts_send_flags(ts_stack *s, int sd, const void *buf, size_t len, unsigned flags);
#define TS_EOR_MAX 64
/* ts_recv with flags (TS_MSG_PEEK). */
ssize_t ts_recv_flags(ts_stack *s, int sd, void *buf, size_t len, unsigned flags);

/* TCP_CORK: while on, partial segments wait (full ones go) until the cork comes off,
 * which sends what the window allows at once under the Nagle rule; data that waits with
 * nothing in flight goes out with the persist timer (one RTO later, as Linux's 200 ms
 * ceiling). */
int ts_sock_set_cork(ts_stack *s, int sd, bool on);
bool ts_sock_cork(ts_stack *s, int sd);
/* Send what waits now, once ignoring the cork and Nagle (Linux pushes this way when
 * TCP_NODELAY is set, even on a corked socket; the cork itself stays on). */
int ts_sock_push(ts_stack *s, int sd);
/* TCP_NOTSENT_LOWAT: 0 = off. With it on, the socket reads writable only while the bytes
 * queued but not yet sent are below half of it (Linux's poll rule), and a send that finds
 * them at or above it returns -EAGAIN. */
int ts_sock_set_notsent_lowat(ts_stack *s, int sd, uint32_t bytes);
uint32_t ts_sock_notsent_lowat(ts_stack *s, int sd);
/* IP_TOS: the TOS byte of the connection's packets (DSCP and ECN bits as given). */
int ts_sock_set_tos(ts_stack *s, int sd, uint8_t tos);
int ts_sock_tos(ts_stack *s, int sd); /* 0..255, or -EBADF */

/* TS_SHUT_WR sends FIN after queued data (half-close); the socket still receives. */
int ts_shutdown(ts_stack *s, int sd, int how);
/* Release the handle. The connection closes gracefully (FIN after queued data) and lives
 * on as an orphan until done; unread received data turns the close into a RST (RFC 2525). */
int ts_close(ts_stack *s, int sd);
/* Release the handle and reset the connection at once. */
int ts_abort(ts_stack *s, int sd);

/* SO_ERROR: the pending error (negative errno) or 0; reading it clears it. */
int ts_sock_error(ts_stack *s, int sd);
unsigned ts_sock_events(ts_stack *s, int sd);
void ts_sock_set_callback(ts_stack *s, int sd, ts_sock_fn fn, void *ctx);

int ts_getsockname(ts_stack *s, int sd, ts_endpoint *out);
int ts_getpeername(ts_stack *s, int sd, ts_endpoint *out);

/* Per-socket parameters: copy out, replace (validated), or set one by name. */
int ts_sock_get_params(ts_stack *s, int sd, ts_params *out);
int ts_sock_set_params(ts_stack *s, int sd, const ts_params *p, char *err, size_t errlen);
int ts_sock_set_param(ts_stack *s, int sd, const char *name, const char *value, char *err,
                      size_t errlen);

/* A snapshot of the connection's control block, for the telnet service's `tcb`. */
typedef struct ts_tcp_info {
    ts_state state;
    uint32_t conn_id;
    ts_endpoint local, remote;
    uint32_t iss, irs;
    uint32_t snd_una, snd_nxt, snd_wnd, snd_wl1, snd_wl2;
    uint32_t rcv_nxt, rcv_wnd;
    uint32_t snd_mss, rcv_mss;      /* effective MSS each way (payload per segment) */
    uint8_t snd_wscale, rcv_wscale; /* shift applied to the peer's / our window */
    bool wscale_ok, sack_ok, ts_ok;
    ts_time_t srtt, rttvar, rto;
    uint32_t cwnd, ssthresh; /* bytes */
    uint32_t retransmits;    /* total retransmitted segments */
    uint32_t backoff;        /* consecutive RTO expiries */
    uint32_t dupacks;
    bool in_recovery;
    bool delack_pending, pingpong;
    uint32_t quickack_left;
    uint32_t snd_queued, rcv_queued; /* bytes in the send ring (unACKed + unsent), readable */
    uint32_t snd_ring, rcv_ring;     /* bytes the rings hold allocated (capacity), 0 = none */
    uint32_t ooo_ranges;             /* out-of-order ranges held */
    uint32_t snd_unsent;             /* queued bytes never sent (past SND.MAX) */
    bool fin_rcvd;                   /* the peer's FIN was reached in order */
    char cc[TS_POLICY_NAME_MAX];
    /* For the views (series export, plots, live look): */
    uint32_t snd_max;      /* highest sequence number sent + 1 */
    uint32_t flight;       /* bytes in flight: RFC 6675 pipe when SACK recovery runs */
    uint32_t sacked, lost; /* bytes SACKed above SND.UNA; unSACKed bytes deemed lost */
    ts_ca_state ca_state;
    ts_time_t timer[TS_NUM_TIMERS]; /* absolute deadline of each timer, TS_TIME_NEVER off */
} ts_tcp_info;

int ts_sock_info(ts_stack *s, int sd, ts_tcp_info *out);

/* Snapshots of every connection in the stack (sockets, orphans, listeners), for `conns`.
 * Returns the total number; fills at most max. */
size_t ts_stack_conns(ts_stack *s, ts_tcp_info *out, size_t max);
/* The snapshot of one connection by its id (ts_conn_id.id in events): O(1) for the
 * connection of the event being delivered to the observer (so a series writer can record
 * the sender's variables at every event), a scan otherwise. 0, or -ENOENT. */
int ts_stack_conn_info(ts_stack *s, uint32_t conn_id, ts_tcp_info *out);

/* The sender's variables a series row shows (docs/series.md), and nothing else: the same
 * values as ts_stack_conn_info's fields of these names, for an observer that records them
 * at every event and cannot afford the whole snapshot. Same lookup, same returns. */
typedef struct ts_conn_vars {
    ts_time_t srtt, rttvar, rto;
    uint32_t snd_una, snd_nxt, snd_max, snd_wnd;
    uint32_t cwnd, ssthresh, flight, sacked, lost, backoff;
    ts_state state;
    ts_ca_state ca_state;
} ts_conn_vars;
int ts_stack_conn_vars(ts_stack *s, uint32_t conn_id, ts_conn_vars *out);

#endif
