/* test_tools_pcap.c: the pcap writer: files read back with libpcap as LINKTYPE_RAW with
 * the exact time stamps and bytes, one-line errors for bad paths, and (when tcpdump is
 * installed) tcpdump's own reading of the file matches ts_format_packet line for line. */
#include <check.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcapw.h"
#include "tcpsim/checksum.h"
#include "tcpsim/format.h"
#include "harness.h"

static char path[64];

static void make_path(void)
{
    snprintf(path, sizeof path, "/tmp/ts_pcap_test_XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
}

/* The founding chapter's SYN, then its server's SYN-ACK with 5 data bytes, then a ping. */
static size_t packet(int i, uint8_t *p)
{
    static const uint8_t syn[] = {
        0x45, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, 10,   0,    0,
        103,  10,   0,    0,    199,  0xd9, 0x12, 0x18, 0xeb, 0xe4, 0xf7, 0x4f, 0x02, 0,    0,
        0,    0,    0xa0, 0x02, 0xfa, 0xf0, 0,    0,    0,    0,    2,    4,    0x05, 0xb4, 4,
        2,    8,    10,   0x44, 0xd6, 0x00, 0x61, 0,    0,    0,    0,    1,    3,    3,    7};
    static const uint8_t synack_data[] = {
        0x45, 0x00, 0x00, 0x2d, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, 10,   0,    0,
        199,  10,   0,    0,    103,  0x30, 0x39, 0x9c, 0x40, 0xeb, 0x20, 0x0e, 0x6f, 0xe4, 0xf7,
        0x4f, 0x03, 0x50, 0x18, 0xfe, 0x88, 0,    0,    0,    0,    'h',  'e',  'l',  'l',  'o'};
    static const uint8_t ping[] = {0x45, 0, 0,  28, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0,
                                   0,    1, 10, 0,  0, 2, 8, 0, 0,  0, 0, 7, 0,  1};
    const uint8_t *src[] = {syn, synack_data, ping};
    size_t len[] = {sizeof syn, sizeof synack_data, sizeof ping};
    memcpy(p, src[i], len[i]);
    uint16_t c = ts_csum(p, 20);
    p[10] = (uint8_t)(c >> 8), p[11] = (uint8_t)c;
    return len[i];
}

static const ts_time_t stamps[3] = {0, 1500000, 31000007};

static void write_file(void)
{
    char err[256];
    ts_pcapw *w = ts_pcapw_open(path, err, sizeof err);
    ck_assert_msg(w != NULL, "%s", err);
    for (int i = 0; i < 3; i++) {
        uint8_t p[128];
        size_t n = packet(i, p);
        ts_pcapw_write(w, stamps[i], p, n);
    }
    ts_pcapw_flush(w);
    ts_pcapw_close(w);
}

START_TEST(write_and_read_back)
{
    make_path();
    write_file();
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *r = pcap_open_offline(path, err);
    ck_assert_msg(r != NULL, "%s", err);
    ck_assert_int_eq(pcap_datalink(r), DLT_RAW);
    for (int i = 0; i < 3; i++) {
        struct pcap_pkthdr *h;
        const u_char *data;
        ck_assert_int_eq(pcap_next_ex(r, &h, &data), 1);
        uint8_t p[128];
        size_t n = packet(i, p);
        ck_assert_uint_eq(h->caplen, n);
        ck_assert_uint_eq(h->len, n);
        ck_assert_int_eq(h->ts.tv_sec, (long)(stamps[i] / 1000000));
        ck_assert_int_eq(h->ts.tv_usec, (long)(stamps[i] % 1000000));
        ck_assert_mem_eq(data, p, n);
    }
    struct pcap_pkthdr *h;
    const u_char *data;
    ck_assert_int_eq(pcap_next_ex(r, &h, &data), PCAP_ERROR_BREAK);
    pcap_close(r);
    unlink(path);
}
END_TEST

START_TEST(tcpdump_agrees_with_format)
{
    if (access("/usr/bin/tcpdump", X_OK) && access("/usr/sbin/tcpdump", X_OK)) return;
    make_path();
    write_file();
    char cmd[160];
    snprintf(cmd, sizeof cmd, "PATH=/usr/sbin:/usr/bin:$PATH tcpdump -n -S -tt -r %s 2>/dev/null",
             path);
    FILE *f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    char got[512];
    int i = 0;
    while (fgets(got, sizeof got, f) && i < 3) {
        got[strcspn(got, "\n")] = 0;
        uint8_t p[128];
        size_t n = packet(i, p);
        char want[512], t[32];
        ts_format_time(stamps[i], true, t, sizeof t);
        size_t off = (size_t)snprintf(want, sizeof want, "%s ", t);
        ts_format_packet(p, n, want + off, sizeof want - off);
        ck_assert_str_eq(got, want);
        i++;
    }
    pclose(f);
    ck_assert_int_eq(i, 3);
    unlink(path);
}
END_TEST

START_TEST(open_errors)
{
    char err[256] = "";
    ck_assert_ptr_null(ts_pcapw_open("-", err, sizeof err));
    ck_assert_str_eq(err, "pcap: a file name is needed ('-' is not allowed)");
    ck_assert_ptr_null(ts_pcapw_open("/nonexistent-dir-ts/x.pcap", err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "pcap: cannot write '/nonexistent-dir-ts/x.pcap'"));
    ck_assert_ptr_null(strchr(err, '\n'));
    ts_pcapw_write(NULL, 0, NULL, 0); /* NULL writer is a no-op, as is closing it */
    ts_pcapw_flush(NULL);
    ts_pcapw_close(NULL);
}
END_TEST

/* A write that fails (a full disk) is reported at close, not lost in silence. */
START_TEST(full_disk)
{
    char err[256] = "";
    ts_pcapw *w = ts_pcapw_open("/dev/full", err, sizeof err);
    ck_assert_msg(w != NULL, "%s", err);
    uint8_t p[128];
    size_t n = packet(0, p);
    ts_pcapw_write(w, 0, p, n);
    ck_assert_int_eq(ts_pcapw_close(w), -1);
    ck_assert_int_eq(ts_pcapw_close(NULL), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tools_pcap");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, write_and_read_back);
    tcase_add_test(tc, full_disk);
    tcase_add_test(tc, tcpdump_agrees_with_format);
    tcase_add_test(tc, open_errors);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
