"""ping gets replies from the stack; a connect to a port the stack does not listen on is
refused at once (RST), with no retries."""
import errno
import socket
import subprocess
import tunlib as t


def test():
    p = t.tcpsim("--listen", "7:echo")
    cap = t.Capture(filt="ip")
    r = subprocess.run(["ping", "-c", "3", "-i", "0.2", "-W", "2", t.STACK],
                       capture_output=True, text=True, timeout=20)
    t.check(r.returncode == 0 and " 0% packet loss" in r.stdout,
            "ping failed:\n%s%s" % (r.stdout, r.stderr))
    s = socket.socket()
    s.settimeout(5)
    try:
        s.connect((t.STACK, 4242))
        t.fail("connect to closed port 4242 succeeded")
    except ConnectionRefusedError:
        pass
    except OSError as e:
        t.fail("connect to closed port 4242: %s, wanted ECONNREFUSED" % e)
    s.close()
    # ping saw all three replies and connect() saw the RST, so all of them crossed tun0:
    # wait for tcpdump to have written them before tun0 goes away.
    cap.settle(until=lambda pk: sum(x.src == t.STACK and "echo reply" in x.flags
                                    for x in pk) >= 3 and
               any(x.sport == 4242 and "R" in x.flags for x in pk))
    t.stop_tcpsim(p)
    icmp = cap.lines("icmp")
    tcp = cap.lines("tcp")
    replies = [x for x in icmp if x.src == t.STACK and "echo reply" in x.flags]
    t.check(len(replies) == 3, "wanted 3 echo replies on tun0:\n  " + t.show(icmp))
    to_port = [x for x in tcp if x.dport == 4242 or x.sport == 4242]
    t.check(len(to_port) == 2, "wanted SYN then RST:\n  " + t.show(to_port))
    syn, rst = to_port
    t.check(syn.flags == "S" and syn.src == t.LINUX, "first is not Linux's SYN: %s" % syn)
    t.check(rst.src == t.STACK and "R" in rst.flags, "second is not the stack's RST: %s" % rst)
    t.check(rst.ack == syn.seq + 1, "RST acks %s, wanted %d" % (rst.ack, syn.seq + 1))
    t.log("\n  " + t.show(to_port))


t.main(test)
