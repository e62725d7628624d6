#!/usr/bin/env python3
"""Server throughput under concurrency: starts one `specfuse serve` on loopback and, for
each level C (default 1, 4, 8, 16), keeps C streaming chat requests in flight until
ROUNDS*C requests have been answered. Reports, per level: output tokens/s over the whole
level, p50/p95 request latency, p50 time to the first content chunk, throughput relative
to level 1, and how many queries' decode requests each forward pass served (from
/metrics). Standard library only.

usage: scripts/bench_concurrency.py [--levels 1,4,8,16] [--rounds 2] [--max-tokens 64]
           [--prompts bench/prompts.txt] [--json OUT.json] [-- SERVE ARGS...]
SERVE ARGS default to the default ensemble; --max-concurrent and --queue are set from the
largest level.
"""
import argparse
import json
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "support"))
from serve_process import ServeProcess  # noqa: E402

from load_test import percentile  # noqa: E402  (nearest rank, p in percent)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def one_request(server, prompt, max_tokens, seed):
    """Streams one answer; returns (latency s, first-content s, completion tokens)."""
    body = json.dumps({"model": "specfuse", "messages": [{"role": "user", "content": prompt}],
                       "max_tokens": max_tokens, "seed": seed, "stream": True,
                       "stream_options": {"include_usage": True}})
    t0 = time.perf_counter()
    conn = server.connection(timeout=600)
    try:
        conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
        r = conn.getresponse()
        if r.status != 200:
            raise RuntimeError(f"HTTP {r.status}: {r.read()[:200]!r}")
        first = None
        tokens = 0
        for raw in r:
            line = raw.decode().strip()
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if chunk.get("usage"):
                tokens = chunk["usage"]["completion_tokens"]
            for choice in chunk.get("choices", []):
                if first is None and choice.get("delta", {}).get("content"):
                    first = time.perf_counter() - t0
        return time.perf_counter() - t0, first if first is not None else float("nan"), tokens
    finally:
        conn.close()


def decode_counters(server):
    """Forward passes and the decode requests they served, summed over members."""
    conn = server.connection(timeout=30)
    try:
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
    finally:
        conn.close()
    total = {"passes": 0.0, "jobs": 0.0}
    for kind in total:
        for m in re.finditer(r"^specfuse_decode_%s_total\{[^}]*\} (\S+)$" % kind, text, re.M):
            total[kind] += float(m.group(1))
    return total


def run_level(server, level, total, prompts, max_tokens):
    results, errors = [], []
    lock = threading.Lock()
    next_index = [0]

    def worker():
        while True:
            with lock:
                i = next_index[0]
                if i >= total:
                    return
                next_index[0] += 1
            try:
                res = one_request(server, prompts[i % len(prompts)], max_tokens, 1000 + i)
                with lock:
                    results.append(res)
            except Exception as e:  # noqa: BLE001 - reported, and the run fails
                with lock:
                    errors.append(str(e))

    before = decode_counters(server)
    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(level)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    after = decode_counters(server)
    passes = after["passes"] - before["passes"]
    jobs_per_pass = (after["jobs"] - before["jobs"]) / passes if passes else float("nan")
    nan = float("nan")
    lat = [r[0] for r in results]
    ttft = [r[1] for r in results]
    tokens = sum(r[2] for r in results)
    return {"concurrency": level, "requests": len(results), "errors": errors, "wall_s": wall,
            "completion_tokens": tokens, "tokens_per_s": tokens / wall if wall > 0 else 0.0,
            "latency_p50_s": percentile(lat, 50) if lat else nan, "latency_p95_s": percentile(lat, 95) if lat else nan,
            "first_content_p50_s": percentile(ttft, 50) if ttft else nan,
            "jobs_per_forward_pass": jobs_per_pass}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--levels", default="1,4,8,16")
    ap.add_argument("--rounds", type=int, default=2, help="requests per level = rounds x level")
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--prompts", default=os.path.join(ROOT, "bench/prompts.txt"))
    ap.add_argument("--json")
    ap.add_argument("serve_args", nargs="*")
    args = ap.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    prompts = [l.strip() for l in open(args.prompts) if l.strip()]
    serve_args = args.serve_args or ["-m", "smollm2-135m", "-m", "qwen2.5-coder-0.5b"]
    serve_args += ["--max-concurrent", str(max(levels)), "--queue", str(4 * max(levels))]
    server = ServeProcess(*serve_args)
    rows = []
    try:
        one_request(server, prompts[0], 8, 1)  # warm-up
        for level in levels:
            # A multiple of the prompt count at every level, so each level answers the same mix.
            total = max(args.rounds * level, len(prompts))
            total += (-total) % len(prompts)
            row = run_level(server, level, total, prompts, args.max_tokens)
            rows.append(row)
            base = rows[0]["tokens_per_s"] or float("nan")
            print(f"concurrency {level:3d}: {row['requests']:3d} requests, {row['completion_tokens']:5d} tokens "
                  f"in {row['wall_s']:7.1f} s = {row['tokens_per_s']:7.1f} tok/s ({row['tokens_per_s'] / base:4.2f}x), "
                  f"latency p50 {row['latency_p50_s']:.2f} s p95 {row['latency_p95_s']:.2f} s, "
                  f"first content p50 {row['first_content_p50_s']:.2f} s, "
                  f"{row['jobs_per_forward_pass']:.2f} decode requests per forward pass"
                  + (f", {len(row['errors'])} errors: {row['errors'][:2]}" if row["errors"] else ""), flush=True)
    finally:
        server.stop()
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"serve_args": serve_args, "max_tokens": args.max_tokens, "levels": rows}, f, indent=2)
    return 1 if any(r["errors"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
