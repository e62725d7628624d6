#!/usr/bin/env bash
# The specfuse binary from the outside: version, help, models, a real generation, and
# clear errors (non-zero exit, a message naming the problem) for bad input.
set -u
BIN=${1:?usage: cli_test.sh path/to/specfuse}
CACHE=${SPECFUSE_CACHE:-$HOME/.cache/specfuse}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok: $1"; }
bad() { failed=$((failed + 1)); echo "FAILED: $1"; }

# expect_fail NAME PATTERN ARGS...: exits non-zero and stderr matches PATTERN.
expect_fail() {
  local name=$1 pattern=$2
  shift 2
  "$BIN" "$@" >"$TMP/out" 2>"$TMP/err"
  local rc=$?
  if [ $rc -ne 0 ] && [ $rc -lt 128 ] && grep -q -- "$pattern" "$TMP/err"; then
    ok "$name"
  else
    bad "$name (exit $rc, stderr: $(tr '\n' ' ' <"$TMP/err"))"
  fi
}

"$BIN" --version | grep -q "^specfuse [0-9]" && ok "version" || bad "version"
"$BIN" --help | grep -q "run" && ok "help lists run" || bad "help lists run"
"$BIN" models | grep -q "smollm2-135m .* yes" && ok "models shows smollm2 present" || bad "models"

out=$("$BIN" run -m smollm2-135m --seed 1 --temperature 0 --max-tokens 24 "Name three colors." 2>/dev/null)
if [ -n "$out" ] && [ "$out" = "$("$BIN" run -m smollm2-135m --seed 1 --temperature 0 --max-tokens 24 "Name three colors." 2>/dev/null)" ]; then
  ok "run generates the same text twice with a fixed seed"
else
  bad "run generates the same text twice with a fixed seed ('$out')"
fi

"$BIN" run --trace "$TMP/trace.jsonl" --max-tokens 16 "What is the capital of France?" >/dev/null 2>&1
if grep -q '"candidates"' "$TMP/trace.jsonl" && tail -1 "$TMP/trace.jsonl" | grep -q '"summary"'; then
  ok "run writes a round trace and a summary"
else
  bad "run writes a round trace and a summary"
fi

# Model exit is on by default and --no-exit turns it off: Gemma at temperature 8 writes
# noise, and the exit test (from round 3) sends it away.
cat >"$TMP/noisy.toml" <<'TOML'
max_tokens = 60
[sampling]
seed = 42
[[member]]
model = "smollm2-135m"
[[member]]
model = "qwen2.5-coder-0.5b"
[[member]]
model = "gemma3-270m"
temperature = 8.0
TOML
q="Explain what a computer is in two sentences."
"$BIN" run --config "$TMP/noisy.toml" --trace "$TMP/exit.jsonl" "$q" >/dev/null 2>&1
"$BIN" run --config "$TMP/noisy.toml" --no-exit --trace "$TMP/noexit.jsonl" "$q" >/dev/null 2>&1
if grep -q '"exited":\["[^]]*gemma3-270m' "$TMP/exit.jsonl" && ! grep -q '"exited":\["' "$TMP/noexit.jsonl" \
  && ! grep -q '"exit_entropy":[0-9]' "$TMP/noexit.jsonl"; then
  ok "model exit is on by default and --no-exit turns it off"
else
  bad "model exit is on by default and --no-exit turns it off ($(grep -o '"exited":[^]]*]' "$TMP/exit.jsonl" | tr '\n' ' '))"
fi

chat_out=$(printf 'My name is Ada.\nWhat is my name?\n' |
  "$BIN" chat -m smollm2-135m --temperature 0 --max-tokens 20 2>/dev/null)
if [ "$(printf '%s\n' "$chat_out" | grep -c .)" -ge 2 ]; then
  ok "chat answers two turns from standard input"
else
  bad "chat answers two turns from standard input ('$chat_out')"
fi

expect_fail "missing model file" "does not exist" run -m "$TMP/nope.gguf" hi
echo "plain text" >"$TMP/text.gguf"
expect_fail "a file that is not GGUF" "not a GGUF" run -m "$TMP/text.gguf" hi
head -c 3000000 "$CACHE/models/SmolLM2-135M-Instruct.Q4_1.gguf" >"$TMP/trunc.gguf"
expect_fail "a truncated GGUF" "truncated" run -m "$TMP/trunc.gguf" hi
long=$(printf 'word %.0s' $(seq 1 200))
expect_fail "a prompt longer than the context" "context" run -m smollm2-135m --ctx-size 64 "$long"
expect_fail "an unknown default model" "no default model" run -m no-such-model hi
expect_fail "a bad score variant" "score variant" run -m smollm2-135m --score best hi
printf 'segment_tokns = 3\n' >"$TMP/bad.toml"
expect_fail "an unknown config key" "unknown key 'segment_tokns'" run --config "$TMP/bad.toml" hi
printf 'max_tokens = [\n' >"$TMP/broken.toml"
expect_fail "a malformed config" "broken.toml:" run --config "$TMP/broken.toml" hi

# Config keys come from one option table: the same ranges as the flags and requests, a
# bad value refused by the key it was given under.
printf 'segment_tokens = 300\n' >"$TMP/segment.toml"
expect_fail "a config value out of range names the key" "segment.toml: segment_tokens must be between 1 and 256" \
  run --config "$TMP/segment.toml" hi
printf '[sampling]\ntop_p = 1.5\n' >"$TMP/top_p.toml"
expect_fail "a config value in a table names table and key" \
  "top_p.toml: sampling.top_p must be greater than 0 and at most 1" run --config "$TMP/top_p.toml" hi
printf '[exit]\nmin_active = 0\n' >"$TMP/exit.toml"
expect_fail "an exit setting out of range names it" "exit.toml: exit.min_active must be at least 1" \
  run --config "$TMP/exit.toml" hi

# Flags and their help come from the same table: a bad value refused by its flag, the
# help's defaults those of the struct.
expect_fail "a flag out of range names the flag and its range" "--segment-tokens must be between 1 and 256" \
  run -m smollm2-135m --segment-tokens 300 hi
expect_fail "a flag that is not a finite number is refused" "--temperature must be a finite number" \
  run -m smollm2-135m --temperature nan hi
expect_fail "a flag that is not an integer is refused" "--max-tokens must be an integer, not 'many'" \
  run -m smollm2-135m --max-tokens many hi
help=$("$BIN" run --help)
if grep -q -- "--segment-tokens INT=10 .*between 1 and 256" <<<"$help" && grep -q -- "--temperature FLOAT=0.6 " <<<"$help" \
  && grep -q -- "--score TEXT=logit .*prob, logprob or logit" <<<"$help"; then
  ok "help shows each flag's default and range from the option table"
else
  bad "help shows each flag's default and range from the option table ($help)"
fi
if "$BIN" run -m smollm2-135m --anchor-margin -1 --seed -1 --max-tokens 4 hi >/dev/null 2>"$TMP/err"; then
  ok "negative values are taken: --anchor-margin -1 (gate off) and --seed -1"
else
  bad "negative values are taken: --anchor-margin -1 (gate off) and --seed -1 ($(cat "$TMP/err"))"
fi

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
