"""--link applies the simulator's link models (sim/link.h) in real time between the stack
and the device. delay=20ms: tcpdump on tun0 sees each ping answered 40 ms later (20 ms
each way; the tolerance allows for the machine's scheduling, never for less than 40 ms).
loss=100%: nothing gets through. loss=2% delay=5ms: 4 MiB through echo come back whole,
and tcpsim's exit summary counts the packets the model dropped."""
import hashlib
import os
import re
import socket
import subprocess
import threading
import tunlib as t

N = 4 << 20


def delay():
    p = t.tcpsim("--listen", "7:echo", "--link", "delay=20ms")
    cap = t.Capture(filt="icmp")
    r = subprocess.run(["ping", "-c", "5", "-i", "0.2", "-W", "2", t.STACK],
                       capture_output=True, text=True, timeout=20)
    t.check(r.returncode == 0, "ping failed:\n%s%s" % (r.stdout, r.stderr))
    t.stop_tcpsim(p)
    pk = cap.lines("icmp")
    req = [x for x in pk if "echo request" in x.flags]
    rep = [x for x in pk if "echo reply" in x.flags]
    t.check(len(req) == 5 and len(rep) == 5, "wanted 5 requests and replies:\n  " + t.show(pk))
    for q, a in zip(req, rep):
        gap = a.t - q.t
        t.check(0.0395 <= gap <= 0.080, "reply %.1f ms after the request, wanted 40 ms: %s"
                % (gap * 1000, a))
    t.log("ping gaps on tun0: " + " ".join("%.1f ms" % ((a.t - q.t) * 1000)
                                          for q, a in zip(req, rep)))


def blackhole():
    p = t.tcpsim("--listen", "7:echo", "--link", "loss=100%")
    r = subprocess.run(["ping", "-c", "2", "-i", "0.2", "-W", "1", t.STACK],
                       capture_output=True, text=True, timeout=20)
    t.check(r.returncode != 0 and "100% packet loss" in r.stdout,
            "ping got through loss=100%%:\n%s" % r.stdout)
    t.stop_tcpsim(p)


def lossy_echo():
    p = t.tcpsim("--listen", "7:echo", "--link", "loss=2% delay=5ms", "--seed", "7")
    data = os.urandom(N)
    s = t.connect(7, timeout=60)
    got = []

    def reader():
        got.append(t.recv_until_eof(s))

    th = threading.Thread(target=reader)
    th.start()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    th.join(120)
    t.check(not th.is_alive(), "echo under loss did not finish in 120 s")
    s.close()
    t.check(hashlib.sha256(got[0]).digest() == hashlib.sha256(data).digest(),
            "echo returned %d bytes, not the %d sent" % (len(got[0]), N))
    t.stop_tcpsim(p)
    err = p.stderr()
    m = re.findall(r"link (\S+): (\d+) packets, (\d+) delivered, (\d+) lost", err)
    t.check(len(m) == 2, "no link summary on exit:\n" + err)
    for d, n, _, lost in m:
        t.check(int(lost) > 0 and int(lost) < int(n) // 10,
                "%s: %s of %s lost, wanted about 2%%" % (d, lost, n))
    t.log("; ".join("%s %s/%s lost" % (d, lost, n) for d, n, _, lost in m))


def test():
    delay()
    blackhole()
    lossy_echo()


t.main(test)
