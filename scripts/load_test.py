#!/usr/bin/env python3
"""A bounded load test of `specfuse serve` on loopback (docs/RELIABILITY.md).

Starts `specfuse serve -m smollm2-135m --max-concurrent 4 --queue 8` on a free port and,
for a fixed time (or until a request budget is spent), has W workers send streaming chat
requests mixed with abuse: clients that hang up mid-stream, bodies over 1 MiB, malformed
JSON, bad parameters, unknown models, and one burst of more requests than the server
admits (429). Then it checks that the server recovered: /health answers,
specfuse_active_sequences and specfuse_queue_depth on /metrics are 0. It reports requests
by outcome, latency p50/p95 and the server's RSS before and after.

Exit status 0 when every request got the answer its kind expects and the server
recovered; 1 otherwise. Standard library only.

Usage: scripts/load_test.py [--seconds 120] [--max-requests 3000] [--workers 8]
                            [--bin build/bin/specfuse] [--json OUT.json] [-- SERVE ARGS...]
"""
import argparse
import http.client
import json
import os
import random
import re
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "support"))
from serve_process import ServeProcess  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROMPTS = ["Name three colors.", "What is the capital of France?", "Write a haiku about rain.",
           "Count from one to ten.", "Explain TCP in one sentence.", "Why is the sky blue?"]

# kind -> (share of requests, the statuses that count as the right answer)
KINDS = {
    "stream": (0.55, {200, 429}),
    "disconnect": (0.15, {200, 429}),   # read one or two chunks, then hang up
    "plain": (0.05, {200, 429}),        # non-streaming
    "oversized": (0.05, {413}),
    "malformed": (0.08, {400}),
    "bad_param": (0.09, {400}),
    "unknown_model": (0.03, {404}),
}
BAD_PARAMS = [
    {"temperature": 5}, {"max_tokens": 0}, {"max_tokens": -3}, {"top_p": 0}, {"n": 2},
    {"messages": []}, {"messages": [{"role": "wizard", "content": "hi"}]},
    {"specfuse": {"segment_tokens": 0}}, {"specfuse": {"weights": "loud"}},
    {"stop": [1, 2]}, {"seed": "seven"}, {"stream": "yes"}, {"max_tokens": 18446744073709551616},
]
MALFORMED = [b"{", b"", b"nul", b'{"messages": [}', b"\xff\xfe\xfd", b'{"a":' + b"[" * 5000,
             b'{"messages": "hi"', b"[1, 2, 3"]


class Server(ServeProcess):
    def __init__(self, binary, extra, host="127.0.0.1"):
        try:
            super().__init__("-m", "smollm2-135m", "--max-concurrent", "4", "--queue", "8",
                             "--host", host, *extra, binary=binary)
        except RuntimeError as e:
            sys.exit(f"load_test: {e}")

    def conn(self, timeout=300):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def get(self, path):
        c = self.conn(10)
        try:
            c.request("GET", path)
            r = c.getresponse()
            return r.status, r.read().decode("utf-8", "replace")
        except OSError:
            return 0, ""
        finally:
            c.close()

    def rss_kib(self):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    def metric(self, name):
        status, text = self.get("/metrics")
        if status != 200:
            return None
        m = re.search(r"^" + re.escape(name) + r" ([0-9.e+-]+)$", text, re.M)
        return float(m.group(1)) if m else None



def chat_body(rng, stream):
    return {"model": "specfuse",
            "messages": [{"role": "user", "content": rng.choice(PROMPTS)}],
            "max_tokens": rng.randint(8, 40), "temperature": rng.choice([0, 0.7]),
            "seed": rng.randint(0, 1 << 30), "stream": stream}


def one_request(server, kind, rng):
    """Sends one request of a kind. Returns (outcome, status, seconds, detail)."""
    t0 = time.monotonic()
    c = server.conn()
    try:
        headers = {"Content-Type": "application/json"}
        if kind in ("stream", "disconnect", "plain"):
            body = json.dumps(chat_body(rng, kind != "plain")).encode()
        elif kind == "oversized":
            pad = "x" * ((1 << 20) + rng.randint(1, 4096))
            body = json.dumps({"messages": [{"role": "user", "content": pad}]}).encode()
        elif kind == "malformed":
            body = rng.choice(MALFORMED)
        elif kind == "bad_param":
            b = chat_body(rng, True)
            b.update(rng.choice(BAD_PARAMS))
            body = json.dumps(b).encode()
        else:  # unknown_model
            b = chat_body(rng, True)
            b["model"] = "no-such-model"
            body = json.dumps(b).encode()
        try:
            c.request("POST", "/v1/chat/completions", body=body, headers=headers)
            r = c.getresponse()
        except (ConnectionResetError, BrokenPipeError) as e:
            # The server may refuse an oversized body before reading all of it.
            return ("413_reset" if kind == "oversized" else "error"), 0, time.monotonic() - t0, repr(e)
        status = r.status
        if status != 200:
            r.read()
            return str(status), status, time.monotonic() - t0, ""
        if kind == "plain":
            data = json.loads(r.read())
            ok = data["choices"][0]["message"]["content"] is not None
            return ("200" if ok else "bad_body"), status, time.monotonic() - t0, ""
        # Server-sent events, line by line.
        chunks, done, first = 0, False, None
        hang_up_after = rng.randint(1, 3) if kind == "disconnect" else None
        while True:
            line = r.fp.readline()
            if not line:
                break
            line = line.strip()
            if not line.startswith(b"data: "):
                continue
            if line == b"data: [DONE]":
                done = True
                break
            event = json.loads(line[6:])
            if "error" in event:
                return "stream_error", status, time.monotonic() - t0, event["error"].get("message", "")
            chunks += 1
            if first is None:
                first = time.monotonic() - t0
            if hang_up_after is not None and chunks >= hang_up_after:
                # Hang up without reading the rest: the server must notice and free the slot.
                c.sock.shutdown(socket.SHUT_RDWR)
                return "disconnect", status, time.monotonic() - t0, ""
        if not done:
            return "truncated_stream", status, time.monotonic() - t0, f"{chunks} chunks"
        return "200", status, time.monotonic() - t0, ""
    except (OSError, http.client.HTTPException, ValueError) as e:
        return "error", 0, time.monotonic() - t0, repr(e)
    finally:
        c.close()


def percentile(values, p):
    if not values:
        return None
    v = sorted(values)
    k = min(len(v) - 1, max(0, int(round(p / 100.0 * (len(v) - 1)))))
    return v[k]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--max-requests", type=int, default=3000)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--burst", type=int, default=24, help="requests fired at once mid-run (0: none)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bin", default=os.environ.get("SPECFUSE_BIN", os.path.join(ROOT, "build/bin/specfuse")))
    ap.add_argument("--json", help="also write the report as JSON here")
    ap.add_argument("serve_args", nargs="*", help="extra arguments for specfuse serve (after --)")
    a = ap.parse_args()

    server = Server(a.bin, a.serve_args)
    rss_before = server.rss_kib()
    print(f"load_test: specfuse serve on port {server.port}, RSS {rss_before / 1024:.1f} MiB idle; "
          f"{a.workers} workers for {a.seconds:g} s (at most {a.max_requests} requests)", flush=True)

    results, lock = [], threading.Lock()
    budget = [a.max_requests]
    deadline = time.monotonic() + a.seconds
    rss_peak = [rss_before]
    stop_sampling = threading.Event()
    names = list(KINDS)
    weights = [KINDS[k][0] for k in names]

    def take():
        with lock:
            if budget[0] <= 0 or time.monotonic() >= deadline:
                return False
            budget[0] -= 1
            return True

    def record(kind, res):
        with lock:
            results.append((kind, *res))

    def worker(i):
        rng = random.Random(a.seed * 1000 + i)
        while take():
            kind = rng.choices(names, weights)[0]
            record(kind, one_request(server, kind, rng))

    def burst():
        # More streams at once than running + queued slots: the excess must get 429.
        time.sleep(a.seconds / 2)
        if time.monotonic() >= deadline:
            return
        ts = []
        for j in range(a.burst):
            if not take():
                break
            rng = random.Random(a.seed * 7919 + j)
            t = threading.Thread(target=lambda r=rng: record("burst", one_request(server, "stream", r)))
            t.start()
            ts.append(t)
        for t in ts:
            t.join()

    def sample_rss():
        while not stop_sampling.wait(0.5):
            rss_peak[0] = max(rss_peak[0], server.rss_kib())

    sampler = threading.Thread(target=sample_rss, daemon=True)
    sampler.start()
    t_start = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(a.workers)]
    if a.burst > 0:
        threads.append(threading.Thread(target=burst))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t_start

    # Recovery: hung-up streams are noticed at their next segment, so give it a moment.
    recovered_after = None
    t_rec = time.monotonic()
    while time.monotonic() - t_rec < 60:
        active = server.metric("specfuse_active_sequences")
        depth = server.metric("specfuse_queue_depth")
        if active == 0 and depth == 0:
            recovered_after = time.monotonic() - t_rec
            break
        time.sleep(0.2)
    stop_sampling.set()
    health = server.get("/health")
    active = server.metric("specfuse_active_sequences")
    depth = server.metric("specfuse_queue_depth")
    rss_after = server.rss_kib()
    # One more ordinary request after the storm.
    after_status = one_request(server, "stream", random.Random(99))[0]
    exit_code = server.stop(timeout=60)

    expected = {k: v[1] for k, v in KINDS.items()}
    expected["burst"] = {200, 429}
    by_outcome, wrong = {}, []
    for kind, outcome, status, secs, detail in results:
        by_outcome[outcome] = by_outcome.get(outcome, 0) + 1
        ok = (status in expected[kind]) or (kind in ("disconnect",) and outcome == "disconnect") \
            or (kind == "oversized" and outcome == "413_reset")
        if outcome in ("error", "truncated_stream", "stream_error", "bad_body") or not ok:
            wrong.append((kind, outcome, status, detail))
    by_kind = {}
    for kind, outcome, *_ in results:
        by_kind.setdefault(kind, {}).setdefault(outcome, 0)
        by_kind[kind][outcome] += 1
    lat = [secs for kind, outcome, _, secs, _ in results if outcome == "200" and kind in ("stream", "burst")]
    report = {
        "seconds": round(elapsed, 1), "requests": len(results), "workers": a.workers,
        "by_outcome": dict(sorted(by_outcome.items())), "by_kind": by_kind,
        "stream_latency_s": {"n": len(lat), "p50": percentile(lat, 50), "p95": percentile(lat, 95)},
        "rss_mib": {"before": round(rss_before / 1024, 1), "peak": round(rss_peak[0] / 1024, 1),
                    "after": round(rss_after / 1024, 1)},
        "after": {"health": health[0], "active_sequences": active, "queue_depth": depth,
                  "recovered_after_s": None if recovered_after is None else round(recovered_after, 2),
                  "next_request": after_status, "server_exit": exit_code},
        "unexpected": [list(w) for w in wrong[:20]], "unexpected_count": len(wrong),
    }
    print(json.dumps(report, indent=2))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=2)
    failures = []
    if wrong:
        failures.append(f"{len(wrong)} requests got an unexpected answer")
    if health[0] != 200:
        failures.append("/health does not answer")
    if active != 0 or depth != 0:
        failures.append(f"after the run: specfuse_active_sequences={active}, specfuse_queue_depth={depth}")
    if after_status != "200":
        failures.append(f"a request after the run got {after_status}")
    if exit_code != 0:
        failures.append(f"the server exited with {exit_code}")
    if failures:
        print("load_test: FAILED: " + "; ".join(failures), file=sys.stderr)
        print("".join(server.log[-30:]), file=sys.stderr)
        return 1
    print(f"load_test: OK: {len(results)} requests in {elapsed:.0f} s, server recovered")
    return 0


if __name__ == "__main__":
    sys.exit(main())
