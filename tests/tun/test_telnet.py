"""Debian's telnet client, driven through a pseudo-terminal, logs in to the telnet service,
gets the banner, runs `tcb`, and quits with Ctrl-] quit. On the wire: the handshake with the
chapter's options, and a close in which the stack's FIN carries the ACK of Linux's FIN. The
`tcb` output agrees with tcpdump on ISS and IRS."""
import re
import time
import tunlib as t
from ptyproc import PtyProc


def test():
    p = t.tcpsim("--listen", "23:telnet")
    cap = t.Capture()
    tn = PtyProc(["telnet", t.STACK])
    try:
        banner = tn.expect(r"tcpsim> ", 5)
        t.check("tcpsim telnet service" in banner, "no banner: %r" % banner)
        tn.send("tcb\r")
        tcb = tn.expect(r"tcpsim> ", 5)
        for word in ("state ESTABLISHED", "ISS", "IRS", "SND.UNA", "SND.NXT", "SND.WND",
                     "RCV.NXT", "RCV.WND", "MSS", "window scale", "SACK", "timestamps",
                     "SRTT", "RTTVAR", "RTO", "cwnd", "ssthresh", "retransmits",
                     "delayed ACK"):
            t.check(word in tcb, "tcb output lacks %r:\n%s" % (word, tcb))
        t.log(tcb)
        tn.send("conns\r")
        conns = tn.expect(r"tcpsim> ", 5)
        t.check("ESTABLISHED" in conns and "LISTEN" in conns, "conns: %r" % conns)
        tn.send("set nagle off\r")
        r = tn.expect(r"tcpsim> ", 5)
        t.check("nagle = off" in r, "set nagle off: %r" % r)
        tn.send("set nosuch 1\r")
        r = tn.expect(r"tcpsim> ", 5)
        t.check("nosuch" in r and "unknown" in r, "set nosuch 1: %r" % r)
        tn.send("stats\r")
        r = tn.expect(r"tcpsim> ", 5)
        t.check("tcp segments in" in r, "stats: %r" % r)
        tn.send("bogus\r")
        r = tn.expect(r"tcpsim> ", 5)
        t.check("unknown command" in r, "bogus: %r" % r)
        tn.send("\x1d")
        tn.expect(r"telnet> ", 5)
        tn.send("quit\r")
        tn.wait(5)
    finally:
        tn.close()
    time.sleep(0.3)
    t.stop_tcpsim(p)
    segs = [s for s in cap.lines() if 23 in (s.sport, s.dport)]
    t.log("  " + t.show(segs))
    t.check(len(segs) >= 6, "too few segments")
    syn, synack, ack = segs[0], segs[1], segs[2]
    t.check(syn.flags == "S" and syn.src == t.LINUX, "first is not Linux's SYN: %s" % syn)
    t.check(re.fullmatch(r"mss 1460,sackOK,TS val \d+ ecr 0,nop,wscale \d+", syn.options),
            "Linux's SYN options: %s" % syn.options)
    t.check(synack.flags == "S." and synack.src == t.STACK, "second is not SYN-ACK: %s" % synack)
    t.check(synack.ack == syn.seq + 1, "SYN-ACK acks %s, wanted ISN+1" % synack.ack)
    tsval = re.search(r"TS val (\d+)", syn.options).group(1)
    t.check(re.fullmatch(r"mss 1460,sackOK,TS val \d+ ecr %s,nop,wscale 7" % tsval,
                         synack.options), "SYN-ACK options: %s" % synack.options)
    t.check(ack.flags == "." and ack.src == t.LINUX and ack.ack == synack.seq + 1,
            "third is not Linux's ACK of the SYN-ACK: %s" % ack)
    m = re.search(r"ISS (\d+)\s+IRS (\d+)", tcb)
    t.check(m and int(m.group(1)) == synack.seq and int(m.group(2)) == syn.seq,
            "tcb ISS/IRS %s do not match the capture (%d, %d)" %
            (m and m.groups(), synack.seq, syn.seq))
    # The close: Linux's FIN, the stack's FIN carrying its ACK, Linux's last ACK.
    fin_l = [s for s in segs if s.src == t.LINUX and "F" in s.flags]
    fin_s = [s for s in segs if s.src == t.STACK and "F" in s.flags]
    t.check(len(fin_l) == 1 and len(fin_s) == 1, "wanted one FIN each way")
    i, j = segs.index(fin_l[0]), segs.index(fin_s[0])
    t.check(j == i + 1, "the stack sent something between Linux's FIN and its own:\n  " +
            t.show(segs[i:j + 1]))
    t.check(fin_s[0].ack == fin_l[0].seq_end + 1, "stack's FIN does not ACK Linux's FIN")
    last = segs[-1]
    t.check(last.src == t.LINUX and last.flags == "." and last.ack == fin_s[0].seq + 1,
            "last is not Linux's ACK of the stack's FIN: %s" % last)
    t.check(not any("R" in s.flags for s in segs), "a RST was sent")


t.main(test)
