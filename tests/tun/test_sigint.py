"""SIGINT closes every connection with a FIN, waits a short grace, resets the rest, removes
the device and exits 0."""
import signal
import subprocess
import time
import tunlib as t


def test():
    p = t.tcpsim("--listen", "7:echo", "--grace", "500ms")
    cap = t.Capture()
    a = t.connect(7)
    b = t.connect(7)
    a.sendall(b"hello")
    t.check(a.recv(5) == b"hello", "no echo")
    time.sleep(0.1)
    p.signal(signal.SIGINT)
    a.settimeout(3)
    t.check(a.recv(100) == b"", "no FIN on connection a")
    a.close()  # a closes, b does not: b is left for the grace to end
    rc = p.wait(5)
    t.check(rc == 0, "exit %d after SIGINT:\n%s" % (rc, p.stderr()))
    r = subprocess.run(["ip", "link", "show", "tun0"], capture_output=True)
    t.check(r.returncode != 0, "tun0 still exists after tcpsim exited")
    segs = cap.lines()
    fins = [x for x in segs if x.src == t.STACK and "F" in x.flags]
    t.check(len(fins) == 2, "wanted a FIN from the stack on both connections:\n  " +
            t.show(segs))
    b.close()


t.main(test)
