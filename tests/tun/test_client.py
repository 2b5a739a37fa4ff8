"""Client mode (--connect), like nc: stdin goes to a Linux server, EOF on stdin half-closes,
the server's reply (sent after it read EOF) comes out on stdout, exit 0. A closed port gives
`tcpsim: connect 10.0.0.1:PORT: refused (RST)` and exit 1."""
import hashlib
import os
import socket
import subprocess
import threading
import tunlib as t

N = 200000


def server(ls, result):
    c, _ = ls.accept()
    data = t.recv_until_eof(c)  # until tcpsim's FIN
    result["got"] = data
    reply = hashlib.sha256(data).hexdigest().encode() * 1000  # 64000 bytes after the FIN
    c.sendall(reply)
    c.close()
    result["reply"] = reply


def test():
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", 5000))
    ls.listen(1)
    result = {}
    th = threading.Thread(target=server, args=(ls, result), daemon=True)
    th.start()
    data = os.urandom(N)
    inp = t.tmpfile("in.bin")
    with open(inp, "wb") as f:
        f.write(data)
    outp = t.tmpfile("out.bin")
    cap = t.Capture(dev="any", filt="host 10.0.0.2")
    with open(inp, "rb") as fi, open(outp, "wb") as fo:
        p = t.tcpsim("--connect", "10.0.0.1:5000", stdin=fi, stdout=fo, ready=False)
        rc = p.wait(20)
    t.check(rc == 0, "tcpsim exited %d; stderr:\n%s" % (rc, p.stderr()))
    th.join(5)
    t.check(result.get("got") == data, "server got %d bytes, wanted %d" %
            (len(result.get("got", b"")), N))
    with open(outp, "rb") as f:
        out = f.read()
    t.check(out == result["reply"], "stdout has %d bytes, wanted the %d-byte reply" %
            (len(out), len(result["reply"])))
    segs = cap.lines()
    t.check(not any("R" in x.flags for x in segs), "a RST was sent")
    fins = [x.src for x in segs if "F" in x.flags]
    t.check(fins == [t.STACK, t.LINUX], "FIN order %s, wanted the stack's first" % fins)
    # refused
    r = subprocess.run([t.TCPSIM, "tun", "--connect", "10.0.0.1:5001"], capture_output=True,
                       text=True, stdin=subprocess.DEVNULL, timeout=20)
    lines = r.stderr.strip().splitlines()
    t.check(r.returncode == 1, "refused: exit %d, wanted 1" % r.returncode)
    t.check(lines[-1] == "tcpsim: connect 10.0.0.1:5001: refused (RST)",
            "refused: last line %r" % lines[-1])
    ls.close()


t.main(test)
