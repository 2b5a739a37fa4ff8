/* test_tun_ring.c: the io_uring ring of tun/tun_ring.c without a device: its descriptor
 * is one end of an AF_UNIX SOCK_SEQPACKET pair, which keeps every write a message of its
 * own and supports non-blocking reads as a TUN device does. Writes are queued and leave at
 * the submit, in order, with the bytes they were told to copy as they were at queueing;
 * reads come back in the order they were written, the batch growing while it comes back
 * full and shrinking when it comes back empty; a closed device is an error, not a loop. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
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
 * next finds 16 of 64, and an empty one shrinks the batch to its floor of 2. */
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
    ck_assert_uint_eq(ts_ring_batch(ring), 32);
    ck_assert_int_eq(ts_ring_read(ring, &tally, on_read, NULL), 0); /* empty: no wait */
    ck_assert_uint_eq(ts_ring_batch(ring), 2);
    ck_assert_uint_eq(tally.pkts, 0);
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

static Suite *suite(void)
{
    Suite *s = suite_create("tun_ring");
    TCase *tc = tcase_create("ring");
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
