"""The chapter's experiment: telnet to a port whose server sends nothing (discard), then
Ctrl-] quit. With delayed ACK on, exactly 6 segments: S, S., ., F., F., . (the stack's FIN
carries the ACK of Linux's FIN); with delack=0, 7: the stack ACKs Linux's FIN at once."""
import time
import tunlib as t
from ptyproc import telnet_and_quit


def session(extra, name):
    p = t.tcpsim("--listen", "9:discard", *extra)
    cap = t.Capture(name=name)
    telnet_and_quit(9)
    time.sleep(0.3)
    t.stop_tcpsim(p)
    segs = cap.lines()
    t.log("%s:\n  %s" % (name, t.show(segs)))
    return segs


def flags(segs):
    return [("L " if s.src == t.LINUX else "S ") + s.flags for s in segs]


def test():
    segs = session([], "delack-on")
    want = ["L S", "S S.", "L .", "L F.", "S F.", "L ."]
    t.check(flags(segs) == want, "delayed ACK on: got %s, wanted %s" % (flags(segs), want))
    t.check(all(s.length == 0 for s in segs), "some segment carried data")
    t.check(segs[4].ack == segs[3].seq + 1, "the stack's FIN does not ACK Linux's FIN")

    segs = session(["--set", "delack=0"], "delack-off")
    want = ["L S", "S S.", "L .", "L F.", "S .", "S F.", "L ."]
    t.check(flags(segs) == want, "delack=0: got %s, wanted %s" % (flags(segs), want))
    t.check(segs[4].ack == segs[3].seq + 1, "the stack's ACK does not ACK Linux's FIN")


t.main(test)
