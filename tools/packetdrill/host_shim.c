/* host_shim.c: libtcpsim_pdhost.so, preloaded into packetdrill (LD_PRELOAD) so that the
 * getsockopt calls packetdrill makes with the host's libc (TCP_INFO, TCP_CC_INFO and
 * SO_MEMINFO for a script's `%{ ... }%` blocks) reach tcpsim when the descriptor is one of
 * its sockets. It owns nothing else: every other descriptor, and every call made before
 * packetdrill has loaded the adapter, goes to the next getsockopt (libc's).
 *
 * packetdrill loads the adapter with RTLD_LOCAL, so its symbols are not in the global
 * scope: the shim walks the loaded objects and asks each, without loading anything
 * (RTLD_NOLOAD), for tcpsim_pd_host_getsockopt. The first one found is kept: packetdrill
 * loads the adapter once, with RTLD_NODELETE. Built without sanitizers, so it can be
 * preloaded into any packetdrill binary. */
#include <dlfcn.h>
#include <link.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/socket.h>

typedef int (*getsockopt_fn)(int, int, int, void *, socklen_t *);
typedef int (*adapter_fn)(int, int, int, void *, socklen_t *, int *);

static _Atomic(adapter_fn) adapter;

#define MAX_OBJECTS 256

typedef struct objects {
    const char *name[MAX_OBJECTS];
    int n;
} objects;

static int list_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    objects *o = arg;
    if (info->dlpi_name && info->dlpi_name[0] && o->n < MAX_OBJECTS) /* "": the executable */
        o->name[o->n++] = info->dlpi_name;
    return 0;
}

/* The names are listed first and looked at after dl_iterate_phdr returns: dlopen is not
 * called while the loader's list is being walked. */
static adapter_fn find_adapter(void)
{
    objects o = {.n = 0};
    dl_iterate_phdr(list_object, &o);
    for (int i = 0; i < o.n; i++) {
        void *h = dlopen(o.name[i], RTLD_NOW | RTLD_NOLOAD);
        if (!h) continue;
        void *f = dlsym(h, "tcpsim_pd_host_getsockopt");
        dlclose(h); /* only drops the reference RTLD_NOLOAD took */
        if (f) return (adapter_fn)f;
    }
    return NULL;
}

__attribute__((visibility("default"))) int getsockopt(int fd, int level, int name, void *val,
                                                      socklen_t *len)
{
    static _Atomic(getsockopt_fn) next;
    getsockopt_fn real = atomic_load(&next);
    if (!real) {
        real = (getsockopt_fn)dlsym(RTLD_NEXT, "getsockopt");
        atomic_store(&next, real);
    }
    adapter_fn a = atomic_load(&adapter);
    if (!a) {
        a = find_adapter();
        if (a) atomic_store(&adapter, a);
    }
    if (a) {
        int handled = 0;
        int r = a(fd, level, name, val, len, &handled);
        if (handled) return r;
    }
    return real(fd, level, name, val, len);
}
