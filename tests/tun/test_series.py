"""tcpsim tun --series: one row per stack event with the variables, written at exit
(SIGINT included): an echo exchange shows the connection open, the bytes acknowledged
and an RTT sample, time counting from start-up."""
import csv
import signal
import time
import tunlib as t


def test():
    out = t.tmpfile("series.csv")
    p = t.tcpsim("--listen", "7:echo", "--grace", "500ms", "--series", out)
    a = t.connect(7)
    a.sendall(b"hello")
    t.check(a.recv(5) == b"hello", "no echo")
    time.sleep(0.1)
    p.signal(signal.SIGINT)
    a.settimeout(3)
    t.check(a.recv(100) == b"", "no FIN")
    a.close()
    rc = p.wait(5)
    t.check(rc == 0, "exit %d after SIGINT:\n%s" % (rc, p.stderr()))
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    t.check(len(rows) > 10, "only %d rows" % len(rows))
    t.check(all(r["host"] == "stack" for r in rows), "a row not from the stack")
    times = [float(r["time_s"]) for r in rows]
    t.check(times == sorted(times) and 0 <= times[0] < 30, "times: %s" % times[:5])
    est = [r for r in rows if r["event"] == "state" and r["state"] == "ESTABLISHED"]
    t.check(len(est) == 1 and est[0]["remote"].startswith("10.0.0.1:"),
            "no connection reached ESTABLISHED: %s" % [r["state"] for r in rows])
    samples = [r for r in rows if r["event"] == "rtt_sample"]
    t.check(samples and all(int(r["rtt_us"]) >= 0 for r in samples), "no RTT sample")
    una = [int(r["snd_una"]) for r in rows if r["event"] == "seg_in" and r["conn"] == est[0]["conn"]]
    t.check(len(set(una)) >= 2, "snd_una never moved: %s" % una)
    t.check(any(r["srtt_us"] and int(r["rto_us"]) >= 200000 for r in rows), "no srtt/rto")


t.main(test)
