"""Fixtures that run the real `specfuse serve` binary on a free loopback port."""
import json
import os
import re
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from serve_process import ServeProcess  # noqa: E402

SMALL = "smollm2-135m"


class Server(ServeProcess):
    """One `specfuse serve` process (two threads per model). Its stderr is in `log`."""

    def __init__(self, *args):
        super().__init__("--threads", "2", *args)

    def request(self, method, path, body=None, headers=None, timeout=120):
        """Returns (status, headers, body bytes)."""
        conn = self.connection(timeout)
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

    def post(self, path, body, headers=None, timeout=120):
        """Returns (status, parsed JSON body)."""
        status, _, raw = self.request("POST", path, body, headers, timeout)
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


def remote_member_config(tmp_dir, url, role="both"):
    """Writes an ensemble config into tmp_dir and returns its path: SmolLM2 in process and
    a remote member, remote-smol (SmolLM2 served at url), with the given role."""
    path = tmp_dir / f"remote-{role}.toml"
    path.write_text(f"""
[[member]]
model = "{SMALL}"

[[member]]
backend = "openai"
name = "remote-smol"
url = "{url}"
remote_model = "{SMALL}"
chat_template = "chatml"
role = "{role}"
""")
    return str(path)
