"""The chapter's close over TUN, drawn three ways: tcpdump's capture read by `tcpsim
diagram`, the stack's own recording (`tcpsim tun --diagram`, written at SIGINT), and the
scenario of the same experiment (sim/scenarios/chapter-close.scn). With --relative the
capture's ladder has the scenario's arrows, in the same order and direction, and the same
states on each lifeline (inferred, so in brackets), up to ISNs, ports and times. The live
ladder names its ends "linux" and "stack" and its states are the stack's own."""
import os
import re
import subprocess
import time
import tunlib as t
from ptyproc import telnet_and_quit

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCENARIO = os.path.join(ROOT, "sim", "scenarios", "chapter-close.scn")
FLAGS = re.compile(r"^(S|S\.|\.|F\.|FP\.|P\.|R|R\.) (seq|ack) ")


def diagram(*args):
    out = subprocess.run([t.TCPSIM, "diagram"] + list(args), capture_output=True, text=True)
    t.check(out.returncode == 0, "tcpsim diagram %s: exit %d: %s" %
            (" ".join(args), out.returncode, out.stderr))
    return out.stdout


def parse(text):
    """The arrows (label, direction) and each lifeline's states, in order; times, timer
    notes and the compressed gaps are left out."""
    arrows, states, label = [], [[], []], None
    for line in text.splitlines():
        at = [i for i, c in enumerate(line) if c in "│├┤┊"]  # the lifelines
        if len(at) < 2:
            continue
        first, last = at[0], at[-1]
        left, mid, right = line[:first], line[first + 1:last], line[last + 1:]
        m = re.match(r"^\s*[\d.]*\s*(\[?[A-Z][A-Z_0-9]*\]?)\s*$", left)
        if m:
            states[0].append(m.group(1).strip("[]"))
        m = re.match(r"^\s*(\[?[A-Z][A-Z_0-9]*\]?)\s*$", right)
        if m:
            states[1].append(m.group(1).strip("[]"))
        # Linux picks its window scale from its buffer sizes (7 in the chapter, 10 on
        # newer kernels): the one number that is the host's, not the experiment's.
        body = re.sub(r"wscale \d+", "wscale N", mid.strip())
        if FLAGS.match(body):
            label = body
        elif body.startswith("[") and label and arrows and arrows[-1][0] == label:
            arrows[-1] = (label + " " + body, arrows[-1][1])
            label = arrows[-1][0]
        if label and "▶" in mid:
            arrows.append((label, ">"))
            label = None
        elif label and "◀" in mid:
            arrows.append((label, "<"))
            label = None
    return arrows, states


def test():
    live = t.tmpfile("live.txt")
    p = t.tcpsim("--listen", "9:discard", "--diagram", live)
    cap = t.Capture(name="close")
    telnet_and_quit(9)
    time.sleep(0.3)
    t.stop_tcpsim(p)
    segs = cap.lines()
    t.log("captured:\n  %s" % t.show(segs))
    t.check(len(segs) == 6, "want the chapter's 6 segments, got %d" % len(segs))

    from_cap = diagram(cap.file, "--relative")
    from_scn = diagram(SCENARIO, "--relative")
    t.log(from_cap)
    a_cap, s_cap = parse(from_cap)
    a_scn, s_scn = parse(from_scn)
    t.log("capture arrows: %s\nscenario arrows: %s" % (a_cap, a_scn))
    t.log("capture states: %s\nscenario states: %s" % (s_cap, s_scn))
    t.check(len(a_scn) == 6, "the scenario's ladder has %d arrows, want 6" % len(a_scn))
    t.check(a_cap == a_scn, "arrows differ:\n  capture  %s\n  scenario %s" % (a_cap, a_scn))
    # The scenario goes on past the last segment (TIME-WAIT ends 60 s later); a capture
    # cannot see that, so its states are the scenario's up to there.
    for end in (0, 1):
        n = len(s_cap[end])
        t.check(n >= 4 and s_scn[end][:n] == s_cap[end],
                "end %d's states differ:\n  capture  %s\n  scenario %s" %
                (end, s_cap[end], s_scn[end]))
        t.check(all(s in ("CLOSED",) for s in s_scn[end][n:]),
                "the scenario has more states than the capture: %s" % s_scn[end][n:])
    t.check("[SYN_SENT]" in from_cap, "a capture's states are not marked as inferred")

    # The live recording: the stack's own events, written when tcpsim got SIGINT.
    with open(live) as f:
        text = f.read()
    t.log(text)
    t.check("linux" in text and "stack" in text, "the live ladder does not name its ends")
    t.check("6 segments" in text, "the live ladder does not have the 6 segments")
    t.check("[SYN_RECEIVED]" not in text and "SYN_RECEIVED" in text,
            "the live ladder's states should be the stack's own")
    a_live, s_live = parse(text)
    t.check([a[1] for a in a_live] == [a[1] for a in a_scn], "live: arrows %s" % a_live)
    t.check(s_live[1][:4] == ["SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK"],
            "live: the stack's states %s" % s_live[1])

    # With --link the shaper says when each packet arrives: the arrows slope, and a packet
    # it drops ends in a cross. Plain Python sockets, to the discard service.
    live = t.tmpfile("link.txt")
    p = t.tcpsim("--listen", "9:discard", "--link", "delay=20ms", "--diagram", live)
    s = t.connect(9)
    s.sendall(b"hello\n")
    time.sleep(0.2)
    s.close()
    time.sleep(0.3)
    t.stop_tcpsim(p)
    with open(live) as f:
        text = f.read()
    t.log(text)
    t.check("╮" in text and "╯" in text, "with --link delay=20ms the arrows should slope")
    a_link, _ = parse(text)
    t.check(len(a_link) >= 6, "with --link: %d arrows" % len(a_link))


t.main(test)
