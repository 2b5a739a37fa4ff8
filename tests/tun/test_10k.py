"""10,000 concurrent connections from Linux to the stack's echo service, every byte right.

One Python process drives them all through epoll. Each connection connects, sends its own
message (a distinct length and content, its number in the first bytes) and reads until it
has the whole echo back, which must equal what it sent. None closes until every one has
its echo, so all 10,000 are established at once (`ss` counts them); then each sends FIN and
must read the stack's FIN.

At most WINDOW connections are in their handshake or waiting for their echo at any moment
(and as many closing), as a real client population arrives spread out rather than in one
10,000-SYN burst: the TUN device is a queue between two stacks on a shared CPU, and a burst
larger than tcpsim drains within an RTO makes both sides retransmit for no loss (that was
the 1,301 "lossless" RTOs of issue 11; README "Robustness" has the numbers).

On this lossless path nothing needs a retransmission: from `tcpsim tun --stats` the test
asserts every connection accepted, no data RTO expiry, no SYN-ACK retransmission, no SYN
refused for a full backlog, no write
the device refused, and nothing the kernel dropped on its way into the device.
Usage: test_10k.py [N [WINDOW]]"""
import random
import resource
import selectors
import socket
import subprocess
import sys
import time
import tunlib as t

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
WINDOW = int(sys.argv[2]) if len(sys.argv) > 2 else 100
LIMIT = 90.0  # seconds for each phase at most; a quiet machine needs a few in all


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 256  # the sockets, plus what Python, tcpdump pipes and the selector use
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))


def messages(n):
    rnd = random.Random(11)
    return [b"%05d:" % i + rnd.randbytes(64 + (i * 7919) % 1900) for i in range(n)]


def echo_all(msgs):
    """Open N connections, WINDOW at a time in flight; each sends its message and reads it
    back whole. Returns the sockets, all still open."""
    sel = selectors.DefaultSelector()
    socks = [None] * N
    sent = [0] * N
    got = [bytearray() for _ in range(N)]
    nxt = done = 0
    end = time.monotonic() + LIMIT
    while done < N and time.monotonic() < end:
        while nxt < N and nxt - done < WINDOW:
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex((t.STACK, 7))
            socks[nxt] = s
            sel.register(s, selectors.EVENT_WRITE, nxt)
            nxt += 1
        for key, ev in sel.select(1):
            i, s = key.data, key.fileobj
            if ev & selectors.EVENT_WRITE:
                if sent[i] == 0:
                    e = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    t.check(e == 0, "connection %d failed: errno %d" % (i, e))
                sent[i] += s.send(msgs[i][sent[i]:])
                if sent[i] == len(msgs[i]):
                    sel.modify(s, selectors.EVENT_READ, i)
                continue
            b = s.recv(65536)
            t.check(b, "connection %d: EOF after %d of %d bytes" % (i, len(got[i]), len(msgs[i])))
            got[i] += b
            if len(got[i]) >= len(msgs[i]):
                sel.unregister(s)
                done += 1
    sel.close()
    short = [i for i in range(N) if len(got[i]) < len(msgs[i])]
    t.check(not short, "%d connections without their whole echo after %.0f s, e.g. %s (sent %s, "
            "got %s)" % (len(short), LIMIT, short[:5], [sent[i] for i in short[:5]],
                         [len(got[i]) for i in short[:5]]))
    bad = [i for i in range(N) if bytes(got[i]) != msgs[i]]
    t.check(not bad, "%d echoes differ from what was sent, e.g. connection %s" % (len(bad), bad[:5]))
    return socks


def established():
    out = subprocess.run(["ss", "-Htn", "state", "established", "dst", t.STACK],
                         capture_output=True, text=True).stdout
    return len(out.splitlines())


def close_all(socks):
    """FIN from each connection, WINDOW at a time; each must then read the stack's FIN."""
    sel = selectors.DefaultSelector()
    nxt = done = 0
    end = time.monotonic() + LIMIT
    while done < N and time.monotonic() < end:
        while nxt < N and nxt - done < WINDOW:
            socks[nxt].shutdown(socket.SHUT_WR)
            sel.register(socks[nxt], selectors.EVENT_READ, nxt)
            nxt += 1
        for key, _ in sel.select(1):
            b = key.fileobj.recv(16)
            t.check(b == b"", "connection %d: %d bytes after the echo" % (key.data, len(b)))
            sel.unregister(key.fileobj)
            key.fileobj.close()
            done += 1
    sel.close()
    t.check(done == N, "%d connections never saw the stack's FIN" % (N - done))


def test():
    raise_nofile(N)
    p = t.tcpsim("--listen", "7:echo", "--stats")
    msgs = messages(N)
    t0 = time.monotonic()
    try:
        socks = echo_all(msgs)
        t_echo = time.monotonic() - t0
        both = established()
        t.check(both == N, "%d connections established at once, wanted %d" % (both, N))
        close_all(socks)
    except AssertionError:
        t.stop_tcpsim(p)
        t.log("tcpsim's counters: %s" % " ".join("%s=%d" % kv for kv in t.stats(p).items()))
        raise
    wall = time.monotonic() - t0
    t.stop_tcpsim(p)
    k = t.stats(p)
    t.log("%d connections (%d in flight at most), %d bytes each way, every echo byte-exact, "
          "all %d established at once: echoes in %.2f s, closed in %.2f s" %
          (N, WINDOW, sum(map(len, msgs)), both, t_echo, wall))
    t.log("stack: accepted %d, data RTOs %d, SYN-ACK retransmits %d, retransmits %d, drops %s; "
          "device: read %d, written %d, refused %d, kernel tx_dropped %s" %
          (k["tcp_conn_accepted"], k["tcp_rto_timeouts"], k["tcp_syn_retransmits"],
           k["tcp_retransmits"], {n: v for n, v in k.items() if n.startswith("drop.")},
           k["device.read"], k["device.written"], k["device.write_errors"],
           k.get("device.tx_dropped")))
    t.check(k["tcp_conn_accepted"] == N, "accepted %d connections, wanted %d" %
            (k["tcp_conn_accepted"], N))
    t.check(k["tcp_rto_timeouts"] == 0, "%d data RTO expiries on a lossless path" %
            k["tcp_rto_timeouts"])
    t.check(k["tcp_syn_retransmits"] == 0, "%d SYN-ACK retransmissions on a lossless path" %
            k["tcp_syn_retransmits"])
    t.check(k.get("drop.tcp-backlog", 0) == 0, "%d SYNs dropped on a full listen queue (backlog "
            "128, at most %d connecting)" % (k.get("drop.tcp-backlog", 0), WINDOW))
    t.check(k["device.write_errors"] == 0, "the device refused %d writes" %
            k["device.write_errors"])
    t.check(k.get("device.tx_dropped", 0) == 0, "the kernel dropped %d packets Linux sent to "
            "the device (queue full)" % k.get("device.tx_dropped", 0))


t.main(test)
