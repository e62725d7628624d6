"""Refused requests give back what they took, the HTTP layer enforces its limits, and
slow or idle connections cannot lock the server up."""
import http.client
import json
import re
import socket
import threading
import time

import openai
import pytest

from conftest import SMALL
from test_errors import assert_error

USER = [{"role": "user", "content": "Hello"}]
LONG_PROMPT = "Please repeat these words: " + "apple banana cherry " * 40
JSON = {"Content-Type": "application/json"}


def raw_request(srv, method, path, body=None, headers=None, timeout=30):
    """Sends exactly these headers (http.client adds Host and, with a body, Content-Length).
    Returns (status, headers, parsed JSON body or raw bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        raw = r.read()
        try:
            return r.status, dict(r.getheaders()), json.loads(raw)
        except ValueError:
            return r.status, dict(r.getheaders()), raw
    finally:
        conn.close()


def read_reply(sock, whole_response=True):
    """Reads from sock until the server closes it or, with whole_response, until one whole
    response (head and Content-Length body) has arrived."""
    reply = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return reply
        reply += chunk
        if whole_response and b"\r\n\r\n" in reply:
            head, _, rest = reply.partition(b"\r\n\r\n")
            m = re.search(rb"Content-Length: (\d+)", head)
            if m and len(rest) >= int(m.group(1)):
                return reply


def raw_exchange(srv, data, timeout=10):
    """Writes bytes on a fresh connection and returns everything the server sends back."""
    with socket.create_connection(("127.0.0.1", srv.port), timeout=timeout) as sock:
        sock.sendall(data)
        return read_reply(sock)


def requests_counted(srv, status):
    status_line, body = srv.get("/metrics")
    assert status_line == 200
    m = re.search(r'^specfuse_requests_total\{status="%d"\} (\d+)$' % status, body.decode(), re.M)
    return int(m.group(1)) if m else 0


# --- 1. refused requests and admission slots ------------------------------------------

# (path, body, extra headers, status, param, code): every way a generation request can be
# refused, including a prompt longer than the 64-token context (found while answering).
REFUSED = [
    ("/v1/chat/completions", "{not json", {}, 400, None, None),
    ("/v1/chat/completions", {"model": "gpt-9", "messages": USER}, {}, 404, "model", "model_not_found"),
    ("/v1/completions", {"model": "specfuse", "prompt": "Hi", "max_tokens": 4, "logprobs": 2}, {},
     400, "logprobs", None),
    ("/v1/completions", {"prompt": "Hi", "max_tokens": 0, "echo": True, "logprobs": 1}, {},
     400, "logprobs", None),
    ("/v1/chat/completions", {"messages": USER, "temperature": "hot"}, {}, 400, "temperature", None),
    ("/v1/chat/completions", {"messages": USER, "max_tokens": 0}, {}, 400, "max_tokens", None),
    ("/v1/chat/completions", {"messages": [{"role": 5, "content": "x"}]}, {}, 400, "messages[0].role", None),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": LONG_PROMPT}]}, {},
     400, "messages", "context_length_exceeded"),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": LONG_PROMPT}], "stream": True}, {},
     400, "messages", "context_length_exceeded"),
    ("/v1/chat/completions", {"messages": USER}, {"Content-Type": "text/plain"}, 415, None, None),
    ("/v1/chat/completions", {"messages": USER}, {"Host": "evil.example"}, 403, None, "host_not_allowed"),
    ("/v1/chat/completions", "x" * (2 << 20), {}, 413, None, None),
]


@pytest.fixture(scope="module")
def tight_duo(start_server):
    """Two copies of the small model as an ensemble, two slots and one queue place."""
    return start_server("-m", SMALL, "-m", SMALL, "--ctx-size", "64",
                        "--max-concurrent", "2", "--queue", "1")


def test_refused_requests_release_their_admission_slots(tight_duo):
    for path, body, headers, status, param, code in REFUSED:
        # More refusals than there are slots and queue places together (2 + 1).
        for _ in range(4):
            assert_error(*tight_duo.post(path, body, headers, timeout=30), status, param=param, code=code)
        # A slot leaked by any refusal would leave this request waiting forever.
        got, r = tight_duo.post("/v1/completions", {"prompt": "Hi", "max_tokens": 2, "temperature": 0},
                               timeout=30)
        assert got == 200, (status, param, r)
        assert r["usage"]["completion_tokens"] == 2
        assert tight_duo.metric("specfuse_queue_depth") == 0
        assert tight_duo.metric("specfuse_active_sequences") == 0


# --- 2. chunked bodies ------------------------------------------------------------------

def chunked_post(srv, path, chunks):
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    try:
        conn.request("POST", path, body=iter(chunks), headers={**JSON, "Transfer-Encoding": "chunked"},
                     encode_chunked=True)
        r = conn.getresponse()
        return r.status, json.loads(r.read())
    finally:
        conn.close()


def test_a_chunked_body_over_the_limit_is_413_quickly(server):
    started = time.monotonic()
    status, body = chunked_post(server, "/v1/chat/completions", [b"x" * 65536] * 32)  # 2 MiB
    assert_error(status, body, 413)
    assert "1048576 bytes" in body["error"]["message"]
    assert time.monotonic() - started < 5
    # Within the limit, a chunked body is read whole.
    status, r = chunked_post(server, "/v1/completions", [b'{"prompt": "Hi", ', b'"max_tokens": 2, "temperature": 0}'])
    assert status == 200 and r["usage"]["completion_tokens"] == 2


def test_a_negative_content_length_is_400_at_once(server):
    started = time.monotonic()
    reply = raw_exchange(server, b"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                 b"Content-Type: application/json\r\nContent-Length: -1\r\n\r\n{}")
    assert reply.startswith(b"HTTP/1.1 400 "), reply
    assert b"Content-Length header must be a non-negative integer" in reply
    assert time.monotonic() - started < 2


# --- 3. Content-Type and Host -----------------------------------------------------------

@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", None])
@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/completions"])
def test_a_body_that_is_not_sent_as_json_is_415(server, path, content_type):
    fields = {"messages": USER} if "chat" in path else {"prompt": "Hi"}
    body = json.dumps({**fields, "max_tokens": 2, "temperature": 0})  # greedy: exactly 2 tokens
    headers = {"Content-Type": content_type} if content_type else {}
    status, _, r = raw_request(server, "POST", path, body, headers)
    assert_error(status, r, 415)
    assert "Content-Type: application/json" in r["error"]["message"]
    # With the media type (in any case, with parameters) the same body is answered.
    status, _, r = raw_request(server, "POST", path, body, {"Content-Type": "Application/JSON; charset=utf-8"})
    assert status == 200 and r["usage"]["completion_tokens"] == 2


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "127.0.0.1.evil.example",
                                  "localhost.evil.example:80", "10.0.0.1", "[::2]:80"])
def test_a_host_that_is_not_loopback_is_403(server, host):
    for method, path, body in [("GET", "/health", None), ("GET", "/v1/models", None),
                               ("GET", "/", None), ("POST", "/v1/chat/completions", json.dumps({"messages": USER}))]:
        status, _, r = raw_request(server, method, path, body, {**JSON, "Host": host})
        assert_error(status, r, 403, code="host_not_allowed")
        assert "--allowed-host" in r["error"]["message"]
    for allowed in ["localhost", "LocalHost:8080", "127.0.0.1", "127.0.0.1:1", "[::1]", "[::1]:8080"]:
        status, _, r = raw_request(server, "GET", "/health", headers={"Host": allowed})
        assert status == 200 and r == {"status": "ok"}, allowed


def test_allowed_host_names_more_hosts(start_server):
    srv = start_server("-m", SMALL, "--max-concurrent", "1", "--allowed-host", "proxy.example",
                       "--allowed-host", "Other.Example")
    for host in ["proxy.example", "proxy.example:443", "other.example", "localhost"]:
        status, _, r = raw_request(srv, "GET", "/v1/models", headers={"Host": host})
        assert status == 200 and r["data"][0]["id"] == "specfuse", host
    status, _, r = raw_request(srv, "GET", "/v1/models", headers={"Host": "evil.example"})
    assert_error(status, r, 403, code="host_not_allowed")


# --- 4. NUL in chat content ---------------------------------------------------------------

def prompt_tokens(srv, path, text):
    body = {"messages": [{"role": "user", "content": text}]} if "chat" in path else {"prompt": text}
    status, r = srv.post(path, {**body, "max_tokens": 1, "temperature": 0})
    assert status == 200, r
    return r["usage"]["prompt_tokens"]


@pytest.mark.parametrize("text", ["hi\u0000there and more", "\u0000", "a\u0000\u0000b", "x\u0000"])
def test_a_nul_in_chat_content_keeps_the_rest_of_the_message(server, text):
    # The chat template adds the same tokens around any message; /v1/completions tokenizes
    # the raw text whole. So the two counts differ by the template's share, NUL or not.
    template = prompt_tokens(server, "/v1/chat/completions", "hi") - prompt_tokens(server, "/v1/completions", "hi")
    chat = prompt_tokens(server, "/v1/chat/completions", text)
    assert chat - prompt_tokens(server, "/v1/completions", text) == template


# --- 5. smaller ones ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def keyed(start_server):
    return start_server("-m", SMALL, "--api-key", "sk-test-secret", "--max-concurrent", "1")


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "bEaReR"])
def test_the_bearer_scheme_is_case_insensitive(keyed, scheme):
    status, r = keyed.post("/v1/completions", {"prompt": "Hi", "max_tokens": 1, "temperature": 0},
                           {"Authorization": f"{scheme} sk-test-secret"})
    assert status == 200 and r["usage"]["completion_tokens"] == 1
    assert_error(*keyed.post("/v1/completions", {"prompt": "Hi", "max_tokens": 1},
                             {"Authorization": f"{scheme} sk-test-secreT"}), 401, code="invalid_api_key")


def test_the_sdk_retrieves_each_model_and_404s_unknown_ones(server):
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0, timeout=30)
    for listed in client.models.list():
        got = client.models.retrieve(listed.id)
        assert (got.id, got.object, got.owned_by, got.created) == (listed.id, "model", "specfuse", listed.created)
    with pytest.raises(openai.NotFoundError) as e:
        client.models.retrieve("gpt-9")
    assert e.value.code == "model_not_found" and "gpt-9" in e.value.message
    status, _, r = raw_request(server, "GET", "/v1/models/" + SMALL)
    assert status == 200 and r["id"] == SMALL


@pytest.mark.parametrize("method, path, allow", [
    ("GET", "/v1/chat/completions", "POST"),
    ("GET", "/v1/completions", "POST"),
    ("DELETE", "/v1/completions", "POST"),
    ("PUT", "/v1/chat/completions", "POST"),
    ("POST", "/v1/models", "GET, HEAD"),
    ("POST", "/health", "GET, HEAD"),
    ("PATCH", "/metrics", "GET, HEAD"),
    ("OPTIONS", "/v1/models/" + SMALL, "GET, HEAD"),
    ("TRACE", "/", "GET, HEAD"),
])
def test_a_wrong_method_on_a_known_path_is_405(server, method, path, allow):
    status, headers, r = raw_request(server, method, path, "{}" if method in ("POST", "PUT", "PATCH") else None, JSON)
    assert_error(status, r, 405)
    assert headers["Allow"] == allow
    assert r["error"]["message"] == f"method {method} is not allowed on {path}; use {allow}"


def test_an_unknown_path_is_still_404_for_any_method(server):
    for method in ("GET", "POST", "DELETE"):
        status, _, r = raw_request(server, method, "/v2/nothing", "{}" if method == "POST" else None, JSON)
        assert_error(status, r, 404)
        assert r["error"]["message"] == "no such endpoint: '/v2/nothing'"


def test_an_oversized_header_is_431(server):
    status, _, r = raw_request(server, "GET", "/health", headers={"X-Big": "a" * 10000})
    assert_error(status, r, 431)
    assert "8192 bytes" in r["error"]["message"]
    assert server.get("/health")[0] == 200


def test_a_role_that_is_not_a_string_says_so(server):
    status, r = server.chat([{"role": 5, "content": "hi"}])
    assert_error(status, r, 400, param="messages[0].role")
    assert r["error"]["message"] == "'messages[0].role' must be a string"
    status, r = server.chat([{"content": "hi"}])
    assert r["error"]["message"] == "'messages[0].role' is required"


def test_requests_total_counts_404s_outside_v1_and_unparsable_requests(server):
    not_found, bad = requests_counted(server, 404), requests_counted(server, 400)
    assert server.get("/nothing")[0] == 404
    assert raw_exchange(server, b"NONSENSE\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    assert requests_counted(server, 404) == not_found + 1
    assert requests_counted(server, 400) == bad + 1


# --- 6. slow and idle connections -------------------------------------------------------------

def trickle_headers(port, outcome):
    """Sends a request line, then its headers one byte every 0.2 s; records the reply."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\n")
        sock.settimeout(0.2)
        for byte in b"Host: 127.0.0.1\r\nX-Slow: " + b"a" * 200:
            try:
                sock.sendall(bytes([byte]))
                reply = sock.recv(4096)
                outcome.append(reply)
                return
            except socket.timeout:
                continue
            except OSError as e:
                outcome.append(repr(e).encode())
                return
        outcome.append(b"never answered")


def test_idle_and_slow_connections_do_not_lock_the_server_up(start_server):
    # 40 idle and 20 slow connections, under the default limit of 64 (a worker each, so
    # /health waits for none); the read deadline closes each of them after a second. Beyond
    # the limit: test_connection_limits.py.
    srv = start_server("-m", SMALL, "--max-concurrent", "2", "--queue", "1", "--read-timeout", "1")
    idle = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(40)]
    outcomes = []
    slow = [threading.Thread(target=trickle_headers, args=(srv.port, outcomes)) for _ in range(20)]
    for t in slow:
        t.start()
    try:
        time.sleep(0.3)
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
        conn.request("GET", "/health")
        r = conn.getresponse()
        assert (r.status, r.read()) == (200, b'{"status":"ok"}')
        assert time.monotonic() - started < 5
        for t in slow:
            t.join(timeout=30)
        # Each slow request was answered 408 once its second of read timeout had passed.
        assert len(outcomes) == 20
        assert all(o.startswith(b"HTTP/1.1 408 Request Timeout\r\n") for o in outcomes), outcomes
        # The idle connections were closed, unanswered, once their second had passed.
        for sock in idle:
            sock.settimeout(5)
            assert sock.recv(100) == b""
    finally:
        for sock in idle:
            sock.close()
    assert srv.health() == 200


def test_a_refused_body_does_not_spill_into_the_next_request_on_its_connection(server):
    body = json.dumps({"prompt": "Hi", "max_tokens": 2, "temperature": 0}) + " " * 20000  # more than one read
    for method, path, headers, status, code in [
            ("POST", "/v1/completions", {"Content-Type": "text/plain"}, 415, None),
            ("POST", "/health", JSON, 405, None),
            ("PUT", "/nothing", JSON, 404, None),
            ("POST", "/v1/completions", {**JSON, "Host": "evil.example"}, 403, "host_not_allowed")]:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            assert_error(r.status, json.loads(r.read()), status, code=code)
            assert r.getheader("Connection") is None  # kept alive
            conn.request("POST", "/v1/completions", body=body, headers=JSON)
            r = conn.getresponse()
            assert r.status == 200 and json.loads(r.read())["usage"]["completion_tokens"] == 2
        finally:
            conn.close()
