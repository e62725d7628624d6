"""Two members of different families: the ensemble and each member are served."""
import pytest

from conftest import SMALL


@pytest.fixture(scope="module")
def duo(start_server):
    return start_server("-m", SMALL, "-m", "gemma3-270m", "--max-concurrent", "2")


def test_the_ensemble_and_each_member_are_listed_and_answer(duo):
    import json
    ids = [m["id"] for m in json.loads(duo.get("/v1/models")[1])["data"]]
    assert ids[0] == "specfuse" and len(ids) == 3 and SMALL in ids
    status, r = duo.chat("What is the capital of France?", max_tokens=30, temperature=0,
                         specfuse={"trace": True, "exit": False})
    assert status == 200
    rounds = r["specfuse"]["rounds"]
    assert rounds and set(rounds[0]["active"]) == set(ids[1:])
    assert len(rounds[0]["scores"]) in (0, 2)  # both verify whenever the drafts differ
    for member in ids[1:]:
        status, alone = duo.chat("What is the capital of France?", model=member, max_tokens=20,
                                 temperature=0, specfuse={"trace": True})
        assert status == 200
        assert alone["model"] == member
        assert all(x["active"] == [member] for x in alone["specfuse"]["rounds"])


def test_the_anchor_gate_lets_the_larger_member_choose_at_margin_zero(duo):
    status, r = duo.chat("Name three colours of the rainbow.", max_tokens=40, temperature=0,
                         specfuse={"trace": True, "exit": False, "anchor_margin": 0})
    assert status == 200
    voted = [x for x in r["specfuse"]["rounds"] if len(x["candidates"]) > 1]
    assert voted, "the members never disagreed; pick another prompt"
    for x in voted:
        assert x["anchor"] == "gemma3-270m"  # 270M parameters against 135M
        anchor_scores = next(s for s in x["scores"] if s["verifier"] == "gemma3-270m")
        best = max(anchor_scores["mean_logprob"])
        assert x["eligible"] == [lp == best for lp in anchor_scores["mean_logprob"]]
        assert x["eligible"][x["winner"]]


def test_an_anchor_margin_out_of_range_is_refused_by_name(duo):
    status, r = duo.chat("Hi", max_tokens=4, specfuse={"anchor_margin": 500})
    assert status == 400
    assert r["error"]["param"] == "specfuse.anchor_margin"
