"""response_format (docs/SERVER.md): JSON mode and structured outputs on the default
ensemble (two tokenizer families) and on single members. Every drafter samples under the
schema's grammar and every accepted segment advances every member's grammar, so answers
parse and validate; what cannot be enforced is refused by name."""
import json
import os
import sys
from typing import List, Literal

import openai
import pydantic
import pytest

from conftest import SMALL, remote_member_config, stream_chat

CHAT = "/v1/chat/completions"
QWEN = "qwen2.5-coder-0.5b"
PERSON_PROMPT = [{"role": "user", "content": "Invent a person: name, age, favourite colour."}]


class Person(pydantic.BaseModel):
    name: str
    age: int
    color: Literal["red", "green", "blue"]


class Recipe(pydantic.BaseModel):
    title: str
    servings: int
    ingredients: List[str]


PERSON_FORMAT = {"type": "json_schema", "json_schema": {
    "name": "person", "strict": True, "schema": {
        "type": "object",
        "properties": {"name": {"type": "string", "maxLength": 30},
                       "age": {"type": "integer", "minimum": 0, "maximum": 120},
                       "color": {"type": "string", "enum": ["red", "green", "blue"]}},
        "required": ["name", "age", "color"], "additionalProperties": False}}}


def assert_person(text):
    p = json.loads(text)
    assert sorted(p) == ["age", "color", "name"], text
    assert isinstance(p["name"], str) and len(p["name"]) <= 30, text
    assert isinstance(p["age"], int) and 0 <= p["age"] <= 120, text
    assert p["color"] in ("red", "green", "blue"), text


@pytest.fixture(scope="module")
def ensemble(start_server):
    """The default ensemble: SmolLM2 135M and Qwen2.5-Coder 0.5B (two tokenizers)."""
    return start_server("--max-concurrent", "2", "--queue", "2")


@pytest.fixture(scope="module")
def client(ensemble):
    return openai.OpenAI(base_url=ensemble.url + "/v1", api_key="unused", max_retries=0,
                         timeout=300)


@pytest.mark.parametrize("model", ["specfuse", QWEN, SMALL])
def test_the_sdk_parses_a_pydantic_model(client, model):
    r = client.chat.completions.parse(model=model, messages=PERSON_PROMPT, response_format=Person,
                                      max_tokens=80, temperature=0, seed=3,
                                      extra_body={"specfuse": {"trace": True}})
    choice = r.choices[0]
    assert choice.finish_reason == "stop", choice.message.content
    assert isinstance(choice.message.parsed, Person)
    assert choice.message.parsed == Person.model_validate_json(choice.message.content)
    rounds = r.model_extra["specfuse"]["rounds"]
    assert all(not rd["failed"] for rd in rounds), rounds
    if model == "specfuse":
        drafters = {c["model"] for rd in rounds for c in rd["candidates"]}
        assert drafters == {SMALL, QWEN}, rounds


def test_three_tokenizer_families_keep_one_grammar(start_server):
    """SmolLM2, Qwen2.5 and Gemma 3 tokenize the same JSON differently; every accepted
    segment must still advance each member's grammar, whoever drafted it."""
    three = start_server("-m", SMALL, "-m", QWEN, "-m", "gemma3-270m", "--max-concurrent", "1")
    client = openai.OpenAI(base_url=three.url + "/v1", api_key="unused", max_retries=0, timeout=300)
    r = client.chat.completions.parse(model="specfuse", messages=PERSON_PROMPT, response_format=Person,
                                      max_tokens=80, temperature=0, seed=3,
                                      extra_body={"specfuse": {"trace": True, "exit": False}})
    choice = r.choices[0]
    assert choice.finish_reason == "stop", choice.message.content
    assert isinstance(choice.message.parsed, Person)
    rounds = r.model_extra["specfuse"]["rounds"]
    assert all(not rd["failed"] for rd in rounds), rounds
    drafters = {m for rd in rounds for c in rd["candidates"] for m in c["models"]}
    assert drafters == {SMALL, QWEN, "gemma3-270m"}, rounds


def test_a_nested_pydantic_model_with_a_list_parses_on_the_ensemble(client):
    r = client.chat.completions.parse(
        model="specfuse", response_format=Recipe, max_tokens=120, temperature=0, seed=1,
        messages=[{"role": "user", "content": "A pancake recipe with three ingredients."}])
    assert r.choices[0].finish_reason == "stop", r.choices[0].message.content
    assert isinstance(r.choices[0].message.parsed, Recipe)


@pytest.mark.parametrize("model", ["specfuse", SMALL])
def test_json_mode_answers_a_json_object(ensemble, model):
    status, r = ensemble.chat('Answer with a JSON object {"fruits": [...]} naming two fruits.',
                              model=model, max_tokens=100,
                              temperature=0, response_format={"type": "json_object"})
    assert status == 200, r
    assert r["choices"][0]["finish_reason"] == "stop", r
    assert isinstance(json.loads(r["choices"][0]["message"]["content"]), dict)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sampled_answers_keep_required_fields_the_enum_and_integers(ensemble, seed):
    status, r = ensemble.chat(PERSON_PROMPT, max_tokens=80, temperature=1.0, seed=seed,
                              response_format=PERSON_FORMAT)
    assert status == 200, r
    assert r["choices"][0]["finish_reason"] == "stop", r
    assert_person(r["choices"][0]["message"]["content"])


def test_a_streamed_answer_is_the_same_valid_json(ensemble):
    body = {"messages": PERSON_PROMPT, "max_tokens": 80, "temperature": 0, "seed": 4,
            "response_format": PERSON_FORMAT}
    status, _, events = stream_chat(ensemble, body)
    assert status == 200, events
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert_person(text)
    status, whole = ensemble.chat(**body)
    assert whole["choices"][0]["message"]["content"] == text


def test_the_sdk_streams_a_parsed_answer(client):
    with client.chat.completions.stream(model="specfuse", messages=PERSON_PROMPT,
                                        response_format=Person, max_tokens=80, temperature=0,
                                        seed=3) as stream:
        deltas = [e.delta for e in stream if e.type == "content.delta"]
        final = stream.get_final_completion()
    assert len(deltas) > 1
    assert isinstance(final.choices[0].message.parsed, Person)
    assert "".join(deltas) == final.choices[0].message.content


def test_a_text_completion_takes_response_format_too(ensemble):
    status, r = ensemble.post("/v1/completions", {
        "model": SMALL, "prompt": 'A cat as JSON, {"name": ..., "age": ...}:', "max_tokens": 120,
        "temperature": 0, "response_format": {"type": "json_object"}})
    assert status == 200, r
    assert r["choices"][0]["finish_reason"] == "stop", r
    assert isinstance(json.loads(r["choices"][0]["text"]), dict), r


def test_scoring_a_prompt_refuses_response_format(ensemble):
    status, body = ensemble.post("/v1/completions", {
        "model": SMALL, "prompt": "Hello", "max_tokens": 0, "echo": True, "logprobs": 1,
        "response_format": {"type": "json_object"}})
    assert_bad_format(status, body, "generates none")


def assert_bad_format(status, body, *words, code=None):
    assert status == 400, body
    e = body["error"]
    assert e["param"] == "response_format", e
    assert e["code"] == code, e
    for w in words:
        assert w in e["message"], e["message"]


def schema_format(schema, **extra):
    return {"type": "json_schema", "json_schema": {"name": "s", "schema": schema, **extra}}


@pytest.mark.parametrize("fmt, words, code", [
    (schema_format({"$ref": "https://example.com/person.json"}),
     ["response_format.json_schema.schema", "https://example.com/person.json"], None),
    (schema_format({"type": "string", "pattern": "^(?=a)[a-z]+$"}, strict=True),
     ["the pattern '^(?=a)[a-z]+$'", "strict: false"], None),
    ({"type": "json_schema", "json_schema": {"name": "s"}},
     ["'response_format.json_schema.schema' is required"], None),
    ({"type": "json_schema"}, ["'response_format.json_schema' is required"], None),
    ({"type": "json_schema", "json_schema": "person"},
     ["'response_format.json_schema' must be an object"], None),
    (schema_format([{"type": "string"}]), ["must be a JSON Schema object"], None),
    (schema_format({"type": "object"}, strict="yes"), ["strict' must be true or false"], None),
    ({"type": "xml"}, ["'response_format.type' is 'xml'", "json_object or json_schema"], None),
    ({"json_schema": {}}, ["'response_format.type' is required"], None),
    ("json", ["must be an object"], None),
    ({"type": "json_object", "schema": {}}, ["'response_format.schema'"], "unknown_parameter"),
    (schema_format({"type": "object"}, examples=[]), ["'response_format.json_schema.examples'"],
     "unknown_parameter"),
])
def test_a_response_format_that_cannot_be_enforced_is_refused_saying_what_to_fix(
        ensemble, fmt, words, code):
    status, body = ensemble.chat("Hi", max_tokens=5, response_format=fmt)
    assert_bad_format(status, body, *words, code=code)


@pytest.mark.parametrize("model", ["specfuse", SMALL])
def test_a_schema_no_json_text_satisfies_is_a_400_saying_so(ensemble, model):
    fmt = schema_format({"type": "integer", "minimum": 5, "maximum": 1})
    status, body = ensemble.chat("Hi", model=model, max_tokens=5, response_format=fmt)
    assert status == 400, body
    assert ("the answer's grammar (response_format or tools) allows no token here"
            in body["error"]["message"])


def test_a_schema_nested_too_deep_is_refused_before_it_is_read(ensemble):
    schema = {"type": "string"}
    for _ in range(200):
        schema = {"type": "array", "items": schema}
    status, body = ensemble.chat("Hi", max_tokens=5, response_format=schema_format(schema))
    assert_bad_format(status, body, "nests deeper than 64 levels")


def test_an_unsupported_pattern_without_strict_is_loosened_and_answered(ensemble):
    fmt = schema_format({"type": "object", "properties": {
        "code": {"type": "string", "pattern": "^(?=A)[A-Z]{3}$"}}, "required": ["code"]})
    status, r = ensemble.chat("Give a code.", model=SMALL, max_tokens=40, temperature=0,
                              response_format=fmt)
    assert status == 200, r
    assert isinstance(json.loads(r["choices"][0]["message"]["content"])["code"], str)


def test_refused_formats_hold_no_slot(ensemble):
    for _ in range(6):  # more than the server's two slots and two queue places
        status, _ = ensemble.chat("Hi", response_format={"type": "xml"})
        assert status == 400
    status, r = ensemble.chat("Hi", model=SMALL, max_tokens=3, temperature=0)
    assert status == 200, r


@pytest.fixture(scope="module")
def with_remote(start_server, ensemble, tmp_path_factory):
    """A server whose ensemble has a local member and two remote members (the ensemble
    server's SmolLM2): one drafting, one only verifying."""
    cfg = tmp_path_factory.mktemp("cfg")
    return (start_server("--config", remote_member_config(cfg, ensemble.url, "both"), "--max-concurrent", "1"),
            start_server("--config", remote_member_config(cfg, ensemble.url, "verifier"),
                         "--max-concurrent", "1"))


def test_a_remote_drafter_refuses_response_format_by_name(with_remote):
    drafting, verifying = with_remote
    status, body = drafting.chat(PERSON_PROMPT, max_tokens=40, response_format=PERSON_FORMAT)
    assert_bad_format(status, body, "remote-smol", "verifier", code="unsupported_parameter")
    # The local member alone still takes it, and so does an ensemble where remote members verify.
    for srv, model in ((drafting, SMALL), (verifying, "specfuse")):
        status, r = srv.chat(PERSON_PROMPT, model=model, max_tokens=80, temperature=0,
                             response_format=PERSON_FORMAT)
        assert status == 200, r
        assert_person(r["choices"][0]["message"]["content"])


def test_three_requests_of_the_structured_output_benchmark_all_validate(ensemble):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
    import bench_structured
    requests = bench_structured.make_requests(3, seed=1)
    _, schema = requests[0]
    assert not bench_structured.valid({}, schema)  # the validator can say no
    results, _ = bench_structured.run(ensemble.url, "specfuse", requests, max_tokens=96,
                                      temperature=0.0, seed=1, modes=[True])[True]
    assert [r["valid"] for r in results] == [True, True, True], results
