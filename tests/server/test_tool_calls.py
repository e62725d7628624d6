"""Tool calls (docs/SERVER.md, "Tool calls") and n > 1 through the ensemble, with the
official openai SDK. Every drafter writes a call in one grammar-enforced JSON form, so a
call names an offered tool and its arguments validate against that tool's schema, whatever
tokenizer family drafted each segment."""
import json

import openai
import pytest

from conftest import SMALL, remote_member_config, stream_chat

CHAT = "/v1/chat/completions"
COMPLETIONS = "/v1/completions"
QWEN = "qwen2.5-coder-0.5b"
GEMMA = "gemma3-270m"

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The current weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 40}},
                   "required": ["city"], "additionalProperties": False}}}
TIME = {"type": "function", "function": {
    "name": "get_time", "description": "The current time in a time zone",
    "parameters": {"type": "object",
                   "properties": {"timezone": {"type": "string", "enum": ["UTC", "CET", "JST"]}},
                   "required": ["timezone"], "additionalProperties": False}}}
ASK = [{"role": "user", "content": "What is the weather in Paris right now?"}]
GREEDY = {"temperature": 0, "seed": 1, "max_tokens": 60}


@pytest.fixture(scope="module")
def ensemble(start_server):
    """The default ensemble: SmolLM2 135M and Qwen2.5-Coder 0.5B (two tokenizers)."""
    return start_server("--max-concurrent", "2", "--queue", "2")


@pytest.fixture(scope="module")
def three(start_server):
    """Three members of three tokenizer families: SmolLM2, Qwen2.5 and Gemma 3."""
    return start_server("-m", SMALL, "-m", QWEN, "-m", GEMMA, "--max-concurrent", "1")


def sdk(srv):
    return openai.OpenAI(base_url=srv.url + "/v1", api_key="unused", max_retries=0, timeout=600)


def assert_weather_calls(message, most=None):
    assert message.content is None
    assert message.tool_calls, message
    if most is not None:
        assert len(message.tool_calls) <= most
    ids = [c.id for c in message.tool_calls]
    assert len(set(ids)) == len(ids)
    for call in message.tool_calls:
        assert call.id.startswith("call_") and len(call.id) > len("call_")
        assert call.type == "function"
        assert call.function.name == "get_weather"
        args = json.loads(call.function.arguments)
        assert list(args) == ["city"] and isinstance(args["city"], str), args
        assert len(args["city"]) <= 40


def weather_loop(client, second_choice):
    """Turn 1: the model must call get_weather. Turn 2: the result goes back and the model
    answers under second_choice."""
    first = client.chat.completions.create(model="specfuse", messages=ASK, tools=[WEATHER],
                                           tool_choice="required", **GREEDY)
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert_weather_calls(choice.message)
    messages = ASK + [choice.message.model_dump(exclude_none=True)]
    for call in choice.message.tool_calls:
        messages.append({"role": "tool", "tool_call_id": call.id,
                         "content": json.dumps({"temperature_c": 18, "sky": "sunny"})})
    second = client.chat.completions.create(model="specfuse", messages=messages, tools=[WEATHER],
                                            tool_choice=second_choice, **GREEDY)
    return first, second.choices[0]


@pytest.mark.parametrize("fixture", ["ensemble", "three"])
def test_a_two_turn_tool_loop_calls_the_function_then_answers_in_text(request, fixture):
    _, answer = weather_loop(sdk(request.getfixturevalue(fixture)), "none")
    assert answer.finish_reason in ("stop", "length")
    assert answer.message.tool_calls is None
    # Not the earlier call again, written as text: a text answer cannot start with '{'.
    assert answer.message.content and answer.message.content[0] not in "{ \t\r\n"


def test_with_auto_the_second_turn_is_text_or_a_valid_call(ensemble):
    _, answer = weather_loop(sdk(ensemble), "auto")
    if answer.finish_reason == "tool_calls":
        assert_weather_calls(answer.message)
    else:
        assert answer.message.tool_calls is None
        assert not answer.message.content.lstrip().startswith("{")


def test_auto_answers_a_greeting_in_text_or_with_a_valid_call(ensemble):
    r = sdk(ensemble).chat.completions.create(
        model="specfuse", messages=[{"role": "user", "content": "Say hello to me."}],
        tools=[WEATHER], **GREEDY)  # tool_choice absent: auto
    choice = r.choices[0]
    if choice.finish_reason == "tool_calls":
        assert_weather_calls(choice.message)
    else:
        assert choice.message.content and choice.message.content[0] not in "{ \t\r\n"


def test_a_named_tool_choice_calls_that_tool_only(ensemble):
    r = sdk(ensemble).chat.completions.create(
        model="specfuse", messages=[{"role": "user", "content": "What time is it in Tokyo?"}],
        tools=[WEATHER, TIME], tool_choice={"type": "function", "function": {"name": "get_time"}},
        **GREEDY)
    message = r.choices[0].message
    assert r.choices[0].finish_reason == "tool_calls"
    assert message.tool_calls and message.content is None
    for call in message.tool_calls:
        assert call.function.name == "get_time"
        assert json.loads(call.function.arguments)["timezone"] in ("UTC", "CET", "JST")


def test_parallel_tool_calls_false_makes_one_call(ensemble):
    two_cities = [{"role": "user", "content": "What is the weather in Paris and in Rome?"}]
    r = sdk(ensemble).chat.completions.create(model="specfuse", messages=two_cities,
                                              tools=[WEATHER], tool_choice="required",
                                              parallel_tool_calls=False, **GREEDY)
    assert r.choices[0].finish_reason == "tool_calls"
    assert_weather_calls(r.choices[0].message, most=1)


def test_a_member_alone_calls_tools_too(ensemble):
    r = sdk(ensemble).chat.completions.create(model=QWEN, messages=ASK, tools=[WEATHER],
                                              tool_choice="required", **GREEDY)
    assert r.choices[0].finish_reason == "tool_calls"
    assert_weather_calls(r.choices[0].message)


def test_a_streamed_tool_call_is_the_non_streamed_one(ensemble):
    client = sdk(ensemble)
    whole = client.chat.completions.create(model="specfuse", messages=ASK, tools=[WEATHER],
                                           tool_choice="required", **GREEDY)
    calls, finish, content = {}, None, ""
    for chunk in client.chat.completions.create(model="specfuse", messages=ASK, tools=[WEATHER],
                                                tool_choice="required", stream=True, **GREEDY):
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        content += delta.content or ""
        for d in delta.tool_calls or []:
            call = calls.setdefault(d.index, {"id": None, "name": None, "arguments": ""})
            if d.id:
                assert call["id"] is None  # the id comes once, on the call's first delta
                call["id"] = d.id
                assert d.type == "function" and d.function.name
                call["name"] = d.function.name
            call["arguments"] += d.function.arguments or ""
        finish = chunk.choices[0].finish_reason or finish
    assert finish == "tool_calls"
    assert content == ""
    expected = [(c.function.name, c.function.arguments) for c in whole.choices[0].message.tool_calls]
    assert [(calls[i]["name"], calls[i]["arguments"]) for i in sorted(calls)] == expected
    assert all(calls[i]["id"].startswith("call_") for i in calls)


def test_a_stream_with_tools_and_a_text_answer_streams_the_text(ensemble):
    body = {"messages": ASK, "tools": [WEATHER], "tool_choice": "none", **GREEDY}
    status, _, events = stream_chat(ensemble, body)
    assert status == 200
    chunks = [json.loads(e) for e in events[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices"))
    status, whole = ensemble.post(CHAT, body)
    assert text == whole["choices"][0]["message"]["content"]
    assert chunks[-1]["choices"][0]["finish_reason"] == whole["choices"][0]["finish_reason"]


def test_an_assistant_turn_with_content_and_calls_is_replayed(ensemble):
    messages = ASK + [
        {"role": "assistant", "content": "Let me look.", "tool_calls": [
            {"id": "call_a", "type": "function",
             "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},
            {"id": "call_b", "type": "function",
             "function": {"name": "get_weather", "arguments": '{"city": "Lyon"}'}}]},
        {"role": "tool", "tool_call_id": "call_a", "content": "18 C, sunny"},
        {"role": "tool", "tool_call_id": "call_b", "content": [{"type": "text", "text": "12 C"}]}]
    status, r = ensemble.chat(messages, tools=[WEATHER], tool_choice="none", **GREEDY)
    assert status == 200, r
    assert r["choices"][0]["message"]["content"]


def test_n_answers_are_independent_choices_with_derived_seeds(ensemble):
    client = sdk(ensemble)
    sampled = {"temperature": 1.0, "seed": 7, "max_tokens": 12}
    prompt = [{"role": "user", "content": "Name a colour."}]
    r = client.chat.completions.create(model="specfuse", messages=prompt, n=2, **sampled)
    assert [c.index for c in r.choices] == [0, 1]
    assert all(c.message.content for c in r.choices)
    one = client.chat.completions.create(model="specfuse", messages=prompt, n=1, **sampled)
    assert r.choices[0].message.content == one.choices[0].message.content  # answer 0 keeps the seed
    assert r.usage.prompt_tokens == one.usage.prompt_tokens
    assert r.usage.completion_tokens > one.usage.completion_tokens
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    greedy = client.chat.completions.create(model="specfuse", messages=prompt, n=3,
                                            temperature=0, max_tokens=8)
    assert len({c.message.content for c in greedy.choices}) == 1


def test_n_tool_calls_are_each_their_own_choice(ensemble):
    r = sdk(ensemble).chat.completions.create(model="specfuse", messages=ASK, tools=[WEATHER],
                                              tool_choice="required", n=2, **GREEDY)
    assert [c.index for c in r.choices] == [0, 1]
    for c in r.choices:
        assert c.finish_reason == "tool_calls"
        assert_weather_calls(c.message)
    assert r.choices[0].message.tool_calls[0].id != r.choices[1].message.tool_calls[0].id


def test_text_completions_take_n(ensemble):
    status, r = ensemble.post(COMPLETIONS, {"model": SMALL, "prompt": "The sky is", "n": 2,
                                            "max_tokens": 5, "temperature": 0.9, "seed": 3})
    assert status == 200, r
    assert [c["index"] for c in r["choices"]] == [0, 1]
    assert all(c["text"] for c in r["choices"])


def assert_bad(status, body, param, code=None):
    assert status == 400, body
    assert body["error"]["param"] == param, body
    assert body["error"]["code"] == code, body
    assert param.split("[")[0] in body["error"]["message"], body


def tools_with(**function):
    return [{"type": "function", "function": function}]


@pytest.mark.parametrize("fields, param, code", [
    ({"tools": tools_with(description="no name")}, "tools[0].function.name", None),
    ({"tools": tools_with(name="has space")}, "tools[0].function.name", None),
    ({"tools": [WEATHER, WEATHER]}, "tools[1].function.name", None),
    ({"tools": tools_with(name="f", parameters="a string")}, "tools[0].function.parameters", None),
    ({"tools": tools_with(name="f", parameters={"$ref": "https://example.com/s.json"})},
     "tools[0].function.parameters", None),
    ({"tools": tools_with(name="f", colour="red")}, "tools[0].function.colour", "unknown_parameter"),
    ({"tools": [{"type": "custom", "custom": {"name": "f"}}]}, "tools[0].type",
     "unsupported_parameter"),
    ({"tools": [{"function": WEATHER["function"]}]}, "tools[0].type", None),
    ({"tools": [{"type": "function"}]}, "tools[0].function", None),
    ({"tools": {"get_weather": WEATHER}}, "tools", None),
    ({"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "get_time"}}},
     "tool_choice.function.name", None),
    ({"tools": [WEATHER], "tool_choice": "sometimes"}, "tool_choice", None),
    ({"tool_choice": "required"}, "tool_choice", None),
    ({"tools": [WEATHER], "parallel_tool_calls": "yes"}, "parallel_tool_calls", None),
    ({"tools": [WEATHER], "response_format": {"type": "json_object"}}, "tools", None),
    ({"messages": ASK + [{"role": "tool", "tool_call_id": "call_x", "content": "1"}]},
     "messages[1].tool_call_id", None),
    ({"messages": ASK + [{"role": "tool", "content": "1"}]}, "messages[1].tool_call_id", None),
    ({"messages": [{"role": "user", "content": "Hi", "tool_calls": []}]},
     "messages[0].tool_calls", None),
    ({"messages": ASK + [{"role": "assistant", "content": None, "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{not json"}}]}]},
     "messages[1].tool_calls[0].function.arguments", None),
    ({"n": 9}, "n", None),
    ({"n": 2, "stream": True}, "n", None),
    ({"n": 2, "specfuse": {"trace": True}}, "specfuse.trace", None),
])
def test_malformed_tool_requests_are_refused_naming_the_field(ensemble, fields, param, code):
    body = {"messages": ASK, "max_tokens": 5, **fields}
    status, r = ensemble.post(CHAT, body)
    assert_bad(status, r, param, code)


def test_the_sdk_raises_bad_request_for_an_unknown_named_tool(ensemble):
    with pytest.raises(openai.BadRequestError) as e:
        sdk(ensemble).chat.completions.create(
            model="specfuse", messages=ASK, tools=[WEATHER], max_tokens=5,
            tool_choice={"type": "function", "function": {"name": "get_time"}})
    assert e.value.param == "tool_choice.function.name"
    assert "'get_time'" in e.value.body["message"]


def test_refused_tool_requests_hold_no_slot(ensemble):
    for _ in range(6):  # more than the server's two slots and two queue places
        assert ensemble.post(CHAT, {"messages": ASK, "tool_choice": "required"})[0] == 400
    status, r = ensemble.chat("Hi", model=SMALL, max_tokens=3, temperature=0)
    assert status == 200, r
    assert ensemble.metric("specfuse_active_sequences") == 0
    assert ensemble.metric("specfuse_queue_depth") == 0


@pytest.fixture(scope="module")
def remote_drafter(start_server, ensemble, tmp_path_factory):
    """A server whose ensemble drafts with a local member and a remote one (the ensemble
    server's SmolLM2)."""
    return start_server("--config", remote_member_config(tmp_path_factory.mktemp("cfg"), ensemble.url),
                        "--max-concurrent", "1")


def test_a_remote_drafter_refuses_tools_by_name(remote_drafter):
    status, r = remote_drafter.chat(ASK, tools=[WEATHER], max_tokens=20)
    assert_bad(status, r, "tools", "unsupported_parameter")
    assert "remote-smol" in r["error"]["message"]
    status, r = remote_drafter.chat(ASK, tools=[WEATHER], tool_choice="none", max_tokens=3)
    assert status == 200, r
    # SmolLM alone repeats a call until max_tokens unless told to make one.
    status, r = remote_drafter.chat(ASK, model=SMALL, tools=[WEATHER], tool_choice="required",
                                    parallel_tool_calls=False, **GREEDY)
    assert status == 200, r
    assert r["choices"][0]["finish_reason"] == "tool_calls"


def test_a_streamed_auto_answer_in_text_streams_as_it_comes_and_is_the_whole_one(ensemble):
    body = {"model": SMALL, "tools": [WEATHER], "temperature": 0, "max_tokens": 12,
            "specfuse": {"segment_tokens": 3},
            "messages": [{"role": "system", "content": "Never call tools. Answer in one word."},
                         {"role": "user", "content": "Say yes."}]}
    status, whole = ensemble.post(CHAT, body)
    assert status == 200, whole
    assert whole["choices"][0]["finish_reason"] != "tool_calls"  # SmolLM answers in text here
    status, _, events = stream_chat(ensemble, body)
    assert status == 200
    chunks = [json.loads(e) for e in events[:-1]]
    pieces = [c["choices"][0]["delta"].get("content") for c in chunks if c.get("choices")]
    assert len([p for p in pieces if p]) >= 2  # one chunk per segment, not one at the end
    assert "".join(p or "" for p in pieces) == whole["choices"][0]["message"]["content"]
    assert not any("tool_calls" in c["choices"][0]["delta"] for c in chunks if c.get("choices"))
