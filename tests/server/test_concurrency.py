"""Several answers at once, the bounded queue, clients that hang up, and shutdown."""
import json
import math
import signal
import socket
import threading
import time

from conftest import SMALL, Server

PROMPTS = ["The capital of France is", "Three colours are", "2 + 2 =", "Hello in Spanish is"]


def complete(server, prompt):
    status, r = server.post("/v1/completions", {"model": SMALL, "prompt": prompt, "max_tokens": 24,
                                                "temperature": 0, "seed": 3, "logprobs": 2})
    assert status == 200, r
    return r["choices"][0]


def assert_same_greedy_answer(alone, together):
    """The same tokens, or the same up to a token where the model's two best choices were a
    near tie under the answer alone. A forward pass that serves several requests at once
    runs other kernels (batched, quantized matrix products), and the reported logprobs come
    from scoring the text afterwards, itself possibly batched with others: the two move
    log-probabilities by up to about 0.4 nats here (SmolLM2-135M, Q4_1, CPU), enough to flip
    a greedy choice between two tokens 0.2 nats apart. An answer read from another
    request's context would differ from its first tokens."""
    a, b = alone["logprobs"], together["logprobs"]
    for k, (x, y) in enumerate(zip(a["tokens"], b["tokens"])):
        if x != y:
            top = a["top_logprobs"][k]
            assert y in top and abs(top[x] - top[y]) < 1.0, (k, alone["text"], together["text"], top)
            return
        assert math.isclose(a["token_logprobs"][k], b["token_logprobs"][k], abs_tol=1.0), k
    if len(a["tokens"]) != len(b["tokens"]):
        # One ended where the other went on: a near tie with the end of generation.
        shorter = alone if len(a["tokens"]) < len(b["tokens"]) else together
        assert shorter["finish_reason"] == "stop", (alone, together)


def test_four_concurrent_requests_get_their_own_answers(server):
    alone = [complete(server, p) for p in PROMPTS]
    assert len({c["text"] for c in alone}) == len(PROMPTS)
    together = [None] * len(PROMPTS)

    def ask(i):
        together[i] = complete(server, PROMPTS[i])

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(PROMPTS))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for i in range(len(PROMPTS)):
        assert together[i] is not None, i
        assert_same_greedy_answer(alone[i], together[i])


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
