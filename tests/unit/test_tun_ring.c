/* test_tun_ring.c: the io_uring ring of tun/tun_ring.c without a device: its descriptor
 * is one end of an AF_UNIX SOCK_SEQPACKET pair, which keeps every write a message of its
 * own and supports non-blocking reads as a TUN device does. Writes are queued and leave at
 * the submit, in order, with the bytes they were told to copy as they were at queueing;
 * reads come back in the order they were written, the batch growing while it comes back
 * full and shrinking when it comes back empty; a closed device is an error, not a loop;
 * a descriptor that takes no RWF_NOWAIT reads (a TUN device before Linux 6.4; here a
 * /proc file) breaks the ring, which says why. Then the loop on the ring: a stream of
 * pings that never lets the device run dry must not keep it from a signal or from its
 * deadline (the ring's rounds would otherwise never go back to epoll). */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "tun.h"

static int fd[2];
static ts_ring *ring;
static ts_ring_tally tally;

static void setup(void)
{
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fd), 0);
    int big = 4 << 20;
    setsockopt(fd[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    setsockopt(fd[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    setsockopt(fd[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    setsockopt(fd[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    char err[128];
    ring = ts_ring_create(fd[0], 2048, err, sizeof err);
    ck_assert_msg(ring != NULL, "%s", err);
    memset(&tally, 0, sizeof tally);
}

static void teardown(void)
{
    ts_ring_destroy(ring);
    close(fd[0]);
    if (fd[1] >= 0) close(fd[1]);
}

/* 300 writes, more than the queue holds: each a 4-byte header copied from a buffer the
 * test rewrites right after queueing, then a body the ring only points to. */
START_TEST(writes_leave_in_order_with_their_copied_headers)
{
    setup();
    static char body[300][32];
    char hdr[4];
    for (int i = 0; i < 300; i++) {
        snprintf(body[i], sizeof body[i], "body %03d", i);
        memcpy(hdr, &i, sizeof hdr);
        struct iovec c = {hdr, sizeof hdr}, r = {body[i], strlen(body[i])};
        ts_ring_writev(ring, &c, 1, &r, 1, sizeof hdr + strlen(body[i]), &tally);
        memset(hdr, 0xee, sizeof hdr); /* as a super-segment's headers are rebuilt */
    }
    ck_assert(ts_ring_pending(ring));
    ck_assert_int_eq(ts_ring_submit(ring, &tally), 0);
    ck_assert(!ts_ring_pending(ring));
    ck_assert_uint_eq(tally.pkts, 300);
    ck_assert_uint_eq(tally.errors, 0);
    ck_assert_uint_eq(tally.submits, 2); /* one forced by the full queue, one asked for */
    for (int i = 0; i < 300; i++) {
        char got[64];
        ssize_t n = recv(fd[1], got, sizeof got, MSG_DONTWAIT);
        ck_assert_int_eq(n, 4 + (ssize_t)strlen(body[i]));
        int k;
        memcpy(&k, got, sizeof k);
        ck_assert_int_eq(k, i);
        ck_assert(!memcmp(got + 4, body[i], (size_t)n - 4));
    }
    char extra[8];
    ck_assert_int_lt(recv(fd[1], extra, sizeof extra, MSG_DONTWAIT), 0);
    teardown();
}
END_TEST

static int seen[512], nseen;
static void on_read(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    ck_assert_uint_eq(len, sizeof(int));
    ck_assert_int_lt(nseen, 512);
    memcpy(&seen[nseen++], buf, sizeof(int));
}

/* 200 messages waiting: batches of 8, 16, 32, 64, 64 come back full and in order, the
 * next finds 16 of 64, and an empty one shrinks the batch to its floor of 2 and is the
 * one submit counted empty. */
START_TEST(reads_come_in_order_and_the_batch_adapts)
{
    setup();
    for (int i = 0; i < 200; i++) ck_assert_int_eq(send(fd[1], &i, sizeof i, 0), (int)sizeof i);
    nseen = 0;
    const unsigned batches[] = {8, 16, 32, 64, 64, 64};
    const int want[] = {8, 16, 32, 64, 64, 16};
    for (int b = 0; b < 6; b++) {
        ck_assert_uint_eq(ts_ring_batch(ring), batches[b]);
        ck_assert_int_eq(ts_ring_read(ring, &tally, on_read, NULL), want[b]);
    }
    ck_assert_int_eq(nseen, 200);
    for (int i = 0; i < 200; i++) ck_assert_int_eq(seen[i], i);
    ck_assert_uint_eq(tally.empty, 0);
    ck_assert_uint_eq(ts_ring_batch(ring), 32);
    ck_assert_int_eq(ts_ring_read(ring, &tally, on_read, NULL), 0); /* empty: no wait */
    ck_assert_uint_eq(ts_ring_batch(ring), 2);
    ck_assert_uint_eq(tally.pkts, 0);
    ck_assert_uint_eq(tally.submits, 7);
    ck_assert_uint_eq(tally.empty, 1); /* only the last found nothing */
    teardown();
}
END_TEST

/* Queued writes go out at the read's submit, before its reads. */
START_TEST(a_read_submits_the_queued_writes_first)
{
    setup();
    int x = 7;
    struct iovec r = {&x, sizeof x};
    ts_ring_writev(ring, NULL, 0, &r, 1, sizeof x, &tally);
    nseen = 0;
    ck_assert_int_eq(ts_ring_read(ring, &tally, on_read, NULL), 0);
    ck_assert_uint_eq(tally.pkts, 1);
    ck_assert_uint_eq(tally.submits, 1);
    ck_assert_uint_eq(tally.empty, 0); /* it read nothing, but it wrote */
    int got = 0;
    ck_assert_int_eq(recv(fd[1], &got, sizeof got, MSG_DONTWAIT), (int)sizeof got);
    ck_assert_int_eq(got, 7);
    teardown();
}
END_TEST

/* The other end gone: a read of 0 bytes is the device's end (-EIO), every time. */
START_TEST(a_closed_device_is_an_error)
{
    setup();
    close(fd[1]);
    fd[1] = -1;
    ck_assert_int_eq(ts_ring_read(ring, &tally, on_read, NULL), -EIO);
    ck_assert_int_eq(ts_ring_read(ring, &tally, on_read, NULL), -EIO);
    /* a write there is refused and counted, not fatal (a TUN device raises no SIGPIPE;
     * a socket does) */
    signal(SIGPIPE, SIG_IGN);
    int x = 1;
    struct iovec r = {&x, sizeof x};
    ts_ring_writev(ring, NULL, 0, &r, 1, sizeof x, &tally);
    ts_ring_submit(ring, &tally);
    ck_assert_uint_eq(tally.errors, 1);
    ck_assert_uint_eq(tally.pkts, 0);
    teardown();
}
END_TEST

/* More to copy than an entry holds: refused and counted, nothing queued. */
START_TEST(an_oversized_copy_is_refused)
{
    setup();
    static char big[200];
    struct iovec c = {big, sizeof big};
    ts_ring_writev(ring, &c, 1, NULL, 0, sizeof big, &tally);
    ck_assert_uint_eq(tally.errors, 1);
    ck_assert(!ts_ring_pending(ring));
    teardown();
}
END_TEST

START_TEST(a_device_without_nowait_breaks_the_ring)
{
    int fd0 = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(fd0, 0);
    char err[128];
    ts_ring *r = ts_ring_create(fd0, 2048, err, sizeof err);
    ck_assert_msg(r != NULL, "%s", err);
    memset(&tally, 0, sizeof tally);
    ck_assert_ptr_null(ts_ring_broken(r));
    nseen = 0;
    ck_assert_int_eq(ts_ring_read(r, &tally, on_read, NULL), 0);
    ck_assert_ptr_nonnull(ts_ring_broken(r));
    ck_assert_msg(strstr(ts_ring_broken(r), "io_uring read: ") != NULL, "%s", ts_ring_broken(r));
    ck_assert_int_eq(nseen, 0);
    /* broken: a write is refused and counted, nothing is queued to go out later */
    int x = 1;
    struct iovec v = {&x, sizeof x};
    ts_ring_writev(r, NULL, 0, &v, 1, sizeof x, &tally);
    ck_assert_uint_eq(tally.errors, 1);
    ck_assert(!ts_ring_pending(r));
    ck_assert_int_eq(ts_ring_read(r, &tally, on_read, NULL), 0);
    ts_ring_destroy(r);
    close(fd0);
}
END_TEST

/* ---- the loop on the ring ------------------------------------------------------------ */

#define STACK_ADDR TS_IP4(10, 0, 0, 1)
#define PEER_ADDR  TS_IP4(10, 0, 0, 2)

static struct {
    int fd[2];
    ts_loop *loop;
    ts_stack *st;
    long iters, signalled_at;
    bool raise_at_3, guard_hit, signalled;
    ts_time_t t0;
    uint16_t seq;
} lw;

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* An ICMP echo request from the peer to the stack, 36 bytes. */
static void echo_request(uint8_t *p, uint16_t seq)
{
    memset(p, 0, 36);
    p[0] = 0x45;
    put16(p + 2, 36);
    p[8] = 64;
    p[9] = 1;
    const uint32_t src = PEER_ADDR, dst = STACK_ADDR;
    put16(p + 12, (uint16_t)(src >> 16));
    put16(p + 14, (uint16_t)src);
    put16(p + 16, (uint16_t)(dst >> 16));
    put16(p + 18, (uint16_t)dst);
    put16(p + 10, ts_csum(p, 20));
    p[20] = 8;
    put16(p + 24, 7);
    put16(p + 26, seq);
    put16(p + 22, ts_csum(p + 20, 16));
}

/* Every iteration: the replies drained and the device's queue filled up again, with more
 * than a wake-up's budget of reads (LOOP_BATCH, 256) takes, so it never runs dry and
 * every round leaves replies to send; SIGTERM (blocked, so it waits on the loop's
 * signalfd) at the third; a 5 s guard that only a starved loop reaches. */
static void feed(ts_loop *l, void *ctx)
{
    (void)ctx;
    uint8_t buf[2048];
    while (recv(lw.fd[1], buf, sizeof buf, MSG_DONTWAIT) > 0) {
    }
    for (int i = 0; i < 2048; i++) {
        echo_request(buf, lw.seq++);
        if (send(lw.fd[1], buf, 36, MSG_DONTWAIT) != 36) break;
    }
    if (++lw.iters == 3 && lw.raise_at_3) raise(SIGTERM);
    if (ts_loop_clock() - lw.t0 > 5 * TS_SEC) {
        lw.guard_hit = true;
        ts_loop_stop(l);
    }
}

static void on_signal(ts_loop *l, int signo, void *ctx)
{
    (void)ctx;
    ck_assert_int_eq(signo, SIGTERM);
    lw.signalled_at = lw.iters;
    lw.signalled = true;
    ts_loop_stop(l);
}

static void loop_setup(void)
{
    memset(&lw, 0, sizeof lw);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, lw.fd), 0);
    /* Room for more queued requests than one wake-up reads (root may go past rmem_max) */
    int big = 4 << 20;
    for (int i = 0; i < 2; i++)
        for (int o = 0; o < 2; o++) /* receive and send: a unix socket charges the sender */
            if (setsockopt(lw.fd[i], SOL_SOCKET, o ? SO_SNDBUFFORCE : SO_RCVBUFFORCE, &big,
                           sizeof big) < 0)
                setsockopt(lw.fd[i], SOL_SOCKET, o ? SO_SNDBUF : SO_RCVBUF, &big, sizeof big);
    char err[128];
    lw.loop = ts_loop_create(lw.fd[0], err, sizeof err);
    ck_assert_msg(lw.loop != NULL, "%s", err);
    ck_assert_msg(ts_loop_set_ring(lw.loop, err, sizeof err) == 0, "%s", err);
    ts_stack_config cfg;
    ts_stack_config_init(&cfg);
    cfg.addr = STACK_ADDR;
    ts_loop_stack_config(lw.loop, &cfg);
    lw.st = ts_stack_create(&cfg, err, sizeof err);
    ck_assert_msg(lw.st != NULL, "%s", err);
    ts_loop_set_stack(lw.loop, lw.st);
    ts_loop_set_idle(lw.loop, feed, NULL);
    ts_loop_set_signal(lw.loop, on_signal, NULL);
    lw.t0 = ts_loop_clock();
}

static void loop_teardown(void)
{
    ts_stack_destroy(lw.st);
    ts_loop_destroy(lw.loop);
    close(lw.fd[0]);
    close(lw.fd[1]);
}

START_TEST(a_steady_stream_does_not_hide_a_signal)
{
    loop_setup();
    lw.raise_at_3 = true;
    ck_assert_int_eq(ts_loop_run(lw.loop, TS_TIME_NEVER), 0);
    ck_assert_msg(!lw.guard_hit, "SIGTERM not seen in 5 s of steady traffic");
    ck_assert_int_ge(lw.signalled_at, 3);
    const ts_loop_stats *st = ts_loop_get_stats(lw.loop);
    ck_assert_uint_gt(st->pkts_in, 256); /* the pings were answered meanwhile */
    ck_assert_uint_gt(st->pkts_out, 256);
    ck_assert_uint_eq(st->write_errors, 0);
    loop_teardown();
}
END_TEST

/* The deadline is 250 ms away, not less: the first round's feed and a busy CI machine
 * (the test once lost 20 ms before its first read) must leave time for reads to happen,
 * or the run ends before the stream has started and proves nothing. */
START_TEST(a_steady_stream_does_not_hide_the_deadline)
{
    loop_setup();
    ck_assert_int_eq(ts_loop_run(lw.loop, ts_loop_clock() + 250 * TS_MSEC), 0);
    ck_assert_msg(!lw.guard_hit, "the 250 ms deadline not kept in 5 s of steady traffic");
    ck_assert_uint_gt(ts_loop_get_stats(lw.loop)->pkts_in, 256);
    loop_teardown();
}
END_TEST

/* Busy polling is bounded by the wait it replaces: 200 ms of polling allowed, a deadline
 * 5 ms away, nothing arriving; the run ends at the deadline, not after the polling. The
 * bound is loose (100 ms) because this is real time on a shared machine; the polling's
 * own length is what would show. */
START_TEST(busy_polling_keeps_the_deadline)
{
    loop_setup();
    ts_loop_set_idle(lw.loop, NULL, NULL);
    ts_loop_set_busy_poll(lw.loop, 200 * TS_MSEC);
    ts_time_t t0 = ts_loop_clock();
    ck_assert_int_eq(ts_loop_run(lw.loop, t0 + 5 * TS_MSEC), 0);
    ts_time_t took = ts_loop_clock() - t0;
    ck_assert_msg(took >= 5 * TS_MSEC && took < 100 * TS_MSEC, "ran %lld us", (long long)took);
    loop_teardown();
}
END_TEST

/* A child process pings the loop one request at a time, 100 us apart, so that each one
 * lands while the loop is busy polling (the poll reads the device itself, and looks at
 * the other descriptors only now and then); after the 20th it sends SIGTERM. Every
 * request must be answered meanwhile, and the signal must still end the run. The child
 * sends at most 20,000 requests (2 s) and is killed when the run ends. */
START_TEST(busy_polling_answers_a_trickle_and_sees_a_signal)
{
    loop_setup();
    ts_loop_set_idle(lw.loop, NULL, NULL);
    ts_loop_set_busy_poll(lw.loop, 10 * TS_MSEC);
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        uint8_t buf[64];
        for (uint16_t i = 0; i < 20000; i++) {
            echo_request(buf, i);
            if (send(lw.fd[1], buf, 36, MSG_DONTWAIT) != 36) _exit(1);
            if (i == 20) kill(getppid(), SIGTERM);
            usleep(100);
        }
        _exit(0);
    }
    ts_time_t t0 = ts_loop_clock();
    int r = ts_loop_run(lw.loop, t0 + 5 * TS_SEC);
    ts_time_t took = ts_loop_clock() - t0;
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    ck_assert_int_eq(r, 0);
    ck_assert_msg(lw.signalled && took < 4 * TS_SEC, "SIGTERM not seen: ran %lld us",
                  (long long)took);
    const ts_loop_stats *st = ts_loop_get_stats(lw.loop);
    ck_assert_uint_ge(st->pkts_in, 20);
    ck_assert_uint_eq(st->pkts_out, st->pkts_in); /* each request answered */
    uint8_t buf[2048];
    unsigned replies = 0;
    while (recv(lw.fd[1], buf, sizeof buf, MSG_DONTWAIT) > 0) replies++;
    ck_assert_uint_eq(replies, st->pkts_out);
    loop_teardown();
}
END_TEST

/* A device that closes while the loop polls it: an error at once, not a spin until the
 * deadline (a closed device reads as 0 bytes, which polling must not take for "nothing
 * yet"). */
START_TEST(busy_polling_a_closed_device_is_an_error)
{
    loop_setup();
    ts_loop_set_idle(lw.loop, NULL, NULL);
    ts_loop_set_busy_poll(lw.loop, 10 * TS_MSEC);
    close(lw.fd[1]);
    lw.fd[1] = socket(AF_UNIX, SOCK_DGRAM, 0); /* for the teardown to close */
    ts_time_t t0 = ts_loop_clock();
    ck_assert_int_eq(ts_loop_run(lw.loop, t0 + 2 * TS_SEC), -EIO);
    ck_assert_int_lt(ts_loop_clock() - t0, TS_SEC);
    loop_teardown();
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("tun_ring");
    TCase *lc = tcase_create("loop");
    tcase_add_test(lc, a_steady_stream_does_not_hide_a_signal);
    tcase_add_test(lc, a_steady_stream_does_not_hide_the_deadline);
    tcase_add_test(lc, busy_polling_keeps_the_deadline);
    tcase_add_test(lc, busy_polling_answers_a_trickle_and_sees_a_signal);
    tcase_add_test(lc, busy_polling_a_closed_device_is_an_error);
    tcase_set_timeout(lc, 20);
    suite_add_tcase(s, lc);
    TCase *tc = tcase_create("ring");
    tcase_add_test(tc, a_device_without_nowait_breaks_the_ring);
    tcase_add_test(tc, writes_leave_in_order_with_their_copied_headers);
    tcase_add_test(tc, reads_come_in_order_and_the_batch_adapts);
    tcase_add_test(tc, a_read_submits_the_queued_writes_first);
    tcase_add_test(tc, a_closed_device_is_an_error);
    tcase_add_test(tc, an_oversized_copy_is_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
