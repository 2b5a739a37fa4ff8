"""ptyproc: run an interactive program (Debian's telnet) on a pseudo-terminal and talk to it
like a person: send keys, wait for text."""
import os
import pty
import re
import select
import signal
import subprocess
import time

import tunlib as t


class PtyProc:
    def __init__(self, argv):
        self.master, slave = pty.openpty()
        self.p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave,
                                  start_new_session=True, close_fds=True)
        os.close(slave)
        self.buf = b""
        self.argv = argv

    def _read(self, timeout):
        r, _, _ = select.select([self.master], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: the program exited and closed the terminal
            return None
        if not data:
            return None
        self.buf += data
        return True

    def expect(self, pattern, timeout=5.0):
        """Wait until the output (since the last expect) matches; returns the text before
        the end of the match and consumes it."""
        rx = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
        end = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                text = self.buf[:m.end()]
                self.buf = self.buf[m.end():]
                return text.decode(errors="replace")
            left = end - time.monotonic()
            if left <= 0:
                t.fail("%s: no %r within %.1f s; got %r" % (self.argv[0], pattern, timeout,
                                                             self.buf[-500:]))
            if self._read(min(left, 0.1)) is None:
                t.fail("%s: exited before %r; got %r" % (self.argv[0], pattern, self.buf[-500:]))

    def send(self, data):
        os.write(self.master, data.encode() if isinstance(data, str) else data)

    def wait(self, timeout=5.0):
        end = time.monotonic() + timeout
        while self.p.poll() is None and time.monotonic() < end:
            self._read(0.05)
        if self.p.poll() is None:
            self.kill()
            t.fail("%s did not exit; output %r" % (self.argv[0], self.buf[-500:]))
        while self._read(0) is True:
            pass
        return self.p.returncode

    def kill(self):
        if self.p.poll() is None:
            os.killpg(self.p.pid, signal.SIGKILL)
            self.p.wait()

    def close(self):
        self.kill()
        os.close(self.master)


def telnet_and_quit(port):
    """The chapter's client: Linux's telnet connects to the stack's port, then Ctrl-] and
    `quit` close it from the client's end (the close the chapter captures)."""
    tn = PtyProc(["telnet", t.STACK, str(port)])
    try:
        tn.expect(r"Escape character is", 5)
        time.sleep(0.2)
        tn.send("\x1d")
        tn.expect(r"telnet> ", 5)
        tn.send("quit\r")
        tn.wait(5)
    finally:
        tn.close()
