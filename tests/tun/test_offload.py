"""Offloads through the TUN device (issue 13). `on`: 64 MiB each way through echo (SHA-256
of what came back) and 64 MiB from chargen (RFC 864's pattern, exact), with tcpdump on tun0
seeing every packet. With offloads Linux hands the stack super-segments (longer than the
MSS, at most 64 KB) and the stack's segments of one burst leave as one: both show on the
device. `--stats` must agree with the capture: every byte the stack says it sent is in a
captured packet, and the segments it says it sent are the captured packets cut at the
segment size (the kernel's segmentation). `off`: --offload off, and every data segment on
the wire is at most one MSS in both directions, most of them exactly one."""
import subprocess
import sys
import tunlib as t

N = 64 << 20
CHUNK = 1 << 16
SEG = 1448  # MSS 1460 less the timestamp option: the size the stack cuts bulk data at


def rate(n, secs):
    return "%.2f Gbit/s" % (n * 8 / secs / 1e9)


def from_chargen():
    dt = t.chargen_transfer(N, CHUNK, 60)
    t.log("chargen -> Linux: %d bytes exact in %.2f s, %s" % (N, dt, rate(N, dt)))


def through_echo():
    dt = t.echo_transfer(N, CHUNK, 60)
    t.log("Linux -> echo -> Linux: %d bytes each way, exact, in %.2f s, %s each way" %
          (N, dt, rate(N, dt)))


def old_segments(cap):
    """Linux's segments that may arrive below RCV.NXT by design: its window probes (one
    below what the stack last ACKed, which tshark names keep-alives or zero-window probes)
    and its retransmissions (a tail loss probe or an RTO that crossed the stack's late
    ACK: the FIN and its data sent again after the stack had them). tcpdump's text prints
    no sequence number for a segment without data."""
    out = subprocess.run(["tshark", "-r", cap.file, "-n", "-Y",
                          "ip.src == %s && (tcp.analysis.keep_alive || "
                          "tcp.analysis.zero_window_probe || tcp.analysis.retransmission)"
                          % t.LINUX,
                          "-T", "fields", "-e", "frame.number"],
                         capture_output=True, text=True)
    t.check(out.returncode == 0, "tshark failed: %s" % out.stderr.strip())
    return len(out.stdout.split())


def auto_off():
    """--pcap and --link need every segment as cut: offloads go off, and the ready line
    says why."""
    for extra, why in ((["--pcap", t.tmpfile("a.pcap")], "--pcap"),
                       (["--link", "delay=1ms"], "--link")):
        p = t.tcpsim("--listen", "7:echo", "--stats", *extra)
        m = p.wait_err(r" up: .*; offload off: (\S+) needs every segment")
        t.check(m.group(1) == why, "offload off because of %s, wanted %s" % (m.group(1), why))
        t.stop_tcpsim(p)
        off = t.stats(p, "device.offload")["device.offload"] == 0
        t.check(off, "%s: offloads still on" % why)
        t.log("ok  %s: offload off, said on the ready line" % why)


def test():
    mode = sys.argv[1] if len(sys.argv) > 1 else "on"
    if mode == "off":
        auto_off()
    args = ["--listen", "7:echo", "--listen", "19:chargen", "--stats"]
    if mode == "off":
        args += ["--offload", "off"]
    p = t.tcpsim(*args)
    cap = t.Capture(filt="tcp", buffer_kib=65536)
    through_echo()
    from_chargen()
    t.stop_tcpsim(p)
    k = t.stats(p, "device.offload")
    pk = cap.lines()
    drops = [l for l in cap.p.stderr().splitlines() if "dropped by kernel" in l]
    t.log("tcpdump: %s" % "; ".join(drops))
    t.check(any(l.startswith("0 packets dropped") for l in drops),
            "tcpdump lost packets, the capture cannot be compared: %s" % drops)
    data_out = [x for x in pk if x.src == t.STACK and x.length > 0]
    data_in = [x for x in pk if x.src == t.LINUX and x.length > 0]
    big_out = [x for x in data_out if x.length > SEG]
    big_in = [x for x in data_in if x.length > SEG]
    t.log("on the device: stack -> Linux %d data packets (%d longer than %d, the largest %d); "
          "Linux -> stack %d (%d longer, the largest %d)" %
          (len(data_out), len(big_out), SEG, max(x.length for x in data_out), len(data_in),
           len(big_in), max(x.length for x in data_in)))
    t.log("stats: " + " ".join("%s=%d" % (n, k[n]) for n in sorted(k)
                               if n.startswith("device.") or n.startswith("tcp_")))
    # Nothing dropped, except what Linux sends below RCV.NXT by design: when the echo's
    # reader falls behind (a loaded machine), the stack's window closes and Linux probes it
    # with a segment one below RCV.NXT, and an ACK that comes late crosses Linux's
    # retransmission of what the stack already has (its tail loss probe of the FIN, seen
    # in CI). Both are out of the window (RFC 9293 3.8.6.1): the stack ACKs them and
    # counts them under drop.tcp-out-of-window, as Linux counts TCP_OLD_SEQUENCE.
    old = old_segments(cap)
    dropped = {n: v for n, v in k.items() if n.startswith("drop.")}
    t.log("Linux's window probes and retransmissions in the capture: %d; drops: %s"
          % (old, dropped or "none"))
    oow = dropped.pop("drop.tcp-out-of-window", 0)
    t.check(not dropped and oow <= old,
            "the stack dropped packets: %s, and %d out of the window where the capture holds "
            "%d window probes and retransmissions from Linux" % (dropped, oow, old))
    t.check(k["device.bad_vnet_in"] == 0, "unusable virtio_net_hdr: %d" % k["device.bad_vnet_in"])
    # Every byte the stack counts as sent is in a captured packet, and the segments it
    # counts are the captured packets cut at the segment size.
    t.check(sum(x.length for x in data_out) == k["tcp_bytes_out"],
            "captured %d payload bytes from the stack, it counts %d" %
            (sum(x.length for x in data_out), k["tcp_bytes_out"]))
    tcp_pkts = [x for x in pk if x.src == t.STACK]
    segs = sum((x.length + SEG - 1) // SEG if x.length > SEG else 1 for x in tcp_pkts)
    t.check(segs == k["tcp_out"] == k["device.segs_out"],
            "the capture holds %d segments from the stack (packets cut at %d), the stack "
            "counts tcp_out %d, the device segs_out %d" %
            (segs, SEG, k["tcp_out"], k["device.segs_out"]))
    t.check(len(tcp_pkts) == k["device.written"],
            "captured %d packets from the stack, the device wrote %d" %
            (len(tcp_pkts), k["device.written"]))
    if mode == "off":
        t.check(k["device.offload"] == 0 and not big_out and not big_in,
                "--offload off, yet segments longer than %d on the wire: %s" %
                (SEG, t.show((big_out + big_in)[:5])))
        full = sum(1 for x in data_out if x.length == SEG)
        t.check(full * 10 >= len(data_out) * 9,
                "only %d of %d data segments from the stack are one MSS (%d)" %
                (full, len(data_out), SEG))
        t.check(k["device.gso_out"] == 0 and k["device.gso_in"] == 0, "super-segments counted")
        return
    if k["device.offload"] == 0:
        t.log("NOTE: the kernel refused offloads; checked as without them")
        t.check(not big_out and not big_in, "super-segments without offloads")
        return
    t.check(big_in and k["device.gso_in"] > 0,
            "Linux sent no super-segment (gso_in %d)" % k["device.gso_in"])
    t.check(big_out and k["device.gso_out"] == len(big_out),
            "the stack's bursts did not leave as super-segments: %d longer than %d, gso_out %d" %
            (len(big_out), SEG, k["device.gso_out"]))
    t.check(all(x.length <= 65535 - 52 for x in big_out + big_in), "a super-segment over 64 KB")


t.main(test)
