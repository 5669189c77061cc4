"""Matcher speed and memory at 1,000 / 10,000 / 100,000 facts, against naive rapidfuzz extractOne.

    .venv/bin/python -m benchmarks.matcher            # table
    .venv/bin/python -m benchmarks.matcher --json     # one JSON object
    .venv/bin/python -m benchmarks.matcher --sizes 1000 10000

Each size runs in its own subprocess so peak memory (ru_maxrss) belongs to that size alone, and it
is read before the naive baseline's choices are built: it is what the bot itself holds (the
knowledge, our index and the questions asked of it). The naive baseline is
`rapidfuzz.process.extractOne` over every question variant of every fact (choices preprocessed once,
as a careful naive implementation would); it runs on a subset of the question mix at the larger
sizes because it is slow, and the speed-up compares p50 with p50 and p99 with p99.

Each generated knowledge is then written as a conference (2,000 keynote-sized packs at 100,000 facts)
and started from its files twice, each in a new process timed from its launch until its matcher is
ready: the first start reads the YAML and builds the index (and, from `cache.CACHE_FROM` facts,
caches both), the second is the cold start a restart gets, which must answer the benchmark's
questions as the built matcher did. The runs use a cache directory of their own, so `build_s` is
always a fresh build.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from statistics import quantiles
from typing import Any

from rapidfuzz import fuzz, process, utils

from benchmarks.generate import Question, generate, write_conference
from knowledge.loader import BUNDLED_DIR, Knowledge, load_knowledge
from knowledge.matcher import Matcher

SIZES = (1_000, 10_000, 100_000)
NAIVE_QUESTIONS = 60
"""Questions timed with the naive baseline at sizes where it takes a quarter-second each."""


def percentile(samples: list[float], q: int) -> float:
    if len(samples) == 1:
        return samples[0]
    return quantiles(samples, n=100, method="inclusive")[q - 1]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Naive:
    """The baseline: best WRatio over every variant string."""

    def __init__(self, knowledge: Knowledge) -> None:
        self.choices: list[str] = []
        self.owners: list[str] = []
        for fact in knowledge.facts.values():
            for variant in (*fact.questions.en, *fact.questions.zh):
                self.choices.append(utils.default_process(variant))
                self.owners.append(fact.id)

    def ask(self, question: str) -> str | None:
        found = process.extractOne(
            utils.default_process(question), self.choices, scorer=fuzz.WRatio, processor=None
        )
        return self.owners[found[2]] if found else None


def measure(
    knowledge: Knowledge, questions: list[Question], naive_limit: int | None
) -> tuple[dict[str, Any], list[str | None]]:
    """The figures, and the fact each question got (None when declined)."""
    started = time.perf_counter()
    matcher = Matcher(knowledge, answers=0)  # a question asked twice is timed twice, not remembered
    build = time.perf_counter() - started
    rss_index = peak_rss_mb()
    ours: list[float] = []
    correct: dict[str, list[int]] = {}
    picks: list[str | None] = []
    for question in questions:
        started = time.perf_counter()
        answer = matcher.ask(question.text)
        ours.append((time.perf_counter() - started) * 1000)
        fact_id = answer.fact.id if answer.answered and answer.fact else None
        picks.append(fact_id)
        good = fact_id == question.fact_id
        tally = correct.setdefault(question.kind, [0, 0])
        tally[0] += good
        tally[1] += 1
    peak = peak_rss_mb()
    naive = Naive(knowledge)
    step = max(1, len(questions) // naive_limit) if naive_limit else 1
    sample = list(range(0, len(questions), step))
    naive_times: list[float] = []
    agree = naive_right = answerable = 0
    for position in sample:
        question = questions[position]
        started = time.perf_counter()
        best = naive.ask(question.text)
        naive_times.append((time.perf_counter() - started) * 1000)
        if question.fact_id is not None:
            answerable += 1
            agree += best == picks[position]
            naive_right += best == question.fact_id
    ours_p50, ours_p99 = percentile(ours, 50), percentile(ours, 99)
    naive_p50, naive_p99 = percentile(naive_times, 50), percentile(naive_times, 99)
    figures = {
        "facts": len(knowledge.facts),
        "variants": len(naive.choices),
        "build_s": round(build, 3),
        "peak_rss_mb": round(peak, 1),
        "rss_after_build_mb": round(rss_index, 1),
        "questions": len(questions),
        "p50_ms": round(ours_p50, 3),
        "p99_ms": round(ours_p99, 3),
        "naive_questions": len(sample),
        "naive_p50_ms": round(naive_p50, 3),
        "naive_p99_ms": round(naive_p99, 3),
        "speedup_p50": round(naive_p50 / ours_p50, 1),
        "speedup_p99": round(naive_p99 / ours_p99, 1),
        "accuracy": {kind: f"{good}/{total}" for kind, (good, total) in correct.items()},
        "naive_accuracy_answerable": f"{naive_right}/{answerable}",
        "agreement_answerable": f"{agree}/{answerable}",
    }
    return figures, picks


def bundled_questions(knowledge: Knowledge) -> list[Question]:
    """Every fact's variants, a typo'd copy of each English one, and questions it cannot answer."""
    questions = []
    for fact in knowledge.facts.values():
        for text in fact.questions.en:
            questions.append(Question(text, "exact", fact.id))
            words = text.split()
            longest = max(range(len(words)), key=lambda i: len(words[i]))
            word = words[longest]
            if len(word) > 4:
                words[longest] = word[:2] + word[3] + word[2] + word[4:]
            questions.append(Question(" ".join(words), "typo", fact.id))
        questions.extend(Question(text, "chinese", fact.id) for text in fact.questions.zh)
    questions.extend(
        Question(text, "unanswerable", None)
        for text in ("tell me a joke", "How many cores does Graviton6 have?", "今天天气怎么样？")
    )
    return questions


def worker(size: int, work: Path) -> dict[str, Any]:
    """One size's figures; a generated knowledge is then written to `work` as a conference, with its
    questions and the facts they got, for `start`."""
    if size == 0:
        knowledge = load_knowledge(BUNDLED_DIR)
        result, _ = measure(knowledge, bundled_questions(knowledge), None)
        result["facts"] = f"{len(knowledge.facts)} (bundled)"
        return result
    started = time.perf_counter()
    knowledge, questions = generate(size)
    generated = time.perf_counter() - started
    rss_knowledge = peak_rss_mb()
    result, picks = measure(knowledge, questions, NAIVE_QUESTIONS if size > 1_000 else None)
    result["generate_s"] = round(generated, 2)
    result["rss_knowledge_mb"] = round(rss_knowledge, 1)
    write_conference(knowledge, work / str(size))
    asked = [(question.text, pick) for question, pick in zip(questions, picks, strict=True)]
    (work / f"{size}.json").write_text(json.dumps(asked, ensure_ascii=False), encoding="utf-8")
    return result


def started(directory: Path, asked: Path) -> None:
    """A start from files: says `ready` once the matcher is, then how many questions it answers with
    the fact the built matcher gave."""
    matcher = Matcher(load_knowledge(directory))
    print("ready", flush=True)
    pairs = json.loads(asked.read_text(encoding="utf-8"))
    same = 0
    for text, pick in pairs:
        answer = matcher.ask(text)
        same += (answer.fact.id if answer.answered and answer.fact else None) == pick
    print(json.dumps({"same": f"{same}/{len(pairs)}"}))


def start(size: int, work: Path, environment: dict[str, str]) -> tuple[float, str]:
    """Seconds from launching a process until its matcher over the written conference is ready,
    and how many questions it answered as the built matcher did."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.matcher",
        "--start",
        str(work / str(size)),
        str(work / f"{size}.json"),
    ]
    began = time.perf_counter()
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=environment) as child:
        assert child.stdout is not None
        ready = child.stdout.readline()
        elapsed = time.perf_counter() - began
        rest, _ = child.communicate(timeout=3600)
    if ready.strip() != "ready" or child.returncode:
        raise RuntimeError(f"the start of {size} facts failed: {ready}{rest}")
    return elapsed, json.loads(rest)["same"]


def machine() -> dict[str, Any]:
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            model = next(
                (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), ""
            )
    except OSError:
        model = platform.processor()
    return {"cpus": os.cpu_count(), "cpu": model, "python": platform.python_version()}


def run(sizes: Sequence[int]) -> dict[str, Any]:
    results = []
    with tempfile.TemporaryDirectory(prefix="matcher-benchmark-") as scratch:
        work = Path(scratch)
        environment = {**os.environ, "XDG_CACHE_HOME": str(work / "cache")}
        for size in (0, *sizes):
            child = subprocess.run(
                [sys.executable, "-m", "benchmarks.matcher", "--worker", str(size), str(work)],
                capture_output=True,
                text=True,
                check=True,
                timeout=3600,
                env=environment,
            )
            result = json.loads(child.stdout)
            if size:
                result["first_start_s"] = round(start(size, work, environment)[0], 3)
                cold, same = start(size, work, environment)
                result["cold_start_s"] = round(cold, 3)
                result["cold_start_same_answers"] = same
            results.append(result)
    return {"machine": machine(), "results": results}


def table(report: dict[str, Any]) -> str:
    head = (
        "facts",
        "variants",
        "build s",
        "cold s",
        "peak MB",
        "p50 ms",
        "p99 ms",
        "naive p50",
        "naive p99",
        "x p50",
        "x p99",
        "agree",
        "accuracy (ours)",
    )
    rows = [head]
    for r in report["results"]:
        rows.append(
            (
                str(r["facts"]),
                str(r["variants"]),
                f"{r['build_s']:.2f}",
                f"{r['cold_start_s']:.2f}" if "cold_start_s" in r else "-",
                f"{r['peak_rss_mb']:.0f}",
                f"{r['p50_ms']:.2f}",
                f"{r['p99_ms']:.2f}",
                f"{r['naive_p50_ms']:.2f}",
                f"{r['naive_p99_ms']:.2f}",
                f"{r['speedup_p50']:.0f}",
                f"{r['speedup_p99']:.0f}",
                r["agreement_answerable"],
                " ".join(f"{k}={v}" for k, v in r["accuracy"].items()),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = [" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    m = report["machine"]
    return f"{m['cpus']} CPUs, {m['cpu']}, Python {m['python']}\n" + "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.matcher", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--start", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        print(json.dumps(worker(int(args.worker[0]), Path(args.worker[1]))))
        return 0
    if args.start is not None:
        started(*args.start)
        return 0
    report = run(args.sizes)
    print(json.dumps(report, indent=2, ensure_ascii=False) if args.json else table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
