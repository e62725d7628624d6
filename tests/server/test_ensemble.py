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
