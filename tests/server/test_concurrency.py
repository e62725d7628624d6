"""Several answers at once, the bounded queue, clients that hang up, and shutdown."""
import json
import signal
import socket
import threading
import time

from conftest import SMALL, Server

PROMPTS = ["What is the capital of France?", "Name three colours.", "What is 2 + 2?",
           "Say hello in Spanish."]


def test_four_concurrent_requests_get_their_own_answers(server):
    body = dict(max_tokens=24, temperature=0, seed=3)
    alone = [server.chat(p, **body)[1]["choices"][0]["message"]["content"] for p in PROMPTS]
    assert len(set(alone)) == len(PROMPTS)
    together = [None] * len(PROMPTS)

    def ask(i):
        together[i] = server.chat(PROMPTS[i], **body)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(PROMPTS))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for i, (status, r) in enumerate(together):
        assert status == 200
        assert r["choices"][0]["message"]["content"] == alone[i]


def open_raw_stream(srv, path, body):
    """Posts a streaming request over a raw socket and returns the socket once the first
    content chunk has arrived, so the answer is known to be running."""
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=60)
    body = json.dumps(body)
    sock.sendall((f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                  f"Content-Length: {len(body)}\r\n\r\n{body}").encode())
    seen = b""
    while seen.count(b"data: ") < 2:
        data = sock.recv(4096)
        assert data, seen
        seen += data
    assert seen.startswith(b"HTTP/1.1 200 OK\r\n")
    return sock


def open_stream(srv, prompt, max_tokens=400):
    """A streaming chat, running (open_raw_stream)."""
    return open_raw_stream(srv, "/v1/chat/completions",
                           {"messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens,
                            "temperature": 0, "stream": True, "specfuse": {"segment_tokens": 4}})


def wait_for(predicate, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


LONG = "Count from 1 to 500, separated by commas."


def test_a_client_that_hangs_up_mid_stream_frees_its_sequences(server):
    sock = open_stream(server, LONG)
    assert server.metric("specfuse_active_sequences") == 1
    sock.close()
    assert wait_for(lambda: server.metric("specfuse_active_sequences") == 0, timeout=30)
    status, r = server.chat("Hello", max_tokens=5)
    assert status == 200


def test_beyond_the_queue_requests_are_429(start_server):
    srv = start_server("-m", SMALL, "--max-concurrent", "1", "--queue", "1")
    running = open_stream(srv, LONG)
    queued = {}
    t = threading.Thread(target=lambda: queued.update(r=srv.chat("What is 2 + 2?", max_tokens=8)))
    t.start()
    assert wait_for(lambda: srv.metric("specfuse_queue_depth") == 1)
    status, body = srv.chat("Hello", max_tokens=3)
    assert status == 429
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["code"] == "rate_limit_exceeded"
    running.close()  # the running answer is cancelled; the queued one gets the slot
    t.join(timeout=120)
    assert queued["r"][0] == 200
    assert srv.metric("specfuse_queue_depth") == 0
    assert wait_for(lambda: srv.metric("specfuse_active_sequences") == 0)


def test_sigterm_during_a_stream_exits_zero(start_server):
    srv = start_server("-m", SMALL, "--max-concurrent", "1")
    sock = open_stream(srv, LONG)
    started = time.time()
    assert srv.stop(signal.SIGTERM, timeout=60) == 0
    assert time.time() - started < 30
    sock.settimeout(10)
    rest = b""
    while True:  # the stream ends (cleanly or not) rather than hanging
        try:
            data = sock.recv(65536)
        except OSError:
            break
        if not data:
            break
        rest += data
    sock.close()
    assert "stopped" in "".join(srv.log)


def test_sigint_when_idle_exits_zero():
    srv = Server("-m", SMALL)
    assert srv.stop(signal.SIGINT) == 0
