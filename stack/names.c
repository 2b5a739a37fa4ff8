/* names.c: printable names for states, timers and drop reasons, used by traces, counters
 * and the telnet service. Out-of-range values give "?" rather than crashing. */
#include "tcpsim/event.h"

static const char *const state_names[TS_NUM_STATES] = {
    [TS_CLOSED] = "CLOSED",           [TS_LISTEN] = "LISTEN",
    [TS_SYN_SENT] = "SYN_SENT",       [TS_SYN_RECEIVED] = "SYN_RECEIVED",
    [TS_ESTABLISHED] = "ESTABLISHED", [TS_FIN_WAIT_1] = "FIN_WAIT_1",
    [TS_FIN_WAIT_2] = "FIN_WAIT_2",   [TS_CLOSE_WAIT] = "CLOSE_WAIT",
    [TS_CLOSING] = "CLOSING",         [TS_LAST_ACK] = "LAST_ACK",
    [TS_TIME_WAIT] = "TIME_WAIT",
};

static const char *const timer_names[TS_NUM_TIMERS] = {
    [TS_TIMER_RETRANSMIT] = "rto",
    [TS_TIMER_DELACK] = "delack",
    [TS_TIMER_PERSIST] = "persist",
    [TS_TIMER_KEEPALIVE] = "keepalive",
    [TS_TIMER_TIME_WAIT] = "time_wait",
    [TS_TIMER_FIN_WAIT2] = "fin_wait2",
    [TS_TIMER_TLP] = "tlp",
};

static const char *const drop_names[TS_DROP_NUM_REASONS] = {
    [TS_DROP_IP_SHORT] = "ip-short",
    [TS_DROP_IP_VERSION] = "ip-version",
    [TS_DROP_IP_HDRLEN] = "ip-hdrlen",
    [TS_DROP_IP_TOTLEN] = "ip-totlen",
    [TS_DROP_IP_CHECKSUM] = "ip-checksum",
    [TS_DROP_IP_DEST] = "ip-dest",
    [TS_DROP_IP_FRAGMENT] = "ip-fragment",
    [TS_DROP_IP_PROTO] = "ip-proto",
    [TS_DROP_ICMP_SHORT] = "icmp-short",
    [TS_DROP_ICMP_CHECKSUM] = "icmp-checksum",
    [TS_DROP_ICMP_TYPE] = "icmp-type",
    [TS_DROP_TCP_SHORT] = "tcp-short",
    [TS_DROP_TCP_HDRLEN] = "tcp-hdrlen",
    [TS_DROP_TCP_CHECKSUM] = "tcp-checksum",
    [TS_DROP_TCP_OPTIONS] = "tcp-options",
    [TS_DROP_TCP_FLAGS] = "tcp-flags",
    [TS_DROP_TCP_NO_SOCKET] = "tcp-no-socket",
    [TS_DROP_TCP_BAD_ACK] = "tcp-bad-ack",
    [TS_DROP_TCP_OUT_OF_WINDOW] = "tcp-out-of-window",
    [TS_DROP_TCP_RST_INVALID] = "tcp-rst-invalid",
    [TS_DROP_TCP_PAWS] = "tcp-paws",
    [TS_DROP_TCP_BACKLOG] = "tcp-backlog",
    [TS_DROP_TCP_NO_MEMORY] = "tcp-no-memory",
    [TS_DROP_TCP_OOO_FULL] = "tcp-ooo-full",
    [TS_DROP_TCP_STATE] = "tcp-state",
};

/* Enums may hold any int the caller cast in; compare as unsigned to catch negatives too. */
const char *ts_state_name(ts_state st)
{
    return (unsigned)st < TS_NUM_STATES ? state_names[st] : "?";
}

const char *ts_timer_name(ts_timer_kind k)
{
    return (unsigned)k < TS_NUM_TIMERS ? timer_names[k] : "?";
}

const char *ts_drop_reason_name(ts_drop_reason r)
{
    return (unsigned)r < TS_DROP_NUM_REASONS ? drop_names[r] : "?";
}

const char *ts_ca_state_name(ts_ca_state st)
{
    static const char *const names[] = {"open", "disorder", "recovery", "loss"};
    return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "?";
}

const char *ts_undo_kind_name(ts_undo_kind k)
{
    static const char *const names[] = {"frto", "eifel", "dsack"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}
