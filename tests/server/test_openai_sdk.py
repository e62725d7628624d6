"""The official openai Python SDK talks to the server unchanged."""
import openai
import pytest

from conftest import SMALL


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0, timeout=120)


def test_the_sdk_lists_the_models(client):
    assert [m.id for m in client.models.list()] == ["specfuse", SMALL]


def test_the_sdk_gets_a_chat_completion(client):
    r = client.chat.completions.create(
        model="specfuse", messages=[{"role": "user", "content": "What is the capital of France?"}],
        max_tokens=30, temperature=0, seed=5)
    assert r.object == "chat.completion"
    assert r.choices[0].message.role == "assistant"
    assert "Paris" in r.choices[0].message.content
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens


def test_the_sdk_streams_a_chat_completion(client):
    stream = client.chat.completions.create(
        model="specfuse", messages=[{"role": "user", "content": "What is the capital of France?"}],
        max_tokens=30, temperature=0, seed=5, stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "Paris" in text
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop" and all(f is None for f in finishes[:-1])
    assert chunks[-1].usage.completion_tokens > 0
    whole = client.chat.completions.create(
        model="specfuse", messages=[{"role": "user", "content": "What is the capital of France?"}],
        max_tokens=30, temperature=0, seed=5)
    assert text == whole.choices[0].message.content


def test_the_sdk_passes_the_specfuse_extension(client):
    r = client.chat.completions.create(
        model="specfuse", messages=[{"role": "user", "content": "Hi"}], max_tokens=8,
        extra_body={"specfuse": {"trace": True, "segment_tokens": 2}})
    extra = r.model_extra["specfuse"]
    assert extra["summary"]["rounds"] == len(extra["rounds"]) >= 1


def test_the_sdk_gets_a_text_completion(client):
    r = client.completions.create(model=SMALL, prompt="The capital of France is",
                                  max_tokens=30, temperature=0)
    assert "Paris" in r.choices[0].text


def test_the_sdk_raises_its_own_errors(client):
    with pytest.raises(openai.NotFoundError) as e:
        client.chat.completions.create(model="gpt-9", messages=[{"role": "user", "content": "Hi"}])
    assert e.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="specfuse", messages=[{"role": "user", "content": "Hi"}],
                                       temperature=5)
    assert e.value.param == "temperature"
