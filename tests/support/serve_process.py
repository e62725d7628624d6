"""One real `specfuse serve` process on a free loopback port, for tests and scripts.

ServeProcess starts the binary with `--port 0`, reads the port from its start line
("... on http://127.0.0.1:PORT"), keeps its stderr in `log`, and waits until /health
answers. Subclasses add the requests their tests need."""
import http.client
import os
import queue
import re
import signal
import subprocess
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
BIN = os.environ.get("SPECFUSE_BIN", os.path.join(ROOT, "build/bin/specfuse"))


class ServeProcess:
    def __init__(self, *args, binary=None, start_timeout=180):
        self.args = [binary or BIN, "serve", "--port", "0", *args]
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self.log = []
        lines = queue.Queue()

        def pump():
            for line in self.proc.stderr:
                self.log.append(line)
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.time() + start_timeout
        self.port = None
        while self.port is None:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.time()))
            except queue.Empty:
                line = None
            if line is None:
                self.stop()
                raise RuntimeError("specfuse serve did not start:\n" + "".join(self.log))
            m = re.search(r"on http://[^:]+:(\d+)", line)
            if m:
                self.port = int(m.group(1))
        self.url = f"http://127.0.0.1:{self.port}"
        while self.health() != 200:
            if self.proc.poll() is not None:
                raise RuntimeError("specfuse serve exited:\n" + "".join(self.log))
            time.sleep(0.1)

    def connection(self, timeout=120):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def health(self):
        """The status of GET /health, or 0 when the server does not answer."""
        conn = self.connection(10)
        try:
            conn.request("GET", "/health")
            r = conn.getresponse()
            r.read()
            return r.status
        except OSError:
            return 0
        finally:
            conn.close()

    def kill(self):
        self.proc.kill()
        self.proc.wait()

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Signals the server and returns its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise
        return self.proc.returncode
