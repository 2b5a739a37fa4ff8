/* test_tun_burst.c: the TUN loop writing the stack's bursts, without a device: the loop's
 * descriptor is one end of an AF_UNIX SOCK_SEQPACKET pair, which keeps each write a
 * message of its own, so the test reads back exactly the writes the loop made. Stack A
 * runs in burst mode through ts_loop_stack_config; peer B is a plain stack in the test.
 * With offloads a burst's in-order data segments leave as one super-segment (virtio_net_hdr
 * TCPV4), a pure ACK goes at once in its place in the order; without, every segment is
 * its own write, as the stack cut it. The same again with the io_uring ring (tun_ring.c),
 * where a burst's writes leave together when it ends. */
#include <check.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "tun.h"

#define A_ADDR TS_IP4(10, 0, 0, 1)
#define B_ADDR TS_IP4(10, 0, 0, 2)

static struct {
    int fd[2]; /* [0] the loop's "device", [1] the test's end */
    ts_loop *loop;
    ts_stack *a, *b;
    bool vnet;
    uint8_t q[256][1600]; /* B's packets for A */
    size_t qlen[256];
    int nq;
    ts_time_t now;
    int asd, bsd, lsd;
} w;

/* One write the loop made: its virtio_net_hdr (zero without one) and packet. */
typedef struct {
    ts_vnet_hdr h;
    size_t len;
    uint8_t pkt[70000];
} wrote;

static bool next_write(wrote *m)
{
    static uint8_t buf[sizeof(ts_vnet_hdr) + 70000];
    ssize_t n = recv(w.fd[1], buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) return false;
    size_t off = w.vnet ? sizeof m->h : 0;
    ck_assert_int_ge(n, (ssize_t)off);
    memset(&m->h, 0, sizeof m->h);
    if (w.vnet) memcpy(&m->h, buf, sizeof m->h);
    m->len = (size_t)n - off;
    memcpy(m->pkt, buf + off, m->len);
    return true;
}

static void b_output(void *ctx, const uint8_t *pkt, size_t len)
{
    (void)ctx;
    ck_assert_int_lt(w.nq, 256);
    memcpy(w.q[w.nq], pkt, len);
    w.qlen[w.nq++] = len;
}

/* Give B what A wrote, cut back into segments as the kernel's segmentation would (the
 * headers are B's business only as far as seq and length go). Returns the writes read. */
static int a_to_b(void)
{
    static wrote m;
    int n = 0;
    while (next_write(&m)) {
        n++;
        if (m.h.gso_type == TS_VNET_GSO_NONE) {
            ts_stack_input(w.b, w.now, m.pkt, m.len);
            continue;
        }
        /* B takes a super-segment whole, as the stack does GRO's: fix its IP total length
         * and complete its checksum first */
        ck_assert_int_eq(ts_gso_rx_complete(&m.h, m.pkt, m.len), 0);
        ts_stack_input(w.b, w.now, m.pkt, m.len);
    }
    return n;
}

static void b_to_a(int only_last)
{
    static uint8_t pkt[1600];
    int from = only_last && w.nq ? w.nq - 1 : 0, n = w.nq;
    w.nq = 0;
    for (int i = from; i < n; i++) {
        memcpy(pkt, w.q[i], w.qlen[i]);
        ts_stack_input(w.a, w.now, pkt, w.qlen[i]);
    }
}

static void setup_ring(bool vnet, bool gso, bool ring)
{
    memset(&w, 0, sizeof w);
    w.vnet = vnet;
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, w.fd), 0);
    int big = 4 << 20;
    setsockopt(w.fd[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    setsockopt(w.fd[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    char err[256];
    w.loop = ts_loop_create(w.fd[0], err, sizeof err);
    ck_assert_msg(w.loop != NULL, "%s", err);
    ck_assert_int_eq(ts_loop_set_offload(w.loop, vnet, gso), 0);
    if (ring) ck_assert_msg(ts_loop_set_ring(w.loop, err, sizeof err) == 0, "%s", err);
    ck_assert(ts_loop_ring(w.loop) == ring);
    ts_stack_config cfg;
    ts_stack_config_init(&cfg);
    cfg.addr = A_ADDR;
    ts_loop_stack_config(w.loop, &cfg);
    ck_assert_ptr_eq(cfg.output_ctx, w.loop);
    ck_assert(gso || ring ? cfg.flush != NULL : cfg.flush == NULL); /* TSO or the ring */
    w.a = ts_stack_create(&cfg, err, sizeof err);
    ck_assert_msg(w.a != NULL, "%s", err);
    ts_loop_set_stack(w.loop, w.a);
    ts_stack_config_init(&cfg);
    cfg.addr = B_ADDR;
    cfg.output = b_output;
    w.b = ts_stack_create(&cfg, err, sizeof err);
    ck_assert_msg(w.b != NULL, "%s", err);
    w.lsd = ts_socket(w.b);
    ck_assert_int_eq(ts_bind(w.b, w.lsd, 0, 7), 0);
    ck_assert_int_eq(ts_listen(w.b, w.lsd, 8), 0);
    w.asd = ts_socket(w.a);
    ts_connect(w.a, w.asd, B_ADDR, 7);
    for (int i = 0; i < 10; i++) {
        w.now += TS_MSEC;
        a_to_b();
        b_to_a(0);
    }
    w.bsd = ts_accept(w.b, w.lsd, NULL);
    ck_assert_int_ge(w.bsd, 0);
}

static void teardown(void)
{
    ts_stack_destroy(w.a);
    ts_stack_destroy(w.b);
    ts_loop_destroy(w.loop);
    close(w.fd[0]);
    close(w.fd[1]);
}

static uint32_t seq_of(const uint8_t *pkt, size_t len)
{
    ts_pkt_view v;
    ck_assert_int_eq(ts_pkt_view_parse(&v, pkt, len), TS_WIRE_OK);
    return v.th.seq;
}

/* IW10 in one send call: one burst, one write of a ten-segment super-segment; then B's
 * one cumulative ACK releases the next window as one burst, one write again. */
START_TEST(a_burst_is_one_write)
{
    setup_ring(true, true, _i);
    const ts_loop_stats *st = ts_loop_get_stats(w.loop);
    uint64_t writes = st->pkts_out, segs = st->segs_out, bursts = st->bursts;
    uint64_t bytes = st->bytes_out;
    static uint8_t data[200000];
    ck_assert_int_eq(ts_send(w.a, w.asd, data, sizeof data), (int)sizeof data);
    ck_assert_uint_eq(st->segs_out - segs, 10);
    ck_assert_uint_eq(st->pkts_out - writes, 1);
    ck_assert_uint_eq(st->bytes_out - bytes, 52 + 10 * 1448); /* the packet, not its header */
    ck_assert_uint_eq(st->bursts, bursts + 1);
    static wrote m;
    ck_assert(next_write(&m));
    ck_assert_uint_eq(m.h.gso_type, TS_VNET_GSO_TCPV4);
    ck_assert_uint_eq(m.h.gso_size, 1448);
    ck_assert_uint_eq(m.len, 52 + 10 * 1448);
    ck_assert(!next_write(&m));
    /* back into B whole (what GRO would hand it), and only B's last ACK reaches A */
    ck_assert_int_eq(ts_gso_rx_complete(&m.h, m.pkt, m.len), 0);
    ts_stack_input(w.b, w.now, m.pkt, m.len);
    ck_assert_int_gt(w.nq, 0);
    writes = st->pkts_out, segs = st->segs_out;
    b_to_a(1);
    ck_assert_uint_ge(st->segs_out - segs, 10);
    ck_assert_uint_eq(st->pkts_out - writes, (st->segs_out - segs + 44) / 45);
    teardown();
}
END_TEST

/* The loop's own hold: several calls inside ts_stack_burst_begin/end (as one wake-up's
 * batch) make one burst: a super-segment is written when the next segment cannot join it
 * (PSH closes one: each send ends in PSH) or the burst ends; an ACK-only packet is
 * written at once, after the data that came before it. On the ring all of them leave at
 * the burst's end, in the same order, each super-segment with its own headers. */
START_TEST(a_held_burst_spans_calls)
{
    bool ring = _i;
    setup_ring(true, true, ring);
    const ts_loop_stats *st = ts_loop_get_stats(w.loop);
    static uint8_t data[3 * 1448];
    ts_stack_burst_begin(w.a);
    uint64_t writes = st->pkts_out;
    ck_assert_int_eq(ts_send(w.a, w.asd, data, sizeof data), (int)sizeof data);
    ck_assert_int_eq(ts_send(w.a, w.asd, data, sizeof data), (int)sizeof data);
    ck_assert_uint_eq(st->pkts_out, writes + !ring); /* the first send's; the second's open */
    /* B sends A data: A's ACK is not a segment a super-segment can hold */
    ck_assert_int_eq(ts_send(w.b, w.bsd, "x", 1), 1);
    b_to_a(0);
    ck_assert_uint_eq(st->pkts_out, writes + (ring ? 0 : 3)); /* the second's, the ACK */
    ck_assert_int_eq(ts_send(w.a, w.asd, data, sizeof data), (int)sizeof data);
    ck_assert_uint_eq(st->pkts_out, writes + (ring ? 0 : 3));
    ts_stack_burst_end(w.a);
    ck_assert_uint_eq(st->pkts_out, writes + 4);
    static wrote m;
    uint32_t seq0 = 0;
    for (int i = 0; i < 4; i++) {
        ck_assert(next_write(&m));
        if (i == 2) { /* the ACK, where the stack sent it */
            ck_assert_uint_eq(m.h.gso_type, TS_VNET_GSO_NONE);
            ck_assert_uint_eq(m.len, 52);
            continue;
        }
        ck_assert_uint_eq(m.h.gso_type, TS_VNET_GSO_TCPV4);
        ck_assert_uint_eq(m.len, 52 + 3 * 1448);
        if (i == 0) seq0 = seq_of(m.pkt, m.len);
        ck_assert_uint_eq(seq_of(m.pkt, m.len), seq0 + (uint32_t)(i - (i > 2)) * 3 * 1448);
    }
    ck_assert(!next_write(&m));
    teardown();
}
END_TEST

/* Without offloads every segment is a write of its own, as the stack cut it. */
START_TEST(offload_off_writes_each_segment)
{
    for (int vnet = 0; vnet < 2; vnet++) {
        setup_ring(vnet, false, _i);
        const ts_loop_stats *st = ts_loop_get_stats(w.loop);
        uint64_t writes = st->pkts_out, bytes = st->bytes_out;
        static uint8_t data[10 * 1448];
        ck_assert_int_eq(ts_send(w.a, w.asd, data, sizeof data), (int)sizeof data);
        ck_assert_uint_eq(st->pkts_out - writes, 10);
        /* the packets' bytes, as `ip -s link` counts them: never the virtio_net_hdr */
        ck_assert_uint_eq(st->bytes_out - bytes, 10 * (52 + 1448));
        static wrote m;
        for (int i = 0; i < 10; i++) {
            ck_assert(next_write(&m));
            ck_assert_uint_eq(m.len, 52 + 1448);
            ck_assert_uint_eq(m.h.gso_type, TS_VNET_GSO_NONE);
        }
        ck_assert(!next_write(&m));
        ck_assert_uint_eq(st->gso_out, 0);
        ck_assert_uint_eq(st->submits, _i ? st->bursts : 0); /* one per burst on the ring */
        teardown();
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("tun_burst");
    TCase *tc = tcase_create("burst");
    /* _i: 0 one system call per write, 1 the ring */
    tcase_add_loop_test(tc, a_burst_is_one_write, 0, 2);
    tcase_add_loop_test(tc, a_held_burst_spans_calls, 0, 2);
    tcase_add_loop_test(tc, offload_off_writes_each_segment, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
