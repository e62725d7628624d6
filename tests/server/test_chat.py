"""/v1/chat/completions, /v1/completions, /v1/models and /health over raw HTTP."""
import json
import re

from conftest import SMALL, stream_chat

CAPITAL = "What is the capital of France?"
# Text completions continue raw text (no chat template), so their prompt is a sentence to finish.
OPENING = "The capital of France is"


def test_health_says_ok(server):
    status, body = server.get("/health")
    assert status == 200
    assert json.loads(body) == {"status": "ok"}


def test_models_lists_the_ensemble_then_each_member(server):
    status, body = server.get("/v1/models")
    assert status == 200
    listing = json.loads(body)
    assert listing["object"] == "list"
    assert [m["id"] for m in listing["data"]] == ["specfuse", SMALL]
    for m in listing["data"]:
        assert set(m) == {"id", "object", "created", "owned_by"}
        assert m["object"] == "model"
        assert isinstance(m["created"], int)


def test_a_chat_completion_has_openais_shape(server):
    status, r = server.chat(CAPITAL, model="specfuse", max_tokens=30, temperature=0, seed=1)
    assert status == 200
    assert set(r) == {"id", "object", "created", "model", "choices", "usage", "system_fingerprint"}
    assert re.fullmatch(r"chatcmpl-[0-9a-f]{24}", r["id"])
    assert r["object"] == "chat.completion"
    assert r["model"] == "specfuse"
    assert isinstance(r["created"], int)
    assert len(r["choices"]) == 1
    choice = r["choices"][0]
    assert set(choice) == {"index", "message", "finish_reason", "logprobs"}
    assert choice["index"] == 0
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    assert "Paris" in choice["message"]["content"]
    usage = r["usage"]
    assert set(usage) == {"prompt_tokens", "completion_tokens", "total_tokens"}
    assert usage["prompt_tokens"] > 5
    assert 0 < usage["completion_tokens"] <= 30
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_a_member_answers_alone_under_its_own_name(server):
    status, r = server.chat(CAPITAL, model=SMALL, max_tokens=30, temperature=0)
    assert status == 200
    assert r["model"] == SMALL
    assert "Paris" in r["choices"][0]["message"]["content"]


def test_max_tokens_ends_the_answer_with_length(server):
    for field in ("max_tokens", "max_completion_tokens"):
        status, r = server.chat("Write a long story about a dragon.", temperature=0, **{field: 4})
        assert status == 200
        assert r["choices"][0]["finish_reason"] == "length"
        assert 0 < r["usage"]["completion_tokens"] <= 4


def test_same_seed_at_temperature_zero_gives_the_same_answer(server):
    body = dict(max_tokens=24, temperature=0, seed=7)
    first = server.chat("Name three colours.", **body)[1]["choices"][0]["message"]["content"]
    second = server.chat("Name three colours.", **body)[1]["choices"][0]["message"]["content"]
    assert first and first == second


def test_same_seed_with_sampling_gives_the_same_answer(server):
    body = dict(max_tokens=24, temperature=0.9, top_p=0.95, seed=1234)
    first = server.chat("Tell me a fact about cats.", **body)[1]["choices"][0]["message"]["content"]
    second = server.chat("Tell me a fact about cats.", **body)[1]["choices"][0]["message"]["content"]
    assert first and first == second


def test_a_stop_string_ends_the_answer_before_it(server):
    full = server.chat(CAPITAL, max_tokens=30, temperature=0)[1]["choices"][0]["message"]["content"]
    assert "Paris" in full
    for stop in ("Paris", ["nothing-like-this", "Paris"]):
        status, r = server.chat(CAPITAL, max_tokens=30, temperature=0, stop=stop)
        assert status == 200
        assert r["choices"][0]["message"]["content"] == full[: full.index("Paris")]
        assert r["choices"][0]["finish_reason"] == "stop"


def test_message_content_may_be_text_parts_and_roles_may_include_system(server):
    messages = [{"role": "system", "content": "You are a geography teacher."},
                {"role": "user", "content": [{"type": "text", "text": "What is the capital "},
                                             {"type": "text", "text": "of France?"}]}]
    status, r = server.chat(messages, max_tokens=30, temperature=0)
    assert status == 200
    assert r["choices"][0]["message"]["content"]


def test_streaming_frames_every_event_and_ends_with_done(server):
    body = {"messages": [{"role": "user", "content": CAPITAL}], "max_tokens": 30, "temperature": 0}
    status, headers, payloads = stream_chat(server, body)
    assert status == 200
    assert headers["Content-Type"].startswith("text/event-stream")
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    assert len(chunks) >= 3
    ids = {c["id"] for c in chunks}
    assert len(ids) == 1 and re.fullmatch(r"chatcmpl-[0-9a-f]{24}", ids.pop())
    for c in chunks:
        assert c["object"] == "chat.completion.chunk"
        assert c["model"] == "specfuse"
        assert len(c["choices"]) == 1 and c["choices"][0]["index"] == 0
        assert "usage" not in c
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    for c in chunks[1:]:
        assert "role" not in c["choices"][0]["delta"]
    for c in chunks[:-1]:
        assert c["choices"][0]["finish_reason"] is None
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"][0]["delta"] == {}
    streamed = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    whole = server.chat(CAPITAL, max_tokens=30, temperature=0)[1]["choices"][0]["message"]["content"]
    assert streamed == whole


def test_streaming_usage_comes_last_when_asked_for(server):
    body = {"messages": [{"role": "user", "content": CAPITAL}], "max_tokens": 30, "temperature": 0,
            "stream_options": {"include_usage": True}}
    status, _, payloads = stream_chat(server, body)
    assert status == 200
    assert payloads[-1] == "[DONE]"
    usage_chunk = json.loads(payloads[-2])
    assert usage_chunk["choices"] == []
    u = usage_chunk["usage"]
    assert u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"] > 0
    assert json.loads(payloads[-3])["choices"][0]["finish_reason"] == "stop"


def test_trace_returns_the_rounds_and_the_summary(server):
    status, r = server.chat(CAPITAL, max_tokens=30, temperature=0,
                            specfuse={"trace": True, "segment_tokens": 4, "exit": False,
                                      "weights": "hedge", "score": "logprob"})
    assert status == 200
    trace = r["specfuse"]
    rounds, summary = trace["rounds"], trace["summary"]
    assert [x["round"] for x in rounds] == list(range(1, len(rounds) + 1))
    assert summary["rounds"] == len(rounds) >= 2  # 4-token segments
    assert summary["finish_reason"] == "stop"
    text = "".join(x["candidates"][x["winner"]]["text"] for x in rounds)
    assert text == r["choices"][0]["message"]["content"]


def test_streamed_trace_rides_on_each_chunk(server):
    body = {"messages": [{"role": "user", "content": CAPITAL}], "max_tokens": 30, "temperature": 0,
            "specfuse": {"trace": True, "segment_tokens": 4}}
    status, _, payloads = stream_chat(server, body)
    assert status == 200
    chunks = [json.loads(p) for p in payloads[:-1]]
    middle = chunks[1:-1]
    assert middle and all("round" in c["specfuse"] for c in middle)
    assert [c["specfuse"]["round"]["round"] for c in middle] == list(range(1, len(middle) + 1))
    assert chunks[-1]["specfuse"]["summary"]["rounds"] == len(middle)


def test_a_text_completion_has_openais_shape(server):
    status, r = server.post("/v1/completions", {"model": SMALL, "prompt": OPENING, "max_tokens": 30,
                                                "temperature": 0})
    assert status == 200
    assert re.fullmatch(r"cmpl-[0-9a-f]{24}", r["id"])
    assert r["object"] == "text_completion"
    assert r["model"] == SMALL
    choice = r["choices"][0]
    assert set(choice) == {"index", "text", "finish_reason", "logprobs"}
    assert "Paris" in choice["text"]
    assert r["usage"]["completion_tokens"] > 0

    status, echoed = server.post("/v1/completions", {"model": SMALL, "prompt": OPENING,
                                                     "max_tokens": 30, "temperature": 0, "echo": True})
    assert status == 200
    assert echoed["choices"][0]["text"] == OPENING + choice["text"]


def test_a_text_completion_streams(server):
    conn = server.connection()
    conn.request("POST", "/v1/completions", body=json.dumps(
        {"prompt": OPENING, "max_tokens": 30, "temperature": 0, "stream": True}),
        headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    assert r.status == 200
    from conftest import read_sse
    payloads = read_sse(r)
    conn.close()
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    assert all(c["object"] == "text_completion" for c in chunks)
    # Raw text goes on past its sentence: the answer ends at max_tokens.
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"
    assert "Paris" in "".join(c["choices"][0]["text"] for c in chunks)


def test_metrics_count_requests_tokens_and_rounds(server):
    server.chat(CAPITAL, max_tokens=30, temperature=0)
    status, body = server.get("/metrics")
    assert status == 200
    text = body.decode()
    assert re.search(r'^specfuse_requests_total\{status="200"\} [1-9]', text, re.M)
    for name in ("specfuse_rounds_total", "specfuse_model_calls_total",
                 "specfuse_request_latency_seconds_count", "specfuse_first_token_seconds_count"):
        assert server.metric(name) > 0, name
    assert re.search(r'^specfuse_tokens_total\{kind="completion"\} [1-9]', text, re.M)
    assert server.metric("specfuse_calls_saved_by_exit_total") >= 0
    assert server.metric("specfuse_queue_depth") == 0
    assert server.metric("specfuse_active_sequences") == 0
    assert '# TYPE specfuse_request_latency_seconds histogram' in text
    assert 'specfuse_first_token_seconds_bucket{le="+Inf"}' in text
    # Forward passes per member, and the decode requests they served (>= passes).
    for member in re.findall(r'^specfuse_decode_passes_total\{model="([^"]+)"\}', text, re.M):
        passes = float(re.search(r'^specfuse_decode_passes_total\{model="%s"\} (\S+)$' % re.escape(member), text, re.M).group(1))
        jobs = float(re.search(r'^specfuse_decode_jobs_total\{model="%s"\} (\S+)$' % re.escape(member), text, re.M).group(1))
        assert passes > 0 and jobs >= passes, (member, passes, jobs)
    assert len(re.findall(r'^specfuse_decode_merged_total\{model=', text, re.M)) >= 1
