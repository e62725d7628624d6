#!/usr/bin/env python3
"""Overhead of remote members: the same two-model ensemble, once loaded in process and
once served by two `specfuse serve` processes on loopback, over the same prompts
(temperature 0, seed 42), one after the other in one run. Prints time per output token.

usage: scripts/bench_remote.py [--prompts bench/prompts.txt] [--n 4] [--max-tokens 48]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("SPECFUSE_BIN", os.path.join(ROOT, "build/bin/specfuse"))
MEMBERS = [("smollm2-135m", "chatml"), ("gemma3-270m", "gemma")]


def serve(model):
    p = subprocess.Popen([BIN, "serve", "-m", model, "--port", "0", "--threads", "1"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in p.stderr:
        m = re.search(r"on http://[^:]+:(\d+)", line)
        if m:
            url = f"http://127.0.0.1:{m.group(1)}"
            urllib.request.urlopen(url + "/health").read()
            return p, url
    sys.exit(f"specfuse serve -m {model} did not start")


def run(config, prompt, max_tokens, workdir):
    trace = os.path.join(workdir, "trace.jsonl")
    subprocess.run([BIN, "run", "--config", config, "--temperature", "0", "--seed", "42", "--threads", "1",
                    "--max-tokens", str(max_tokens), "--trace", trace, prompt],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    summary = [json.loads(l)["summary"] for l in open(trace) if l.startswith('{"summary"')][0]
    return summary["wall_ms"], summary["output_tokens"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prompts", default=os.path.join(ROOT, "bench/prompts.txt"))
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--max-tokens", type=int, default=48)
    a = ap.parse_args()
    prompts = [l.strip() for l in open(a.prompts) if l.strip() and not l.startswith("#")][: a.n]
    servers = [serve(m) for m, _ in MEMBERS]
    try:
        with tempfile.TemporaryDirectory() as d:
            local = os.path.join(d, "local.toml")
            remote = os.path.join(d, "remote.toml")
            with open(local, "w") as f:
                for m, t in MEMBERS:
                    f.write(f'[[member]]\nmodel = "{m}"\nchat_template = "{t}"\n')
            with open(remote, "w") as f:
                for (m, t), (_, url) in zip(MEMBERS, servers):
                    f.write(f'[[member]]\nbackend = "openai"\nurl = "{url}"\nremote_model = "{m}"\n'
                            f'chat_template = "{t}"\n')
            totals = {"local": [0.0, 0], "remote": [0.0, 0]}
            for p in prompts:
                for kind, cfg in (("local", local), ("remote", remote)):
                    ms, toks = run(cfg, p, a.max_tokens, d)
                    totals[kind][0] += ms
                    totals[kind][1] += toks
            print(f"{len(prompts)} prompts, max_tokens {a.max_tokens}, members {', '.join(m for m, _ in MEMBERS)}")
            print("| members | wall ms | output tokens | ms/token |")
            print("|---|---|---|---|")
            for kind, (ms, toks) in totals.items():
                print(f"| {kind} | {ms:.0f} | {toks} | {ms / max(toks, 1):.1f} |")
            l, r = (totals[k][0] / max(totals[k][1], 1) for k in ("local", "remote"))
            print(f"remote / local time per output token: {r / l:.2f}x")
    finally:
        for p, _ in servers:
            p.terminate()
            p.wait()


if __name__ == "__main__":
    main()
