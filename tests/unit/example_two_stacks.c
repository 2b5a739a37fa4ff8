/* example_two_stacks.c: the README's example: two stacks talking in-process. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "tcpsim/tcpsim.h"

static struct {
    uint8_t pkt[2048];
    size_t len;
    int to;
} q[256];
static int nq;
static void out(void *to, const uint8_t *pkt, size_t len) /* queue, deliver later */
{
    memcpy(q[nq].pkt, pkt, len), q[nq].len = len, q[nq++].to = (int)(intptr_t)to;
}

int main(void)
{
    ts_stack *st[2];
    for (int i = 0; i < 2; i++) {
        ts_stack_config cfg;
        ts_stack_config_init(&cfg);
        cfg.addr = TS_IP4(10, 0, 0, 1 + i);
        cfg.output = out, cfg.output_ctx = (void *)(intptr_t)(1 - i);
        st[i] = ts_stack_create(&cfg, NULL, 0);
    }
    int lsd = ts_socket(st[1]), csd = ts_socket(st[0]), ssd = -1;
    ts_bind(st[1], lsd, 0, 7), ts_listen(st[1], lsd, 8);
    ts_connect(st[0], csd, TS_IP4(10, 0, 0, 2), 7); /* -EINPROGRESS: the SYN is queued */
    char buf[64] = "";
    for (ts_time_t now = 0; now < 100 * TS_MSEC; now += TS_MSEC) { /* 1 ms steps */
        for (int i = 0; i < nq; i++) ts_stack_input(st[q[i].to], now, q[i].pkt, q[i].len);
        nq = 0;
        ts_stack_poll(st[0], now), ts_stack_poll(st[1], now); /* timers */
        if (ssd < 0 && (ssd = ts_accept(st[1], lsd, NULL)) >= 0)
            ts_send(st[0], csd, "hello, tcpsim", 13);
        if (ssd >= 0 && ts_recv(st[1], ssd, buf, sizeof buf - 1) > 0) printf("got: %s\n", buf);
    }
    ts_stack_destroy(st[0]), ts_stack_destroy(st[1]);
    return strcmp(buf, "hello, tcpsim") != 0;
}
