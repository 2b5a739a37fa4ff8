/* test_pd_host.c: libtcpsim_pdhost.so, the getsockopt shim tools/conformance preloads into
 * packetdrill. This program is linked against the shim, so its plain getsockopt() calls go
 * through it just as packetdrill's do; it loads the adapter as packetdrill does (RTLD_LOCAL)
 * and checks that a tcpsim descriptor gets tcpsim's answers (TCP_INFO in Linux's full
 * layout, TCP_CC_INFO, SO_MEMINFO) while every other descriptor gets the host's.
 * Usage: test_pd_host PATH/libtcpsim_packetdrill.so */
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pd.h"
#include "pd_load.h"
#include "pd_tcp_info.h"

static const char *so_path;
static struct packetdrill_interface ifc;
static void *ud;

static void setup(void)
{
    ud = pd_load(so_path, "local=192.168.0.1", &ifc);
}

/* A tcpsim socket listening on port 8080. */
static int listener(void)
{
    int fd = ifc.socket(ud, AF_INET, SOCK_STREAM, IPPROTO_TCP);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(8080)};
    ck_assert_int_eq(ifc.bind(ud, fd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(ifc.listen(ud, fd, 1), 0);
    return fd;
}

START_TEST(tcp_info_of_a_tcpsim_socket)
{
    setup();
    int fd = listener();
    unsigned char buf[512];
    memset(buf, 0xee, sizeof buf);
    socklen_t len = sizeof buf;
    ck_assert_int_eq(getsockopt(fd, SOL_TCP, TCP_INFO, buf, &len), 0);
    ck_assert_uint_eq(len, sizeof(pd_tcp_info)); /* Linux's whole layout, not glibc's part */
    pd_tcp_info ti;
    memcpy(&ti, buf, sizeof ti);
    ck_assert_uint_eq(ti.state, 10); /* TCP_LISTEN */
    ck_assert_uint_eq(ti.ca_state, 0);
    len = sizeof buf;
    ck_assert_int_eq(getsockopt(fd, SOL_TCP, TCP_CC_INFO, buf, &len), 0);
    ck_assert_uint_eq(len, 0); /* CUBIC has no CC info to give, as on Linux */
    uint32_t mem[9];
    len = sizeof mem;
    ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len), 0);
    ck_assert_uint_eq(len, sizeof mem);
    ck_assert_uint_eq(mem[1], 15728640); /* rcvbuf: the packetdrill profile's tcp_rmem max */
    ck_assert_uint_eq(mem[0], 0);        /* nothing queued */
    /* a bad option gets the adapter's answer, not the host's ENOTSOCK */
    errno = 0;
    len = sizeof buf;
    ck_assert_int_eq(getsockopt(fd, SOL_TCP, 9999, buf, &len), -1);
    ck_assert_int_eq(errno, ENOPROTOOPT);
    ifc.free(ud);
    /* once the script is over the descriptor is closed: the host says so */
    errno = 0;
    len = sizeof buf;
    ck_assert_int_eq(getsockopt(fd, SOL_TCP, TCP_INFO, buf, &len), -1);
    ck_assert_int_eq(errno, EBADF);
}
END_TEST

START_TEST(other_descriptors_go_to_the_host)
{
    setup();
    (void)listener();
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    int type = 0;
    socklen_t len = sizeof type;
    ck_assert_int_eq(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &len), 0);
    ck_assert_int_eq(type, SOCK_STREAM);
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    errno = 0;
    len = sizeof type;
    ck_assert_int_eq(getsockopt(p[0], SOL_SOCKET, SO_TYPE, &type, &len), -1);
    ck_assert_int_eq(errno, ENOTSOCK);
    close(sv[0]), close(sv[1]), close(p[0]), close(p[1]);
    ifc.free(ud);
}
END_TEST

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_pd_host PATH/libtcpsim_packetdrill.so\n");
        return 2;
    }
    so_path = argv[1];
    Suite *su = suite_create("packetdrill_host_getsockopt");
    TCase *tc = tcase_create("shim");
    tcase_add_test(tc, tcp_info_of_a_tcpsim_socket);
    tcase_add_test(tc, other_descriptors_go_to_the_host);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
