"""Outputs that cannot be written: `tcpsim tun` with --pcap (plain and pcapng), --series and
--diagram aimed at a full disk (/dev/full) runs, serves a connection, and at SIGINT says in
one line which output was lost and exits 2 (it exited 0 before). The same outputs to a
real file exit 0: the check is on the writes, not on the options."""
import os
import signal
import time
import tunlib as t


def serve_once(p):
    s = t.connect(7)
    s.sendall(b"x" * 3000)
    got = b""
    while len(got) < 3000:
        b = s.recv(65536)
        t.check(b, "echo: EOF after %d bytes" % len(got))
        got += b
    s.close()
    time.sleep(0.2)
    p.signal(signal.SIGINT)
    return p.wait(10)


def test():
    for ext in ("pcap", "pcapng", "csv", "jsonl", "txt", "svg"):
        os.symlink("/dev/full", t.tmpfile("full." + ext))
    cases = [
        (["--pcap", t.tmpfile("full.pcap")], "--pcap %s: writing failed" % t.tmpfile("full.pcap")),
        (["--pcap", t.tmpfile("full.pcapng")], "--pcap %s: writing failed" % t.tmpfile("full.pcapng")),
        (["--series", t.tmpfile("full.csv")], "--series: writing failed"),
        (["--series", t.tmpfile("full.jsonl")], "--series: writing failed"),
        (["--diagram", t.tmpfile("full.txt")], "--diagram: cannot write the diagram"),
        (["--diagram", t.tmpfile("full.svg")], "--diagram: cannot write the diagram"),
    ]
    for args, say in cases:
        p = t.tcpsim("--listen", "7:echo", *args)
        rc = serve_once(p)
        lines = [l for l in p.stderr().splitlines() if " up: " not in l]
        t.check(rc == 2, "%s: exit %d, wanted 2; stderr: %s" % (args, rc, lines))
        t.check(len(lines) == 1 and say in lines[0],
                "%s: wanted one line with %r, got %s" % (args, say, lines))
        t.log("ok  %-50s -> exit 2: %s" % (" ".join(args), lines[0]))
    # the same outputs to real files: exit 0, nothing said
    args = ["--pcap", t.tmpfile("ok.pcapng"), "--series", t.tmpfile("ok.csv"),
            "--diagram", t.tmpfile("ok.txt")]
    p = t.tcpsim("--listen", "7:echo", *args)
    rc = serve_once(p)
    lines = [l for l in p.stderr().splitlines() if " up: " not in l]
    t.check(rc == 0 and not lines, "to real files: exit %d, stderr %s" % (rc, lines))
    for f in ("ok.pcapng", "ok.csv", "ok.txt"):
        t.check(os.path.getsize(t.tmpfile(f)) > 0, "%s is empty" % f)


t.main(test)
