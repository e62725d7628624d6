"""Fixtures that run the real `specfuse serve` binary on a free loopback port."""
import http.client
import json
import os
import queue
import re
import signal
import subprocess
import threading
import time

import pytest

BIN = os.environ.get("SPECFUSE_BIN", os.path.join(os.path.dirname(__file__), "../../build/bin/specfuse"))
SMALL = "smollm2-135m"


class Server:
    """One `specfuse serve` process. Its stderr is collected in `log`."""

    def __init__(self, *args):
        self.args = [BIN, "serve", "--port", "0", "--threads", "2", *args]
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
        deadline = time.time() + 120
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
        while self.get("/health")[0] != 200:
            time.sleep(0.1)

    def connection(self, timeout=120):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None):
        """Returns (status, headers, body bytes)."""
        conn = self.connection()
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body)
            conn.request(method, path, body=body,
                         headers={"Content-Type": "application/json", **(headers or {})})
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            conn.close()

    def get(self, path):
        try:
            status, _, body = self.request("GET", path)
            return status, body
        except OSError:
            return 0, b""

    def post(self, path, body, headers=None):
        """Returns (status, parsed JSON body)."""
        status, _, raw = self.request("POST", path, body, headers)
        return status, json.loads(raw)

    def chat(self, messages, **fields):
        if isinstance(messages, str):
            messages = [{"role": "user", "content": messages}]
        return self.post("/v1/chat/completions", {"messages": messages, **fields})

    def metric(self, name):
        status, body = self.get("/metrics")
        assert status == 200
        m = re.search(r"^" + re.escape(name) + r" (\S+)$", body.decode(), re.M)
        assert m, f"{name} missing from /metrics"
        return float(m.group(1))

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Signals the server and returns its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise
        return self.proc.returncode


@pytest.fixture(scope="session")
def start_server():
    """Starts servers with the given flags; stops them all at the end of the run."""
    servers = []

    def start(*args):
        s = Server(*args)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()


@pytest.fixture(scope="session")
def server(start_server):
    """The shared server: the smallest model alone, four answers at once."""
    return start_server("-m", SMALL, "--max-concurrent", "4")


def read_sse(response):
    """Reads a whole SSE body and returns its events' payloads, checking the framing:
    every event is exactly 'data: <payload>' followed by a blank line."""
    raw = response.read().decode()
    assert raw.endswith("\n\n"), raw[-200:]
    events = raw[:-2].split("\n\n")
    payloads = []
    for e in events:
        assert e.startswith("data: "), repr(e)
        assert "\n" not in e, repr(e)
        payloads.append(e[len("data: "):])
    return payloads


def stream_chat(srv, body):
    """Posts a streaming chat request; returns (status, headers, payloads)."""
    conn = srv.connection()
    try:
        conn.request("POST", "/v1/chat/completions", body=json.dumps({**body, "stream": True}),
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        if r.status != 200:
            return r.status, dict(r.getheaders()), json.loads(r.read())
        return r.status, dict(r.getheaders()), read_sse(r)
    finally:
        conn.close()
