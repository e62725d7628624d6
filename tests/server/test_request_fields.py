"""Every field of an OpenAI request either works or is refused by name (docs/SERVER.md,
Request fields): features specfuse lacks are 400 unsupported_parameter unless null or their
no-op value, fields OpenAI does not have are 400 unknown_parameter."""
import openai
import pytest

from conftest import SMALL, stream_chat

CHAT = "/v1/chat/completions"
COMPLETIONS = "/v1/completions"
USER = [{"role": "user", "content": "Hello"}]
WEATHER = {"name": "get_weather", "description": "The weather in a city",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}
TOOL = {"type": "function", "function": WEATHER}
TOOL_CALL = {"id": "call_1", "type": "function",
             "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}


def chat_body(**fields):
    return {"messages": USER, "max_tokens": 1, "temperature": 0, **fields}


def completion_body(**fields):
    return {"model": SMALL, "prompt": "Hello", "max_tokens": 1, "temperature": 0, **fields}


def assert_refused(status, body, param, code):
    assert status == 400, body
    e = body["error"]
    assert e["type"] == "invalid_request_error"
    assert e["param"] == param
    assert e["code"] == code
    assert param in e["message"]


def assert_answered(status, body, kind):
    assert status == 200, body
    assert body["object"] == kind


# (field, a value that asks for the feature): 400 unsupported_parameter naming the field.
REFUSED_CHAT = [
    ("functions", [WEATHER]),
    ("function_call", "auto"),
    ("function_call", {"name": "get_weather"}),
    ("logit_bias", {"50256": -100}),
    ("frequency_penalty", 0.5),
    ("presence_penalty", -1),
    ("logprobs", True),
    ("top_logprobs", 3),
    ("audio", {"voice": "alloy", "format": "wav"}),
    ("modalities", ["text", "audio"]),
    ("prediction", {"type": "content", "content": "Hello there"}),
    ("reasoning_effort", "low"),
    ("verbosity", "low"),
    ("web_search_options", {}),
    ("moderation", {"model": "omni-moderation-latest"}),
    ("store", True),
    ("service_tier", "flex"),
]

REFUSED_COMPLETION = [
    ("best_of", 3),
    ("suffix", " and goodbye."),
    ("frequency_penalty", 1.0),
    ("presence_penalty", 0.2),
    ("logit_bias", {"50256": 5}),
]

# Accepted without effect, as OpenAI's meaning of the field allows.
IGNORED_CHAT = [
    ("user", "user-1234"),
    ("safety_identifier", "hash-of-user"),
    ("metadata", {"purpose": "test"}),
    ("store", False),
    ("service_tier", "auto"),
    ("service_tier", "default"),
    ("prompt_cache_key", "greeting"),
    ("prompt_cache_options", {"mode": "implicit"}),
    ("prompt_cache_retention", "24h"),
    ("stream_options", {"include_usage": False, "include_obfuscation": True}),
]

# The values that mean "off": accepted.
NOOP_CHAT = [
    ("frequency_penalty", 0),
    ("presence_penalty", 0.0),
    ("logit_bias", {}),
    ("tools", []),
    ("tool_choice", "none"),
    ("functions", []),
    ("function_call", "none"),
    ("response_format", {"type": "text"}),
    ("n", 1),
    ("parallel_tool_calls", True),  # without tools: nothing to call
    ("parallel_tool_calls", False),
    ("logprobs", False),
    ("top_logprobs", 0),
    ("modalities", ["text"]),
    ("reasoning_effort", "none"),
    ("verbosity", "medium"),
] + [(field, None) for field in dict.fromkeys(f for f, _ in REFUSED_CHAT)]

NOOP_COMPLETION = [
    ("best_of", 1),
    ("suffix", ""),
    ("frequency_penalty", 0),
    ("presence_penalty", 0),
    ("logit_bias", {}),
    ("n", 1),
    ("user", "user-1234"),
] + [(field, None) for field, _ in REFUSED_COMPLETION]


def ids(cases):
    return [f"{field}={value!r}"[:60] for field, value in cases]


@pytest.mark.parametrize("field, value", REFUSED_CHAT, ids=ids(REFUSED_CHAT))
def test_a_chat_feature_specfuse_lacks_is_refused_by_name(server, field, value):
    status, body = server.post(CHAT, chat_body(**{field: value}))
    assert_refused(status, body, field, "unsupported_parameter")
    assert "not supported by specfuse" in body["error"]["message"]
    assert "remove it" in body["error"]["message"]


@pytest.mark.parametrize("field, value", REFUSED_COMPLETION, ids=ids(REFUSED_COMPLETION))
def test_a_completion_feature_specfuse_lacks_is_refused_by_name(server, field, value):
    status, body = server.post(COMPLETIONS, completion_body(**{field: value}))
    assert_refused(status, body, field, "unsupported_parameter")


@pytest.mark.parametrize("field, value", IGNORED_CHAT + NOOP_CHAT, ids=ids(IGNORED_CHAT + NOOP_CHAT))
def test_ignored_fields_and_no_op_values_are_answered(server, field, value):
    assert_answered(*server.post(CHAT, chat_body(**{field: value})), "chat.completion")


@pytest.mark.parametrize("field, value", NOOP_COMPLETION, ids=ids(NOOP_COMPLETION))
def test_completion_no_op_values_are_answered(server, field, value):
    assert_answered(*server.post(COMPLETIONS, completion_body(**{field: value})), "text_completion")


@pytest.mark.parametrize("path, body, param", [
    (CHAT, chat_body(top_k=40), "top_k"),
    (CHAT, chat_body(repetition_penalty=1.1), "repetition_penalty"),
    (CHAT, chat_body(prompt="Hello"), "prompt"),
    (CHAT, chat_body(stream_options={"include_usage": True, "chunk_size": 4}),
     "stream_options.chunk_size"),
    (COMPLETIONS, completion_body(min_p=0.05), "min_p"),
    (COMPLETIONS, completion_body(messages=USER), "messages"),
    (COMPLETIONS, completion_body(tools=[TOOL]), "tools"),
    (COMPLETIONS, completion_body(top_logprobs=2), "top_logprobs"),
])
def test_a_field_outside_openais_request_is_refused_as_unknown(server, path, body, param):
    status, body = server.post(path, body)
    assert_refused(status, body, param, "unknown_parameter")


def assistant_with(**fields):
    return [{"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": None, **fields},
            {"role": "user", "content": "Thanks"}]


@pytest.mark.parametrize("messages, param, code", [
    (assistant_with(function_call=TOOL_CALL["function"]), "messages[1].function_call",
     "unsupported_parameter"),
    (assistant_with(audio={"id": "audio_1"}), "messages[1].audio", "unsupported_parameter"),
    (assistant_with(refusal="I cannot help with that."), "messages[1].refusal",
     "unsupported_parameter"),
    ([{"role": "user", "content": "Hi", "tool_call_id": "call_1"}], "messages[0].tool_call_id",
     None),
    ([{"role": "user", "content": "Hi", "cache_control": {"type": "ephemeral"}}],
     "messages[0].cache_control", "unknown_parameter"),
    ([{"role": "user", "content": [{"type": "text", "text": "Hi", "cache_control": {}}]}],
     "messages[0].content[0].cache_control", "unknown_parameter"),
    (USER + [{"role": "assistant", "content": "Hi"},
             {"role": "tool", "content": "18 C", "tool_call_id": "call_1"}],
     "messages[2].tool_call_id", None),
    (USER + [{"role": "function", "name": "get_weather", "content": "18 C"}],
     "messages[1].role", None),
])
def test_message_fields_that_cannot_be_replayed_are_refused_by_name(server, messages, param, code):
    status, body = server.post(CHAT, chat_body(messages=messages))
    assert_refused(status, body, param, code)


def test_earlier_tool_calls_and_their_results_are_answered(server):
    messages = assistant_with(tool_calls=[TOOL_CALL])[:2] + [
        {"role": "tool", "tool_call_id": "call_1", "content": "18 C"}]
    assert_answered(*server.post(CHAT, chat_body(messages=messages)), "chat.completion")


@pytest.mark.parametrize("part", [
    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
    {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
    {"type": "file", "file": {"file_id": "file-abc"}},
])
def test_a_content_part_that_is_not_text_is_refused_naming_its_type(server, part):
    messages = [{"role": "user", "content": [{"type": "text", "text": "What is this?"}, part]}]
    status, body = server.post(CHAT, chat_body(messages=messages))
    assert_refused(status, body, "messages[0].content", None)
    assert "'" + part["type"] + "'" in body["error"]["message"]


def test_message_fields_that_change_nothing_are_answered(server):
    messages = [{"role": "system", "content": "Be brief.", "name": "rules"},
                {"role": "user", "name": "ana", "content": [
                    {"type": "text", "text": "Hi", "prompt_cache_breakpoint": {"mode": "explicit"}}]},
                {"role": "assistant", "content": "Hello", "tool_calls": [], "refusal": None,
                 "audio": None, "function_call": None},
                {"role": "user", "content": "Bye"}]
    assert_answered(*server.post(CHAT, chat_body(messages=messages)), "chat.completion")


def test_a_refused_stream_is_a_400_before_any_event(server):
    status, _, body = stream_chat(server, chat_body(functions=[WEATHER]))
    assert_refused(status, body, "functions", "unsupported_parameter")


def test_the_sdk_raises_bad_request_naming_functions(server):
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0,
                           timeout=120)
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="specfuse", messages=USER, max_tokens=1,
                                       functions=[WEATHER])
    assert e.value.status_code == 400
    assert e.value.param == "functions" and e.value.code == "unsupported_parameter"
    assert e.value.body["param"] == "functions" and "'functions'" in e.value.body["message"]
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="specfuse", messages=USER, max_tokens=1,
                                       tool_choice="required")
    assert e.value.param == "tool_choice"
    r = client.chat.completions.create(model="specfuse", messages=USER, max_tokens=1,
                                       temperature=0, user="u1", store=False, tool_choice="none",
                                       tools=[TOOL])
    assert r.choices[0].message.content is not None


def test_refused_requests_hold_no_slot(server):
    # More refusals than the server's four slots: none may keep one.
    for field, value in REFUSED_CHAT[:6]:
        assert server.post(CHAT, chat_body(**{field: value}))[0] == 400
    status, r = server.post(CHAT, chat_body(max_tokens=3), timeout=60)
    assert status == 200 and r["choices"][0]["message"]["content"]
    assert server.metric("specfuse_active_sequences") == 0
    assert server.metric("specfuse_queue_depth") == 0
