"""The telnet shell's live look, through Debian's telnet client on a pseudo-terminal:
`timers` lists this connection's armed timers with their time left (keepalive, and the
delayed ACK the stack holds while it works on the line), `timers ID` and `tcb ID` look at
another connection (an echo connection whose reply nftables keeps dropping, so its RTO is
armed), `trace on` streams this connection's events as keys are typed, `watch N` redraws
the TCB until a key is pressed, and `ladder N` draws the last N segments."""
import re
import socket
import subprocess
import time
import tunlib as t
from ptyproc import PtyProc


def nft(*args):
    subprocess.run(["nft"] + list(args), check=True)


def cmd(tn, line, timeout=5):
    tn.send(line + "\r")
    return tn.expect(r"tcpsim> ", timeout)


def test():
    nft("add", "table", "ip", "tslive")
    nft("add", "chain", "ip", "tslive", "in", "{ type filter hook input priority 0; }")
    nft("add", "rule", "ip", "tslive", "in", "ip", "saddr", t.STACK, "tcp", "sport", "7",
        "ip", "length", "> 60", "drop")
    p = t.tcpsim("--listen", "23:telnet", "--listen", "7:echo", "--set", "keepalive=on",
                 "--set", "quickack=off", "--set", "tlp=off")
    tn = PtyProc(["telnet", t.STACK])
    echo = None
    try:
        tn.expect(r"tcpsim> ", 5)
        r = cmd(tn, "help")
        for c in ("timers [ID]", "watch [N]", "trace on|off", "tcb [ID]", "ladder [N]"):
            t.check(c in r, "help lacks %r:\n%s" % (c, r))
        r = cmd(tn, "timers")
        t.log(r)
        m = re.search(r"keepalive +(\d+\.\d+) s left", r)
        t.check(m and 7190 < float(m.group(1)) <= 7200, "timers: no keepalive line:\n" + r)
        m = re.search(r"delack +(\d+\.\d+) ms left", r)
        t.check(m and 0 < float(m.group(1)) <= 200, "timers: no delack line:\n" + r)
        t.check("not armed:" in r and "persist" in r, "timers: the others:\n" + r)
        # another connection: an echo whose reply never arrives, so its RTO runs
        echo = socket.create_connection((t.STACK, 7), timeout=5)
        echo.sendall(b"lost reply\n")
        time.sleep(0.3)
        r = cmd(tn, "conns")
        port = echo.getsockname()[1]
        m = re.search(r"^(\d+) +10\.0\.0\.2:7 +10\.0\.0\.1:%d +ESTABLISHED" % port, r, re.M)
        t.check(m, "conns does not list the echo connection:\n" + r)
        cid = m.group(1)
        r = cmd(tn, "timers " + cid)
        t.log(r)
        t.check(re.search(r"connection %s .*10\.0\.0\.1:%d" % (cid, port), r), "timers ID:\n" + r)
        m = re.search(r"rto +(\d+\.\d+) (m?s) left", r)
        t.check(m, "timers ID: no rto line:\n" + r)
        for _ in range(30):  # until its RTO has resent the reply at least once
            r = cmd(tn, "tcb " + cid)
            if re.search(r"retransmits [1-9]", r):
                break
            time.sleep(0.1)
        t.check(re.search(r"connection %s .*state ESTABLISHED" % cid, r) and
                re.search(r"retransmits [1-9]", r), "tcb ID:\n" + r)
        r = cmd(tn, "tcb 99999")
        t.check("no connection 99999" in r, "tcb of nothing: " + r)
        r = cmd(tn, "timers x")
        t.check("not a connection ID" in r, "timers x: " + r)
        # trace: the keystroke's segment, the delayed ACK timer armed for it, the echo
        r = cmd(tn, "trace on")
        t.check("trace on" in r, "trace on: " + r)
        time.sleep(0.5)
        tn.send("h")
        r = tn.expect(r"timer delack set \+40ms", 3)
        t.log(r)
        t.check(re.search(r"10\.0\.0\.1\.\d+ > 10\.0\.0\.2\.23: Flags \[P\.\], seq \d+:\d+, "
                          r"ack \d+, win \d+, options \[[^]]*\], length 1", r),
                "trace: no line for the keystroke's segment:\n" + r)
        # then the trace falls quiet: its own lines, their segments and ACKs, are not traced
        tn.expect(r"tcpsim> h", 3)
        time.sleep(1.0)
        while tn._read(0.2):
            pass
        tn.buf = b""
        time.sleep(1.0)
        while tn._read(0.2):
            pass
        t.check(tn.buf == b"", "the trace feeds itself: %r" % tn.buf[:600])
        tn.send("\x15")  # Ctrl-U: drop the "h"
        # its trace lines (the keystroke, the erase sent back, Linux's ACK of it) end with a
        # redraw of the prompt: let them all come first, or cmd() takes that prompt for the
        # end of "trace off" (seen once on a loaded machine)
        time.sleep(0.5)
        while tn._read(0.2):
            pass
        tn.buf = b""
        r = cmd(tn, "trace off")
        t.check("trace off" in r, "trace off: " + r)
        time.sleep(0.3)
        tn._read(0.2)
        tn.buf = b""
        # watch: redraws 5 times a second until a key
        tn.send("watch 5\r")
        time.sleep(1.1)
        tn._read(0.2)
        n = tn.buf.count(b"watch: every 200 ms")
        t.log("watch drew the TCB %d times in 1.1 s" % n)
        t.check(3 <= n <= 8, "watch 5 drew %d times in 1.1 s" % n)
        t.check(b"SND.UNA" in tn.buf, "watch shows no TCB")
        tn.send("q")
        tn.expect(r"tcpsim> ", 3)
        time.sleep(0.5)
        tn._read(0.2)
        t.check(b"watch: every" not in tn.buf, "watch went on after a key: %r" % tn.buf[-300:])
        r = cmd(tn, "stats")
        t.check("tcp segments in" in r, "after watch: " + r)
        # ladder: the last segments of this connection, drawn as tcpsim diagram draws them
        r = cmd(tn, "ladder 4")
        t.log(r)
        t.check(re.search(r"TCP 10\.0\.0\.1:\d+ > 10\.0\.0\.2:23: 4 segments, live", r),
                "ladder 4: no caption:\n" + r)
        t.check(re.search(r"you +tcpsim", r), "ladder 4: no lifelines:\n" + r)
        arrows = r.count("-->|") + r.count("|<--")
        t.check(arrows == 4, "ladder 4 drew %d arrows:\n%s" % (arrows, r))
        r = cmd(tn, "ladder 0")
        t.check("give 1..200" in r, "ladder 0: " + r)
        tn.send("\x1d")
        tn.expect(r"telnet> ", 5)
        tn.send("quit\r")
        tn.wait(5)
    finally:
        tn.close()
        if echo:
            echo.close()
        nft("delete", "table", "ip", "tslive")
    time.sleep(0.3)
    t.stop_tcpsim(p)


t.main(test)
