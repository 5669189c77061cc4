"""Fit the answer confidence (knowledge/calibration.json) on the labelled training questions.

    .venv/bin/python -m benchmarks.calibrate            # fit, write, report
    .venv/bin/python -m benchmarks.calibrate --check    # report only: how the current weights do

Every training question (`benchmarks/questions/train-*.jsonl`, conversations turn by turn) is asked
the way the bot asks it; the signals of the fact the matcher settles on are labelled 1 when that
fact's answer is right, 0 when it is wrong or the question cannot be answered. A logistic model with
a little L2 is fitted on them, and the threshold is the probability that serves users best, counting
a wrong answer as WRONG_COST declines. The held-out files are never read here.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.calibration import CALIBRATION_PATH, FEATURES, Calibration, load_calibration
from knowledge.loader import BUNDLED_DIR, load_knowledge
from knowledge.matcher import Answer, Matcher, Topic

QUESTIONS = Path(__file__).with_name("questions")
TRAINING = tuple(sorted(path.name for path in QUESTIONS.glob("train-*.jsonl")))
"""Every training file; the held-out ones (`heldout-*.jsonl`) are never read here."""
WRONG_COST = 2.0
"""A wrong answer costs as much as this many honest declines: precision first."""
C = 1.0
"""Inverse regularisation strength: a few hundred samples, a dozen signals, so keep the weights modest."""


@dataclass(frozen=True)
class Sample:
    values: tuple[float, ...]
    right: bool
    """The considered fact's answer is right (never, for an unanswerable question)."""
    ruled_out: bool


def _norm(text: str) -> str:
    return re.sub(r"[\s,\u2009\u00a0]+", "", text).lower()


def _right(case: dict[str, Any], answer: Answer) -> bool:
    if "expect" not in case or answer.considered is None:
        return False  # unanswerable, or small talk the matcher did not take for small talk
    text = _norm(answer.considered.answer.get(answer.language))
    return all(any(_norm(alt) in text for alt in group) for group in case["expect"])


def _questions(path: Path) -> list[list[dict[str, Any]]]:
    """Each line as a conversation: a list of turns (one turn for a single question)."""
    cases = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [case.get("turns", [case]) for case in cases]


def samples(matcher: Matcher, files: tuple[str, ...] = TRAINING) -> list[Sample]:
    found: list[Sample] = []
    for name in files:
        for turns in _questions(QUESTIONS / name):
            topic: Topic | None = None
            for case in turns:
                answer = matcher.ask(case["q"], topic)
                if answer.topic is not None:
                    topic = answer.topic
                if answer.small_talk is not None or answer.signals is None:
                    continue
                found.append(Sample(answer.signals.values(), _right(case, answer), bool(answer.ruled_out)))
    return found


def fit(data: list[Sample]) -> tuple[tuple[float, ...], float]:
    """Logistic regression (scikit-learn, from the `bench` extra) on the samples not ruled out."""
    from sklearn.linear_model import LogisticRegression

    usable = [s for s in data if not s.ruled_out]
    model = LogisticRegression(C=C, max_iter=5000)
    model.fit([s.values for s in usable], [int(s.right) for s in usable])
    return tuple(float(w) for w in model.coef_[0]), float(model.intercept_[0])


def utility(calibration: Calibration, data: list[Sample], threshold: float) -> tuple[float, int, int, int]:
    """(utility, right answers, wrong answers, declines) at a threshold."""
    right = wrong = declined = 0
    for sample in data:
        z = calibration.bias + sum(w * x for w, x in zip(calibration.weights, sample.values, strict=True))
        probability = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
        if sample.ruled_out or probability < threshold:
            declined += 1
        elif sample.right:
            right += 1
        else:
            wrong += 1
    return right - WRONG_COST * wrong, right, wrong, declined


ROUNDS = 4
_ANSWER_ALL = 0.26
"""A threshold just above the cap of a ruled-out candidate (0.25): every other turn is answered."""
SMOOTHING = 3
"""The threshold's utility is averaged over this many hundredths either side: a few hundred questions
leave the curve flat and jagged near its top, and a lone spike is luck, not a better threshold."""


def best_threshold(calibration: Calibration, data: list[Sample]) -> float:
    grid = range(20, 91)
    scores = {t: utility(calibration, data, t / 100)[0] for t in range(20 - SMOOTHING, 91 + SMOOTHING)}

    def smoothed(t: int) -> float:
        return sum(scores[t + d] for d in range(-SMOOTHING, SMOOTHING + 1)) / (2 * SMOOTHING + 1)

    return max(grid, key=lambda t: (smoothed(t), -abs(t - 50))) / 100


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report on the current weights, write nothing")
    args = parser.parse_args(argv)
    knowledge = load_knowledge(BUNDLED_DIR)
    current = load_calibration()
    if args.check:
        data = samples(Matcher(knowledge, calibration=current))
        print(_report(current, data))
        return 0
    # Follow-ups depend on which turns before them were answered, so the fit is repeated on what
    # the last fit answers, and the round that serves the questions best is kept. It starts from
    # no weights at all (every turn not ruled out is answered), never from the file on disk, so the
    # same code and questions always give the same weights.
    calibration = Calibration(tuple(0.0 for _ in FEATURES), 0.0, _ANSWER_ALL)
    data = samples(Matcher(knowledge, calibration=calibration))
    best: tuple[float, Calibration, list[Sample]] | None = None
    for _ in range(ROUNDS):
        weights, bias = fit(data)
        calibration = Calibration(weights, bias, 0.5)
        calibration = Calibration(weights, bias, best_threshold(calibration, data))
        data = samples(Matcher(knowledge, calibration=calibration))  # what this fit answers: the next round's
        served = utility(calibration, data, calibration.threshold)[0]
        if best is None or served > best[0]:
            best = (served, calibration, data)
    assert best is not None
    _, calibration, data = best
    CALIBRATION_PATH.write_text(calibration.to_json(), encoding="utf-8")
    print(f"wrote {CALIBRATION_PATH}")
    print(_report(calibration, data))
    return 0


def _report(calibration: Calibration, data: list[Sample]) -> str:
    score, right, wrong, declined = utility(calibration, data, calibration.threshold)
    weights = ", ".join(f"{name} {w:+.2f}" for name, w in zip(FEATURES, calibration.weights, strict=True))
    return (
        f"{len(data)} training questions: {right} right, {wrong} wrong, {declined} declined "
        f"at threshold {calibration.threshold:.2f} (utility {score:.0f})\n"
        f"weights: {weights}, bias {calibration.bias:+.2f}"
    )


if __name__ == "__main__":
    sys.exit(main())
