/* pd_uaccess.c: copying to and from the script's buffers without trusting them. A kernel
 * answers a bad user pointer with EFAULT; packetdrill's syscall_bad_arg scripts pass NULL
 * to read/write/send/recv and expect exactly that, so the adapter must never dereference
 * a caller's buffer directly.
 *
 * The copy goes through process_vm_readv/process_vm_writev on our own pid: the kernel
 * does the copy and reports EFAULT for an unmapped or unwritable range instead of
 * faulting, at the cost of one system call per copy (no probing of pages, no signal
 * handlers, safe with other threads). A process may always access itself (the ptrace
 * access check passes for its own thread group). Where the calls are missing or refused
 * (ENOSYS, or EPERM under a seccomp filter), the fallback catches NULL and the first page
 * only and copies directly: a sound answer for what scripts pass, not for wild pointers. */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "pd.h"

static _Atomic bool vm_unavailable; /* the system refused process_vm_*: use the fallback */

static bool obviously_bad(const void *p, size_t n)
{
    return n && (uintptr_t)p < 4096;
}

/* Copy n bytes between us and the caller through the kernel; 0, or -EFAULT. */
static int vm_copy(void *local, void *remote, size_t n, bool to_remote)
{
    pid_t self = getpid();
    size_t done = 0;
    while (done < n) {
        struct iovec l = {.iov_base = (char *)local + done, .iov_len = n - done};
        struct iovec r = {.iov_base = (char *)remote + done, .iov_len = n - done};
        ssize_t k = to_remote ? process_vm_writev(self, &l, 1, &r, 1, 0)
                              : process_vm_readv(self, &l, 1, &r, 1, 0);
        if (k > 0) {
            done += (size_t)k;
            continue;
        }
        if (k < 0 && errno == EINTR) continue;
        if (k < 0 && (errno == ENOSYS || errno == EPERM)) {
            vm_unavailable = true;
            return 1; /* the caller falls back */
        }
        return -EFAULT;
    }
    return 0;
}

int pd_copy_in(void *dst, const void *usrc, size_t n)
{
    if (!n) return 0;
    if (obviously_bad(usrc, n)) return -EFAULT;
    if (!vm_unavailable) {
        int r = vm_copy(dst, (void *)usrc, n, false);
        if (r <= 0) return r;
    }
    memcpy(dst, usrc, n);
    return 0;
}

int pd_copy_out(void *udst, const void *src, size_t n)
{
    if (!n) return 0;
    if (obviously_bad(udst, n)) return -EFAULT;
    if (!vm_unavailable) {
        int r = vm_copy((void *)src, udst, n, true);
        if (r <= 0) return r;
    }
    memcpy(udst, src, n);
    return 0;
}
