"""1,000 concurrent connections from Linux to echo: all established at once, each sends its
own message and gets exactly that back, then all half-close and see the stack's FIN. The
capture shows 1,000 handshakes and 1,000 FINs each way, and no RST."""
import resource
import selectors
import socket
import time
import tunlib as t

N = 1000
MSG = 1000


def test():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 4 * N), max(hard, 4 * N)))
    p = t.tcpsim("--listen", "7:echo", "--set", "backlog=1024")
    cap = t.Capture(filt="tcp[tcpflags] & (tcp-syn|tcp-fin|tcp-rst) != 0")
    sel = selectors.DefaultSelector()
    socks = []
    t0 = time.monotonic()
    for i in range(N):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex((t.STACK, 7))
        socks.append(s)
        sel.register(s, selectors.EVENT_WRITE, i)
    pending = set(range(N))
    end = time.monotonic() + 30
    while pending and time.monotonic() < end:
        for key, _ in sel.select(1):
            s = key.fileobj
            e = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            t.check(e == 0, "connection %d failed: %s" % (key.data, e))
            pending.discard(key.data)
            sel.unregister(s)
    t.check(not pending, "%d connections not established after 30 s" % len(pending))
    t.log("%d connections established in %.2f s" % (N, time.monotonic() - t0))
    msgs = [(b"%06d:" % i) * (MSG // 7) for i in range(N)]
    got = [bytearray() for _ in range(N)]
    for i, s in enumerate(socks):
        s.setblocking(True)
        s.settimeout(10)
        s.sendall(msgs[i])
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, i)
    left = set(range(N))
    end = time.monotonic() + 30
    while left and time.monotonic() < end:
        for key, _ in sel.select(1):
            i = key.data
            b = key.fileobj.recv(65536)
            got[i] += b
            if len(got[i]) >= len(msgs[i]):
                left.discard(i)
                sel.unregister(key.fileobj)
    t.check(not left, "%d connections did not get their echo" % len(left))
    bad = [i for i in range(N) if bytes(got[i]) != msgs[i]]
    t.check(not bad, "%d echoes differ, e.g. connection %s" % (len(bad), bad[:5]))
    t.log("all %d echoes correct, %.2f s so far" % (N, time.monotonic() - t0))
    for s in socks:
        s.shutdown(socket.SHUT_WR)
    for i, s in enumerate(socks):
        s.setblocking(True)
        s.settimeout(10)
        t.check(s.recv(10) == b"", "connection %d: no FIN" % i)
        s.close()
    time.sleep(0.5)
    t.stop_tcpsim(p)
    segs = cap.lines()
    synacks = {x.dport for x in segs if x.flags == "S." and x.src == t.STACK}
    fins_s = {x.dport for x in segs if "F" in x.flags and x.src == t.STACK}
    fins_l = {x.sport for x in segs if "F" in x.flags and x.src == t.LINUX}
    rsts = [x for x in segs if "R" in x.flags]
    t.check(len(synacks) == N, "%d SYN-ACKs from the stack, wanted %d" % (len(synacks), N))
    t.check(len(fins_s) == N and len(fins_l) == N, "FINs: stack %d, Linux %d, wanted %d" %
            (len(fins_s), len(fins_l), N))
    t.check(not rsts, "%d RSTs, e.g. %s" % (len(rsts), rsts[:2]))
    t.log("done in %.2f s" % (time.monotonic() - t0))


t.main(test)
