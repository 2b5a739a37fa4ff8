"""Half-close both ways.
1. Linux shuts down its write side (FIN) right after sending 1 MiB to echo, and still
   receives every byte the stack sends after that FIN, then the stack's FIN.
2. The stack half-closes (telnet `halfclose`): Linux reads EOF, goes on sending, and the
   stack acknowledges every byte; then Linux closes and the connection ends without RST."""
import os
import socket
import time
import tunlib as t

N = 1 << 20


def linux_half_close():
    data = os.urandom(N)
    s = t.connect(7)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    got = t.recv_until_eof(s)
    s.close()
    t.check(got == data, "echo after Linux's FIN: got %d bytes, wanted %d (equal: %s)" %
            (len(got), N, got == data))
    return s


def stack_half_close():
    s = t.connect(23)
    s.settimeout(5)
    buf = b""
    while b"tcpsim> " not in buf:
        buf += s.recv(4096)
    s.sendall(b"halfclose\r\n")
    rest = t.recv_until_eof(s)  # the stack's FIN ends our reading
    t.check(b"sending FIN" in rest, "no halfclose reply: %r" % rest)
    extra = b"help\r\n" * 1000  # 6000 bytes after the stack's FIN
    s.sendall(extra)
    time.sleep(0.3)
    s.close()
    return len(extra)


def test():
    p = t.tcpsim("--listen", "7:echo", "--listen", "23:telnet")
    cap = t.Capture()
    linux_half_close()
    extra = stack_half_close()
    time.sleep(0.3)
    t.stop_tcpsim(p)
    segs = cap.lines()
    t.check(not any("R" in x.flags for x in segs), "a RST was sent:\n  " +
            t.show([x for x in segs if "R" in x.flags]))
    # 1: data from the stack after Linux's FIN.
    echo = [x for x in segs if 7 in (x.sport, x.dport)]
    # One FIN by sequence number: on a loaded machine Linux may resend it (a tail loss
    # probe) before the stack, still working through 1 MiB, gets to acknowledge it.
    fin_l = [x for x in echo if x.src == t.LINUX and "F" in x.flags]
    t.check(len({x.seq_end for x in fin_l}) == 1,
            "wanted one FIN from Linux on the echo connection:\n  " + t.show(fin_l))
    after = [x for x in echo[echo.index(fin_l[0]):] if x.src == t.STACK and x.length > 0]
    t.check(after, "the stack sent no data after Linux's FIN")
    t.log("echo: %d data segments from the stack after Linux's FIN" % len(after))
    # 2: Linux's data after the stack's FIN, acknowledged.
    tel = [x for x in segs if 23 in (x.sport, x.dport)]
    fin_s = [x for x in tel if x.src == t.STACK and "F" in x.flags]
    t.check(len(fin_s) == 1, "wanted one FIN from the stack on the telnet connection")
    i = tel.index(fin_s[0])
    sent = sum(x.length for x in tel[i:] if x.src == t.LINUX)
    t.check(sent >= extra, "Linux sent %d bytes after the stack's FIN, wanted %d" % (sent, extra))
    fin_l = [x for x in tel if x.src == t.LINUX and "F" in x.flags]
    t.check(len(fin_l) == 1, "Linux did not close")
    acks = [x.ack for x in tel[i:] if x.src == t.STACK and x.ack is not None]
    t.check(acks and max(acks) == fin_l[0].seq_end + 1,
            "the stack did not acknowledge everything up to Linux's FIN")
    t.log("telnet: %d bytes from Linux after the stack's FIN, all acknowledged" % sent)


t.main(test)
