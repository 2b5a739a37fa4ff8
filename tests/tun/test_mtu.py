"""The MSS follows the MTU. For --mtu 128 (the smallest: 40 bytes of headers and the
stack's smallest MSS, 88), 576 and 9000 the stack's SYN-ACK offers MTU-40 and no segment
either way is longer than that; an echo of 20 kB comes back whole. An MTU below 128, or a
--set mss larger than the MTU allows, is refused in one line with exit 2 (68..127 used to
keep MSS 1460 and send segments the device could not carry)."""
import subprocess
import tunlib as t


def refused(argv, words):
    r = subprocess.run([t.TCPSIM, "tun"] + argv, capture_output=True, text=True, timeout=20)
    lines = r.stderr.strip().splitlines()
    t.check(r.returncode == 2 and len(lines) == 1, "%s: exit %d, stderr %r; wanted 2 and one "
            "line" % (argv, r.returncode, r.stderr))
    for w in words:
        t.check(w in lines[0], "%s: %r does not mention %r" % (argv, lines[0], w))
    t.log("ok  %-28s -> %s" % (" ".join(argv), lines[0]))


def echo_at(mtu):
    # Every segment as cut: with offloads tcpdump on tun0 sees super-segments (up to 64 KB,
    # cut to the MTU by the kernel past the device), which test_offload.py covers.
    p = t.tcpsim("--listen", "7:echo", "--mtu", str(mtu), "--offload", "off")
    cap = t.Capture()
    s = t.connect(7)
    data = bytes(i * 7 % 251 for i in range(20000))
    s.sendall(data)
    got = b""
    while len(got) < len(data):
        b = s.recv(65536)
        t.check(b, "mtu %d: EOF after %d bytes" % (mtu, len(got)))
        got += b
    t.check(got == data, "mtu %d: the echo differs" % mtu)
    s.close()
    t.stop_tcpsim(p)
    segs = cap.lines()
    synack = [x for x in segs if x.flags == "S." and x.src == t.STACK]
    t.check(synack, "mtu %d: no SYN-ACK captured" % mtu)
    t.check(("mss %d" % (mtu - 40)) in synack[0].options.split(","),
            "mtu %d: SYN-ACK offers %r, wanted mss %d" % (mtu, synack[0].options, mtu - 40))
    biggest = max(x.length for x in segs)
    t.check(biggest <= mtu - 40, "mtu %d: a %d-byte segment" % (mtu, biggest))
    t.log("ok  --mtu %-5d SYN-ACK mss %d, largest payload %d bytes, echo whole" %
          (mtu, mtu - 40, biggest))


def test():
    for m in ("67", "68", "100", "127"):
        refused(["--mtu", m], ["--mtu '%s'" % m, "128..65535", "88"])
    refused(["--mtu", "576", "--set", "mss=1460"], ["mss=1460", "576", "mss=536"])
    for mtu in (128, 576, 9000):
        echo_at(mtu)


t.main(test)
