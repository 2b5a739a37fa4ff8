"""Half-open connections from Linux in small blocks (issue 13; stack/tcp_req.c).

A raw socket in the namespace sends COUNT SYNs from spoofed sources in 10.98.0.0/16, which
the namespace routes to a blackhole: the stack answers each with a SYN-ACK that goes
nowhere, so each child waits in SYN-RECEIVED. The SYN queue is large enough for all of
them and cookies are off, so every SYN that reached the stack made a child. While they
wait, the telnet service's `stats` (the stack's own counters, not RSS) must show every
one of them in a 160-byte block and nothing more: the blocks' bytes are the connection
blocks' growth. A real Linux client then connects to the same listener and echoes
byte-exact. With one SYN-ACK retry (synack_retries=1, 1 s then 2 s), every embryo is gone
3 s later and the counters are back where they started.

    test_halfopen_mem.py SYNFLOOD [COUNT]   (the flood sender built from synflood.c)
"""
import re
import subprocess
import sys
import time
import tunlib as t

FLOOD_NET = "10.98.0.0"
REQ_BYTES = 160  # sizeof(ts_req) on x86-64; tests/unit/test_tcp_req.c pins it below 192


def counters(s):
    r = t.telnet_cmd(s, "stats")
    m = re.search(r"connection blocks (\d+) B", r)
    q = re.search(r"SYN-RECEIVED (\d+) \((\d+) B\)", r)
    t.check(m and q, "stats printed no memory or small-block line:\n" + r)
    return {"conn_bytes": int(m.group(1)), "req_blocks": int(q.group(1)),
            "req_bytes": int(q.group(2))}


def test():
    flood_bin = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    p = t.tcpsim("--listen", "7:echo", "--listen", "23:telnet", "--set", "syncookies=0",
                 "--set", "max_syn_backlog=%d" % (count + 100), "--set", "synack_retries=1")
    subprocess.run(["ip", "route", "add", "blackhole", FLOOD_NET + "/16"], check=True)
    tn = t.telnet_open()
    base = counters(tn)
    t.log("before: %s" % base)
    # at 20,000 a second: all of them sent well inside the first SYN-ACK's 1 s
    out = subprocess.run([flood_bin, t.STACK, "7", FLOOD_NET, str(count), "20000"],
                         stdout=subprocess.PIPE, text=True, timeout=30)
    t.check(out.returncode == 0, "synflood exited %d" % out.returncode)
    t.log(out.stdout.strip())
    time.sleep(0.1)
    held = counters(tn)
    n = held["req_blocks"] - base["req_blocks"]
    t.log("while they wait: %s: %d half-open connections" % (held, n))
    # the tun queue may drop some of a burst; most SYNs must have made a child
    t.check(n >= count * 9 // 10, "%d half-open connections in blocks for %d SYNs" % (n, count))
    t.check(held["req_bytes"] - base["req_bytes"] == n * REQ_BYTES,
            "their blocks hold %d bytes, wanted %d x %d" %
            (held["req_bytes"] - base["req_bytes"], n, REQ_BYTES))
    t.check(held["conn_bytes"] - base["conn_bytes"] == n * REQ_BYTES,
            "connection blocks grew by %d bytes for %d half-open connections of %d bytes" %
            (held["conn_bytes"] - base["conn_bytes"], n, REQ_BYTES))
    t.echo_once(b"a real connection next to the half-open ones\n")
    # 1 s to the retry, 2 s more to give up; the last SYN went out within 0.6 s of the first
    t.wait_for(lambda: counters(tn)["req_blocks"] == base["req_blocks"], 10,
               "the half-open connections to time out")
    after = counters(tn)
    t.log("after their SYN-ACK retries ran out: %s" % after)
    t.check(after["conn_bytes"] == base["conn_bytes"],
            "connection blocks: %d bytes, %d before" % (after["conn_bytes"], base["conn_bytes"]))
    tn.close()
    t.stop_tcpsim(p)


t.main(test)
