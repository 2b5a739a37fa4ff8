/* pd.h: the packetdrill adapter's shared state. packetdrill loads libtcpsim_packetdrill.so
 * and drives one tcpsim stack through a table of function pointers: socket calls, a fake
 * network device and a clock. Everything here runs in virtual time: the clock moves only
 * when packetdrill asks for the time, sleeps, or waits for a packet. */
#ifndef TS_PD_H
#define TS_PD_H

#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include "tcpsim/tcpsim.h"

/* The interface packetdrill fills through packetdrill_interface_init(), declared from its
 * documented layout: userdata, then one pointer per libc call, each taking userdata first.
 * The order is the ABI and must not change. */
struct packetdrill_interface {
    void *userdata;
    void (*free)(void *userdata);
    int (*socket)(void *userdata, int domain, int type, int protocol);
    int (*bind)(void *userdata, int sockfd, const struct sockaddr *addr, socklen_t addrlen);
    int (*listen)(void *userdata, int sockfd, int backlog);
    int (*accept)(void *userdata, int sockfd, struct sockaddr *addr, socklen_t *addrlen);
    int (*connect)(void *userdata, int sockfd, const struct sockaddr *addr, socklen_t addrlen);
    ssize_t (*read)(void *userdata, int fd, void *buf, size_t count);
    ssize_t (*readv)(void *userdata, int fd, const struct iovec *iov, int iovcnt);
    ssize_t (*recv)(void *userdata, int sockfd, void *buf, size_t len, int flags);
    ssize_t (*recvfrom)(void *userdata, int sockfd, void *buf, size_t len, int flags,
                        struct sockaddr *src_addr, socklen_t *addrlen);
    ssize_t (*recvmsg)(void *userdata, int sockfd, struct msghdr *msg, int flags);
    ssize_t (*write)(void *userdata, int fd, const void *buf, size_t count);
    ssize_t (*writev)(void *userdata, int fd, const struct iovec *iov, int iovcnt);
    ssize_t (*send)(void *userdata, int sockfd, const void *buf, size_t len, int flags);
    ssize_t (*sendto)(void *userdata, int sockfd, const void *buf, size_t len, int flags,
                      const struct sockaddr *dest_addr, socklen_t addrlen);
    ssize_t (*sendmsg)(void *userdata, int sockfd, const struct msghdr *msg, int flags);
    int (*fcntl)(void *userdata, int fd, int cmd, ...);
    int (*ioctl)(void *userdata, int fd, unsigned long request, ...);
    int (*close)(void *userdata, int fd);
    int (*shutdown)(void *userdata, int sockfd, int how);
    int (*getsockopt)(void *userdata, int sockfd, int level, int optname, void *optval,
                      socklen_t *optlen);
    int (*setsockopt)(void *userdata, int sockfd, int level, int optname, const void *optval,
                      socklen_t optlen);
    int (*poll)(void *userdata, struct pollfd *fds, nfds_t nfds, int timeout);
    int (*netdev_send)(void *userdata, const void *buf, size_t count);
    int (*netdev_receive)(void *userdata, void *buf, size_t *count, long long *time_usecs);
    int (*usleep)(void *userdata, useconds_t usec);
    int (*gettimeofday)(void *userdata, struct timeval *tv, struct timezone *tz);
    int (*epoll_create)(void *userdata, int size);
    int (*epoll_ctl)(void *userdata, int epfd, int op, int fd, struct epoll_event *event);
    int (*epoll_wait)(void *userdata, int epfd, struct epoll_event *events, int maxevents,
                      int timeout);
    int (*pipe)(void *userdata, int pipefd[2]);
    int (*splice)(void *userdata, int fd_in, loff_t *off_in, int fd_out, loff_t *off_out,
                  size_t len, unsigned int flags);
};

/* The one exported symbol. */
void packetdrill_interface_init(const char *flags, struct packetdrill_interface *ifc);

/* How far netdev_receive runs the virtual clock looking for a packet before giving up. */
#define PD_HORIZON (600 * TS_SEC)
/* Where the virtual clock starts (any value; packetdrill only looks at differences). */
#define PD_EPOCH (1000 * TS_SEC)
#define PD_QUEUE 1024 /* packets the stack may emit before packetdrill reads them */

/* A packet the stack sent, stamped with its virtual emission time. Slots are reused. */
typedef struct pd_pkt {
    uint8_t *buf;
    size_t cap, len;
    ts_time_t t;
} pd_pkt;

struct pd_epoll;

/* A host descriptor that stands for a tcpsim socket, or for an epoll instance (ep set;
 * pd_fd_get finds sockets only, pd_ep_get epoll instances only). */
typedef struct pd_fd {
    bool used;
    struct pd_epoll *ep;
    int sd;
    bool inq;                     /* TCP_INQ: recvmsg reports the bytes left to read (TCP_CM_INQ) */
    int pmtudisc;                 /* IP_MTU_DISCOVER, kept for getsockopt */
    uint64_t wakes_in, wakes_out; /* wake-ups of readers and writers so far (EPOLLET) */
    bool nospace;                 /* a writer found no room: the next writable wake-up counts */
    bool nonblock;
    bool reuseaddr;
    bool linger_zero; /* SO_LINGER {1, 0}: close resets */
    struct linger linger;
} pd_fd;

/* A thread blocked in a socket call; the clock's owner waits for all of them to have looked
 * at the latest state before it moves time on (see pd_settle). */
typedef struct pd_waiter {
    uint64_t seen;
    struct pd_waiter *next;
} pd_waiter;

typedef struct pd {
    pthread_mutex_t mu;
    pthread_cond_t changed; /* the stack's state moved: blocked calls re-check */
    pthread_cond_t settled; /* a blocked call looked at the state again */
    pthread_t main_thread;  /* packetdrill's main thread drives the clock */
    ts_stack *st;
    ts_time_t now;
    uint64_t epoch; /* bumped on every change of stack state */
    pd_waiter *waiters;
    pd_pkt q[PD_QUEUE];
    size_t q_head, q_len;
    uint64_t q_dropped;
    pd_fd *fds;
    int nfds;
    uint8_t *scratch; /* bounce buffer for one receive, used only under mu without waiting */
    size_t scratch_cap;
    int *sd_fd; /* tcpsim socket -> host descriptor, for readiness callbacks */
    int nsd_fd;
} pd;

/* pd_core.c: clock, packets, waits, descriptors. Callers hold pd->mu. */
void pd_advance(pd *p, ts_time_t t);
void pd_changed(pd *p);
/* Wait until every blocked call has looked at the current state. */
void pd_settle(pd *p);
/* Block until ready(p, arg) is true or the virtual deadline passes (TS_TIME_NEVER: none).
 * On packetdrill's main thread nobody else moves the clock, so the call moves it itself,
 * through the stack's timers. Returns true if ready. */
bool pd_wait(pd *p, bool (*ready)(pd *p, void *arg), void *arg, ts_time_t deadline);
pd_fd *pd_fd_get(pd *p, int fd);
int pd_fd_new(pd *p, int sd);
void pd_fd_drop(pd *p, int fd);
int pd_err(int neg_errno); /* sets errno from a negative errno, returns -1 */
/* Register a tcpsim socket's readiness callback for descriptor fd (pd_fd_new does it). */
void pd_fd_watch(pd *p, int fd);
void *pd_scratch(pd *p, size_t len);

/* pd_uaccess.c: copies to and from the script's memory; 0 or -EFAULT, never a crash. */
int pd_copy_in(void *dst, const void *usrc, size_t n);
int pd_copy_out(void *udst, const void *src, size_t n);

/* pd_epoll.c: epoll instances over tcpsim sockets. */
void pd_fill_epoll_calls(struct packetdrill_interface *ifc);
void pd_epoll_forget(pd *p, int fd); /* fd is closing: drop it from every instance */
void pd_epoll_free(struct pd_epoll *ep);
/* The poll(2) bits for a socket descriptor now (POLLIN, POLLOUT, ...; POLLNVAL if none). */
short pd_revents(pd *p, int fd);

/* pd_flags.c: --so_flags. */
int pd_parse_flags(const char *flags, ts_stack_config *cfg, char *err, size_t errlen);

/* pd_socket.c: the socket calls. */
void pd_fill_socket_calls(struct packetdrill_interface *ifc);
/* pd_sockopt.c: socket options, fcntl, ioctl, poll and what is not supported. */
void pd_fill_option_calls(struct packetdrill_interface *ifc);
/* pd_host.c: the running instance, for getsockopt calls packetdrill makes on the host. */
void pd_host_register(pd *p, const struct packetdrill_interface *ifc);
void pd_host_unregister(pd *p);
/* Exported for libtcpsim_pdhost.so (tools/packetdrill/host_shim.c). */
int tcpsim_pd_host_getsockopt(int fd, int level, int name, void *val, socklen_t *len, int *handled);

#endif
