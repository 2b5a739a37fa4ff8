/* churn.c: the client of the TUN test test_churn.py (issue 13's connection churn): COUNT
 * sequential connect+close to DST:PORT, each a blocking connect() then close(), timed with
 * CLOCK_MONOTONIC. A refused or failed connect is counted, and the run goes on. Bounded in
 * count; run only inside the test's own network namespace (run.sh makes it).
 *   churn DST PORT COUNT [linger0]   prints "done N refused R failed F in S s: RATE/s"
 * With linger0 each close is an RST (SO_LINGER 0) and leaves no TIME-WAIT; without it the
 * client closes first and holds TIME-WAIT, so the namespace needs net.ipv4.tcp_tw_reuse=1
 * and a wide ip_local_port_range for COUNT beyond what 60 s of TIME-WAIT leaves free.
 *   churn serve PORT                   the kernel's side for a comparison (over veth): one
 *                                      thread, accept, read to EOF, close, forever */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_COUNT 10000000UL

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int serve(unsigned port)
{
    int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 4096) < 0) {
        fprintf(stderr, "churn serve: %s\n", strerror(errno));
        return 1;
    }
    fprintf(stderr, "churn: serving on %u\n", port);
    char buf[4096];
    for (;;) {
        int c = accept(l, NULL, NULL);
        if (c < 0) continue;
        while (read(c, buf, sizeof buf) > 0) {
        }
        close(c);
    }
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "serve")) return serve((unsigned)strtoul(argv[2], NULL, 10));
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: churn DST PORT COUNT [linger0] | churn serve PORT\n");
        return 2;
    }
    struct sockaddr_in dst = {.sin_family = AF_INET};
    unsigned long port = strtoul(argv[2], NULL, 10), count = strtoul(argv[3], NULL, 10);
    bool linger0 = argc == 5 && !strcmp(argv[4], "linger0");
    if (inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1 || !port || port > 65535 || !count ||
        count > MAX_COUNT) {
        fprintf(stderr, "churn: bad address, port or count (at most %lu)\n", MAX_COUNT);
        return 2;
    }
    dst.sin_port = htons((uint16_t)port);
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    unsigned long refused = 0, failed = 0, first_errno = 0;
    double t0 = now_s();
    for (unsigned long i = 0; i < count; i++) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        if (s < 0) {
            fprintf(stderr, "churn: socket: %s\n", strerror(errno));
            return 1;
        }
        if (linger0) setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        if (connect(s, (struct sockaddr *)&dst, sizeof dst) < 0) {
            if (!first_errno) first_errno = (unsigned long)errno;
            if (errno == ECONNREFUSED)
                refused++;
            else
                failed++;
        }
        close(s);
    }
    double dt = now_s() - t0;
    printf("done %lu refused %lu failed %lu in %.3f s: %.0f/s%s%s\n", count, refused, failed, dt,
           (double)count / dt, first_errno ? " first error: " : "",
           first_errno ? strerror((int)first_errno) : "");
    return 0;
}
