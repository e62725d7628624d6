"""Remote members (backend = "openai"): an ensemble whose members are served by other
processes over HTTP behaves like the same ensemble loaded in process, and a member that
dies, answers garbage or stalls is dropped while the others finish the answer."""
import signal
import time

import pytest

from conftest import SMALL, free_port, remote_member, specfuse_run, toml_member

PROMPT = "Name three colors of the rainbow."


def rounds_digest(run):
    return [([c["text"] for c in r["candidates"]], r["winner"]) for r in run.rounds]


def max_score_gap(a, b):
    gap = 0.0
    for ra, rb in zip(a.rounds, b.rounds):
        assert [s["verifier"] for s in ra["scores"]] == [s["verifier"] for s in rb["scores"]]
        for sa, sb in zip(ra["scores"], rb["scores"]):
            gap = max([gap] + [abs(x - y) for x, y in zip(sa["normalized"], sb["normalized"])])
    return gap


def test_a_remote_ensemble_answers_like_the_same_ensemble_in_process(tmp_path, small_pair):
    # Two members that draft differently (their chat templates differ) on two servers.
    a, b = small_pair
    remote = (remote_member(a.url, name="smol-chatml", chat_template="chatml") +
              remote_member(b.url + "/v1", name="smol-vicuna", chat_template="vicuna"))
    local = (toml_member(model=SMALL, name="smol-chatml", chat_template="chatml") +
             toml_member(model=SMALL, name="smol-vicuna", chat_template="vicuna"))
    # Remote members give log-probabilities but no logits, so compare under the prob score.
    r = specfuse_run(tmp_path, remote, PROMPT, "--max-tokens", "40", "--score", "prob", name="remote")
    l = specfuse_run(tmp_path, local, PROMPT, "--max-tokens", "40", "--score", "prob", name="local")
    assert r.rc == 0, r.stderr
    assert l.rc == 0, l.stderr
    assert r.stdout == l.stdout
    assert rounds_digest(r) == rounds_digest(l)
    # Verification really happened, and scored the same.
    assert any(len(x["candidates"]) > 1 for x in r.rounds)
    assert max_score_gap(r, l) <= 1e-3
    assert r.failed == [] and r.summary["rounds_won"] == l.summary["rounds_won"]


def test_members_of_different_families_agree_with_the_local_ensemble(tmp_path, start_server, small_pair):
    gemma = start_server("gemma3-270m")
    remote = (remote_member(small_pair[0].url, chat_template="chatml") +
              remote_member(gemma.url, remote_model="gemma3-270m", chat_template="gemma"))
    prompt = "What is the capital of France?"
    r = specfuse_run(tmp_path, remote, prompt, "--max-tokens", "24", "--score", "prob", name="remote")
    l = specfuse_run(tmp_path, None, prompt, "-m", SMALL, "-m", "gemma3-270m", "--max-tokens", "24", "--score", "prob",
                     name="local")
    assert r.rc == 0, r.stderr
    assert r.stdout == l.stdout
    assert rounds_digest(r) == rounds_digest(l)
    # A server scores the whole text in one batch, a local member after its cached
    # prefix; llama.cpp's repacked Q4_K kernels round differently for the two batch
    # shapes, so Gemma's scores move in the third decimal (SmolLM2's Q4_1 does not).
    assert max_score_gap(r, l) <= 5e-3


def test_a_member_killed_mid_answer_is_dropped_and_the_rest_finish(tmp_path, start_server, small_pair):
    victim = start_server()
    config = (remote_member(small_pair[0].url, name="smol-chatml", chat_template="chatml") +
              remote_member(victim.url, name="smol-victim", chat_template="vicuna", timeout_s=20,
                            retries=1))

    def kill_after_first_round(trace, proc):
        deadline = time.time() + 300
        while time.time() < deadline and proc.poll() is None:
            if trace.exists() and trace.read_text().count("\n") >= 1:
                victim.kill()
                return
            time.sleep(0.05)

    r = specfuse_run(tmp_path, config, "Write a short poem about the sea.", "--max-tokens", "60",
                     "--no-exit", during=kill_after_first_round)
    assert victim.proc.returncode == -signal.SIGKILL
    assert r.rc == 0, r.stderr
    assert r.summary["finish_reason"] in ("stop", "length")
    assert len(r.rounds) >= 2 and r.stdout.strip()
    [failure] = r.failed
    assert failure.startswith("smol-victim: ") and victim.url in failure
    after = next(i for i, x in enumerate(r.rounds) if x["failed"])
    assert all(x["active"] == ["smol-chatml"] for x in r.rounds[after + 1:])


@pytest.mark.parametrize("mode, why", [("garbage", "malformed answer"), ("stall", "deadline")])
def test_a_member_that_answers_garbage_or_stalls_is_dropped_within_its_deadline(
        tmp_path, small_pair, fake_server, mode, why):
    bad = fake_server(mode)
    config = (remote_member(small_pair[0].url, chat_template="chatml") +
              remote_member(bad.url, remote_model="fake", name="bad", chat_template="chatml",
                            timeout_s=2, retries=1))
    r = specfuse_run(tmp_path, config, PROMPT, "--max-tokens", "20")
    assert r.rc == 0, r.stderr
    assert r.stdout.strip() and r.summary["finish_reason"] in ("stop", "length")
    [failure] = r.rounds[0]["failed"]
    assert failure.startswith("bad: ") and why in failure
    # Dropped in the first round's drafting, within the 2 s deadline (plus SmolLM2's own draft).
    assert r.rounds[0]["draft_ms"] < 2000 + 8000
    assert all(x["active"] == [SMALL] for x in r.rounds[1:])


def test_an_unreachable_member_is_an_error_at_start(tmp_path, small_pair):
    url = f"http://127.0.0.1:{free_port()}"
    config = (remote_member(small_pair[0].url, chat_template="chatml") +
              remote_member(url, name="gone", chat_template="chatml", retries=1))
    r = specfuse_run(tmp_path, config, PROMPT)
    assert r.rc == 1
    assert "member 'gone'" in r.stderr and url in r.stderr and "cannot connect" in r.stderr
    assert r.stdout == ""


def test_an_unreachable_optional_member_is_skipped_with_a_warning(tmp_path, small_pair):
    url = f"http://127.0.0.1:{free_port()}"
    config = (remote_member(small_pair[0].url, chat_template="chatml") +
              remote_member(url, name="gone", chat_template="chatml", optional=True))
    r = specfuse_run(tmp_path, config, PROMPT, "--max-tokens", "12")
    assert r.rc == 0, r.stderr
    assert "warning: skipping optional member" in r.stderr and "'gone'" in r.stderr
    assert r.stdout.strip() and all(x["active"] == [SMALL] for x in r.rounds)


def test_a_remote_member_without_a_chat_template_says_to_set_one(tmp_path, fake_server):
    config = remote_member(fake_server("garbage").url, remote_model="fake", name="bare")
    r = specfuse_run(tmp_path, config, PROMPT)
    assert r.rc == 1
    assert "'bare'" in r.stderr and "chat_template" in r.stderr


def test_a_model_the_server_does_not_serve_is_named_with_what_it_serves(tmp_path, fake_server):
    config = remote_member(fake_server("garbage").url, remote_model="llama-70b", chat_template="chatml")
    r = specfuse_run(tmp_path, config, PROMPT)
    assert r.rc == 1
    assert "does not serve 'llama-70b'" in r.stderr and "it serves: fake" in r.stderr


def test_config_errors_name_the_key(tmp_path):
    r = specfuse_run(tmp_path, '[[member]]\nbackend = "openai"\nurl = "http://127.0.0.1:1"\npath = "x.gguf"\n',
                     PROMPT)
    assert r.rc == 1 and "unknown key 'path'" in r.stderr
    r = specfuse_run(tmp_path, '[[member]]\nbackend = "openai"\nchat_template = "chatml"\n', PROMPT)
    assert r.rc == 1 and "needs url" in r.stderr
    r = specfuse_run(tmp_path, '[[member]]\nbackend = "openai"\nurl = "http://h:1"\napi_key_env = "SPECFUSE_NO_SUCH_VAR"\n',
                     PROMPT)
    assert r.rc == 1 and "SPECFUSE_NO_SUCH_VAR" in r.stderr
