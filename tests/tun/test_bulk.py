"""64 MiB each way, checked byte for byte: Linux -> discard (the stack acknowledges every
byte up to Linux's FIN), chargen -> Linux (RFC 864's pattern, exact), and both ways through
echo (SHA-256 of what came back). `clean`: as is. `impaired`: netem loss 2%, delay and
reordering on the device if the kernel has netem; otherwise 2% loss each way with nftables
in the kernel, plus delay and reordering from tcpsim's own --link model (the simulator's,
in real time), so both stacks still meet late and reordered segments."""
import os
import socket
import subprocess
import sys
import time
import tunlib as t

N = 64 << 20
CHUNK = 1 << 16

LOSS_RULES = """
table inet tstun_loss {
    chain in {
        type filter hook input priority 0; policy accept;
        iifname "tun0" numgen random mod 100 < 2 drop
    }
    chain out {
        type filter hook output priority 0; policy accept;
        oifname "tun0" numgen random mod 100 < 2 drop
    }
}
"""


def impair():
    r = subprocess.run(["tc", "qdisc", "add", "dev", "tun0", "root", "netem", "loss", "2%",
                        "delay", "2ms", "1ms", "reorder", "5%"], capture_output=True, text=True)
    if r.returncode == 0:
        t.log("impairment: netem loss 2%, delay 2ms +-1ms, reorder 5% (Linux -> stack)")
        r = subprocess.run(["nft", "-f", "-"], input=LOSS_RULES.replace(
            'oifname "tun0" numgen random mod 100 < 2 drop', 'oifname "tun0" accept'),
            text=True, capture_output=True)
        t.check(r.returncode == 0, "nft: %s" % r.stderr)
        return "netem"
    t.log("NOTE: netem is not available (%s); impairment: nftables 2%% loss each way, "
          "delay 2ms +-1ms and 5%% reordering from tcpsim --link" % r.stderr.strip())
    r = subprocess.run(["nft", "-f", "-"], input=LOSS_RULES, text=True, capture_output=True)
    t.check(r.returncode == 0, "nft: %s" % r.stderr)
    return "nft"


def have_netem():
    r = subprocess.run(["tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"],
                       capture_output=True, text=True)
    if r.returncode == 0:
        subprocess.run(["tc", "qdisc", "del", "dev", "lo", "root"], capture_output=True)
    return r.returncode == 0


def rate(n, secs):
    return "%.1f MB/s (%.2f Gbit/s)" % (n / secs / 1e6, n * 8 / secs / 1e9)


def to_discard(timeout):
    block = os.urandom(CHUNK)
    s = t.connect(9, timeout=timeout)
    t0 = time.monotonic()
    for _ in range(N // CHUNK):
        s.sendall(block)
    s.shutdown(socket.SHUT_WR)
    t.check(t.recv_until_eof(s) == b"", "discard sent data")
    dt = time.monotonic() - t0
    port = s.getsockname()[1]
    s.close()
    t.log("Linux -> discard: %d bytes in %.2f s, %s" % (N, dt, rate(N, dt)))
    return port


def from_chargen(timeout):
    dt = t.chargen_transfer(N, CHUNK, timeout, rcvbuf=4 << 20)
    t.log("chargen -> Linux: %d bytes in %.2f s, %s" % (N, dt, rate(N, dt)))


def through_echo(timeout):
    dt = t.echo_transfer(N, CHUNK, timeout)
    t.log("Linux -> echo -> Linux: %d bytes each way in %.2f s, %s each way" %
          (N, dt, rate(N, dt)))


def test():
    mode = sys.argv[1] if len(sys.argv) > 1 else "clean"
    extra = []
    if mode == "impaired" and not have_netem():
        extra = ["--link", "delay=2ms jitter=1ms reorder=5%"]
    p = t.tcpsim("--listen", "9:discard", "--listen", "19:chargen", "--listen", "7:echo",
                 *extra)
    cap = t.Capture(filt="tcp[tcpflags] & (tcp-syn|tcp-fin|tcp-rst) != 0")
    timeout = 60
    if mode == "impaired":
        impair()
        timeout = 120
    port = to_discard(timeout)
    from_chargen(timeout)
    through_echo(timeout)
    t.stop_tcpsim(p)
    segs = cap.lines()
    d = [x for x in segs if x.sport == port or x.dport == port]
    syn = [x for x in d if x.flags == "S"][0]
    fin_l = [x for x in d if x.src == t.LINUX and "F" in x.flags][0]
    fin_s = [x for x in d if x.src == t.STACK and "F" in x.flags][-1]
    # A FIN may carry data ("seq A:B"): the FIN itself is at B.
    t.check(fin_l.seq_end == (syn.seq + 1 + N) % (1 << 32),
            "Linux's FIN at %d, wanted ISN+1+%d" % (fin_l.seq_end, N))
    t.check(fin_s.ack == (fin_l.seq_end + 1) % (1 << 32),
            "the stack's FIN acknowledges %d, wanted %d: not every byte arrived" %
            (fin_s.ack, fin_l.seq_end + 1))
    t.log("discard: the stack acknowledged all %d bytes and the FIN" % N)
    k = subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True).stdout
    if mode == "impaired":
        t.log("loss rules:\n" + k)


t.main(test)
