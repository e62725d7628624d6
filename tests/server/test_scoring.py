"""/v1/completions as a scoring API (vLLM-style `echo` + `logprobs`): what lets one
specfuse server act as a remote member of another ensemble."""
import math

from conftest import SMALL

PROMPT = "The capital of France is Paris, and the capital of Italy is"


def score(server, text, top=2):
    return server.post("/v1/completions", {"model": SMALL, "prompt": text, "max_tokens": 0,
                                           "echo": True, "logprobs": top})


def test_max_tokens_zero_with_echo_scores_every_prompt_token(server):
    status, r = score(server, PROMPT)
    assert status == 200, r
    choice = r["choices"][0]
    assert choice["text"] == PROMPT
    lp = choice["logprobs"]
    assert "".join(lp["tokens"]) == PROMPT
    n = len(lp["tokens"])
    assert n == len(lp["token_logprobs"]) == len(lp["top_logprobs"]) == len(lp["text_offset"])
    assert r["usage"] == {"prompt_tokens": n, "completion_tokens": 0, "total_tokens": n}
    # The first token has no context to be predicted from.
    assert lp["token_logprobs"][0] is None and lp["top_logprobs"][0] is None
    for i in range(1, n):
        assert lp["token_logprobs"][i] <= 0
        assert 1 <= len(lp["top_logprobs"][i]) <= 2
        # The best alternative is at least as likely as the token that is there.
        assert max(lp["top_logprobs"][i].values()) >= lp["token_logprobs"][i] - 1e-6
    offsets = [0]
    for t in lp["tokens"][:-1]:
        offsets.append(offsets[-1] + len(t.encode()))
    assert lp["text_offset"] == offsets


def test_scoring_is_deterministic_and_prefers_the_right_answer(server):
    _, a = score(server, PROMPT + " Rome.")
    _, b = score(server, PROMPT + " Rome.")
    _, c = score(server, PROMPT + " Berlin.")
    assert a["choices"][0]["logprobs"] == b["choices"][0]["logprobs"]
    rome = a["choices"][0]["logprobs"]["token_logprobs"]
    berlin = c["choices"][0]["logprobs"]["token_logprobs"]
    # Same prefix, different last word: the shared tokens score the same.
    shared = len(rome) - 2
    for x, y in zip(rome[1:shared], berlin[1:shared]):
        assert math.isclose(x, y, abs_tol=1e-3)
    assert rome[-2] > berlin[-2]


def test_a_completions_logprobs_match_scoring_the_text_afterwards(server):
    status, r = server.post("/v1/completions", {"model": SMALL, "prompt": PROMPT, "max_tokens": 6,
                                                "temperature": 0, "logprobs": 1})
    assert status == 200, r
    choice = r["choices"][0]
    lp = choice["logprobs"]
    assert "".join(lp["tokens"]) == choice["text"]
    assert lp["text_offset"][0] == 0
    # Greedy: every generated token is the model's first choice.
    for tok, logprob, top in zip(lp["tokens"], lp["token_logprobs"], lp["top_logprobs"]):
        assert math.isclose(max(top.values()), logprob, abs_tol=1e-3), (tok, top)
    _, whole = score(server, PROMPT + choice["text"], top=0)
    tail = whole["choices"][0]["logprobs"]["token_logprobs"][-len(lp["tokens"]):]
    for x, y in zip(tail, lp["token_logprobs"]):
        assert math.isclose(x, y, abs_tol=1e-3)


def test_logprobs_on_the_ensemble_are_refused_with_a_pointer_to_members(start_server):
    two = start_server("-m", SMALL, "-m", "gemma3-270m")
    status, r = two.post("/v1/completions", {"model": "specfuse", "prompt": PROMPT, "max_tokens": 0,
                                             "echo": True, "logprobs": 1})
    assert status == 400
    assert r["error"]["param"] == "logprobs"
    assert SMALL in r["error"]["message"]


def test_max_tokens_zero_without_echo_is_a_bad_request(server):
    status, r = server.post("/v1/completions", {"model": SMALL, "prompt": PROMPT, "max_tokens": 0})
    assert status == 400
    assert r["error"]["param"] == "max_tokens"


def test_control_tokens_in_the_text_keep_their_text_so_offsets_index_the_input(server):
    text = "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n4"
    status, r = score(server, text, top=0)
    assert status == 200, r
    lp = r["choices"][0]["logprobs"]
    assert "".join(lp["tokens"]) == text
    for token, offset in zip(lp["tokens"], lp["text_offset"]):
        assert text.encode()[offset:offset + len(token.encode())] == token.encode()
