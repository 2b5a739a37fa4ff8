/* tun_netlink.c: configuring the Linux side of the device through rtnetlink with libmnl:
 * address, MTU, link up and, when the prefix does not cover the stack, a host route. Each
 * request asks for an ACK so that a refusal comes back as one clear error. */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tun.h"

typedef struct nl_ctx {
    struct mnl_socket *sock;
    unsigned portid;
    unsigned seq;
    char buf[16384]; /* ACKs and errors only: small */
} nl_ctx;

/* Send the request in ctx->buf and wait for its ACK; 0 or -errno. */
static int nl_talk(nl_ctx *c, struct nlmsghdr *nlh)
{
    if (mnl_socket_sendto(c->sock, nlh, nlh->nlmsg_len) < 0) return -errno;
    unsigned seq = nlh->nlmsg_seq;
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(c->sock, c->buf, sizeof c->buf);
        if (n < 0) return -errno;
        int r = mnl_cb_run(c->buf, (size_t)n, seq, c->portid, NULL, NULL);
        if (r < 0) return -errno;
        if (r == MNL_CB_STOP) return 0;
    }
}

static struct nlmsghdr *nl_begin(nl_ctx *c, uint16_t type, uint16_t flags)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(c->buf);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
    nlh->nlmsg_seq = ++c->seq;
    return nlh;
}

static int nl_set_link(nl_ctx *c, unsigned ifindex, unsigned mtu)
{
    struct nlmsghdr *nlh = nl_begin(c, RTM_NEWLINK, 0);
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = (int)ifindex;
    ifi->ifi_flags = IFF_UP;
    ifi->ifi_change = IFF_UP;
    mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
    return nl_talk(c, nlh);
}

static int nl_add_addr(nl_ctx *c, unsigned ifindex, uint32_t addr, unsigned prefix)
{
    struct nlmsghdr *nlh = nl_begin(c, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
    struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof *ifa);
    ifa->ifa_family = AF_INET;
    ifa->ifa_prefixlen = (unsigned char)prefix;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_index = ifindex;
    uint32_t be = htonl(addr);
    mnl_attr_put_u32(nlh, IFA_LOCAL, be);
    mnl_attr_put_u32(nlh, IFA_ADDRESS, be);
    if (prefix <= 30) {
        uint32_t mask = ~(UINT32_MAX >> prefix);
        mnl_attr_put_u32(nlh, IFA_BROADCAST, htonl(addr | ~mask));
    }
    return nl_talk(c, nlh);
}

static int nl_add_route(nl_ctx *c, unsigned ifindex, uint32_t dst)
{
    struct nlmsghdr *nlh = nl_begin(c, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
    struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof *rtm);
    rtm->rtm_family = AF_INET;
    rtm->rtm_dst_len = 32;
    rtm->rtm_table = RT_TABLE_MAIN;
    rtm->rtm_protocol = RTPROT_STATIC;
    rtm->rtm_scope = RT_SCOPE_LINK;
    rtm->rtm_type = RTN_UNICAST;
    mnl_attr_put_u32(nlh, RTA_DST, htonl(dst));
    mnl_attr_put_u32(nlh, RTA_OIF, ifindex);
    return nl_talk(c, nlh);
}

int ts_nl_configure(unsigned ifindex, uint32_t addr, unsigned prefix, unsigned mtu,
                    uint32_t route_to, char *err, size_t errlen)
{
    static nl_ctx c; /* 8 KiB+ of buffer: keep it off the stack; used once at start-up */
    char a[16];
    memset(&c, 0, sizeof c);
    c.seq = (unsigned)time(NULL);
    c.sock = mnl_socket_open(NETLINK_ROUTE);
    if (!c.sock) {
        snprintf(err, errlen, "netlink socket: %s", strerror(errno));
        return -1;
    }
    if (mnl_socket_bind(c.sock, 0, MNL_SOCKET_AUTOPID) < 0) {
        snprintf(err, errlen, "netlink bind: %s", strerror(errno));
        mnl_socket_close(c.sock);
        return -1;
    }
    c.portid = mnl_socket_get_portid(c.sock);
    int r = nl_add_addr(&c, ifindex, addr, prefix);
    if (r < 0) {
        snprintf(err, errlen, "adding address %s/%u: %s%s", ts_ip4_format(addr, a), prefix,
                 strerror(-r),
                 r == -EPERM    ? " (needs CAP_NET_ADMIN: run as root)"
                 : r == -EEXIST ? " (another interface has it: pick another with --peer)"
                                : "");
        goto fail;
    }
    r = nl_set_link(&c, ifindex, mtu);
    if (r < 0) {
        snprintf(err, errlen, "setting MTU %u and bringing the link up: %s", mtu, strerror(-r));
        goto fail;
    }
    if (route_to) {
        r = nl_add_route(&c, ifindex, route_to);
        if (r < 0) {
            snprintf(err, errlen, "adding a route to %s: %s%s", ts_ip4_format(route_to, a),
                     strerror(-r),
                     r == -EEXIST ? " (a route to it exists already: remove it or pick "
                                    "another --addr)"
                                  : "");
            goto fail;
        }
    }
    mnl_socket_close(c.sock);
    return 0;
fail:
    mnl_socket_close(c.sock);
    return -1;
}
