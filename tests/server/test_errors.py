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


# The ranges of the option table, which the config file and the CLI share: a value outside
# is a 400 naming the field and what it takes (segment_tokens 257 to 4096 once failed
# later, with a 400 that named no field).
@pytest.mark.parametrize("fields, param, message", [
    ({"specfuse": {"segment_tokens": 257}}, "specfuse.segment_tokens", "must be between 1 and 256"),
    ({"specfuse": {"segment_tokens": 4096}}, "specfuse.segment_tokens", "must be between 1 and 256"),
    ({"specfuse": {"segment_tokens": 2.5}}, "specfuse.segment_tokens", "must be an integer"),
    ({"max_tokens": 1048577}, "max_tokens", "must be between 1 and 1048576"),
    ({"max_completion_tokens": 0}, "max_completion_tokens", "must be between 1 and 1048576"),
    ({"temperature": 2.5}, "temperature", "must be between 0 and 2"),
    ({"top_p": 1.5}, "top_p", "must be greater than 0 and at most 1"),
    ({"specfuse": {"anchor_token_margin": 101}}, "specfuse.anchor_token_margin",
     "must be at most 100 (a negative value turns it off)"),
    ({"specfuse": {"exit": "yes"}}, "specfuse.exit", "must be true or false"),
    ({"specfuse": {"trace": 1}}, "specfuse.trace", "must be true or false"),
    ({"stop": [f"s{i}" for i in range(17)]}, "stop", "holds at most 16 strings"),
    ({"stop": ["a", 3]}, "stop", "must be a string or an array of strings"),
])
def test_an_option_out_of_the_tables_range_is_400_naming_the_field(server, fields, param, message):
    status, body = server.post("/v1/chat/completions", {"messages": USER, **fields})
    assert_error(status, body, 400, param=param)
    assert body["error"]["message"] == f"'{param}' {message}"


@pytest.mark.parametrize("fields", [
    {"specfuse": {"segment_tokens": 256}},
    {"specfuse": {"anchor_margin": -5, "anchor_token_margin": -0.5}},  # any negative: off
    {"stop": [f"s{i}" for i in range(16)]},
    {"stop": ["", "###"]},  # empty stop strings are dropped, as OpenAI's clients send them
    {"temperature": 2, "seed": -1},
])
def test_values_at_the_edges_of_the_tables_ranges_are_answered(server, fields):
    status, r = server.post("/v1/chat/completions", {"messages": USER, "max_tokens": 2, **fields})
    assert status == 200, r
    assert r["choices"][0]["message"]["content"] is not None


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
