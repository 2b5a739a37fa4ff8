"""10,000 idle connections from Linux, and what the stack says they hold (issue 13).

Linux opens N connections to the stack's discard service and sends nothing. While they are
all established, the telnet service's `stats` reads the stack's own memory counters (not
RSS): no ring buffer at all for the idle connections (only the telnet session's own two),
and connection blocks under 4 KB each. Then one byte on each of the first 100 gives each a
receive ring (discard reads it; the ring stays, so ping-pong traffic pays no malloc), and
nothing else. When Linux has closed them all, the counters are back where they started,
and the table at exit (--stats) holds the listeners and the telnet session's TIME-WAIT.
Usage: test_idle_mem.py [N]"""
import re
import resource
import socket
import sys
import time
import tunlib as t

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
BOUND = 4096  # bytes of connection blocks per connection (issue 13: an idle one <= 4 KB)
LISTENERS = 2


def memory(s):
    r = t.telnet_cmd(s, "stats")
    m = re.search(r"memory: rings (\d+) holding (\d+) B \(peak (\d+) B\)  connection blocks "
                  r"(\d+) B", r)
    t.check(m, "stats printed no memory line:\n" + r)
    return {"rings": int(m.group(1)), "ring_bytes": int(m.group(2)),
            "conn_bytes": int(m.group(4))}


def test():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = N + 256
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))
    p = t.tcpsim("--listen", "9:discard", "--listen", "23:telnet", "--stats")
    tn = t.telnet_open()
    base = memory(tn)  # the listeners and the telnet session
    t.log("before: %s" % base)
    t0 = time.monotonic()
    socks = []
    for i in range(N):
        socks.append(socket.create_connection((t.STACK, 9), timeout=10))
    t.log("%d connections established in %.2f s" % (N, time.monotonic() - t0))
    t.wait_for(lambda: memory(tn)["conn_bytes"] > base["conn_bytes"], 5, "the stack's counters")
    idle = memory(tn)
    per = (idle["conn_bytes"] - base["conn_bytes"]) / N
    t.log("%d idle: %s; %.0f bytes of blocks per connection" % (N, idle, per))
    t.check(idle["rings"] == base["rings"],
            "idle connections hold rings: %d, before them %d" % (idle["rings"], base["rings"]))
    t.check(per <= BOUND, "an idle connection holds %.0f bytes, over %d" % (per, BOUND))
    for s in socks[:100]:
        s.sendall(b"x")
    t.wait_for(lambda: memory(tn)["rings"] >= base["rings"] + 100, 10, "100 receive rings")
    some = memory(tn)
    t.log("after one byte on 100 of them: %s" % some)
    t.check(some["rings"] == base["rings"] + 100,
            "one byte on 100 connections made %d rings" % (some["rings"] - base["rings"]))
    for s in socks:
        s.close()
    t.wait_for(lambda: memory(tn)["conn_bytes"] <= base["conn_bytes"], 30,
               "the stack to free the %d connections Linux closed" % N)
    after = memory(tn)
    t.log("after Linux closed them: %s" % after)
    t.check(after["rings"] == base["rings"], "rings left: %d, before %d" %
            (after["rings"], base["rings"]))
    tn.sendall(b"quit\r\n")
    while tn.recv(65536):  # until the service's FIN
        pass
    tn.close()
    time.sleep(0.5)  # our FIN's ACK reaches the stack: the session is gone
    t.stop_tcpsim(p)
    k = t.stats(p, "mem_rings")
    t.log("at exit: mem_rings=%d mem_ring_bytes=%d mem_conn_bytes=%d conns=%d" %
          (k["mem_rings"], k["mem_ring_bytes"], k["mem_conn_bytes"], k.get("conns", -1)))
    # the telnet service closed first on `quit`: its side waits in TIME-WAIT
    t.check(k.get("conns") == LISTENERS + 1 and k.get("conns.TIME_WAIT") == 1,
            "the table as the run ended holds %s connections (%s in TIME-WAIT), wanted the "
            "%d listeners and the telnet session in TIME-WAIT" %
            (k.get("conns"), k.get("conns.TIME_WAIT"), LISTENERS))
    t.check(k["mem_rings"] == 0 and k["mem_ring_bytes"] == 0,
            "rings still held at exit: %d (%d bytes)" % (k["mem_rings"], k["mem_ring_bytes"]))
    t.check(k["mem_conn_bytes"] <= LISTENERS * BOUND,
            "connection blocks at exit: %d bytes for %d listeners" %
            (k["mem_conn_bytes"], LISTENERS))


t.main(test)
