"""Bad flags, bad addresses, a name in use, no CAP_NET_ADMIN and no /dev/net/tun: each gives
exactly one line on stderr that names the problem and the fix, and exit status 2."""
import subprocess
import tunlib as t


def run(argv, pre=()):
    r = subprocess.run(list(pre) + [t.TCPSIM, "tun"] + argv, capture_output=True, text=True,
                       timeout=20)
    return r.returncode, r.stderr.strip()


def expect(argv, words, pre=()):
    rc, err = run(argv, pre)
    lines = err.splitlines()
    t.check(rc == 2, "%s: exit %d, wanted 2; stderr: %r" % (argv, rc, err))
    t.check(len(lines) == 1, "%s: %d stderr lines, wanted 1: %r" % (argv, len(lines), err))
    for w in words:
        t.check(w in lines[0], "%s: %r does not mention %r" % (argv, lines[0], w))
    t.check(lines[0].startswith("tcpsim: "), "%s: %r lacks the tcpsim: prefix" % (argv, lines[0]))
    t.log("ok  %-40s -> %s" % (" ".join(argv), lines[0]))


def test():
    expect(["--bogus"], ["--bogus", "--help"])
    expect(["--addr", "10.0.0.300"], ["10.0.0.300", "A.B.C.D"])
    expect(["--addr", "127.0.0.1"], ["127.0.0.1"])
    expect(["--addr", "10.0.0.1"], ["10.0.0.1", "different"])
    expect(["--peer", "10.0.0.1/33"], ["10.0.0.1/33"])
    expect(["--mtu", "20"], ["--mtu", "128"])
    expect(["--listen", "23:ftp"], ["ftp", "telnet"])
    # --link values past their bounds (docs/scenarios.md): one line each
    expect(["--link", "delay=100000000s"], ["--link", "delay", "60s"])
    expect(["--link", "jitter=61s"], ["--link", "jitter", "60s"])
    expect(["--link", "rate=10bit"], ["--link", "rate", "1kbit..1Tbit"])
    expect(["--link", "queue=100001"], ["--link", "queue", "100000"])
    expect(["--link", "reorder=1%,90s"], ["--link", "reorder", "60s"])
    expect(["--listen", "99999:echo"], ["PORT"])
    expect(["--connect", "10.0.0.1"], ["A.B.C.D:PORT"])
    expect(["--set", "nosuch=1"], ["nosuch"])
    expect(["--set", "delack=fast"], ["delack", "fast"])
    expect(["--profile", "nosuch"], ["nosuch", "textbook"])
    expect(["--dev", "a/b"], ["a/b", "--dev"])
    expect(["--set"], ["--set", "value"])
    expect(["stray"], ["stray"])
    # --help is not an error
    rc, _ = run(["--help"])
    t.check(rc == 0, "--help exited %d" % rc)
    # No CAP_NET_ADMIN: an unprivileged user in this namespace (if it may run the binary).
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"]
    rc, err = run(["--help"], pre=nobody)
    if rc in (126, 127) or "Permission denied" in err:
        t.log("NOTE: user nobody cannot execute %s; unprivileged check skipped" % t.TCPSIM)
    else:
        expect([], ["CAP_NET_ADMIN", "root"], pre=nobody)
    # No /dev/net/tun: hide it under an empty tmpfs in a mount namespace of its own.
    expect([], ["/dev/net/tun", "modprobe tun"],
           pre=["unshare", "-m", "--propagation", "private", "sh", "-c",
                'mount -t tmpfs none /dev/net && exec "$0" "$@"'])
    # A name in use: a second tcpsim on the same device name.
    p = t.tcpsim("--listen", "7:echo")
    expect(["--listen", "7:echo"], ["tun0", "in use", "--dev"])
    # and the first one is unharmed
    t.check(p.p.poll() is None, "the first tcpsim died")
    t.stop_tcpsim(p)


t.main(test)
