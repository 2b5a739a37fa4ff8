"""Connection churn (issue 13): 100,000 sequential connect+close from Linux to the stack's
discard service (port 9), none refused or failed, and afterwards the stack's connection
table empty but for the listener.

The client is churn.c (a Python loop would measure Python): each connection is a blocking
connect() and a close() at once, so Linux sends its FIN first, the stack goes CLOSE-WAIT ->
LAST-ACK -> CLOSED, and Linux holds the TIME-WAIT. 100,000 TIME-WAITs do not fit Linux's
28,232 default ephemeral ports for 60 s, so this namespace (sysctls are per namespace) sets
net.ipv4.tcp_tw_reuse=1 (a connect may take over a TIME-WAIT port after 1 s, the stack's
timestamps making that safe, RFC 7323 5.8) and ip_local_port_range 1024..65535: at 30k
connections a second a port comes round every 2 s. A normal close is kept rather than
SO_LINGER 0 (RSTs) because the FIN exchange and LAST-ACK are the stack's share of the
churn. `test_churn.py CHURN [N [linger0]]` runs another count or the RST close.

The table is read from `tcpsim tun --stats` at exit: `conns` and `conns.STATE` are the
table as the run ended (at SIGINT, before the grace and teardown close anything), and
every connection must have been accepted (one more, held open first to show that the `ss`
check sees a connection). The rate is logged, not asserted (it is the machine's): on the
2-core VM shared with other builds, RelWithDebInfo 15.0k/s at load 4 and 8.9k/s at load 8
(7 to 11 s), ASan 6.8k/s at load 9 (15 s); the issue measured 22.3k/s quiet. The limit
(ctest 180 s) leaves room for ASan on a busy CI machine."""
import socket
import subprocess
import sys
import time
import tunlib as t

N = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
LINGER0 = len(sys.argv) > 3 and sys.argv[3] == "linger0"
LIMIT = 150.0


def stats(p):
    out = {}
    for line in p.stderr().splitlines():
        f = line.split()
        if len(f) == 4 and f[:2] == ["tcpsim:", "stat"]:
            out[f[2]] = int(f[3])
    t.check("conns" in out, "no --stats conns line in tcpsim's stderr:\n" + p.stderr())
    return out


def linux_conns():
    """Linux's sockets to the stack other than TIME-WAIT (which Linux keeps, by design)."""
    r = subprocess.run(["ss", "-Htan", "exclude", "time-wait", "dst", t.STACK],
                       capture_output=True, text=True)
    t.check(r.returncode == 0, "ss: %s" % r.stderr.strip())
    return r.stdout.splitlines()


def test():
    churn = sys.argv[1]
    for k, v in (("net.ipv4.tcp_tw_reuse", "1"), ("net.ipv4.ip_local_port_range", "1024 65535")):
        subprocess.run(["sysctl", "-q", "-w", "%s=%s" % (k, v)], check=True)
    p = t.tcpsim("--listen", "9:discard", "--stats")
    held = socket.create_connection((t.STACK, 9), timeout=5)  # ss must see it (the filter works)
    t.check(len(linux_conns()) == 1, "ss does not show the open connection: %s" % linux_conns())
    held.close()
    argv = [churn, t.STACK, "9", str(N)] + (["linger0"] if LINGER0 else [])
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=LIMIT)
    except subprocess.TimeoutExpired:
        t.stop_tcpsim(p)
        t.fail("%d connect+close did not finish in %.0f s; tcpsim: %s" %
               (N, LIMIT, " ".join("%s=%d" % kv for kv in stats(p).items())))
    t.log("churn: " + r.stdout.strip() + r.stderr.strip())
    t.check(r.returncode == 0, "churn exited %d: %s" % (r.returncode, r.stderr))
    f = r.stdout.split()
    refused, failed = int(f[3]), int(f[5])
    # the last connections' FIN exchange is still under way when the client ends
    t.wait_for(lambda: not linux_conns(), 10, "Linux's last connections to close")
    time.sleep(0.2)
    t.stop_tcpsim(p)
    k = stats(p)
    table = {n: v for n, v in k.items() if n.startswith("conns")}
    t.log("stack: accepted %d, RSTs out %d in %d, drops %s, table at exit %s" %
          (k["tcp_conn_accepted"], k["tcp_rst_out"], k["tcp_rst_in"],
           {n: v for n, v in k.items() if n.startswith("drop.")}, table))
    t.check(refused == 0 and failed == 0, "%d connects refused, %d failed" % (refused, failed))
    t.check(k["tcp_conn_accepted"] == N + 1, "accepted %d, wanted %d" %
            (k["tcp_conn_accepted"], N + 1))
    t.check(table == {"conns": 1, "conns.LISTEN": 1},
            "the table at exit holds more than the listener: %s" % table)
    t.check(k.get("drop.tcp-backlog", 0) == 0, "%d SYNs dropped on a full listen queue" %
            k.get("drop.tcp-backlog", 0))


t.main(test)
