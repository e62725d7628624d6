"""The bound on open connections (--max-connections) and on a request's head (100 header
lines, 64 KiB), against the real server on loopback."""
import http.client
import json
import select
import socket
import subprocess
import threading
import time

import pytest

from conftest import SMALL
from serve_process import BIN
from test_concurrency import open_raw_stream, wait_for
from test_errors import assert_error
from test_reliability import read_reply, requests_counted

LIMIT = 8
USER = [{"role": "user", "content": "Hello"}]
JSON = {"Content-Type": "application/json"}
# A connection may be closed for a new one once it has gone this long without a request.
EVICT_AFTER = 1.0


@pytest.fixture(scope="module")
def limited(start_server):
    """Eight connections at most; one answer running and one waiting; slow heads are not
    cut short by the read timeout while a test runs."""
    return start_server("-m", SMALL, "--max-concurrent", "1", "--queue", "1",
                        "--max-connections", str(LIMIT), "--read-timeout", "30")


class SlowClient:
    """A connection that sends a request head one byte every 0.2 s and never ends it.
    `ended` is None while it is open, then what the server sent before closing it."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        self.ended = None
        self.received = b""
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.trickle, daemon=True)
        self.thread.start()

    def trickle(self):
        while not self.stop.wait(0.2):
            try:
                self.sock.sendall(b"a")
                if select.select([self.sock], [], [], 0)[0]:
                    chunk = self.sock.recv(4096)
                    if not chunk:
                        break
                    self.received += chunk
            except OSError:  # reset by the server
                break
        if not self.stop.is_set():
            self.ended = self.received

    def close(self):
        self.stop.set()
        self.thread.join()
        self.sock.close()


def read_until_closed(sock):
    return read_reply(sock, whole_response=False)


def connect_and_read(port):
    """Opens a connection, sends nothing, and returns all the server sends before closing."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        return read_until_closed(sock)


def assert_refused(reply):
    head, _, body = reply.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 503 Service Unavailable", reply
    assert b"Retry-After: 1" in lines and b"Connection: close" in lines
    assert b"Content-Length: %d" % len(body) in lines
    assert_error(503, json.loads(body), 503, code="too_many_connections")
    assert json.loads(body)["error"]["message"] == (
        f"the server has its limit of {LIMIT} connections open (--max-connections), none idle "
        "long enough to be closed for this one; retry after a second")


def keep_alive_get(conn, path):
    conn.request("GET", path)
    r = conn.getresponse()
    return r.status, r.read()


def keep_alive_chat(conn):
    body = json.dumps({"messages": USER, "max_tokens": 2, "temperature": 0})
    conn.request("POST", "/v1/chat/completions", body=body, headers=JSON)
    r = conn.getresponse()
    return r.status, json.loads(r.read())


def count_in(metrics_text, status):
    for line in metrics_text.decode().splitlines():
        if line.startswith('specfuse_requests_total{status="%d"} ' % status):
            return int(line.split()[-1])
    return 0


def settle():
    """Gives the server time to see the connections that the client has closed go."""
    time.sleep(0.5)


def close_all(clients):
    for c in clients:
        c.close()
    settle()


def test_slow_connections_below_the_limit_leave_health_and_chat_answered(limited):
    refused = requests_counted(limited, 503)
    settle()
    slow = [SlowClient(limited.port) for _ in range(LIMIT - 2)]
    try:
        started = time.monotonic()
        assert limited.get("/health") == (200, b'{"status":"ok"}')
        assert time.monotonic() - started < 2  # it waited for no thread
        status, r = limited.chat(USER, max_tokens=2, temperature=0)
        assert status == 200 and r["usage"]["completion_tokens"] == 2
        time.sleep(0.5)
        assert [s.ended for s in slow] == [None] * (LIMIT - 2)  # none was closed for them
    finally:
        close_all(slow)
    assert requests_counted(limited, 503) == refused


def test_at_the_limit_a_new_connection_replaces_the_longest_idle_or_gets_503(limited):
    refused = requests_counted(limited, 503)
    settle()
    opened = time.monotonic()
    slow = [SlowClient(limited.port) for _ in range(LIMIT)]
    try:
        # All eight are younger than a second: three more connections are refused at once.
        for _ in range(3):
            assert_refused(connect_and_read(limited.port))
        assert time.monotonic() - opened < EVICT_AFTER * 0.8, "the machine was too slow for this test"
        assert [s.ended for s in slow] == [None] * LIMIT

        # A second on, /health and a chat get the place of the connection idle longest.
        time.sleep(opened + EVICT_AFTER + 0.3 - time.monotonic())
        conn = http.client.HTTPConnection("127.0.0.1", limited.port, timeout=60)
        assert keep_alive_get(conn, "/health") == (200, b'{"status":"ok"}')
        status, r = keep_alive_chat(conn)
        assert status == 200 and r["usage"]["completion_tokens"] == 2
        assert wait_for(lambda: slow[0].ended is not None, timeout=5)
        assert slow[0].ended == b""  # closed without an answer
        assert [s.ended for s in slow[1:]] == [None] * (LIMIT - 1)
        status, metrics = keep_alive_get(conn, "/metrics")
        assert status == 200 and count_in(metrics, 503) == refused + 3

        # A new connection while `conn` is open (and idle for less than a second) takes the
        # place of the next oldest slow one.
        status, r = limited.chat(USER, max_tokens=2, temperature=0)
        assert status == 200 and r["usage"]["completion_tokens"] == 2
        assert wait_for(lambda: slow[1].ended is not None, timeout=5)
        assert slow[1].ended == b""
        assert [s.ended for s in slow[2:]] == [None] * (LIMIT - 2)
        conn.close()
    finally:
        close_all(slow)

    # Once they are gone, eight ordinary connections are served at once, and a ninth
    # while they are kept alive is refused.
    conns = [http.client.HTTPConnection("127.0.0.1", limited.port, timeout=30) for _ in range(LIMIT)]
    for c in conns:
        assert keep_alive_get(c, "/health") == (200, b'{"status":"ok"}')
    assert_refused(connect_and_read(limited.port))
    for c in conns:
        c.close()
    settle()
    assert requests_counted(limited, 503) == refused + 4
    status, r = limited.chat(USER, max_tokens=2, temperature=0)
    assert status == 200


def open_counting_stream(srv):
    """Starts a streamed completion that counts on for 2000 tokens (a minute and more on
    two cores) and returns its socket once the first chunk has arrived."""
    return open_raw_stream(srv, "/v1/completions", {"prompt": "1, 2, 3, 4, 5, 6, 7, 8, 9, 10,",
                                                    "max_tokens": 2000, "temperature": 0, "stream": True})


def test_connections_being_answered_are_never_closed_for_another(limited):
    # One answer running, one waiting for its slot: both hold their connections.
    running = open_counting_stream(limited)
    queued = {}
    waiter = threading.Thread(target=lambda: queued.update(r=limited.chat("What is 2 + 2?", max_tokens=4)))
    waiter.start()
    assert wait_for(lambda: limited.metric("specfuse_queue_depth") == 1)
    settle()
    slow = [SlowClient(limited.port) for _ in range(LIMIT - 2)]
    try:
        time.sleep(EVICT_AFTER + 0.3)
        # The running and queued answers have been at it for longer than the slow clients,
        # but it is the oldest slow connection that makes way.
        assert limited.get("/health") == (200, b'{"status":"ok"}')
        assert wait_for(lambda: slow[0].ended is not None, timeout=5)
        assert slow[0].ended == b""
        assert [s.ended for s in slow[1:]] == [None] * (LIMIT - 3)
        running.settimeout(10)
        assert running.recv(4096)  # the stream goes on
    finally:
        running.close()
        close_all(slow)
    waiter.join(timeout=120)
    assert queued["r"][0] == 200


def test_max_connections_must_leave_room_beyond_the_answers():
    out = subprocess.run([BIN, "serve", "--port", "0", "-m", SMALL, "--max-concurrent", "2", "--queue", "1",
                          "--max-connections", "3"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert out.stderr == ("specfuse: error: --max-connections 3 must be more than --max-concurrent + "
                          "--queue (3): every running and waiting answer holds a connection, and "
                          "/health needs one more\n")


# --- the request head ------------------------------------------------------------------

HEAD_LINES = 100
HEAD_BYTES = 64 << 10
HEAD_TOO_LARGE = ("the request's headers are over the server's limits of 100 header lines and "
                  "65536 bytes in all; send fewer headers")


def exchange(srv, data):
    """Sends data on a fresh connection; returns (status line, headers, body) once the
    server has closed the connection."""
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as sock:
        sock.sendall(data)
        head, _, body = read_until_closed(sock).partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    return lines[0], lines[1:], body


def head_with_lines(count):
    """A GET /health head with exactly `count` header lines."""
    lines = [b"Host: 127.0.0.1", b"Connection: close"] + [b"X-Header-%d: %d" % (i, i) for i in range(count - 2)]
    return b"GET /health HTTP/1.1\r\n" + b"".join(line + b"\r\n" for line in lines) + b"\r\n"


def head_of_size(size):
    """A GET /health head of exactly `size` bytes (request line and CRLFs included), in
    header lines of at most 8000 bytes each."""
    start = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    left = size - len(start) - 2
    n = -(-left // 8000)
    sizes = [left // n + (1 if i < left % n else 0) for i in range(n)]
    fill = b"".join(b"X-Fill-%03d: " % i + b"a" * (s - 14) + b"\r\n" for i, s in enumerate(sizes))
    head = start + fill + b"\r\n"
    assert len(head) == size
    return head


@pytest.mark.parametrize("make, at_limit", [(head_with_lines, HEAD_LINES), (head_of_size, HEAD_BYTES)])
def test_a_head_over_its_limits_is_431_and_closes(server, make, at_limit):
    too_large = requests_counted(server, 431)
    status, headers, body = exchange(server, make(at_limit))
    assert status == b"HTTP/1.1 200 OK" and body == b'{"status":"ok"}'
    status, headers, body = exchange(server, make(at_limit + 1))
    assert status == b"HTTP/1.1 431 Request Header Fields Too Large"
    assert b"Connection: close" in headers
    assert_error(431, json.loads(body), 431)
    assert json.loads(body)["error"]["message"] == HEAD_TOO_LARGE
    assert requests_counted(server, 431) == too_large + 1
    assert server.health() == 200


def test_a_request_line_longer_than_a_head_may_be_is_414(server):
    uri_too_long = requests_counted(server, 414)
    status, headers, body = exchange(server, b"GET /" + b"a" * HEAD_BYTES + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert status == b"HTTP/1.1 414 URI Too Long"
    assert b"Connection: close" in headers
    assert_error(414, json.loads(body), 414)
    assert json.loads(body)["error"]["message"] == (
        "the request line is longer than the server's limit of 65536 bytes for a request's head")
    assert requests_counted(server, 414) == uri_too_long + 1
