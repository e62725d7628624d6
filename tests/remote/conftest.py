"""Fixtures for remote members: real `specfuse serve` processes on free loopback ports,
tiny misbehaving servers, and `specfuse run` over a config that names them."""
import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from serve_process import BIN, ServeProcess  # noqa: E402
SMALL = "smollm2-135m"


class Server(ServeProcess):
    """One `specfuse serve` process serving one default model."""

    def __init__(self, model):
        super().__init__("-m", model, "--threads", "1", "--seed", "1")


@pytest.fixture(scope="session")
def start_server():
    started = []

    def start(model=SMALL):
        s = Server(model)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


@pytest.fixture(scope="session")
def small_pair(start_server):
    """Two servers, each serving SmolLM2 135M."""
    return start_server(), start_server()


class FakeServer:
    """A tiny OpenAI look-alike: /v1/models is right, /v1/completions is `mode`:
    "garbage" (200 with a body that is not JSON) or "stall" (never answers)."""

    def __init__(self, mode, model="fake"):
        self.release = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def send(self, body, content_type="application/json"):
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self.send(json.dumps({"object": "list", "data": [{"id": model, "object": "model"}]}))

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if mode == "stall":
                    fake.release.wait(120)
                    return
                self.send('{"choices": [{"text": "oops", "logprobs": {"tokens": [', "text/plain")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fake_server():
    made = []

    def make(mode, model="fake"):
        f = FakeServer(mode, model)
        made.append(f)
        return f

    yield make
    for f in made:
        f.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def toml_member(**fields):
    lines = ["[[member]]"]
    for k, v in fields.items():
        lines.append(f"{k} = {json.dumps(v)}")
    return "\n".join(lines) + "\n"


def remote_member(url, remote_model=SMALL, **fields):
    return toml_member(backend="openai", url=url, remote_model=remote_model, **fields)


class Run:
    def __init__(self, proc, stdout, stderr, trace_path, seconds):
        self.rc = proc.returncode
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds
        self.rounds, self.summary = [], None
        if trace_path and os.path.exists(trace_path):
            for line in open(trace_path):
                obj = json.loads(line)
                if "summary" in obj:
                    self.summary = obj["summary"]
                else:
                    self.rounds.append(obj)

    @property
    def failed(self):
        return [f for r in self.rounds for f in r.get("failed", [])]


def specfuse_run(tmp_path, config, prompt, *flags, name="run", during=None, timeout=600):
    """Runs `specfuse run` (temperature 0, seed 7) and reads its trace. `during(trace_path)`
    runs while it answers."""
    cfg = tmp_path / f"{name}.toml"
    trace = tmp_path / f"{name}.jsonl"
    args = [BIN, "run", "--temperature", "0", "--seed", "7", "--threads", "1", "--trace", str(trace), *flags]
    if config is not None:
        cfg.write_text(config)
        args += ["--config", str(cfg)]
    args.append(prompt)
    t0 = time.time()
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    if during:
        during(trace, proc)
    out, err = proc.communicate(timeout=timeout)
    return Run(proc, out, err, str(trace), time.time() - t0)
