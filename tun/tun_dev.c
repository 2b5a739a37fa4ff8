/* tun_dev.c: the TUN device: checking the configuration, creating the device with
 * IFF_TUN | IFF_NO_PI (so every read and write is one raw IPv4 packet), with IFF_VNET_HDR
 * and TUNSETOFFLOAD (TSO4, checksum) when offloads are asked for and the kernel has them,
 * and turning the kernel's errors into one line that says what to do. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tun.h"

struct ts_tun {
    int fd;
    unsigned ifindex;
    bool vnet_hdr, offload;
    char name[IFNAMSIZ];
    char offload_why[128];
};

static bool valid_ifname(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= IFNAMSIZ) return false;
    if (!strcmp(name, ".") || !strcmp(name, "..")) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c <= ' ' || c == '/' || c == ':' || c >= 0x7f || c == '%') return false;
    }
    return true;
}

static bool unusable_addr(uint32_t a)
{
    uint8_t top = (uint8_t)(a >> 24);
    return a == 0 || a == UINT32_MAX || top == 0 || top == 127 || top >= 224;
}

int ts_tun_check(const ts_tun_config *cfg, char *err, size_t errlen)
{
    char a[16], b[16];
    if (!valid_ifname(cfg->dev)) {
        snprintf(err, errlen,
                 "device name '%s' is not valid: use 1-15 characters without spaces, '/' or "
                 "':', e.g. --dev tun0",
                 cfg->dev);
        return -1;
    }
    if (cfg->prefix < 1 || cfg->prefix > 32) {
        snprintf(err, errlen,
                 "prefix length /%u is out of range: use 1..32, e.g. --peer 10.0.0.1/24",
                 cfg->prefix);
        return -1;
    }
    if (unusable_addr(cfg->stack_addr)) {
        snprintf(err, errlen,
                 "stack address %s cannot be used (zero, loopback, multicast or broadcast): pick "
                 "a unicast address, e.g. --addr 10.0.0.2",
                 ts_ip4_format(cfg->stack_addr, a));
        return -1;
    }
    if (unusable_addr(cfg->peer_addr)) {
        snprintf(err, errlen,
                 "linux address %s cannot be used (zero, loopback, multicast or broadcast): pick "
                 "a unicast address, e.g. --peer 10.0.0.1/24",
                 ts_ip4_format(cfg->peer_addr, a));
        return -1;
    }
    if (cfg->stack_addr == cfg->peer_addr) {
        snprintf(err, errlen,
                 "the stack and linux both have address %s: give them different addresses, e.g. "
                 "--addr 10.0.0.2 --peer 10.0.0.1/24",
                 ts_ip4_format(cfg->stack_addr, a));
        return -1;
    }
    uint32_t mask = cfg->prefix == 32 ? UINT32_MAX : ~(UINT32_MAX >> cfg->prefix);
    if (cfg->prefix <= 30 && (cfg->stack_addr & mask) == (cfg->peer_addr & mask)) {
        uint32_t host = cfg->stack_addr & ~mask;
        if (host == 0 || host == ~mask) {
            snprintf(err, errlen,
                     "stack address %s is the network or broadcast address of %s/%u: pick a host "
                     "address, e.g. --addr 10.0.0.2",
                     ts_ip4_format(cfg->stack_addr, a), ts_ip4_format(cfg->peer_addr, b),
                     cfg->prefix);
            return -1;
        }
    }
    if (cfg->mtu < TS_TUN_MTU_MIN || cfg->mtu > 65535) {
        snprintf(err, errlen,
                 "MTU %u is out of range: use %u..65535 (40 bytes of headers and an MSS of at "
                 "least 88), e.g. --mtu 1500",
                 cfg->mtu, TS_TUN_MTU_MIN);
        return -1;
    }
    return 0;
}

/* Turn the errno of open() or TUNSETIFF into advice. */
static void explain(int e, const char *what, const char *dev, char *err, size_t errlen)
{
    if (e == ENOENT || e == ENODEV || e == ENXIO)
        snprintf(err, errlen,
                 "%s: /dev/net/tun is missing (%s): load the tun module (modprobe tun) or, in a "
                 "container, pass the device in (docker run --device /dev/net/tun --cap-add "
                 "NET_ADMIN)",
                 what, strerror(e));
    else if (e == EACCES || e == EPERM)
        snprintf(err, errlen,
                 "%s: not permitted to create %s (%s): creating a TUN device needs "
                 "CAP_NET_ADMIN: run it as root, e.g. sudo ip netns exec NS tcpsim tun",
                 what, dev, strerror(e));
    else if (e == EBUSY || e == EEXIST)
        snprintf(err, errlen,
                 "%s: device name %s is in use: pick another with --dev NAME or remove it "
                 "(ip link del %s)",
                 what, dev, dev);
    else
        snprintf(err, errlen, "%s: creating %s failed: %s", what, dev, strerror(e));
}

/* TSO4 needs checksum offload; with both, Linux hands the device 64 KB super-segments
 * with partial checksums and takes ours. The header's size stays the default, 10 bytes
 * (struct virtio_net_hdr). If the kernel refuses, the device stays as it is with
 * IFF_VNET_HDR and no offloads: the header is still there, all zero both ways. */
static void set_offload(ts_tun *t)
{
    int hdr = 0;
    if (ioctl(t->fd, TUNGETVNETHDRSZ, &hdr) < 0 || hdr != 10) {
        snprintf(t->offload_why, sizeof t->offload_why,
                 "the device's virtio_net_hdr is %d bytes, not 10", hdr);
        return;
    }
    if (ioctl(t->fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4)) < 0) {
        snprintf(t->offload_why, sizeof t->offload_why,
                 "the kernel refused TUNSETOFFLOAD(TSO4, checksum): %s", strerror(errno));
        return;
    }
    t->offload = true;
}

ts_tun *ts_tun_open(const ts_tun_config *cfg, char *err, size_t errlen)
{
    if (ts_tun_check(cfg, err, errlen) < 0) return NULL;
    /* A device of that name already there (a veth, another tcpsim, a persistent tun): say
     * so rather than attach to it, since closing would then remove someone else's. */
    if (if_nametoindex(cfg->dev) != 0) {
        explain(EEXIST, "tun", cfg->dev, err, errlen);
        return NULL;
    }
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        explain(errno, "open /dev/net/tun", cfg->dev, err, errlen);
        return NULL;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (cfg->offload ? IFF_VNET_HDR : 0);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", cfg->dev);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        explain(errno, "TUNSETIFF", cfg->dev, err, errlen);
        close(fd);
        return NULL;
    }
    ts_tun *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        close(fd);
        return NULL;
    }
    t->fd = fd;
    t->vnet_hdr = cfg->offload;
    if (cfg->offload) set_offload(t);
    snprintf(t->name, sizeof t->name, "%s", ifr.ifr_name);
    t->ifindex = if_nametoindex(t->name);
    if (t->ifindex == 0) {
        snprintf(err, errlen, "device %s vanished right after it was created: %s", t->name,
                 strerror(errno));
        ts_tun_close(t);
        return NULL;
    }
    /* IPv6 would put router solicitations and MLD reports on the wire tcpdump shows;
     * the stack is IPv4 only. Best effort: the sysctl may be absent. */
    char path[96];
    snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", t->name);
    int pfd = open(path, O_WRONLY | O_CLOEXEC);
    if (pfd >= 0) {
        if (write(pfd, "1\n", 2) < 0) { /* not fatal */
        }
        close(pfd);
    }
    uint32_t mask = cfg->prefix == 32 ? UINT32_MAX : ~(UINT32_MAX >> cfg->prefix);
    uint32_t route_to = (cfg->stack_addr & mask) == (cfg->peer_addr & mask) ? 0 : cfg->stack_addr;
    char nlerr[200];
    if (ts_nl_configure(t->ifindex, cfg->peer_addr, cfg->prefix, cfg->mtu, route_to, nlerr,
                        sizeof nlerr) < 0) {
        snprintf(err, errlen, "configuring %s: %s", t->name, nlerr);
        ts_tun_close(t);
        return NULL;
    }
    return t;
}

int ts_tun_fd(const ts_tun *t)
{
    return t->fd;
}
const char *ts_tun_name(const ts_tun *t)
{
    return t->name;
}
bool ts_tun_offload(const ts_tun *t)
{
    return t->offload;
}
bool ts_tun_vnet_hdr(const ts_tun *t)
{
    return t->vnet_hdr;
}
const char *ts_tun_offload_why(const ts_tun *t)
{
    return t->offload_why;
}

long long ts_tun_tx_dropped(const ts_tun *t)
{
    char path[96];
    snprintf(path, sizeof path, "/sys/class/net/%s/statistics/tx_dropped", t->name);
    FILE *f = fopen(path, "re");
    if (!f) return -1;
    long long v = -1;
    if (fscanf(f, "%lld", &v) != 1) v = -1;
    fclose(f);
    return v;
}

void ts_tun_close(ts_tun *t)
{
    if (!t) return;
    if (t->fd >= 0) close(t->fd);
    free(t);
}
