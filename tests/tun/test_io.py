"""--io: how packets cross the device (issue 13). By default through the io_uring ring
(--stats: device.uring 1, io_uring_enter calls in device.submits; those that moved packets,
the submits less the busy poll's empty rounds in device.empty_polls, far fewer than packets);
--io rw keeps a read() or write() per packet (device.uring 0, no submits); where
io_uring_setup is refused (here by a seccomp filter, as a container's profile may do) the
ready line says why and the runner works as with --io rw. In each, 8 MiB through echo and
8 MiB from chargen come back exact, with offloads on and off."""
import sys
import tunlib as t

N = 8 << 20

# Run argv[1:] with io_uring_setup (425 in the common syscall table: x86_64, arm64, i386)
# failing with ENOSYS; no other call is touched. Python's ctypes, no libseccomp needed.
NO_URING = r"""
import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
ld, jeq, ret = 0x20, 0x15, 0x06
allow, enosys = 0x7fff0000, 0x00050000 | 38
prog = [(ld, 0, 0, 0), (jeq, 0, 1, 425), (ret, 0, 0, enosys), (ret, 0, 0, allow)]
raw = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *f) for f in prog))
class Fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
fp = Fprog(len(prog), ctypes.cast(raw, ctypes.c_void_p))
if libc.prctl(38, 1, 0, 0, 0) or libc.prctl(22, 2, ctypes.byref(fp), 0, 0):
    sys.exit("seccomp: %s" % os.strerror(ctypes.get_errno()))
os.execv(sys.argv[1], sys.argv[1:])
"""


def run(label, args, pre=(), ready_has=None, ready_lacks=None):
    argv = list(pre) + [t.TCPSIM, "tun", "--stats"] + args
    p = t.Proc(argv, name="tcpsim")
    line = p.wait_err(r"^tcpsim: \S+ up: ", timeout=10).string
    if ready_has:
        t.check(ready_has in line, "%s: ready line %r lacks %r" % (label, line, ready_has))
    if ready_lacks:
        t.check(ready_lacks not in line, "%s: ready line %r has %r" % (label, line, ready_lacks))
    t.echo_transfer(N)
    t.chargen_transfer(N)
    t.stop_tcpsim(p)
    st = t.stats(p, must="device.uring")
    t.log("%-28s uring %d, %7d packets read, %7d written, %6d submits (%d empty), %5d wake-ups" %
          (label, st["device.uring"], st["device.read"], st["device.written"],
           st["device.submits"], st["device.empty_polls"], st["device.wakeups"]))
    t.check(st["device.write_errors"] == 0, "%s: %d write errors" %
            (label, st["device.write_errors"]))
    return st


def test():
    for off in (["--offload", "off"], []):
        name = "offload off" if off else "offload on"
        st = run("ring, " + name, off, ready_lacks="io rw")
        t.check(st["device.uring"] == 1, "default: the ring is not in use")
        # The busy poll's rounds are submits too, as many as time allows, not packets:
        # batching is in the submits that moved something.
        moved = st["device.submits"] - st["device.empty_polls"]
        t.check(0 < moved < (st["device.read"] + st["device.written"]) / 2,
                "default: %d submits moved %d packets read and %d written: not batched" %
                (moved, st["device.read"], st["device.written"]))
        st = run("--io rw, " + name, off + ["--io", "rw"], ready_lacks="io rw")
        t.check(st["device.uring"] == 0 and st["device.submits"] == 0,
                "--io rw: uring %d, %d submits" % (st["device.uring"], st["device.submits"]))
    st = run("io_uring refused", ["--offload", "off"], pre=[sys.executable, "-c", NO_URING],
             ready_has="; io rw: io_uring: Function not implemented")
    t.check(st["device.uring"] == 0 and st["device.submits"] == 0,
            "refused: uring %d, %d submits" % (st["device.uring"], st["device.submits"]))


if __name__ == "__main__":
    t.main(test)
