"""`tcpsim tun --pcap FILE.pcapng`: a live capture that explains itself. Linux talks to the
echo and discard services; nftables drops the stack's first echo reply once, so the stack
resends it on its RTO; with quick ACKs off, the stack holds its ACK of the discarded bytes
for the delayed-ACK timer. tshark reads the comments back: each on its packet, and the
state changes on the packets that caused them; tcpdump -r reads the file too."""
import subprocess
import time
import tunlib as t


def nft(*args):
    subprocess.run(["nft"] + list(args), check=True)


def comments(path):
    out = subprocess.run(["tshark", "-r", path, "-T", "fields", "-E", "separator=|",
                          "-e", "frame.number", "-e", "ip.src", "-e", "tcp.srcport",
                          "-e", "tcp.dstport", "-e", "tcp.len", "-e", "tcp.flags.str",
                          "-e", "frame.comment"],
                         capture_output=True, text=True, check=True)
    rows = []
    for line in out.stdout.splitlines():
        f = line.split("|")
        rows.append(dict(no=int(f[0]), src=f[1], sport=int(f[2]), dport=int(f[3]),
                         len=int(f[4] or 0), flags=f[5], comment=f[6] if len(f) > 6 else ""))
    return rows


def test():
    path = t.tmpfile("live.pcapng")
    # the stack's first echo reply with data is dropped once by Linux's input hook
    nft("add", "table", "ip", "tsdrop")
    nft("add", "chain", "ip", "tsdrop", "in", "{ type filter hook input priority 0; }")
    nft("add", "rule", "ip", "tsdrop", "in", "ip", "saddr", t.STACK, "tcp", "sport", "7",
        "ip", "length", "> 60", "counter", "drop")
    p = t.tcpsim("--listen", "7:echo", "--listen", "9:discard", "--set", "tlp=off",
                 "--set", "quickack=off", "--pcap", path)
    try:
        s = t.connect(7)
        s.sendall(b"hello, RTO\n")
        # once it dropped one, the rule goes (well before the RTO of 200 ms and more)
        t.wait_for(lambda: "packets 1 " in subprocess.run(
            ["nft", "list", "table", "ip", "tsdrop"], capture_output=True, text=True).stdout,
            2, "the drop rule to drop the echo reply")
        nft("flush", "chain", "ip", "tsdrop", "in")
        got = b""
        s.settimeout(5)
        while len(got) < 11:
            got += s.recv(100)
        t.check(got == b"hello, RTO\n", "echo: %r" % got)
        d = t.connect(9)
        d.sendall(b"x" * 10)
        time.sleep(0.3)  # the delayed ACK goes out 40 ms later
        s.close()
        d.close()
        time.sleep(0.3)
    finally:
        t.stop_tcpsim(p)
        nft("delete", "table", "ip", "tsdrop")
    rows = comments(path)
    for r in rows:
        t.log("  %(no)3d %(src)s.%(sport)d > %(dport)d %(flags)s len %(len)d  %(comment)s" % r)
    echo = [r for r in rows if 7 in (r["sport"], r["dport"])]
    disc = [r for r in rows if 9 in (r["sport"], r["dport"])]
    # the handshake: the SYN made the embryo, Linux's ACK established it
    t.check(echo[0]["src"] == t.LINUX and echo[0]["comment"] == "CLOSED -> SYN_RECEIVED",
            "Linux's SYN: %r" % echo[0])
    t.check(echo[2]["src"] == t.LINUX and echo[2]["comment"] == "SYN_RECEIVED -> ESTABLISHED",
            "Linux's ACK of the SYN-ACK: %r" % echo[2])
    data = [r for r in echo if r["src"] == t.STACK and r["len"] == 11]
    t.check(len(data) == 2, "wanted the echo reply twice (lost, resent): %r" % data)
    t.check(data[0]["comment"] == "", "the first reply has a comment: %r" % data[0])
    c = data[1]["comment"]
    t.check(c.startswith("RTO retransmission #1, rto ") and c.endswith(" ms"),
            "the resent reply: %r" % c)
    acks = [r for r in disc if r["src"] == t.STACK and r["len"] == 0 and
            r["comment"].startswith("delayed ACK")]
    t.check(len(acks) == 1 and acks[0]["comment"] == "delayed ACK timer fired after 40 ms",
            "the discard service's delayed ACK: %r" % disc)
    out = subprocess.run(["tcpdump", "-n", "-r", path], capture_output=True, text=True)
    t.check(out.returncode == 0 and len(out.stdout.splitlines()) == len(rows),
            "tcpdump -r read %d of %d packets: %s" %
            (len(out.stdout.splitlines()), len(rows), out.stderr))


t.main(test)
