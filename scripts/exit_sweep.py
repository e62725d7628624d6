#!/usr/bin/env python3
"""Runs `specfuse run` over a prompt file with model exit off and on (and optional extra
settings), reading each answer's trace summary; prints model calls, calls saved, rounds,
tokens, wall time and how many answers changed. Used to choose the exit defaults.

usage: scripts/exit_sweep.py [--bin build/bin/specfuse] [--prompts bench/prompts.txt]
                             [--max-tokens 64] [-- extra specfuse flags]
"""
import argparse
import json
import subprocess
import sys
import tempfile


def run(binary, prompt, flags):
    with tempfile.NamedTemporaryFile(suffix=".jsonl") as trace:
        out = subprocess.run([binary, "run", "--trace", trace.name, *flags, prompt],
                             capture_output=True, text=True, check=True).stdout
        lines = [json.loads(l) for l in open(trace.name) if l.strip()]
    return out.strip(), lines[-1]["summary"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/bin/specfuse")
    ap.add_argument("--prompts", default="bench/prompts.txt")
    ap.add_argument("--max-tokens", default="64")
    ap.add_argument("extra", nargs="*")
    args = ap.parse_args()
    prompts = [p.strip() for p in open(args.prompts) if p.strip()]
    base = ["--max-tokens", args.max_tokens, "--seed", "42", *args.extra]
    totals = {}
    answers = {}
    for label, flags in (("exit off", ["--no-exit"]), ("exit on", ["--exit"])):
        t = totals.setdefault(label, dict(calls=0, saved=0, rounds=0, tokens=0, ms=0.0))
        for p in prompts:
            text, s = run(args.bin, p, base + flags)
            answers.setdefault(p, []).append(text)
            t["calls"] += s["model_calls"]
            t["saved"] += s["calls_saved_by_exit"]
            t["rounds"] += s["rounds"]
            t["tokens"] += s["output_tokens"]
            t["ms"] += s["wall_ms"]
    print(f"| setting | model calls | calls saved by exit | rounds | output tokens | wall s |")
    print(f"|---|---|---|---|---|---|")
    for label, t in totals.items():
        print(f"| {label} | {t['calls']} | {t['saved']} | {t['rounds']} | {t['tokens']} | {t['ms']/1000:.1f} |")
    off, on = totals["exit off"], totals["exit on"]
    changed = sum(1 for a in answers.values() if a[0] != a[1])
    print(f"\ncalls per round: off {off['calls']/off['rounds']:.2f}, on {on['calls']/on['rounds']:.2f}; "
          f"calls ratio on/off {on['calls']/off['calls']:.2f}; answers changed by exit: {changed}/{len(prompts)}")


if __name__ == "__main__":
    sys.exit(main())
