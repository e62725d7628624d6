"""Markdown tables of a standard-benchmark run (scripts/eval_benchmarks.sh): one table per
benchmark and split, every method of every run on it, with 95% bootstrap intervals, the
paired difference to the best member alone in that run, costs, and the members' published
numbers where they exist.

Usage: report.py RESULTS_DIR...   (prints Markdown; the runs of every directory named are
pooled by benchmark, so a later run is paired with the members alone of an earlier one; a
results file may be gzipped, RUN.jsonl.gz)
"""
import glob
import gzip
import json
import os
import sys

# Published numbers of the members, for checking the harness (../shared notes):
# Qwen2.5-Coder Technical Report (arXiv 2409.12186 v3) Table 16, instruct models, EvalPlus
# pass@1 greedy zero-shot chat; SmolLM2-135M-Instruct model card (lighteval).
PUBLISHED = {
    ("humaneval", "qwen2.5-coder-0.5b"): "61.6 (Qwen2.5-Coder report, Table 16)",
    ("humaneval", "qwen2.5-coder-1.5b"): "70.7 (Qwen2.5-Coder report, Table 16)",
    ("mbpp", "qwen2.5-coder-0.5b"): "52.4 (EvalPlus MBPP, 378 items; Table 16)",
    ("mbpp", "qwen2.5-coder-1.5b"): "69.2 (EvalPlus MBPP, 378 items; Table 16)",
    ("arc-challenge", "smollm2-135m"): "37.3 (ARC easy+challenge average, model card)",
    ("mmlu", "smollm2-135m"): "29.3 (MMLU cloze, model card)",
    ("gsm8k", "smollm2-135m"): "1.4 (5-shot, model card)",
}


def benchmark_of(summary):
    files = summary.get("subset", {}).get("data", [])
    base = os.path.basename(files[0]) if files else "?"
    parts = base.split(".")
    return parts[0], (parts[1] if len(parts) > 2 else "?")


ENSEMBLE_METHODS = ("specfuse", "best-of-n", "mixture-of-agents", "self-consistency", "loglik-vote")
LOGLIK = "-loglik"  # a member alone under the log-likelihood protocol of multiple choice


def scores_of(path):
    """{(method, id): score} of a results file."""
    out = {}
    if not os.path.exists(path) and os.path.exists(path + ".gz"):
        path += ".gz"
    for line in (gzip.open(path, "rt") if path.endswith(".gz") else open(path)):
        r = json.loads(line)
        out[(r["method"], r["id"])] = r["score"]
    return out


def paired(a, b, seed=1, resamples=1000):
    """Mean of a - b over paired items with a 95% percentile bootstrap interval."""
    import random
    d = [x - y for x, y in zip(a, b)]
    rng = random.Random(seed)
    means = sorted(sum(rng.choice(d) for _ in d) / len(d) for _ in range(resamples))
    return {"mean": sum(d) / len(d), "low": means[int(0.025 * resamples)], "high": means[int(0.975 * resamples) - 1]}


def settings_members(path):
    if not os.path.exists(path) and os.path.exists(path + ".gz"):
        path += ".gz"
    with (gzip.open(path, "rt") if path.endswith(".gz") else open(path)) as f:
        first = json.loads(f.readline())
    return [m["name"] for m in first["settings"]["members"]]


def alone_scores(runs, scores):
    """{member: {id: score}} of every member alone, from whichever run answered it."""
    alone = {}
    for run, _ in runs:
        for (m, i), x in scores[run].items():
            if not m.startswith(ENSEMBLE_METHODS):
                alone.setdefault(m, {})[i] = x
    return alone


def oracle_table(runs, scores):
    """The headroom of each combination of members: over the items every member of it
    answered, the best member alone against the per-item oracle (an item counts as solved
    if any member alone solves it), and each ensemble run of exactly those members."""
    import itertools
    alone = alone_scores(runs, scores)
    # Members are combined within one protocol: generating, or scoring the options.
    protocols = [sorted(m for m in alone if not m.endswith(LOGLIK)), sorted(m for m in alone if m.endswith(LOGLIK))]
    combos = [c for names in protocols for k in range(2, len(names) + 1) for c in itertools.combinations(names, k)]
    rows = []
    for combo in combos:
        ids = sorted(set.intersection(*(set(alone[m]) for m in combo)))
        if not ids:
            continue
        mean = {m: sum(alone[m][i] for i in ids) / len(ids) for m in combo}
        best = max(combo, key=lambda m: mean[m])
        oracle = sum(max(alone[m][i] for m in combo) for i in ids) / len(ids)
        ens = []
        for run, s in runs:
            if sorted(settings_members(s["_path"])) != sorted(m.removesuffix(LOGLIK) for m in combo):
                continue
            for method in s["tasks"]["overall"]["methods"]:
                got = [scores[run][(method, i)] for i in ids if (method, i) in scores[run]]
                same_protocol = (method == "loglik-vote") == combo[0].endswith(LOGLIK)
                if method.startswith(ENSEMBLE_METHODS) and same_protocol and len(got) == len(ids):
                    ens.append(f"{run}/{method} {100 * sum(got) / len(got):.1f}")
        rows.append(f"| {' + '.join(combo)} | {len(ids)} | {best} {100 * mean[best]:.1f} | "
                    f"{100 * oracle:.1f} | +{100 * (oracle - mean[best]):.1f} | {'; '.join(ens)} |")
    if rows:
        print("Headroom: the best member alone against the per-item oracle of its combination:\n")
        print("| members | items | best member alone | oracle | headroom, points | ensembles of exactly these members |")
        print("|---|---|---|---|---|---|")
        print("\n".join(rows) + "\n")


def cross_run_table(runs, scores):
    """Every ensemble method of every run against the best of its own ensemble's members
    alone (from whichever run of the benchmark answered them), paired over the items both
    answered."""
    alone = alone_scores(runs, scores)
    rows = []
    for run, s in runs:
        members = [m for m in settings_members(s["_path"]) if m in alone]
        if not members:
            continue
        best = max(members, key=lambda m: sum(alone[m].values()) / len(alone[m]))
        for method in s["tasks"]["overall"]["methods"]:
            if not method.startswith(ENSEMBLE_METHODS):
                continue
            ids = [i for (m, i) in scores[run] if m == method and i in alone[best]]
            if ids:
                d = paired([scores[run][(method, i)] for i in ids], [alone[best][i] for i in ids])
                rows.append(f"| {run} | {method} | {best} | {len(ids)} | {fmt_ci(d)} |")
    if rows:
        print("Each ensemble method against the best of its own members alone, paired:\n")
        print("| run | method | best member | items | difference, points [95% CI] |")
        print("|---|---|---|---|---|")
        print("\n".join(rows) + "\n")


def fmt_ci(m):
    return f"{100 * m['mean']:.1f} [{100 * m['low']:.1f}, {100 * m['high']:.1f}]"


def main():
    groups = {}
    for out in sys.argv[1:]:
        for path in sorted(glob.glob(os.path.join(out, "*.summary.json"))):
            s = json.load(open(path))
            run = os.path.basename(path)[: -len(".summary.json")]
            s["_path"] = path[: -len(".summary.json")] + ".jsonl"
            groups.setdefault(benchmark_of(s), []).append((run, s))
    for (bench, split), runs in sorted(groups.items()):
        print(f"### {bench} ({split})\n")
        print("| run | method | items | score % [95% CI] | vs best member alone, paired [95% CI] | published | tokens | model calls | wall s |")
        print("|---|---|---|---|---|---|---|---|---|")
        for run, s in runs:
            g = s["tasks"]["overall"]
            ref = s.get("reference", "")
            sub = s.get("subset", {})
            for method, m in g["methods"].items():
                d = m.get("vs_reference")
                diff = "" if method == ref or not d else fmt_ci(d)
                pub = PUBLISHED.get((bench, method), "")
                print(f"| {run} | {method} | {g['n']} | {fmt_ci(m['score'])} | {diff} | {pub} | "
                      f"{m['tokens']:.0f} | {m['model_calls']:.1f} | {m['wall_s']:.2f} |")
        print()
        scores = {run: scores_of(s["_path"]) for run, s in runs}
        cross_run_table(runs, scores)
        oracle_table(runs, scores)
        print(f"Reference (best member alone) per run: " +
              ", ".join(f"{run}: {s.get('reference', '')}" for run, s in runs) +
              f". Items: {'all' if not sub.get('limit') else str(sub['limit']) + ' sampled with seed ' + str(sub.get('sample_seed'))}.\n")


if __name__ == "__main__":
    main()
