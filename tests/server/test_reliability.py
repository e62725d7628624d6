"""Refused requests give back what they took; the HTTP layer enforces its limits."""
import json

import pytest

from conftest import SMALL
from test_errors import assert_error

USER = [{"role": "user", "content": "Hello"}]
LONG_PROMPT = "Please repeat these words: " + "apple banana cherry " * 40

# (path, body, expected status, param, code): every way a generation request can be
# refused, including a prompt longer than the 64-token context (found while answering).
REFUSED = [
    ("/v1/chat/completions", "{not json", 400, None, None),
    ("/v1/chat/completions", {"model": "gpt-9", "messages": USER}, 404, "model", "model_not_found"),
    ("/v1/completions", {"model": "specfuse", "prompt": "Hi", "max_tokens": 4, "logprobs": 2},
     400, "logprobs", None),
    ("/v1/completions", {"prompt": "Hi", "max_tokens": 0, "echo": True, "logprobs": 1},
     400, "logprobs", None),
    ("/v1/chat/completions", {"messages": USER, "temperature": "hot"}, 400, "temperature", None),
    ("/v1/chat/completions", {"messages": USER, "max_tokens": 0}, 400, "max_tokens", None),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": LONG_PROMPT}]},
     400, "messages", "context_length_exceeded"),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": LONG_PROMPT}], "stream": True},
     400, "messages", "context_length_exceeded"),
]


@pytest.fixture(scope="module")
def tight_duo(start_server):
    """Two copies of the small model as an ensemble, two slots and one queue place."""
    return start_server("-m", SMALL, "-m", SMALL, "--ctx-size", "64",
                        "--max-concurrent", "2", "--queue", "1")


@pytest.mark.parametrize("path, body, status, param, code", REFUSED)
def test_refused_requests_release_their_admission_slot(tight_duo, path, body, status, param, code):
    # More refusals than there are slots and queue places together (2 + 1).
    for _ in range(4):
        assert_error(*tight_duo.post(path, body, timeout=60), status, param=param, code=code)
    # A slot leaked by any refusal would leave this request waiting forever.
    status, r = tight_duo.post("/v1/completions", {"prompt": "Hi", "max_tokens": 2}, timeout=60)
    assert status == 200, r
    assert r["usage"]["completion_tokens"] >= 1
    assert tight_duo.metric("specfuse_queue_depth") == 0
    assert tight_duo.metric("specfuse_active_sequences") == 0
