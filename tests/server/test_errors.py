"""Every bad request gets its HTTP status and an OpenAI error body; none crashes the server."""
import json

import pytest

from conftest import SMALL, stream_chat

USER = [{"role": "user", "content": "Hello"}]


def assert_error(status, body, expected_status, param=None, code=None):
    assert status == expected_status, body
    assert set(body) == {"error"}
    e = body["error"]
    assert set(e) == {"message", "type", "param", "code"}
    assert isinstance(e["message"], str) and e["message"]
    assert isinstance(e["type"], str) and e["type"]
    assert e["param"] == param
    assert e["code"] == code


def test_a_body_that_is_not_json_is_400(server):
    status, _, raw = server.request("POST", "/v1/chat/completions", body="{not json")
    assert_error(status, json.loads(raw), 400)


def test_missing_messages_is_400(server):
    assert_error(*server.post("/v1/chat/completions", {"model": "specfuse"}), 400, param="messages")


@pytest.mark.parametrize("body, param", [
    ([1, 2], None),
    ({"messages": []}, "messages"),
    ({"messages": "hi"}, "messages"),
    ({"messages": [{"content": "hi"}]}, "messages[0].role"),
    ({"messages": [{"role": "wizard", "content": "hi"}]}, "messages[0].role"),
    ({"messages": [{"role": "user"}]}, "messages[0].content"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, "messages[0].content"),
    ({"messages": USER, "temperature": "hot"}, "temperature"),
    ({"messages": USER, "temperature": 7}, "temperature"),
    ({"messages": USER, "top_p": 0}, "top_p"),
    ({"messages": USER, "max_tokens": 0}, "max_tokens"),
    ({"messages": USER, "max_tokens": 18446744073709551615}, "max_tokens"),
    ({"messages": USER, "seed": 1.5}, "seed"),
    ({"messages": USER, "stop": 3}, "stop"),
    ({"messages": USER, "n": 9}, "n"),
    ({"messages": USER, "n": 0}, "n"),
    ({"messages": USER, "stream": "yes"}, "stream"),
    ({"messages": USER, "model": 5}, "model"),
    ({"messages": USER, "specfuse": {"segment_tokens": 0}}, "specfuse.segment_tokens"),
    ({"messages": USER, "specfuse": {"weights": "heavy"}}, "specfuse.weights"),
    ({"messages": USER, "specfuse": {"score": "vibes"}}, "specfuse.score"),
    ({"messages": USER, "specfuse": {"colour": "red"}}, "specfuse.colour"),
])
def test_bad_parameters_are_400_naming_the_field(server, body, param):
    assert_error(*server.post("/v1/chat/completions", body), 400, param=param)


def test_an_unknown_model_is_404(server):
    status, body = server.post("/v1/chat/completions", {"model": "gpt-9", "messages": USER})
    assert_error(status, body, 404, param="model", code="model_not_found")
    assert "specfuse" in body["error"]["message"] and SMALL in body["error"]["message"]
    status, body = stream_chat(server, {"model": "gpt-9", "messages": USER})[0::2]
    assert_error(status, body, 404, param="model", code="model_not_found")


def test_an_unknown_path_is_404_with_an_error_body(server):
    status, _, raw = server.request("GET", "/v1/nothing")
    assert_error(status, json.loads(raw), 404)


def test_a_body_over_one_mebibyte_is_413(server):
    status, _, raw = server.request("POST", "/v1/chat/completions", body="x" * (2 << 20))
    assert_error(status, json.loads(raw), 413)


@pytest.mark.parametrize("path,field", [("/v1/completions", "pad"), ("/v1/chat/completions", "stop")])
def test_json_nested_400000_deep_is_answered_not_a_stack_overflow(server, path, field):
    # Copying such a body recursed once per level and overflowed the request thread's stack
    # (found while writing fuzz/request_fuzz.cpp; reproducers in fuzz/corpus/request/).
    depth = 400_000
    head = '{"prompt": "x", "max_tokens": 0' if field == "pad" else '{"messages": %s' % json.dumps(USER)
    body = head + ', "%s": ' % field + "[" * depth + "]" * depth + "}"
    status, _, raw = server.request("POST", path, body=body)
    assert_error(status, json.loads(raw), 400, param="max_tokens" if field == "pad" else "stop")
    assert server.get("/health")[0] == 200


def test_the_server_still_answers_after_bad_requests(server):
    status, r = server.chat("Hello", max_tokens=5, temperature=0)
    assert status == 200 and r["choices"][0]["message"]["content"]


@pytest.fixture(scope="module")
def small_context_server(start_server):
    return start_server("-m", SMALL, "--ctx-size", "64", "--max-concurrent", "1")


def test_a_prompt_longer_than_the_context_is_400_context_length_exceeded(small_context_server):
    long_prompt = "Please repeat these words: " + "apple banana cherry " * 40
    status, body = small_context_server.chat(long_prompt)
    assert_error(status, body, 400, param="messages", code="context_length_exceeded")
    status, _, body = stream_chat(small_context_server, {"messages": [{"role": "user", "content": long_prompt}]})
    assert_error(status, body, 400, param="messages", code="context_length_exceeded")
    # The failed requests left nothing behind: a short prompt still gets its answer.
    status, r = small_context_server.chat("Hi", max_tokens=5)
    assert status == 200
    assert small_context_server.metric("specfuse_active_sequences") == 0


@pytest.fixture(scope="module")
def keyed_server(start_server):
    return start_server("-m", SMALL, "--api-key", "sk-test-secret", "--max-concurrent", "1")


def test_with_an_api_key_requests_need_it(keyed_server):
    body = {"messages": USER, "max_tokens": 3}
    assert_error(*keyed_server.post("/v1/chat/completions", body), 401, code="invalid_api_key")
    assert_error(*keyed_server.post("/v1/chat/completions", body,
                                    {"Authorization": "Bearer sk-test-secreT"}), 401, code="invalid_api_key")
    assert_error(*keyed_server.post("/v1/chat/completions", body,
                                    {"Authorization": "sk-test-secret"}), 401, code="invalid_api_key")
    status, _, raw = keyed_server.request("GET", "/v1/models")
    assert_error(status, json.loads(raw), 401, code="invalid_api_key")
    status, r = keyed_server.post("/v1/chat/completions", body, {"Authorization": "Bearer sk-test-secret"})
    assert status == 200 and r["object"] == "chat.completion"
    # Health checks and metrics scrapers need no key.
    assert keyed_server.get("/health")[0] == 200
    assert keyed_server.get("/metrics")[0] == 200
