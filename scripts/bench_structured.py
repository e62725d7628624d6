#!/usr/bin/env python3
"""Structured output on a running server: sends N generated json_schema requests
(objects of 2 to 4 fields: strings with maxLength, bounded integers, enums, booleans,
short string arrays, a nested object; all required, no extra properties) and counts the
answers that parse and validate against their schema; then sends the same prompts
without response_format and reports both wall times. Requests go one at a time, each
prompt with and without back to back, greedy unless --temperature, so the two are paired. Standard library only; the validator
checks exactly the schema features generated here.

usage: scripts/bench_structured.py [--url http://127.0.0.1:8080] [--model specfuse]
           [--n 100] [--max-tokens 96] [--temperature 0] [--seed 1] [--json OUT.json]
"""
import argparse
import json
import random
import sys
import time
import urllib.request

NOUNS = ["person", "city", "book", "car", "planet", "recipe", "song", "company", "animal", "movie"]
WORDS = ["name", "title", "owner", "kind", "label", "origin", "author", "maker", "place", "topic"]


def field_schema(rng, depth):
    kind = rng.choice(["string", "integer", "enum", "boolean", "array"] + (["object"] if depth == 0 else []))
    if kind == "string":
        return {"type": "string", "maxLength": rng.choice([12, 20, 30])}
    if kind == "integer":
        lo = rng.choice([0, 1, 1900])
        return {"type": "integer", "minimum": lo, "maximum": lo + rng.choice([10, 100, 200])}
    if kind == "enum":
        return {"type": "string", "enum": rng.sample(["red", "green", "blue", "small", "large", "yes", "no"], 3)}
    if kind == "boolean":
        return {"type": "boolean"}
    if kind == "array":
        return {"type": "array", "items": {"type": "string", "maxLength": 12}, "minItems": 1,
                "maxItems": 3}
    return object_schema(rng, depth + 1, 2)


def object_schema(rng, depth, n_fields):
    names = rng.sample(WORDS + ["count", "year", "color", "active", "tags", "size"], n_fields)
    props = {n: field_schema(rng, depth) for n in names}
    return {"type": "object", "properties": props, "required": names, "additionalProperties": False}


def make_requests(n, seed):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        schema = object_schema(rng, 0, rng.randint(2, 4))
        noun = rng.choice(NOUNS)
        prompt = f"Describe a {noun} as a JSON object with the fields {', '.join(schema['properties'])}."
        out.append((prompt, schema))
    return out


def valid(value, schema):
    """Whether value satisfies schema (only the features make_requests generates)."""
    t = schema.get("type")
    if "enum" in schema:
        return value in schema["enum"]
    if t == "string":
        return isinstance(value, str) and len(value) <= schema.get("maxLength", len(value))
    if t == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)
                and schema["minimum"] <= value <= schema["maximum"])
    if t == "boolean":
        return isinstance(value, bool)
    if t == "array":
        return (isinstance(value, list) and schema["minItems"] <= len(value) <= schema["maxItems"]
                and all(valid(v, schema["items"]) for v in value))
    if t == "object":
        return (isinstance(value, dict) and set(value) == set(schema["properties"])
                and all(valid(value[k], s) for k, s in schema["properties"].items()))
    raise ValueError(f"schema feature not generated here: {schema}")


def post(url, body):
    req = urllib.request.Request(url + "/v1/chat/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read())


def ask(url, model, i, prompt, schema, max_tokens, temperature, seed, constrained):
    """One request; returns its result and its wall time."""
    body = {"model": model, "messages": [{"role": "user", "content": prompt}],
            "max_tokens": max_tokens, "temperature": temperature, "seed": seed + i}
    if constrained:
        body["response_format"] = {"type": "json_schema", "json_schema": {
            "name": f"item_{i}", "schema": schema, "strict": True}}
    t0 = time.perf_counter()
    r = post(url, body)
    wall = time.perf_counter() - t0
    text = r["choices"][0]["message"]["content"]
    try:
        ok = valid(json.loads(text), schema)
    except ValueError:  # json.JSONDecodeError included
        ok = False
    return {"valid": ok, "finish_reason": r["choices"][0]["finish_reason"],
            "completion_tokens": r["usage"]["completion_tokens"], "text": text}, wall


def run(url, model, requests, max_tokens, temperature, seed, modes):
    """Each prompt in each mode (True: with response_format), the modes of one prompt back
    to back so that a busy machine slows both alike. Returns {mode: (results, wall s)}."""
    out = {m: ([], 0.0) for m in modes}
    for i, (prompt, schema) in enumerate(requests):
        for m in modes:
            result, wall = ask(url, model, i, prompt, schema, max_tokens, temperature, seed, m)
            out[m][0].append(result)
            out[m] = (out[m][0], out[m][1] + wall)
    return out


def summarize(results, wall):
    return {"requests": len(results), "valid": sum(r["valid"] for r in results),
            "stopped": sum(r["finish_reason"] == "stop" for r in results),
            "completion_tokens": sum(r["completion_tokens"] for r in results),
            "wall_s": round(wall, 2)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default="http://127.0.0.1:8080")
    ap.add_argument("--model", default="specfuse")
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--max-tokens", type=int, default=96)
    ap.add_argument("--temperature", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", help="write the summary and every answer here")
    a = ap.parse_args()
    requests = make_requests(a.n, a.seed)
    runs = run(a.url, a.model, requests, a.max_tokens, a.temperature, a.seed, [True, False])
    (constrained, wall_c), (free, wall_f) = runs[True], runs[False]
    report = {"model": a.model, "max_tokens": a.max_tokens, "temperature": a.temperature,
              "with_response_format": summarize(constrained, wall_c),
              "without_response_format": summarize(free, wall_f),
              "wall_ratio": round(wall_c / wall_f, 3) if wall_f > 0 else None}
    print(json.dumps(report, indent=2))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({**report, "answers": {"with": constrained, "without": free}}, f, indent=1)
    return 0 if report["with_response_format"]["valid"] == a.n else 1


if __name__ == "__main__":
    sys.exit(main())
