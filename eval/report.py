#!/usr/bin/env python3
"""Turns `specfuse eval` results into docs/EVALUATION.md and PNG plots in docs/.

Usage: report.py RESULTS.jsonl [--summary RESULTS.summary.json] [--docs docs]
                 [--command "the command that produced the results"]

The numbers (means, 95% bootstrap intervals, paired differences) come from the summary
that `specfuse eval` writes; the per-item results give the plots: quality against model
calls, the share of rounds each member won, and the average number of active models per
round (the exit timeline).
"""
import argparse
import json
import os
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TASKS = ["arithmetic", "factual", "choice", "instruction"]
HEADLINE_NAMES = {"contains": "answer contained", "accuracy": "accuracy", "rouge_l": "ROUGE-L F1",
                  "score": "mean of the task scores"}


def load_results(path, methods):
    records = []
    with open(path) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                if r["method"] in methods:
                    records.append(r)
    return records


def fmt(x):
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def ci(i, digits=3):
    return f"{i['mean']:.{digits}f} [{i['low']:.{digits}f}, {i['high']:.{digits}f}]"


def signed_ci(i):
    return f"{i['mean']:+.3f} [{i['low']:+.3f}, {i['high']:+.3f}]"


def table(summary, task):
    g = summary["tasks"][task]
    ref = summary["reference"]
    head = g["headline"]
    rows = [f"| method | {HEADLINE_NAMES.get(head, head)} [95% CI] | vs {ref} [95% CI] | other metrics "
            "| tokens | model calls | saved by exit | wall s |",
            "|---|---|---|---|---|---|---|---|"]
    for name in summary["methods"]:
        m = g["methods"][name]
        others = "; ".join(f"{'EM' if k == 'em' else 'BLEU' if k == 'bleu' else k} {ci(v)}"
                           for k, v in m.get("metrics", {}).items() if k != head)
        vs = "" if name == ref else signed_ci(m["vs_reference"])
        saved = f"{m['calls_saved_by_exit']:.1f}" if "calls_saved_by_exit" in m else ""
        rows.append(f"| {name} | {ci(m['score'])} | {vs} | {others} | {m['tokens']:.1f} "
                    f"| {m['model_calls']:.1f} | {saved} | {m['wall_s']:.2f} |")
    return "\n".join(rows)


def members_of(records):
    for r in records:
        return [m["name"] for m in r["settings"]["members"]]
    return []


def plot_quality_vs_calls(summary, path):
    g = summary["tasks"]["overall"]["methods"]
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    markers = "osD^vP*X"
    span = max(g[n]["model_calls"] for n in summary["methods"]) or 1
    for k, name in enumerate(summary["methods"]):
        m = g[name]
        s = m["score"]
        # Methods often land on the same point (exit that never fires): spread them a little.
        x = m["model_calls"] + (k - len(summary["methods"]) / 2) * 0.006 * span
        ax.errorbar(x, s["mean"], yerr=[[s["mean"] - s["low"]], [s["high"] - s["mean"]]],
                    fmt=markers[k % len(markers)], capsize=4, label=name)
    ax.set_xlabel("model calls per item (mean)")
    ax.set_ylabel("overall score (mean, 95% CI)")
    ax.set_title("Quality against cost")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_rounds_won(records, methods, members, path):
    spec = [m for m in methods if m.startswith("specfuse")]
    shares = {}
    for m in spec:
        won = defaultdict(int)
        for r in records:
            if r["method"] == m:
                for name, n in r.get("rounds_won", {}).items():
                    won[name] += n
        total = sum(won.values()) or 1
        shares[m] = [won[name] / total for name in members]
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    left = [0.0] * len(spec)
    for k, name in enumerate(members):
        vals = [shares[m][k] for m in spec]
        ax.barh(spec, vals, left=left, label=name)
        left = [a + b for a, b in zip(left, vals)]
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of rounds won (all items)")
    ax.set_title("Who writes the answer")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=max(1, len(members)))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return shares


def exit_timeline(records, methods):
    out = {}
    for m in methods:
        if not m.startswith("specfuse"):
            continue
        by_round = defaultdict(list)
        for r in records:
            if r["method"] == m:
                for k, a in enumerate(r.get("active_per_round", [])):
                    by_round[k + 1].append(a)
        out[m] = {k: (sum(v) / len(v), len(v)) for k, v in sorted(by_round.items())}
    return out


def plot_exit_timeline(timeline, n_members, path):
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for m, rounds in timeline.items():
        xs = list(rounds.keys())
        ax.plot(xs, [rounds[x][0] for x in xs], marker="o", label=m)
    ax.set_xlabel("round")
    ax.set_ylabel("active models (mean over items still running)")
    ax.set_ylim(0, n_members + 0.3)
    ax.set_title("Exit timeline")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def findings(summary, shares, timeline):
    g = summary["tasks"]["overall"]
    ms = g["methods"]
    ref = summary["reference"]
    out = []
    best = max(summary["methods"], key=lambda n: ms[n]["score"]["mean"])
    tied = [n for n in summary["methods"] if n != best and ms[n]["score"]["mean"] == ms[best]["score"]["mean"]]
    out.append(f"- Best overall: **{best}** with {ci(ms[best]['score'])}"
               + (f" (tied with {', '.join(tied)})" if tied else "")
               + f"; the best member alone is **{ref}** with {ci(ms[ref]['score'])}.")
    for name in summary["methods"]:
        if name == ref:
            continue
        d = ms[name]["vs_reference"]
        verdict = ("better" if d["low"] > 0 else "worse" if d["high"] < 0 else
                   "not distinguishable (the interval holds 0)")
        out.append(f"- {name} vs {ref}: {signed_ci(d)} (paired, overall): {verdict}.")
    for task in TASKS:
        if task not in summary["tasks"]:
            continue
        t = summary["tasks"][task]["methods"]
        top = max(summary["methods"], key=lambda n: t[n]["score"]["mean"])
        line = f"- {task}: best {top} {t[top]['score']['mean']:.3f}"
        if "specfuse" in t:
            line += f"; specfuse {t['specfuse']['score']['mean']:.3f}, {signed_ci(t['specfuse']['vs_reference'])} vs {ref}"
        out.append(line + ".")
        if "specfuse" in t:
            d = t["specfuse"]["vs_reference"]
            if d["high"] < 0:
                out.append(f"- specfuse loses to {ref} on {task}: {signed_ci(d)}.")
            elif d["high"] == 0 and d["mean"] < 0:
                out.append(f"- specfuse loses to {ref} on {task}: {signed_ci(d)} (the interval reaches 0 "
                           "only at its upper end).")
            elif d["mean"] < 0:
                out.append(f"- specfuse is below {ref} on {task} ({signed_ci(d)}), within the noise.")
    for on, off in (("specfuse", "specfuse-noexit"), ("specfuse-hedge", "specfuse-hedge-noexit")):
        if on in ms and off in ms:
            a, b = ms[on], ms[off]
            saved = a.get("calls_saved_by_exit", 0)
            share = saved / (a["model_calls"] + saved) if a["model_calls"] + saved > 0 else 0
            out.append(f"- Exit ({on} vs {off}): {a['model_calls']:.1f} vs {b['model_calls']:.1f} model calls "
                       f"per item ({100 * share:.0f}% of calls saved), {a['wall_s']:.2f} vs {b['wall_s']:.2f} s, "
                       f"score {a['score']['mean']:.3f} vs {b['score']['mean']:.3f}.")
    if "specfuse" in timeline and timeline["specfuse"]:
        rounds = timeline["specfuse"]
        last = max(rounds)
        out.append(f"- Active models per round (specfuse): round 1 {rounds[1][0]:.2f}, round {last} "
                   f"{rounds[last][0]:.2f} (over the {rounds[last][1]} items still running).")
    if "specfuse-noexit" in shares:
        out.append("- Share of rounds won with exit off: " + ", ".join(
            f"{name} {100 * s:.0f}%" for name, s in zip(shares["_members"], shares["specfuse-noexit"])) + ".")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results")
    ap.add_argument("--summary")
    ap.add_argument("--docs", default="docs")
    ap.add_argument("--command", default="scripts/eval.sh")
    ap.add_argument("--notes", help="Markdown file appended as the discussion")
    args = ap.parse_args()
    summary_path = args.summary or (args.results[:-6] if args.results.endswith(".jsonl") else args.results) \
        + ".summary.json"
    with open(summary_path) as f:
        summary = json.load(f)
    methods = summary["methods"]
    ids_per_task = {t: summary["tasks"][t]["n"] for t in TASKS if t in summary["tasks"]}
    records = load_results(args.results, set(methods))
    members = members_of(records)
    settings = records[0]["settings"] if records else {}
    os.makedirs(args.docs, exist_ok=True)

    plot_quality_vs_calls(summary, os.path.join(args.docs, "eval_quality_vs_calls.png"))
    shares = plot_rounds_won(records, methods, members, os.path.join(args.docs, "eval_rounds_won.png"))
    shares["_members"] = members
    timeline = exit_timeline(records, methods)
    plot_exit_timeline(timeline, len(members), os.path.join(args.docs, "eval_exit_timeline.png"))

    md = ["# The 152 hand-written items: does the ensemble answer better, and at what cost?", "",
          "Generated by `eval/report.py` from the results of `specfuse eval` on the 152 hand-written items; do not edit between the markers.", "",
          "## Setup", "",
          f"- Members: {', '.join(members)}.",
          f"- Items: {summary['items']} ({', '.join(f'{n} {t}' for t, n in ids_per_task.items())}), "
          "from `eval/data/` (see `eval/README.md`); every method answered every item.",
          f"- Options: max_tokens {settings.get('max_tokens')}, segment_tokens {settings.get('segment_tokens')}, "
          f"temperature {fmt(settings.get('temperature'))}, top_p {fmt(settings.get('top_p'))}, "
          f"seed {settings.get('seed')}, "
          f"score {settings.get('score')}; exit {json.dumps(settings.get('exit'))}.",
          "- Scores: arithmetic and factual = answer contained in the response after normalization "
          "(exact match shown as EM); choice = accuracy of the extracted letter or choice text; "
          "instruction = ROUGE-L F1 against the reference (sentence BLEU-4 with BLEU+1 smoothing shown too); "
          "overall = mean of the per-item task scores.",
          "- Intervals: 95% percentile bootstrap over items, 1000 resamples, fixed seed. "
          f"\"vs {summary['reference']}\" is the paired difference to the best member alone.",
          "- Cost: tokens = output tokens of the answer; model calls = draft + verify calls "
          "(best-of-n: every member's calls plus one reranking call per verifier); wall s = seconds per "
          "item on this machine (best-of-n: the members' runs one after the other plus reranking).",
          "", "Repeat with:", "", "```sh", args.command, "```", "", "## Findings", "",
          findings(summary, shares, timeline), ""]
    if args.notes and os.path.exists(args.notes):
        with open(args.notes) as f:
            md += ["## Discussion", "", f.read().strip(), ""]
    md += ["## Overall", "", table(summary, "overall"), ""]
    for task in TASKS:
        if task in summary["tasks"]:
            md += [f"## {task} ({summary['tasks'][task]['n']} items)", "", table(summary, task), ""]
    md += ["## Plots", "",
           "Quality against model calls (overall score with its 95% interval):", "",
           "![quality vs model calls](eval_quality_vs_calls.png)", "",
           "Share of rounds won by each member, per SpecFuse method:", "",
           "![rounds won](eval_rounds_won.png)", "",
           "Exit timeline: average number of models taking part in each round, over the items whose "
           "answer had reached that round:", "", "![exit timeline](eval_exit_timeline.png)", ""]
    # The generated part sits between two markers; what is outside them (the standard
    # benchmarks' analysis, written by hand) is kept.
    path = os.path.join(args.docs, "EVALUATION.md")
    begin, end = "<!-- begin: generated by eval/report.py -->", "<!-- end: generated by eval/report.py -->"
    before, after = "", ""
    if os.path.exists(path):
        old = open(path).read()
        if begin in old and end in old:
            before, after = old.split(begin, 1)[0], old.split(end, 1)[1]
    with open(path, "w") as f:
        f.write(before + begin + "\n" + "\n".join(md) + "\n" + end + after)
    print(f"wrote {os.path.join(args.docs, 'EVALUATION.md')} and 3 plots")


if __name__ == "__main__":
    main()
