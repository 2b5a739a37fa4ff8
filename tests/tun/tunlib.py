"""tunlib: helpers for the TUN integration tests. Every test runs inside a network
namespace of its own (run.sh makes it), starts `tcpsim tun` and `tcpdump -i tun0 -w`,
drives Linux clients and servers, and asserts on what tcpdump read back."""

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

TCPSIM = os.environ.get("TCPSIM", "tcpsim")
STACK = "10.0.0.2"
LINUX = "10.0.0.1"
TMP = os.environ.get("TMPDIR", "/tmp")

_children = []
_captures = []
_failed = False


def log(*args):
    print(*args, flush=True)


def fail(msg):
    raise AssertionError(msg)


def check(cond, msg):
    if not cond:
        fail(msg)


def tmpfile(name):
    d = os.path.join(TMP, "tcpsim-tun-%d" % os.getpid())
    os.makedirs(d, exist_ok=True)
    return os.path.join(d, name)


class Proc:
    """A child process whose stderr (and optionally stdout) is collected by a thread."""

    def __init__(self, argv, stdin=None, stdout=None, name=None):
        self.name = name or os.path.basename(argv[0])
        self.argv = argv
        self.p = subprocess.Popen(argv, stdin=stdin if stdin is not None else subprocess.DEVNULL,
                                  stdout=stdout if stdout is not None else subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)
        _children.append(self)
        self.err_lines = []
        self._cv = threading.Condition()
        self._t = threading.Thread(target=self._drain, daemon=True)
        self._t.start()

    def _drain(self):
        for raw in self.p.stderr:
            line = raw.decode(errors="replace").rstrip("\n")
            with self._cv:
                self.err_lines.append(line)
                self._cv.notify_all()
        with self._cv:
            self._cv.notify_all()

    def wait_err(self, pattern, timeout=5.0):
        """Wait for a stderr line matching pattern; returns the match."""
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        with self._cv:
            while True:
                for line in self.err_lines:
                    m = rx.search(line)
                    if m:
                        return m
                left = end - time.monotonic()
                if left <= 0 or (self.p.poll() is not None and not self._t.is_alive()):
                    fail("%s: no line matching %r within %.1f s; stderr:\n  %s" %
                         (self.name, pattern, timeout, "\n  ".join(self.err_lines)))
                self._cv.wait(min(left, 0.1))

    def stderr(self):
        self._t.join(timeout=2)
        return "\n".join(self.err_lines)

    def signal(self, sig):
        if self.p.poll() is None:
            self.p.send_signal(sig)

    def wait(self, timeout=10.0):
        try:
            return self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            fail("%s did not exit within %.1f s" % (self.name, timeout))

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def tcpsim(*args, stdin=None, stdout=None, ready=True):
    """Start tcpsim tun ARGS; wait for its ready line unless ready is False."""
    p = Proc([TCPSIM, "tun"] + list(args), stdin=stdin, stdout=stdout, name="tcpsim")
    if ready:
        p.wait_err(r"^tcpsim: \S+ up: ", timeout=10)
    return p


def stop_tcpsim(p, timeout=10.0):
    # tun0 goes away when tcpsim exits, and tcpdump then quits without reading what the
    # kernel still holds for it; on a loaded machine it can lag a second behind. So let
    # every running capture catch up first.
    for c in _captures:
        c.settle()
    p.signal(signal.SIGINT)
    rc = p.wait(timeout)
    check(rc == 0, "tcpsim exited %d after SIGINT; stderr:\n%s" % (rc, p.stderr()))


class Capture:
    """tcpdump -i DEV -w FILE for the life of the test; read back with lines(). Start it
    after tcpsim's ready line (the device exists from then on), or use dev="any" with a
    filter when the stack sends at once (client mode): the namespace has no other traffic."""

    def __init__(self, dev="tun0", filt=None, name="cap", buffer_kib=None):
        self.file = tmpfile(name + ".pcap")
        argv = ["tcpdump", "-i", dev, "-n", "-U", "--immediate-mode", "-s", "200", "-w",
                self.file]
        if buffer_kib:  # a bulk transfer captured whole: a kernel buffer that holds it
            argv[1:1] = ["-B", str(buffer_kib)]
        if filt:
            argv += filt.split()
        self.p = Proc(argv, name="tcpdump")
        self.p.wait_err(r"listening on", timeout=10)
        self._lines = None
        _captures.append(self)

    def _read(self):
        out = subprocess.run(["tcpdump", "-r", self.file, "-n", "-S", "-tt"],
                             capture_output=True, text=True)
        return [parse_line(l) for l in out.stdout.splitlines() if l.strip()]

    def settle(self, until=None, quiet=0.4, limit=5.0):
        """Wait until tcpdump has written what it was sent: until(lines) holds (if given)
        and the file has not grown for `quiet` seconds, or `limit` seconds have passed.
        tcpdump drops what it has not yet read when it stops, and under load (CI runs the
        suite beside an ASan build) it can be that far behind."""
        if self._lines is not None or self.p.p.poll() is not None:
            return
        end = time.monotonic() + limit
        size, still = -1, time.monotonic()
        while time.monotonic() < end:
            now = os.path.getsize(self.file) if os.path.exists(self.file) else 0
            if now != size:
                size, still = now, time.monotonic()
            elif time.monotonic() - still >= quiet:
                if until is None or until(self._read()):
                    return
            time.sleep(0.05)

    def stop(self, until=None):
        if self._lines is None:
            self.settle(until)
            self.p.signal(signal.SIGINT)
            self.p.wait(10)
            self._lines = self._read()
            if self in _captures:
                _captures.remove(self)
        return self._lines

    def lines(self, proto="tcp"):
        pk = self.stop()
        return [p for p in pk if proto is None or p.proto == proto]


class Pkt:
    def __init__(self, text):
        self.text = text
        self.t = 0.0
        self.proto = None
        self.src = self.dst = None
        self.sport = self.dport = None
        self.flags = ""
        self.seq = self.seq_end = self.ack = None
        self.win = None
        self.options = ""
        self.length = 0

    def __repr__(self):
        return self.text


# With -i any, tcpdump prints the interface and direction after the time stamp.
_IFX = r"(?:\S+\s+(?:In|Out|M|P|B)\s+)?"
_TCP = re.compile(r"^(\d+\.\d+) " + _IFX + r"IP (\d+\.\d+\.\d+\.\d+)\.(\d+) > (\d+\.\d+\.\d+\.\d+)\.(\d+): "
                  r"Flags \[([^\]]*)\](.*)$")


def parse_line(text):
    p = Pkt(text)
    m = _TCP.match(text)
    if m:
        p.proto = "tcp"
        p.t = float(m.group(1))
        p.src, p.sport, p.dst, p.dport = m.group(2), int(m.group(3)), m.group(4), int(m.group(5))
        p.flags = m.group(6)
        rest = m.group(7)
        s = re.search(r" seq (\d+)(?::(\d+))?,", rest)
        if s:
            p.seq = int(s.group(1))
            p.seq_end = int(s.group(2)) if s.group(2) else p.seq
        a = re.search(r" ack (\d+),", rest)
        if a:
            p.ack = int(a.group(1))
        w = re.search(r" win (\d+),", rest)
        if w:
            p.win = int(w.group(1))
        o = re.search(r"options \[([^\]]*)\]", rest)
        if o:
            p.options = o.group(1)
        ln = re.search(r"length (\d+)", rest)
        if ln:
            p.length = int(ln.group(1))
        return p
    m = re.match(r"^(\d+\.\d+) " + _IFX +
                 r"IP (\d+\.\d+\.\d+\.\d+) > (\d+\.\d+\.\d+\.\d+): ICMP (.*)$", text)
    if m:
        p.proto = "icmp"
        p.t = float(m.group(1))
        p.src, p.dst = m.group(2), m.group(3)
        p.flags = m.group(4)
        return p
    m = re.match(r"^(\d+\.\d+) ", text)
    if m:
        p.t = float(m.group(1))
    return p


def show(pkts):
    return "\n  ".join(p.text for p in pkts)


def wait_for(pred, timeout, what, step=0.02):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    fail("timed out after %.1f s waiting for %s" % (timeout, what))


def connect(port, addr=STACK, timeout=5.0):
    s = socket.create_connection((addr, port), timeout=timeout)
    return s


def echo_once(msg, port=7, timeout=5.0):
    """One connection to the echo service: msg sent, the same bytes back, closed; the
    seconds it took."""
    t0 = time.monotonic()
    s = socket.create_connection((STACK, port), timeout=timeout)
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        b = s.recv(4096)
        if not b:
            break
        got += b
    s.close()
    check(got == msg, "echo %r, wanted %r" % (got, msg))
    return time.monotonic() - t0


def telnet_prompt(s, timeout=20.0):
    """What the telnet service printed up to its next prompt (the options it offers are
    left unanswered, their bytes included)."""
    buf = b""
    end = time.monotonic() + timeout
    while not buf.endswith(b"tcpsim> ") and time.monotonic() < end:
        b = s.recv(65536)
        check(b, "the telnet service closed; it printed:\n%r" % buf)
        buf += b
    check(buf.endswith(b"tcpsim> "), "no prompt from the telnet service:\n%r" % buf)
    return buf.decode("latin-1")


def telnet_open(port=23):
    """A session with the telnet service, at its first prompt."""
    s = socket.create_connection((STACK, port), timeout=10)
    telnet_prompt(s)
    return s


def telnet_cmd(s, cmd):
    """One command line to the telnet service, and what it printed before its next prompt."""
    s.sendall(cmd.encode() + b"\r\n")
    return telnet_prompt(s)


def recv_until_eof(s, limit=1 << 30):
    chunks = []
    n = 0
    while n < limit:
        b = s.recv(65536)
        if not b:
            break
        chunks.append(b)
        n += len(b)
    return b"".join(chunks)


def chargen_pattern(n, start=0):
    """The first n bytes of RFC 864's stream (72 characters, CR LF, rotating by one)."""
    line_len, chars = 74, 95
    period = bytearray()
    for i in range(chars):
        period += bytes((32 + (i + j) % chars) for j in range(72)) + b"\r\n"
    period = bytes(period)
    reps = (start + n) // len(period) + 2
    return (period * reps)[start:start + n]



def stats(p, must="tcp_rto_timeouts"):
    """The 'tcpsim: stat NAME VALUE' lines `tcpsim tun --stats` printed at exit, as a dict;
    fails the test when the counter `must` is not among them."""
    out = {}
    for line in p.stderr().splitlines():
        f = line.split()
        if len(f) == 4 and f[:2] == ["tcpsim:", "stat"]:
            out[f[2]] = int(f[3])
    check(must in out, "no --stats lines in tcpsim's stderr:\n" + p.stderr())
    return out



def chargen_transfer(n, chunk=1 << 16, timeout=60.0, rcvbuf=None):
    """Read n bytes from the stack's chargen service (port 19) and check each against RFC
    864's pattern; the first wrong byte fails the test by its offset. Returns the seconds
    it took."""
    period = chargen_pattern(7030)
    big = period * (chunk // 7030 + 2)
    s = connect(19, timeout=timeout)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    t0 = time.monotonic()
    pos = 0
    buf = bytearray(chunk)
    while pos < n:
        got = s.recv_into(buf, min(chunk, n - pos))
        check(got > 0, "chargen closed after %d bytes" % pos)
        off = pos % 7030
        if buf[:got] != big[off:off + got]:
            for k in range(got):
                if buf[k] != big[off + k]:
                    fail("chargen byte %d is %r, wanted %r" %
                         (pos + k, bytes(buf[k:k + 1]), big[off + k:off + k + 1]))
        pos += got
    dt = time.monotonic() - t0
    s.close()
    return dt

def echo_transfer(n, chunk=1 << 16, timeout=60.0):
    """n random bytes to the stack's echo service (port 7) from one thread while this one
    reads them back; the echo must be exact (SHA-256). Returns the seconds it took."""
    import hashlib
    data = os.urandom(n)
    s = connect(7, timeout=timeout)
    err = []

    def send():
        try:
            mv = memoryview(data)
            for i in range(0, n, chunk):
                s.sendall(mv[i:i + chunk])
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            err.append(e)

    t0 = time.monotonic()
    th = threading.Thread(target=send, daemon=True)
    th.start()
    h = hashlib.sha256()
    got = 0
    while True:
        b = s.recv(1 << 18)
        if not b:
            break
        h.update(b)
        got += len(b)
    th.join(timeout)
    dt = time.monotonic() - t0
    s.close()
    check(not err, "sending to echo: %s" % err)
    same = h.hexdigest() == hashlib.sha256(data).hexdigest()
    check(got == n and same, "echo returned %d bytes (wanted %d), equal: %s" % (got, n, same))
    return dt

def main(fn):
    """Run test function fn; exit 0 on success, 1 on failure, killing every child."""
    code = 0
    try:
        fn()
        log("PASS")
    except AssertionError as e:
        log("FAIL: %s" % e)
        code = 1
    except Exception as e:  # a broken test is a failed test, with its traceback
        import traceback
        traceback.print_exc()
        log("FAIL: %s: %s" % (type(e).__name__, e))
        code = 1
    finally:
        for c in reversed(_children):
            c.kill()
        d = os.path.join(TMP, "tcpsim-tun-%d" % os.getpid())
        if code == 0 and os.path.isdir(d):
            for f in os.listdir(d):
                os.unlink(os.path.join(d, f))
            os.rmdir(d)
        elif os.path.isdir(d):
            log("captures kept in %s" % d)
    sys.exit(code)
