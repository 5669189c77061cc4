"""The answer confidence: the matcher's signals combined by weights fitted on labelled questions.

Hand-set weights and a hand-set threshold answered textbook questions well and chat questions badly:
chat noise, a missing synonym or a borrowed follow-up subject move the raw score in ways no single
threshold fits. So the signals of the chosen fact (how much of the question it explains, how close a
curated variant is, its lead over the runner-up, unknown words, whether it gives the kind of answer
asked for) go through a logistic model whose weights `python -m benchmarks.calibrate` fits on
`benchmarks/questions/train-*.jsonl` and writes to `calibration.json` beside this file. The
threshold is the probability above which answering serves users better than declining, with a wrong
answer counted as worse than an honest "I don't know".
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

CALIBRATION_PATH = Path(__file__).with_name("calibration.json")

FEATURES = (
    "coverage",
    "variant",
    "similarity",
    "score",
    "margin",
    "anchors",
    "attribute",
    "unknown",
    "noise",
    "kind_matched",
    "kind_asked",
    "kind_given",
    "kind_missed",
    "follow_up",
    "same_section",
    "repeat",
    "chinese",
)
"""The signals, each in [0, 1] or a small count; `bias` is the intercept."""


@dataclass(frozen=True)
class Signals:
    coverage: float
    """Share of the question's weight the fact explains."""
    variant: float
    """Share of the fact's closest curated question the question covers."""
    similarity: float
    """rapidfuzz token-sort ratio to the closest variant in the question's language, in [0, 1]."""
    score: float
    """The ranking score: the fixed mix of the three above."""
    margin: float
    """Lead of the chosen fact over the best other candidate."""
    anchors: float
    """Words (not single Chinese characters, not "how many") the question and the fact share, up to
    three, as a share of three: a match on 天 alone is not evidence that 今天天气 is about Day One."""
    attribute: float
    """Share of what the question asks *about* its subject (its words other than names and "how
    many"; unknown words included) that the fact has: "which regions is LMI in?" names LMI fine,
    but the fact has nothing of "regions"."""
    unknown: float
    """Share of the question's weight in words the knowledge does not have."""
    noise: float
    """Chat noise words dropped from the question (yo, lol, tbh, 来着), as a count."""
    kind_matched: float
    """1 when the question asks for a person, a time or a number, which the fact gives (a fact that
    does not is ruled out before this)."""
    kind_asked: float
    """1 when the question asks for a mechanism or a list."""
    kind_given: float
    """1 when it does and the fact gives that kind."""
    kind_missed: float
    """1 when it does and the fact does not."""
    follow_up: float
    """1 when the subject was borrowed from the conversation."""
    same_section: float
    """1 when, in a follow-up, the fact is in the same section as the conversation's topic."""
    repeat: float
    """1 when, in a follow-up, the fact is the one just answered: a follow-up mostly asks for more."""
    chinese: float

    def values(self) -> tuple[float, ...]:
        return tuple(float(getattr(self, name)) for name in FEATURES)


@dataclass(frozen=True)
class Calibration:
    weights: tuple[float, ...]
    bias: float
    threshold: float

    def confidence(self, signals: Signals) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, signals.values(), strict=True))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def to_json(self) -> str:
        payload = {
            "features": dict(zip(FEATURES, (round(w, 4) for w in self.weights), strict=True)),
            "bias": round(self.bias, 4),
            "threshold": round(self.threshold, 4),
        }
        return json.dumps(payload, indent=2) + "\n"


def load_calibration(path: Path = CALIBRATION_PATH) -> Calibration:
    """The fitted weights; a feature missing from the file weighs nothing (refit to give it one)."""
    payload = json.loads(path.read_text(encoding="utf-8"))
    features = payload["features"]
    return Calibration(
        tuple(float(features.get(name, 0.0)) for name in FEATURES),
        float(payload["bias"]),
        float(payload["threshold"]),
    )
