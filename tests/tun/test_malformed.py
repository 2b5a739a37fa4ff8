"""4,200 malformed packets of 14 kinds, interleaved with a live echo connection.

A packet socket on tun0 (AF_PACKET, the bytes go to tcpsim exactly as written: no kernel
fills in a checksum or a length) sends 300 packets of each kind below, one of each per
round, while an echo connection carries 300 chunks of its own data. The TCP kinds are
aimed at the live connection itself, at the sequence number the stack expects next
(learned from a second packet socket watching what Linux sends), and carry junk: had the
stack taken any of them, the echo would differ. After each round the test waits for that
round's echo, so tcpsim keeps up and nothing is lost in the device's queue.

Asserts: the echo comes back byte-exact and closes cleanly (no reset), and `tcpsim tun
--stats` counts each kind under its own drop reason, exactly 300 each."""
import os
import random
import select
import socket
import struct
import time
import tunlib as t

ROUNDS = 300
ETH_P_IP, ETH_P_ALL = 0x0800, 0x0003
JUNK = b"JUNK-THE-STACK-MUST-NOT-ECHO-THIS" * 3


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ip4(payload, proto=6, src=t.LINUX, dst=t.STACK, ihl=5, ver=4, tot=None, frag=0,
        bad_csum=False, ident=0x1234):
    """An IPv4 header (with ihl*4 - 20 bytes of padding options) and payload."""
    opts = b"\x01" * (ihl * 4 - 20) if ihl > 5 else b""
    tot = 20 + len(opts) + len(payload) if tot is None else tot
    h = struct.pack("!BBHHHBBH4s4s", (ver << 4) | ihl, 0, tot & 0xffff, ident, frag, 64, proto,
                    0, socket.inet_aton(src), socket.inet_aton(dst)) + opts
    c = csum(h[:20] + opts) if ihl >= 5 else csum(h)
    if bad_csum:
        c ^= 0x5a5a
    return h[:10] + struct.pack("!H", c) + h[12:] + payload


def tcp(sport, dport, seq, ack, flags, data=b"", opts=b"", doff=None, bad_csum=False,
        src=t.LINUX, dst=t.STACK):
    doff = (20 + len(opts)) // 4 if doff is None else doff
    h = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xffffffff, ack & 0xffffffff, doff << 4,
                    flags, 502, 0, 0) + opts
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6,
                                                                         len(h) + len(data))
    c = csum(pseudo + h + data)
    if bad_csum:
        c ^= 0x0f0f
    return h[:16] + struct.pack("!H", c) + h[18:] + data


FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def kinds(conn, rnd):
    """The 14 kinds: drop reason -> a packet. conn: (sport, dport, seq, ack) of the live
    connection as Linux would send its next segment."""
    sp, dp, seq, ack = conn
    good = tcp(sp, dp, seq, ack, ACK | PSH, JUNK)
    n = rnd.randrange(2)  # two shapes of some kinds, alternating at random
    return {
        "ip-short": ip4(good)[:rnd.choice((1, 12, 19))],
        "ip-version": ip4(good, ver=rnd.choice((6, 5, 0, 15))),
        "ip-hdrlen": ip4(good, ihl=rnd.choice((0, 3, 4))),
        # total length past the packet, or shorter than the header
        "ip-totlen": ip4(good, tot=(20 + len(good) + 400) if n else 12),
        "ip-checksum": ip4(good, bad_csum=True),
        # more fragments, or a later fragment
        "ip-fragment": ip4(good, frag=0x2000 if n else 0x0010),
        "ip-proto": ip4(b"\0" * 16, proto=rnd.choice((17, 47, 50, 132))),
        "icmp-checksum": ip4(b"\x08\x00\x00\x00\x12\x34\x00\x01" + JUNK, proto=1),
        "tcp-short": ip4(good[:rnd.choice((0, 8, 19))]),
        # data offset below 5, or past the segment
        "tcp-hdrlen": ip4(tcp(sp, dp, seq, ack, ACK, doff=rnd.choice((0, 4)) if n else 15)),
        "tcp-checksum": ip4(tcp(sp, dp, seq, ack, ACK | PSH, JUNK, bad_csum=True)),
        # an MSS option whose length runs past the header, or a length of 0 or 1
        "tcp-options": ip4(tcp(sp, dp, seq, ack, ACK | PSH, JUNK,
                               opts=b"\x01\x01\x02\x04" if n else bytes((8, rnd.randrange(2), 1, 1)))),
        "tcp-flags": ip4(tcp(sp, dp, seq, ack, SYN | (FIN if n else RST) | ACK, JUNK)),
        # a reset far outside the window (RFC 5961 3.2): dropped, nothing sent
        "tcp-rst-invalid": ip4(tcp(sp, dp, seq + 0x40000000, 0, RST)),
    }


class Watch:
    """A packet socket that follows what Linux sends on the live connection."""

    def __init__(self, sport):
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
        self.s.bind(("tun0", 0))
        self.s.setblocking(False)
        self.sport = sport
        self.nxt = self.ack = None

    def drain(self):
        while True:
            try:
                pkt = self.s.recv(65536)
            except BlockingIOError:
                return
            if len(pkt) < 40 or pkt[9] != 6 or pkt[12:16] != socket.inet_aton(t.LINUX):
                continue
            ihl = (pkt[0] & 15) * 4
            sp, dp, seq, ack, off = struct.unpack("!HHIIB", pkt[ihl:ihl + 13])
            if sp != self.sport or dp != 7:
                continue
            tot = struct.unpack("!H", pkt[2:4])[0]
            end = (seq + tot - ihl - (off >> 4) * 4) & 0xffffffff
            if self.nxt is None or (end - self.nxt) & 0xffffffff < 0x80000000:
                self.nxt = end
            self.ack = ack


def recv_exact(s, n, timeout=10.0):
    out = bytearray()
    end = time.monotonic() + timeout
    while len(out) < n:
        left = end - time.monotonic()
        t.check(left > 0, "echo: %d of %d bytes after %.0f s" % (len(out), n, timeout))
        r, _, _ = select.select([s], [], [], left)
        if r:
            b = s.recv(n - len(out))
            t.check(b, "echo: EOF after %d of %d bytes" % (len(out), n))
            out += b
    return bytes(out)


def test():
    p = t.tcpsim("--listen", "7:echo", "--stats")
    live = t.connect(7)
    live.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sport = live.getsockname()[1]
    watch = Watch(sport)
    inject = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
    rnd = random.Random(4200)
    sent_all, got_all = bytearray(), bytearray()
    counts = {}
    t0 = time.monotonic()
    live.sendall(b"hello\n")  # so the watch has seen Linux's sequence numbers
    got_all += recv_exact(live, 6)
    sent_all += b"hello\n"
    for r in range(ROUNDS):
        chunk = b"%03d:" % r + rnd.randbytes(200 + rnd.randrange(1200))
        live.sendall(chunk)
        sent_all += chunk
        watch.drain()
        t.check(watch.nxt is not None, "the packet socket saw none of Linux's segments")
        pk = kinds((sport, 7, watch.nxt, watch.ack), rnd)
        order = list(pk)
        rnd.shuffle(order)
        for name in order:
            inject.sendto(pk[name], ("tun0", ETH_P_IP))
            counts[name] = counts.get(name, 0) + 1
        got_all += recv_exact(live, len(chunk))
    t.check(bytes(got_all) == bytes(sent_all), "the echo differs from what was sent (%d bytes "
            "sent, %d back)" % (len(sent_all), len(got_all)))
    live.shutdown(socket.SHUT_WR)
    live.settimeout(5)
    t.check(live.recv(16) == b"", "no FIN after the echo")
    live.close()
    wall = time.monotonic() - t0
    t.stop_tcpsim(p)
    k = {}
    for line in p.stderr().splitlines():
        f = line.split()
        if len(f) == 4 and f[:2] == ["tcpsim:", "stat"]:
            k[f[2]] = int(f[3])
    t.check(k, "no --stats lines in tcpsim's stderr:\n" + p.stderr())
    total = sum(counts.values())
    t.log("%d malformed packets of %d kinds in %.2f s beside %d echoed bytes, byte-exact" %
          (total, len(counts), wall, len(sent_all)))
    t.log("drops: " + " ".join("%s=%d" % (n[5:], v) for n, v in sorted(k.items())
                               if n.startswith("drop.")))
    t.check(total == 4200 and len(counts) == 14, "sent %d packets of %d kinds" %
            (total, len(counts)))
    t.check(k.get("device.tx_dropped", 0) == 0, "the kernel dropped %d packets on their way "
            "into tun0 (queue full); the counts cannot be checked" % k.get("device.tx_dropped"))
    wrong = ["%s: %d, sent %d" % (n, k.get("drop." + n, 0), c) for n, c in sorted(counts.items())
             if k.get("drop." + n, 0) != c]
    t.check(not wrong, "drop counters differ from what was sent:\n  " + "\n  ".join(wrong))
    t.check(k["tcp_rst_in"] == 0, "the stack took %d resets" % k["tcp_rst_in"])


t.main(test)
